"""Tests of the SMB connector against a real Samba on loopback."""
