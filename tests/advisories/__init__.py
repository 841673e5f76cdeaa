"""Regression tests for the published security advisories of next-auth / @auth/core.

Each test names the advisory it replays (GHSA and CVE identifiers) and runs
the attacker's sequence against this product over HTTP; the table in
``docs/security.md`` lists them.
"""
