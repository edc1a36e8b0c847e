"""Real local servers for the tests (PostgreSQL here; Samba, Dovecot, SMTP in their suites)."""
