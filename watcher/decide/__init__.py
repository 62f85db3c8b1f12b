"""The tracker and decider: known, unknown, debounce."""
