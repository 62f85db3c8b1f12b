"""Shared fakes and fixtures of the tests (no test module imports another)."""
