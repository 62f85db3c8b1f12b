"""The benchmark: the decode floor, the naive face_recognition peer and watcher, side by side.

    python -m bench.run                    # all scenes, 3 repeats, medians
    python -m bench.run --repeat 5 --scenes visitors,empty --tools floor,watcher

Every measurement is its own child process (CPU = that child's user + sys, peak
RSS = its ru_maxrss), run on the same files in one run, repeats interleaved so a
noisy neighbour hurts every tool alike. Prints a Markdown table and writes it to
bench/out/results.md (with the machine and date); bench/out/results.json holds
every raw measurement and event.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict

from bench.footage.build import build
from bench.machine import code_fingerprint, machine_info
from bench.measure import run_measured
from bench.paths import OUT, ROOT
from bench.run.report import report
from bench.run.summary import summarise
from bench.run.tools import SCENES, TOOLS, Run, applies, command, parse, reset_watcher_state


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--repeat", type=int, default=3, help="measurements per cell (median)")
    parser.add_argument("--scenes", default=",".join(SCENES), help=f"from {','.join(SCENES)}")
    parser.add_argument("--tools", default=",".join(TOOLS), help=f"from {','.join(TOOLS)}")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per measurement")
    parser.add_argument(
        "--decode-threads",
        default="NONE",
        help="PyAV thread_type of the floor's and the naive peer's decoders (default NONE: "
        "one thread, as watcher's default decode_threads: 1; watcher itself always uses "
        "its config's decode_threads)",
    )
    parser.add_argument("--no-verify", action="store_true", help="skip the footage's dlib check")
    parser.add_argument("--force-footage", action="store_true", help="re-encode the footage")
    args = parser.parse_args(argv)
    tools = [t for t in args.tools.split(",") if t]
    if unknown_tools := set(tools) - set(TOOLS):
        parser.error(f"unknown tools: {', '.join(sorted(unknown_tools))}")
    wanted = [s for s in args.scenes.split(",") if s]
    all_scenes = build(force=args.force_footage, check=not args.no_verify)
    by_name = {s.name: s for s in all_scenes}
    if unknown_scenes := set(wanted) - set(by_name):
        parser.error(f"unknown scenes: {', '.join(sorted(unknown_scenes))}")
    scenes = [by_name[n] for n in wanted]
    for scene in scenes:
        if not scene.video.is_file():
            parser.error(f"{scene.name}: no video at {scene.video}")

    info = machine_info()
    info["decode_threads"] = args.decode_threads
    reset_watcher_state()
    runs: list[Run] = []
    total = args.repeat * sum(applies(t, s) for s in scenes for t in tools)
    started = time.monotonic()
    for rep in range(args.repeat):
        for scene in scenes:
            for tool in tools:
                if not applies(tool, scene):
                    continue
                m = run_measured(
                    command(tool, scene, args.decode_threads), cwd=ROOT, timeout_s=args.timeout
                )
                output, error = parse(m)
                runs.append(Run(scene.name, tool, rep, m.summary(), output, error))
                events = (
                    ""
                    if output is None or tool == "floor"
                    else (f", {len(output.get('events', []))} event(s)")
                )
                status = (
                    f"FAILED: {error}"
                    if error
                    else (f"CPU {m.cpu_s:.2f} s, wall {m.wall_s:.2f} s, {m.peak_mb:.0f} MB{events}")
                )
                print(
                    f"[{len(runs)}/{total} {time.monotonic() - started:5.0f} s] "
                    f"{scene.name} {tool}: {status}",
                    file=sys.stderr,
                    flush=True,
                )
    info["load_after"] = [round(x, 2) for x in os.getloadavg()]
    info["watcher_source_after"] = code_fingerprint()
    if info["watcher_source_after"] != info["watcher_source_before"]:
        print("WARNING: watcher's source changed during the run", file=sys.stderr)
    rows = summarise(runs, scenes, tools)
    text = report(info, rows, runs, scenes, tools, args.repeat)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.md").write_text(text)
    (OUT / "results.json").write_text(
        json.dumps(
            {
                "info": info,
                "repeat": args.repeat,
                "scenes": [
                    {
                        **asdict(s),
                        "video": str(s.video),
                        "config": str(s.config),
                        "gallery": str(s.gallery),
                    }
                    for s in scenes
                ],
                "runs": [asdict(r) for r in runs],
            },
            indent=1,
        )
        + "\n"
    )
    print(text)
    print(f"written: {OUT / 'results.md'} and results.json", file=sys.stderr)
    return 0 if all(r.error is None for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
