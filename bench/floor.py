"""The decode floor: decode every frame of a video with PyAV and do nothing else.

    python -m bench.floor VIDEO            # measure it in a child process, print JSON
    python -m bench.floor VIDEO --child    # just decode (what the benchmark measures)

The decoder runs as watcher's does by default (one thread, `thread_type = "NONE"`:
`decode_threads: 1`), so the ratio watcher / floor is watcher's cost on top of the
same decoding. `--threads AUTO` shows what FFmpeg's frame threads cost instead.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import av


def decode_all(video: Path, thread_type: str = "NONE") -> dict[str, Any]:
    """Decode every frame of the first video stream; return what was seen."""
    frames = 0
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        stream.thread_type = thread_type
        width, height = stream.codec_context.width, stream.codec_context.height
        for _frame in container.decode(stream):
            frames += 1
    return {
        "tool": "floor",
        "video": str(video),
        "frames": frames,
        "size": [width, height],
        "thread_type": thread_type,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.floor", description=__doc__.splitlines()[0]
    )
    parser.add_argument("video", type=Path)
    parser.add_argument("--threads", default="NONE", help="PyAV thread_type (default: NONE)")
    parser.add_argument("--child", action="store_true", help="decode here, do not measure")
    args = parser.parse_args(argv)
    if args.child:
        json.dump(decode_all(args.video, args.threads), sys.stdout)
        sys.stdout.write("\n")
        return 0
    from bench.measure import run_measured

    m = run_measured(
        [sys.executable, "-m", "bench.floor", str(args.video), "--threads", args.threads, "--child"]
    )
    if not m.ok:
        sys.stderr.write(m.stderr)
        return 1
    json.dump({**json.loads(m.stdout), **m.summary()}, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
