"""Tests of the store (scanner.store): upserts, deletion evidence, locks, migrations."""
