"""Tests of the IMAP connector against a real Dovecot on loopback."""
