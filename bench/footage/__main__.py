"""Build (or reuse) and verify the benchmark footage, then summarise it.

python -m bench.footage              # build what is missing or stale, verify it, summarise
python -m bench.footage --force      # rebuild everything
python -m bench.footage --verify     # re-run the dlib verification of cached footage
"""

from __future__ import annotations

import argparse

from bench.footage.build import build, read_meta
from bench.paths import OUT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.footage", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--force", action="store_true", help="re-encode even if cached")
    parser.add_argument("--verify", action="store_true", help="re-run the dlib verification")
    parser.add_argument("--no-verify", action="store_true", help="skip the dlib verification")
    args = parser.parse_args(argv)
    scenes = build(force=args.force, reverify=args.verify, check=not args.no_verify)
    ok = True
    for scene in scenes:
        meta = read_meta(scene.video.with_suffix(".json")) if scene.video.parent == OUT else None
        ver = meta.get("verification") if meta else None
        status = "" if ver is None else (" verified" if ver["ok"] else " VERIFICATION FAILED")
        ok = ok and (ver is None or ver["ok"])
        print(f"{scene.name}: {scene.video} ({scene.duration_s:g} s){status}")
        for v in scene.visits:
            kind = "known" if v.known else "UNKNOWN"
            face = f", face {v.face_px[0]:g}-{v.face_px[1]:g} px" if v.face_px else ""
            print(
                f"  {kind:7} {v.person}: in view {v.arrival_s:.2f}-{v.leave_s:.2f} s{face}"
                + (f"  [{v.note}]" if v.note else "")
            )
        if ver:
            for st in ver["visitors"]:
                print(
                    f"  dlib: {st['person']}: found {st['found']}/{st['checked']} fully-in-view "
                    f"checks, first at {st['first_found_s']} s, face {st['face_px']} px, "
                    f"distance {st['distance']}"
                )
            for p in ver["problems"]:
                print(f"  problem: {p}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
