"""Tests of the local connectors: Maildir, mbox, .eml folders and plain folders."""
