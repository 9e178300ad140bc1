"""Entities, statuses and their moves, changes, errors, ids, the principal and the clock: plain values, no I/O."""
