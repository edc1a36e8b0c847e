"""Fixtures of the report tests (helpers live in reports_testkit.py and smtp_server.py)."""
