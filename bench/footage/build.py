"""Make (or reuse) the footage, galleries and configs, and describe the benchmark's scenes."""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.footage.loops import loop_video
from bench.footage.render import encode, frames, ground_truth
from bench.footage.scenes import (
    CRF,
    EMPTY_S,
    FPS,
    GALLERY_PERSON,
    GALLERY_PHOTO,
    GENERATOR_VERSION,
    HAMILTON_LOOPS,
    HAMILTON_S,
    KEYINT,
    NOISE_SIGMA,
    PRESET,
    SINGLE_FACE_LOOPS,
    STARTUP_S,
    VISITORS,
    VISITORS_S,
    H,
    Scene,
    Visit,
    W,
)
from bench.footage.verify import verify
from bench.paths import MEDIA, OUT, ROOT


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def generator_key() -> str:
    """Changes whenever the frames could: GENERATOR_VERSION or the photos it uses."""
    photos = sorted({v.photo for v in VISITORS} | {GALLERY_PHOTO})
    return f"v{GENERATOR_VERSION}:" + ",".join(f"{p}={_sha(MEDIA / p)}" for p in photos)


def _link(target: Path, link: Path) -> None:
    """Point `link` at `target` (a symlink: the photos stay in ../shared/media)."""
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        if link.is_symlink() and link.resolve() == target.resolve():
            return
        link.unlink()
    link.symlink_to(target)


_CONFIG = """\
# Written by `python -m bench.footage`: the benchmark's watcher config ({what}).
# `watcher replay` ignores the camera source; base_dir is this folder (bench/out).
known_faces_dir: {gallery}
recordings_dir: recordings
database_url: sqlite:///watcher.db
log_level: WARNING
cameras:
  bench:
    source: demo
"""


def write_galleries_and_configs() -> dict[str, tuple[Path, Path]]:
    """The galleries and configs of every scene: name -> (config, gallery)."""
    OUT.mkdir(parents=True, exist_ok=True)
    specs = {
        "watcher.yaml": ("known_faces", {GALLERY_PERSON: GALLERY_PHOTO}, "visitors, empty"),
        "watcher-hamilton.yaml": (
            "known_faces_hamilton",
            {"lin_manuel_miranda": "faces/lin_manuel_miranda_1.png"},
            "short_hamilton_clip.mp4",
        ),
        "watcher-nobody.yaml": ("known_faces_empty", {}, "single_face.mp4: nobody is known"),
    }
    out: dict[str, tuple[Path, Path]] = {}
    for config_name, (gallery_name, people, what) in specs.items():
        gallery = OUT / gallery_name
        gallery.mkdir(exist_ok=True)
        for person, photo in people.items():
            _link(MEDIA / photo, gallery / person / Path(photo).name)
        config = OUT / config_name
        text = _CONFIG.format(gallery=gallery_name, what=what)
        if not config.is_file() or config.read_text() != text:
            config.write_text(text)
        out[config_name] = (config, gallery)
    return out


def read_meta(path: Path) -> dict[str, Any] | None:
    try:
        meta: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return meta


def _visit_from_json(d: dict[str, Any]) -> Visit:
    face = d.get("face_px")
    return Visit(
        person=d["person"],
        known=d["known"],
        arrival_s=d["arrival_s"],
        leave_s=d["leave_s"],
        enter_s=d.get("enter_s"),
        exit_s=d.get("exit_s"),
        face_px=(face[0], face[1]) if face else None,
        note=d.get("note", ""),
    )


def _build_one(
    kind: str,
    name: str,
    duration_s: float,
    visits: list[Visit],
    force: bool,
    reverify: bool,
    check: bool,
) -> dict[str, Any]:
    video, meta_path = OUT / f"{name}.mp4", OUT / f"{name}.json"
    key = generator_key()
    meta = read_meta(meta_path)
    fresh = not force and video.is_file() and meta is not None and meta.get("generator") == key
    if not fresh:
        print(f"footage: encoding {video.relative_to(ROOT)} ({duration_s:.0f} s)", file=sys.stderr)
        meta_path.unlink(missing_ok=True)
        encode(video, frames(kind, duration_s), round(duration_s * FPS), name)
        meta = None
    if meta is None:
        meta = {
            "generator": key,
            "video": video.name,
            "width": W,
            "height": H,
            "fps": FPS,
            "duration_s": duration_s,
            "frames": round(duration_s * FPS),
            "encoding": f"libx264 crf {CRF} preset {PRESET}, keyint {KEYINT}, yuv420p",
            "noise_sigma": NOISE_SIGMA,
            "motion": "none (still scene, light drift)"
            if kind == "visitors"
            else "wind in the tree outside the window, a shadow sweeping every 40 s",
            "visits": [asdict(v) for v in visits],
            "verification": None,
        }
    if check and (reverify or meta.get("verification") is None):
        print(f"footage: verifying {video.name} with dlib", file=sys.stderr)
        meta["verification"] = verify(kind, video, visits)
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def hamilton_visits(offset_s: float = 0.0, play: int | None = None) -> list[Visit]:
    """Ground truth of short_hamilton_clip.mp4, played from `offset_s` on (its `play`-th time)."""
    nth = "" if play is None else f" (play {play})"
    return [
        Visit(
            f"lin_manuel_miranda{nth}",
            True,
            offset_s + 0.0,
            offset_s + 7.0,
            note="in profile 0.7-2.7 s; full-res HOG finds him 2.74-7.04 s",
        ),
        Visit(
            f"audience member{nth}",
            False,
            offset_s + 7.04,
            offset_s + 8.34,
            face_px=(72, 72),
            note="shot cut at 7.04 s; full-res HOG (no upsampling) finds the face "
            "7.24-8.34 s, 72 px box, distance >= 0.69",
        ),
    ]


def build(force: bool = False, reverify: bool = False, check: bool = True) -> list[Scene]:
    """Make (or reuse) all footage, galleries and configs; return the benchmark's scenes."""
    configs = write_galleries_and_configs()
    visitor_visits = ground_truth()
    metas = {
        "visitors": _build_one(
            "visitors", "visitors", VISITORS_S, visitor_visits, force, reverify, check
        ),
        "empty": _build_one("empty", "empty", EMPTY_S, [], force, reverify, check),
        "startup": _build_one("empty", "startup", STARTUP_S, [], force, reverify, False),
    }
    for name, meta in metas.items():
        ver = meta.get("verification")
        if ver is not None and not ver["ok"]:
            print(f"footage: {name}: VERIFICATION FAILED:", file=sys.stderr)
            for p in ver["problems"][:20]:
                print(f"  {p}", file=sys.stderr)
    sf_period = loop_video(
        MEDIA / "video" / "single_face.mp4", OUT / "single_face_x25.mp4", SINGLE_FACE_LOOPS
    )
    ham_period = loop_video(
        MEDIA / "video" / "short_hamilton_clip.mp4", OUT / "hamilton_x6.mp4", HAMILTON_LOOPS
    )
    own_config, own_gallery = configs["watcher.yaml"]
    ham_config, ham_gallery = configs["watcher-hamilton.yaml"]
    nobody_config, nobody_gallery = configs["watcher-nobody.yaml"]
    return [
        Scene(
            "visitors",
            OUT / "visitors.mp4",
            own_config,
            own_gallery,
            VISITORS_S,
            [_visit_from_json(d) for d in metas["visitors"]["visits"]],
            "720p25, still hallway; 1 known + 2 unknown visitors",
        ),
        Scene(
            "empty",
            OUT / "empty.mp4",
            own_config,
            own_gallery,
            EMPTY_S,
            [],
            "720p25, no one; wind in a tree, a sweeping shadow",
        ),
        Scene(
            "single_face",
            MEDIA / "video" / "single_face.mp4",
            nobody_config,
            nobody_gallery,
            2.4,
            [Visit("the man in single_face.mp4", False, 0.0, 2.367, face_px=(150, 190))],
            "640x360 30 fps, one unknown face in every frame; empty gallery",
        ),
        Scene(
            "hamilton",
            MEDIA / "video" / "short_hamilton_clip.mp4",
            ham_config,
            ham_gallery,
            HAMILTON_S,
            hamilton_visits(),
            "640x360 29.97 fps; gallery: lin_manuel_miranda_1.png",
            small_faces=True,
        ),
        Scene(
            "single_face_x25",
            OUT / "single_face_x25.mp4",
            nobody_config,
            nobody_gallery,
            SINGLE_FACE_LOOPS * sf_period,
            [
                Visit(
                    "the man in single_face.mp4",
                    False,
                    0.0,
                    SINGLE_FACE_LOOPS * sf_period,
                    face_px=(150, 190),
                    note=f"single_face.mp4 played {SINGLE_FACE_LOOPS} times",
                )
            ],
            f"single_face.mp4 x{SINGLE_FACE_LOOPS}: one unknown face in every frame",
        ),
        Scene(
            "hamilton_x6",
            OUT / "hamilton_x6.mp4",
            ham_config,
            ham_gallery,
            HAMILTON_LOOPS * ham_period,
            [v for k in range(HAMILTON_LOOPS) for v in hamilton_visits(k * ham_period, play=k + 1)],
            f"short_hamilton_clip.mp4 x{HAMILTON_LOOPS}: the known performer, then an "
            "unknown audience face, six times",
            small_faces=True,
        ),
        Scene(
            "startup",
            OUT / "startup.mp4",
            own_config,
            own_gallery,
            STARTUP_S,
            [],
            "the first second of empty.mp4: start-up cost",
        ),
    ]
