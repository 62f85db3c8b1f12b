"""The motion gate: no motion, no face detection."""
