"""The dashboard's counts (DOMAIN.md §17, R-DASH-1)."""
