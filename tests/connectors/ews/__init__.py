"""Tests of the EWS connector against an in-process fake Exchange (tests/services/fake_ews.py)."""
