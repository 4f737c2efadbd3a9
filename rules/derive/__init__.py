"""Derivation rules: SPARQL CONSTRUCT steps run in file-name order."""
