"""Registration's tables (in progress)."""
