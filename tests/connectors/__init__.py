"""Tests of the connectors (connectors/), one package per connector family."""
