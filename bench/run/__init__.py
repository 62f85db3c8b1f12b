"""The benchmark: the decode floor, the naive face_recognition peer and watcher, side by side.

Run it with `python -m bench.run` (see bench/README.md and `__main__.py`).
"""
