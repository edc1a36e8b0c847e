"""Tests of retention: the policy engine (scanner.retention) and the nightly pass
(scanner.retention_pass)."""
