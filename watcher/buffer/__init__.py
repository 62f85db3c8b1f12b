"""The pre-roll buffer: the last seconds of compressed packets."""
