"""Named analyst queries and *-violation.rq checks."""
