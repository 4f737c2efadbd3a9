"""Local copies of standard vocabularies."""
