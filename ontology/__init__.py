"""The alignkg OWL ontology (Turtle), shipped with the package."""
