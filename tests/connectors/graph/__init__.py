"""Tests of the Microsoft Graph connectors against a local fake Graph server."""
