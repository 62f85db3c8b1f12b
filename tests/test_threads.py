"""The `watcher` command keeps OpenCV and OpenBLAS in the calling thread (one per camera)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from watcher.cli import SINGLE_THREADED, single_threaded_libraries

# The `watcher` command (here only `--version`, which loads neither library), then
# numpy and OpenCV given work big enough to split across cores; the process's threads.
_PROBE = """
from watcher.cli import main
try:
    main(["--version"])
except SystemExit:
    pass
import os
import cv2
import numpy as np
big = np.random.default_rng(1).random((600, 600))
_ = big @ big
cv2.resize((big * 255).astype(np.uint8), None, fx=1.7, fy=1.7)
cv2.GaussianBlur(big, (9, 9), 0)
print(cv2.getNumThreads(), len(os.listdir("/proc/self/task")))
"""


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads in /proc")
def test_the_command_runs_opencv_and_openblas_in_its_own_thread() -> None:
    env = {k: v for k, v in os.environ.items() if k not in SINGLE_THREADED}
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    opencv_threads, process_threads = map(int, out.stdout.splitlines()[-1].split())
    assert opencv_threads == 1
    assert process_threads == 1, "a library started worker threads"


def test_a_thread_count_the_user_chose_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"OPENBLAS_NUM_THREADS": "4"}
    monkeypatch.setattr(os, "environ", env)  # this process's own is left as it is
    single_threaded_libraries()
    assert env == {"OPENBLAS_NUM_THREADS": "4", "OPENCV_FOR_THREADS_NUM": "1"}
