"""python -m bench.pi: cameras a Raspberry Pi 4 and Pi 5 watch, on paper, with the arithmetic.

    .venv/bin/python -m bench.pi                       # everything (~20 min on 2 noisy cores)
    .venv/bin/python -m bench.pi --scenes empty --resolutions 720p --repeat 1

Writes bench/out/pi/estimate.md (the table, every per-operation cost and every
figure with its source) and estimate.json (every raw number).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.measure import run_measured
from bench.paths import OUT
from bench.pi.counts import (
    MODES,
    PI_OUT,
    counts_of,
    decoding_key_supported,
    run_replay,
    write_config,
)
from bench.pi.estimate import (
    Counts,
    OpCosts,
    cameras,
    difference,
    per_second,
    scaled,
    terms,
)
from bench.pi.figures import FIGURES, value
from bench.pi.measure import DecodeCost, FaceCost, decode_cost, face_cost
from bench.pi.report import render
from bench.pi.scenes import RESOLUTIONS, SCENES, Footage, footage

FACE_T = 8.0  # bench/out/visitors.mp4: the first visitor in view (face ~190 px)
FPS = 25.0


def pi_costs(x86: DecodeCost, faces: FaceCost, rest_s: float, res: str) -> dict[str, OpCosts]:
    """Each operation's CPU-s on one core of a Pi 4 and a Pi 5.

    Decoding: the published Pi 4 rate at this size is taken as this scene's average
    frame (CPU-s = cores busy / fps), split into keyframes and other frames as here.
    HOG, embeddings and the rest: x86 times the published face_locations ratio.
    Pi 5: the Pi 4's costs over the Pi 5 / Pi 4 single-core ratio. Only ratios of
    x86 figures enter, so this shared machine's slowness (steal) cancels.
    """
    pi4_mean = value("pi4_decode_threads") / value(f"pi4_sw_h264_{res}_fps")
    decode_ratio = pi4_mean / x86.mean_frame_s
    faces_ratio = value("pi_face_locations_s") / faces.face_locations_720p_s
    pi4 = OpCosts(
        keyframe_s=x86.keyframe_s * decode_ratio,
        pframe_s=x86.pframe_s * decode_ratio,
        hog_s_per_px=faces.hog_s_per_px * faces_ratio,
        embed_s=faces.embed_s * faces_ratio,
        rest_s_per_packet=rest_s * faces_ratio,
    )
    return {"Pi 4": pi4, "Pi 5": _pi5(pi4)}


def _pi5(pi4: OpCosts) -> OpCosts:
    speedup = value("pi5_sysbench_1t") / value("pi4_sysbench_1t")
    return OpCosts(**{k: v / speedup for k, v in asdict(pi4).items()})


def decode_as_dlib(costs: OpCosts, x86: DecodeCost, faces: FaceCost, pi: str) -> OpCosts:
    """`costs` with decoding scaled from x86 by the dlib ratio instead (the other bound)."""
    ratio = value("pi_face_locations_s") / faces.face_locations_720p_s
    pi4 = OpCosts(
        x86.keyframe_s * ratio,
        x86.pframe_s * ratio,
        costs.hog_s_per_px,
        costs.embed_s,
        costs.rest_s_per_packet,
    )
    if pi == "Pi 4":
        return pi4
    five = _pi5(pi4)
    return OpCosts(
        five.keyframe_s, five.pframe_s, costs.hog_s_per_px, costs.embed_s, costs.rest_s_per_packet
    )


def _replayed(video: Path, config: Path, repeats: int) -> tuple[dict[str, Any], float]:
    """The replay JSON and the least CPU-s of `repeats` runs."""
    runs = [run_replay(video, config) for _ in range(repeats)]
    return runs[0][0], min(m.cpu_s for _, m in runs)


def _floor_cpu(video: Path, repeats: int) -> float:
    """Least CPU-s of decoding every frame of `video` in a child process (bench.floor)."""
    cmd = [sys.executable, "-m", "bench.floor", str(video), "--child"]
    return min(run_measured(cmd).cpu_s for _ in range(repeats))


def drift(f: Footage, dec: DecodeCost, repeats: int) -> float:
    """How much costlier decoding is now than when `dec` was measured (load drifts).

    The floor's extra loops, measured between the replays, over what `dec` predicts
    for them: the x86 costs the rest is solved against are scaled by it.
    """
    extra = _floor_cpu(f.looped, repeats) - _floor_cpu(f.once, repeats)
    return extra / ((f.loops - 1) * (dec.all_frames_s - dec.demux_s))


def _steady(
    f: Footage,
    mode: str,
    config: Path,
    repeats: int,
    x86: DecodeCost,
    scale: float,
    analyse_fps: float,
) -> tuple[Counts, float, list[str], dict[str, Any]]:
    """Counts and CPU-s of the N-1 extra loops (N loops minus one)."""
    totals: list[Counts] = []
    cpu: list[float] = []
    estimated: list[str] = []
    docs: list[dict[str, Any]] = []
    for video, loops in ((f.once, 1), (f.looped, f.loops)):
        doc, cpu_s = _replayed(video, config, repeats)
        c, est = counts_of(
            doc, mode, x86.keyframes * loops, (x86.width, x86.height), FPS, scale, analyse_fps
        )
        totals.append(c)
        cpu.append(cpu_s)
        estimated.extend(e for e in est if e not in estimated)
        docs.append({k: v for k, v in doc.items() if k != "events"} | {"cpu_s": cpu_s})
    extra = difference(totals[0], totals[1])
    return extra, cpu[1] - cpu[0], estimated, {"once": docs[0], "looped": docs[1]}


def main(argv: list[str] | None = None) -> int:
    """Measure, replay, estimate; print and write the report."""
    parser = argparse.ArgumentParser(prog="python -m bench.pi", description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", default=",".join(SCENES))
    parser.add_argument("--resolutions", default=",".join(RESOLUTIONS))
    parser.add_argument("--repeat", type=int, default=2, help="replays of each file (least CPU)")
    args = parser.parse_args(argv)
    started = datetime.now(UTC)
    from watcher.config.sections import FacesConfig
    from watcher.constants import HOG_WINDOW_PX

    scale = HOG_WINDOW_PX / FacesConfig().min_face_px
    analyse_fps = FacesConfig().analyse_fps
    with_key = decoding_key_supported()
    configs = {m: write_config(m, with_key) for m in MODES}
    films = footage(args.scenes.split(","), args.resolutions.split(","))
    print("x86 per-operation costs...", file=sys.stderr)
    faces = face_cost(OUT / "visitors.mp4", FACE_T)
    usable = value("usable_cores")
    rows: list[dict[str, Any]] = []
    x86: dict[str, Any] = {"faces": faces.to_json(), "decode": {}, "rest": {}, "drift": {}}
    replays: dict[str, Any] = {}
    rest_floor: dict[str, float] = {}  # per size: the first (empty, limited) residual
    for f in films:
        dec = decode_cost(f.once)
        name = f"{f.scene}/{f.res}"
        x86["decode"][name] = dec.to_json()
        k = drift(f, dec, args.repeat)
        x86["drift"][name] = k
        for mode in MODES:
            # Without the `decoding` key both modes come from the one (full) replay.
            config = configs[mode if with_key else "full"]
            extra, cpu_s, estimated, docs = _steady(
                f, mode, config, args.repeat, dec, scale, analyse_fps
            )
            here = scaled(
                OpCosts(dec.keyframe_s, dec.pframe_s, faces.hog_s_per_px, faces.embed_s, 0.0),
                decode=k,
                faces=k,
                rest=1.0,
            )
            # The rest: what the extra loops cost beyond the modelled decoding, HOG and
            # embeddings, per packet: watcher's own Python (never below 0: noise).
            rest_raw = (cpu_s - terms(extra, here).total) / extra.packets
            x86["rest"][f"{name}/{mode}"] = rest_raw
            replays[f"{name}/{mode}"] = docs | {"estimated": estimated, "extra_cpu_s": cpu_s}
            per_s = per_second(extra, (f.loops - 1) * f.loop_s)
            print(f"  {name} {mode}: {asdict(per_s)} rest {1e6 * rest_raw:.0f} us", file=sys.stderr)
            # Noise can make a residual negative, or smaller than an idle camera's:
            # no camera costs less Python per packet than the empty scene's limited one.
            floor_rest = rest_floor.setdefault(f.res, max(rest_raw, 0.0))
            rest = max(rest_raw, floor_rest)
            for pi, costs in pi_costs(dec, faces, rest, f.res).items():
                t = terms(per_s, costs)
                alt = terms(per_s, decode_as_dlib(costs, dec, faces, pi))
                rows.append(
                    {
                        "pi": pi,
                        "res": f.res,
                        "scene": f.scene,
                        "mode": mode,
                        "estimated": estimated,
                        "counts": asdict(per_s),
                        "costs": asdict(costs),
                        "terms": asdict(t) | {"total": t.total},
                        "cameras": cameras(t.total, usable),
                        "cameras_alt": cameras(alt.total, usable),
                    }
                )
    x86["rest"] = {k.rsplit("/", 1)[0]: v for k, v in x86["rest"].items() if k.endswith("limited")}
    rows.sort(key=lambda r: (r["pi"], RESOLUTIONS.index(r["res"]), r["scene"], r["mode"]))
    notes = (
        ""
        if with_key
        else (
            "\n*This watcher has no `decoding` key: both modes are estimated from the full-"
            "decoding replay (bench/pi/counts.py).*\n"
        )
    )
    if any(r["estimated"] for r in rows):
        notes += "\n`*`: some counts estimated (bench/pi/counts.py; estimate.json `estimated`).\n"
    report = render(rows, x86, started, notes)
    (PI_OUT / "estimate.md").write_text(report)
    doc = {
        "date": started.isoformat(timespec="seconds"),
        "figures": [asdict(f) for f in FIGURES],
        "x86": x86,
        "replays": replays,
        "rows": rows,
    }
    (PI_OUT / "estimate.json").write_text(json.dumps(doc, indent=1, default=str))
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
