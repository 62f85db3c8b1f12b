"""The estimate's report: the table with every term, the per-operation costs, the figures."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bench.pi.estimate import cameras_with_visitors
from bench.pi.figures import FIGURES, value

HEAD = (
    "| Pi | video | scene | decoding | decoded/s (key + other) | Mpx to dlib/s | embeddings/s "
    "| keyframes | other frames | HOG | embeddings | rest | **CPU ms per video-s** "
    "| **cameras** | cameras if decoding scales as dlib |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
)


def _ms(x: float, digits: int = 1) -> str:
    return f"{1000 * x:.{digits}f}"


def table(rows: list[dict[str, Any]]) -> str:
    """One row per Pi, size, scene and decoding mode; the terms in ms of one core per video-s."""
    lines = []
    for r in rows:
        c, t = r["counts"], r["terms"]
        others = max(c["decoded"] - c["keyframes"], 0.0)
        star = "*" if r["estimated"] else ""
        lines.append(
            f"| {r['pi']} | {r['res']} | {r['scene']} | {r['mode']}{star} "
            f"| {c['decoded']:.2f} ({c['keyframes']:.2f} + {others:.2f}) "
            f"| {c['searched_px'] / 1e6:.2f} | {c['embeddings']:.2f} "
            f"| {_ms(t['keyframes'])} | {_ms(t['pframes'])} | {_ms(t['hog'])} "
            f"| {_ms(t['embeddings'])} | {_ms(t['rest'])} | **{_ms(t['total'])}** "
            f"| **{r['cameras']:.1f}** | {r['cameras_alt']:.1f} |"
        )
    return HEAD + "\n".join(lines) + "\n"


def costs_table(rows: list[dict[str, Any]], x86: dict[str, Any]) -> str:
    """Each operation's CPU cost on each machine, in ms of one core."""
    out = [
        "| machine | video | scene | keyframe | other frame | HOG per Mpx | embedding "
        "| rest per packet, limited / full |\n|---|---|---|---|---|---|---|---|\n"
    ]
    rest: dict[tuple[str, str, str], dict[str, float]] = {}
    for r in rows:
        rest.setdefault((r["pi"], r["res"], r["scene"]), {})[r["mode"]] = r["costs"][
            "rest_s_per_packet"
        ]
    seen = set()
    for r in rows:
        key = (r["pi"], r["res"], r["scene"])
        if key in seen or r["mode"] != "limited":
            continue
        seen.add(key)
        c, modes = r["costs"], rest[key]
        out.append(
            f"| {r['pi']} | {r['res']} | {r['scene']} | {_ms(c['keyframe_s'])} "
            f"| {_ms(c['pframe_s'], 2)} | {_ms(c['hog_s_per_px'] * 1e6, 0)} "
            f"| {_ms(c['embed_s'])} | {_ms(modes.get('limited', 0.0), 2)} / "
            f"{_ms(modes.get('full', 0.0), 2)} |\n"
        )
    faces = x86["faces"]
    for name, d in x86["decode"].items():
        scene, res = name.split("/")
        out.append(
            f"| x86 here | {res} | {scene} | {_ms(d['keyframe_s'])} | {_ms(d['pframe_s'], 2)} "
            f"| {_ms(x86['hog'].get(name, faces['hog_s_per_px']) * 1e6, 0)} "
            f"| {_ms(faces['embed_s'])} | {_ms(x86['rest'].get(name + '/limited', 0.0), 2)} / "
            f"{_ms(x86['rest'].get(name + '/full', 0.0), 2)} |\n"
        )
    return "".join(out)


def mixed_table(rows: list[dict[str, Any]]) -> str:
    """Cameras with limited decoding when 0, 1 or 2 of them have a visitor at once."""
    total = {(r["pi"], r["res"], r["scene"], r["mode"]): r["terms"]["total"] for r in rows}
    usable = value("usable_cores")
    out = [
        "| Pi | video | idle camera ms/s | camera with a visitor ms/s "
        "| cameras, none busy | one visitor at a time | two at once |\n"
        "|---|---|---|---|---|---|---|\n"
    ]
    for pi in ("Pi 4", "Pi 5"):
        for res in ("720p", "1080p"):
            idle = total.get((pi, res, "empty", "limited"))
            busy = total.get((pi, res, "visitor", "limited"))
            if idle is None or busy is None:
                continue
            n = [cameras_with_visitors(idle, busy, usable, k) for k in (0, 1, 2)]
            out.append(
                f"| {pi} | {res} | {_ms(idle)} | {_ms(busy)} | {n[0]:.0f} | {n[1]:.0f} "
                f"| {n[2]:.0f} |\n"
            )
    return "".join(out)


def render(rows: list[dict[str, Any]], x86: dict[str, Any], started: datetime, notes: str) -> str:
    """The whole report."""
    faces = x86["faces"]
    pi_hog = value("pi_face_locations_s")
    out = [
        f"# Cameras per Raspberry Pi, on paper ({started:%Y-%m-%d %H:%M} UTC)\n\n",
        "One camera's CPU-s per second of video is the sum of the terms (ms of one core "
        f"per second of video); cameras = {value('usable_cores'):g} usable cores / that sum. "
        "25 fps, a keyframe every 2 s. Counts: watcher's replay of bench/footage/sizes.py's "
        "scenes, the difference between the scene played 3 times and once (steady state); "
        "decoded frames as watcher counts them (packets handed to the decoder: skipped "
        "non-reference frames included); Mpx to dlib: pixels handed to the HOG detector "
        "after its scaling. The last column is the other bound: decoding scaled from this "
        "machine by the same ratio as dlib, not from the published Pi rate.\n",
        notes,
        "\n",
        table(rows),
        "\n## Idle cameras and visitors at once (limited decoding)\n\n",
        mixed_table(rows),
        "\n## Per-operation costs (ms of one core)\n\n",
        costs_table(rows, x86),
        f"\nx86 here: face_recognition's face_locations (HOG, upsample 1) "
        f"{faces['face_locations_720p_s']:.3f} s at 1280x720, "
        f"{faces['face_locations_480p_s']:.3f} s at 640x480; the Pi's {pi_hog} s is "
        f"{pi_hog / faces['face_locations_720p_s']:.1f}x the first (used), "
        f"{pi_hog / faces['face_locations_480p_s']:.1f}x the second.\n",
        "\n## Figures\n\n| figure | value | kind | what | source | date |\n"
        "|---|---|---|---|---|---|\n",
    ]
    for f in FIGURES:
        out.append(
            f"| {f.key} | {f.value:g} {f.unit} | {f.kind} | {f.what} | {f.source} | {f.date} |\n"
        )
    return "".join(out)
