"""Registration's HTML pages, one module per flow (signup, verify, reset, devmail)."""
