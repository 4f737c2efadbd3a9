"""SHACL shapes, derivation rules and rule parameters (Turtle and SPARQL)."""
