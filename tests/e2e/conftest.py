"""Fixtures for the end-to-end tests; the Matrix ones live in tests/e2e/matrix_fixtures.py."""

from __future__ import annotations

from tests.e2e.matrix_fixtures import matrix, synapse

__all__ = ["matrix", "synapse"]
