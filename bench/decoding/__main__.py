"""Below the decode floor: the floor, watcher `decoding: full` and `limited`, side by side.

    python -m bench.decoding                          # every variant file, 3 repeats
    python -m bench.decoding --repeat 1 --files empty-gop10s,visitors-cbr

Each measurement is its own child process (bench.measure); repeats are interleaved
(repeat 1 of every file and tool, then repeat 2, ...). Writes bench/out/decoding.md
and decoding.json (every raw measurement and event).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.decoding.report import report
from bench.decoding.summary import STARTUP, startup_cpu, summarise
from bench.decoding.tools import (
    MODES,
    TOOLS,
    command,
    decoding_key_supported,
    reset_state,
    write_config,
)
from bench.footage.variants import VariantFile, build_variants
from bench.machine import code_fingerprint, machine_info
from bench.measure import run_measured
from bench.paths import OUT, ROOT
from bench.run.tools import Run, parse


def main(argv: list[str] | None = None) -> int:
    """Measure every (file, tool) `--repeat` times; print and write the report."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.decoding", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--repeat", type=int, default=3, help="measurements per cell (median)")
    parser.add_argument("--files", default="", help="comma-separated names (default: all)")
    parser.add_argument("--tools", default=",".join(TOOLS), help=f"from {','.join(TOOLS)}")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per measurement")
    parser.add_argument(
        "--no-encode", action="store_true", help="use only the variant files already built"
    )
    parser.add_argument("--out", default="decoding", help="report name in bench/out/")
    parser.add_argument(
        "--from-json",
        nargs="+",
        type=Path,
        help="no measuring: the report of these runs (a later file's (file, tool) cells "
        "replace an earlier one's)",
    )
    args = parser.parse_args(argv)
    if args.from_json:
        return _rewrite(args.from_json, args.out)
    keyed = decoding_key_supported()
    tools = [t for t in args.tools.split(",") if t and (keyed or t != "limited")]
    if "floor" not in tools or "full" not in tools:
        parser.error("the table needs floor and full")
    files = build_variants(encode=not args.no_encode)
    if args.files:
        wanted = set(args.files.split(","))
        if unknown := wanted - {f.name for f in files}:
            parser.error(f"unknown files: {', '.join(sorted(unknown))}")
        files = [f for f in files if f.name in wanted]
    configs = {mode: write_config(mode, keyed) for mode in MODES}
    videos = [(STARTUP, OUT / "startup.mp4"), *((f.name, f.video) for f in files)]

    info = machine_info()
    info["limited"] = "limited" in tools
    reset_state()
    runs: list[Run] = []
    total, started = args.repeat * len(videos) * len(tools), time.monotonic()
    for rep in range(args.repeat):
        for name, video in videos:
            for tool in tools:
                m = run_measured(command(tool, video, configs), cwd=ROOT, timeout_s=args.timeout)
                output, error = parse(m)
                runs.append(Run(name, tool, rep, m.summary(), output, error))
                status = f"FAILED: {error}" if error else f"CPU {m.cpu_s:.2f} s"
                if output and tool != "floor":
                    status += (
                        f", decoded {output.get('decoded_frames')}/{output.get('frames')}"
                        f", {len(output.get('events', []))} event(s)"
                    )
                print(
                    f"[{len(runs)}/{total} {time.monotonic() - started:5.0f} s] "
                    f"{name} {tool}: {status}",
                    file=sys.stderr,
                    flush=True,
                )
    info["load_after"] = [round(x, 2) for x in os.getloadavg()]
    info["watcher_source_after"] = code_fingerprint()
    _write(info, runs, files, tools, args.repeat, args.out)
    return 0 if all(r.error is None for r in runs) else 1


def _write(
    info: dict[str, Any],
    runs: list[Run],
    files: list[VariantFile],
    tools: list[str],
    repeat: int,
    out: str,
) -> None:
    rows = summarise(runs, files, tools)
    startup = startup_cpu(runs, tools)
    text = report(info, rows, startup, files, repeat)
    (OUT / f"{out}.md").write_text(text)
    raw = {
        "info": info,
        "repeat": repeat,
        "files": [
            {
                "name": f.name,
                "video": str(f.video),
                "encoding": f.variant.describe(),
                "duration_s": f.duration_s,
                "visits": f.visits,
                "packets": f.packets,
            }
            for f in files
        ],
        "startup_cpu_s": startup,
        "runs": [asdict(r) for r in runs],
    }
    (OUT / f"{out}.json").write_text(json.dumps(raw, indent=1) + "\n")
    print(text)
    print(f"written: {OUT / out}.md and {out}.json", file=sys.stderr)


def _rewrite(sources: list[Path], out: str) -> int:
    """The report of earlier runs; a later source's cells replace an earlier one's."""
    cells: dict[tuple[str, str], list[Run]] = {}
    info: dict[str, Any] = {}
    repeat = 0
    merged = []
    for path in sources:
        doc = json.loads(path.read_text())
        i = doc["info"]
        merged.append(
            f"{path.name} ({i['date']}, watcher {i['watcher_commit']}, source "
            f"{i['watcher_source_before']} → {i.get('watcher_source_after')})"
        )
        info = {**i, "merged_from": merged}
        repeat = max(repeat, int(doc["repeat"]))
        mine: dict[tuple[str, str], list[Run]] = {}
        for r in doc["runs"]:
            mine.setdefault((r["scene"], r["tool"]), []).append(Run(**r))
        cells.update(mine)
    runs = [r for group in cells.values() for r in group]
    names = {name for name, _ in cells}
    files = [f for f in build_variants(encode=False) if f.name in names]
    tools = [t for t in TOOLS if any(tool == t for _, tool in cells)]
    _write(info, runs, files, tools, repeat, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
