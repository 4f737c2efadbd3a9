"""SHACL shapes."""
