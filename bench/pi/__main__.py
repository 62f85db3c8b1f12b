"""python -m bench.pi: cameras a Raspberry Pi 4 and Pi 5 watch, on paper, with the arithmetic.

    .venv/bin/python -m bench.pi                       # everything (~7 min on 2 noisy cores)
    .venv/bin/python -m bench.pi --scenes empty --resolutions 720p --repeat 1

Writes bench/out/pi/estimate.md (the table, every per-operation cost and every
figure with its source) and estimate.json (every raw number).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.paths import OUT
from bench.pi.counts import (
    MODES,
    PI_OUT,
    counts_of,
    decoding_key_supported,
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
from bench.pi.inproc import InprocReplay, replay_here
from bench.pi.measure import DecodeCost, FaceCost, decode_cost, face_cost
from bench.pi.report import render
from bench.pi.scenes import RESOLUTIONS, SCENES, Footage, footage

FACE_T = 8.0  # bench/out/visitors.mp4: the first visitor in view (face ~190 px)
FPS = 25.0


def faces_ratio(faces: FaceCost) -> float:
    """How much slower dlib's HOG is on the Pi than here (published Pi time / x86 time)."""
    return value("pi_face_locations_s") / faces.face_locations_720p_s


def pi_costs(here: OpCosts, dec: DecodeCost, faces: FaceCost, res: str) -> dict[str, OpCosts]:
    """Each operation's CPU-s on one core of a Pi 4 and a Pi 5, from this machine's `here`.

    Decoding: the published Pi 4 rate at this size is taken as this scene's average
    frame (CPU-s = cores busy / fps), split into keyframes and other frames as here.
    HOG, embeddings and the rest: x86 times the published face_locations ratio.
    Pi 5: the Pi 4's costs over the Pi 5 / Pi 4 single-core ratio. Only ratios of
    x86 figures enter, so this shared machine's slowness (steal) mostly cancels.
    """
    pi4_mean = value("pi4_decode_threads") / value(f"pi4_sw_h264_{res}_fps")
    ratio = faces_ratio(faces)
    pi4 = scaled(here, decode=pi4_mean / dec.mean_frame_s, faces=ratio, rest=ratio)
    return {"Pi 4": pi4, "Pi 5": _pi5(pi4)}


def _pi5(pi4: OpCosts) -> OpCosts:
    speedup = value("pi5_sysbench_1t") / value("pi4_sysbench_1t")
    return OpCosts(**{k: v / speedup for k, v in asdict(pi4).items()})


def decode_as_dlib(costs: OpCosts, here: OpCosts, faces: FaceCost, pi: str) -> OpCosts:
    """`costs` with decoding scaled from x86 by the dlib ratio instead (the other bound)."""
    pi4 = scaled(here, decode=faces_ratio(faces), faces=1.0, rest=1.0)
    decode = pi4 if pi == "Pi 4" else _pi5(pi4)
    return replace(costs, keyframe_s=decode.keyframe_s, pframe_s=decode.pframe_s)


def _best(config: Path, video: Path, repeats: int) -> InprocReplay:
    """The in-process replay of `repeats` with the least CPU (the machine is noisy)."""
    return min((replay_here(config, video) for _ in range(repeats)), key=lambda r: r.process_s)


@dataclass(frozen=True)
class Steady:
    """The extra loops of a scene (N loops minus one): counts and x86 CPU-s by kind."""

    counts: Counts  # searched_px: pixels handed to dlib
    process_s: float
    hog_s: float
    embed_s: float
    estimated: list[str]
    docs: dict[str, Any]


def steady(
    f: Footage, mode: str, config: Path, repeats: int, dec: DecodeCost, analyse_fps: float
) -> Steady:
    """Replay the scene once and N times; keep the difference."""
    runs = [_best(config, f.once, repeats), _best(config, f.looped, repeats)]
    counts: list[Counts] = []
    estimated: list[str] = []
    for run, loops in zip(runs, (1, f.loops), strict=True):
        c, est = counts_of(
            run.doc, mode, dec.keyframes * loops, (dec.width, dec.height), FPS, 1.0, analyse_fps
        )
        # The brief's searched pixels: those handed to dlib, after the engine's scaling.
        counts.append(replace(c, searched_px=run.faces.hog_px))
        estimated.extend(e for e in est if e not in estimated and e != "searched_pixels")
    once, more = runs
    return Steady(
        counts=difference(counts[0], counts[1]),
        process_s=more.process_s - once.process_s,
        hog_s=more.faces.hog_s - once.faces.hog_s,
        embed_s=more.faces.embed_s - once.faces.embed_s,
        estimated=estimated,
        docs={
            name: {k: v for k, v in r.doc.items() if k != "events"}
            | {"thread_s": r.thread_s, "process_s": r.process_s, "faces": asdict(r.faces)}
            for name, r in (("once", once), ("looped", more))
        },
    )


def main(argv: list[str] | None = None) -> int:
    """Measure, replay, estimate; print and write the report."""
    parser = argparse.ArgumentParser(prog="python -m bench.pi", description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", default=",".join(SCENES))
    parser.add_argument("--resolutions", default=",".join(RESOLUTIONS))
    parser.add_argument("--repeat", type=int, default=2, help="replays of each file (least CPU)")
    args = parser.parse_args(argv)
    started = datetime.now(UTC)
    from watcher.config.sections import FacesConfig

    analyse_fps = FacesConfig().analyse_fps
    with_key = decoding_key_supported()
    configs = {m: write_config(m, with_key) for m in MODES}
    films = footage(args.scenes.split(","), args.resolutions.split(","))
    print("x86 per-operation costs...", file=sys.stderr)
    faces = face_cost(OUT / "visitors.mp4", FACE_T)
    usable = value("usable_cores")
    rows: list[dict[str, Any]] = []
    x86: dict[str, Any] = {"faces": faces.to_json(), "decode": {}, "rest": {}, "hog": {}}
    replays: dict[str, Any] = {}
    rest_floor: dict[str, float] = {}  # per size: the first (empty, limited) residual
    for f in films:
        dec = decode_cost(f.once)
        name = f"{f.scene}/{f.res}"
        x86["decode"][name] = dec.to_json()
        for mode in MODES:
            # Without the `decoding` key both modes come from the one (full) replay.
            config = configs[mode if with_key else "full"]
            st = steady(f, mode, config, args.repeat, dec, analyse_fps)
            extra = st.counts
            # HOG and embeddings as they cost inside the pipeline (its regions, its
            # faces); the stand-alone figures where the scene had none.
            hog = st.hog_s / extra.searched_px if extra.searched_px else faces.hog_s_per_px
            embed = st.embed_s / extra.embeddings if extra.embeddings else faces.embed_s
            decoding = terms(extra, OpCosts(dec.keyframe_s, dec.pframe_s, 0, 0, 0)).total
            # The rest: what the extra loops cost beyond decoding (modelled), HOG and
            # embeddings (timed): watcher's own Python, per packet.
            rest_raw = (st.process_s - st.hog_s - st.embed_s - decoding) / extra.packets
            x86["rest"][f"{name}/{mode}"] = rest_raw
            if mode == "limited":
                x86["hog"][name] = hog
            replays[f"{name}/{mode}"] = st.docs | {
                "estimated": st.estimated,
                "extra": asdict(extra),
                "extra_process_s": st.process_s,
                "extra_hog_s": st.hog_s,
                "extra_embed_s": st.embed_s,
                "x86_hog_s_per_px": hog,
                "x86_embed_s": embed,
            }
            per_s = per_second(extra, (f.loops - 1) * f.loop_s)
            print(f"  {name} {mode}: {asdict(per_s)} rest {1e6 * rest_raw:.0f} us", file=sys.stderr)
            # Noise can make a residual negative, or smaller than an idle camera's:
            # no camera costs less Python per packet than the empty scene's limited one.
            floor_rest = rest_floor.setdefault(f.res, max(rest_raw, 0.0))
            here = OpCosts(dec.keyframe_s, dec.pframe_s, hog, embed, max(rest_raw, floor_rest))
            for pi, costs in pi_costs(here, dec, faces, f.res).items():
                t = terms(per_s, costs)
                alt = terms(per_s, decode_as_dlib(costs, here, faces, pi))
                rows.append(
                    {
                        "pi": pi,
                        "res": f.res,
                        "scene": f.scene,
                        "mode": mode,
                        "estimated": st.estimated,
                        "counts": asdict(per_s),
                        "costs": asdict(costs),
                        "terms": asdict(t) | {"total": t.total},
                        "cameras": cameras(t.total, usable),
                        "cameras_alt": cameras(alt.total, usable),
                    }
                )
    rows.sort(
        key=lambda r: (r["pi"], RESOLUTIONS.index(r["res"]), r["scene"], MODES.index(r["mode"]))
    )
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
