"""Use cases: authorise, validate every rule, then write (or write nothing)."""
