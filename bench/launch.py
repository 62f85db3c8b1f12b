"""Start a command, wait for it, and write its own resource usage as JSON.

    python -I -S bench/launch.py RESULT.json -- COMMAND [ARG...]

Why a launcher: on Linux a child's `ru_maxrss` starts from the peak RSS of the
process that spawned it (exec records the old address space's high-water mark),
so a child of the benchmark, which has NumPy, OpenCV and PyAV loaded, would
report at least ~125 MB whatever it does. This launcher imports almost nothing
(run it with -S), so what it passes on is a few MB, below any tool's own peak.
stdin, stdout and stderr are the command's; the exit status is the command's.
"""

import json
import os
import sys


def main() -> int:
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        sys.stderr.write(__doc__ or "")
        return 2
    result, cmd = sys.argv[1], sys.argv[3:]
    pid = os.posix_spawnp(cmd[0], cmd, os.environ)
    while True:
        try:
            _, status, usage = os.wait4(pid, 0)
            break
        except InterruptedError:
            continue
    code = os.waitstatus_to_exitcode(status)
    with open(result, "w") as f:
        json.dump(
            {
                "returncode": code,
                "user_s": usage.ru_utime,
                "sys_s": usage.ru_stime,
                "maxrss_kb": usage.ru_maxrss,  # Linux: kilobytes
            },
            f,
        )
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    raise SystemExit(main())
