"""The bad-input matrix: tables of invalid and hostile inputs per mutation and query (run by test_bad_input.py)."""
