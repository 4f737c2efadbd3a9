"""Whole-graph rule checks run as SPARQL on the store."""
