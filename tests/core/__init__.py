"""Tests of what stands on top of the packages: configuration loading, the scan pipeline,
the command line and the built wheel."""
