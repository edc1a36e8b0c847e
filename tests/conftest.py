"""Shared test settings: everything runs offline, in temporary folders."""

import os

os.environ.setdefault("TLDEXTRACT_CACHE", "/nonexistent-schoonschip-tldextract")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
