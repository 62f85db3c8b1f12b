"""A real RTSP server on loopback for the tests (see harness.py)."""
