"""Tests of the retention policy engine (scanner.retention)."""
