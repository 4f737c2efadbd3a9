"""alignkg: measure how closely two states are aligned."""
