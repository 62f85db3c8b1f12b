"""On paper: how many cameras a Raspberry Pi 4 and Pi 5 watch (issue 15, goal 7).

`python -m bench.pi` measures here what only this machine can tell (watcher's own
counts per scene, and the x86 cost of each operation, to get ratios), combines them
with published per-operation figures of the Pi (figures.py, each with its source)
and prints the arithmetic (estimate.py) for a Pi 4 and a Pi 5.
"""
