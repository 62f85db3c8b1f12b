"""`watcher faces ...`: manage the gallery of known people from the command line."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from watcher.commands import CommandFailed, guard
from watcher.config import WatcherConfig
from watcher.constants import EXIT_FAILURE, EXIT_OK
from watcher.faces.engine import FaceEngine, ModelsMissing
from watcher.faces.manage import (
    GalleryError,
    add_images,
    check_gallery,
    list_people,
    remove,
)


def _engine() -> FaceEngine:
    try:
        return FaceEngine()
    except ModelsMissing as exc:
        raise CommandFailed(str(exc)) from None


def _json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


@guard
def faces(cfg: WatcherConfig, args: argparse.Namespace) -> int:
    """Dispatch `watcher faces SUBCOMMAND`."""
    folder = cfg.known_faces_dir
    try:
        if args.faces_command == "remove":
            for path in remove(folder, args.name, args.image):
                print(f"removed {path}")
            return EXIT_OK
        if args.faces_command == "list":
            return _list(folder, args)
        if args.faces_command == "add":
            return _add(folder, args)
        return _check(folder, cfg.faces.tolerance, args)
    except GalleryError as exc:
        raise CommandFailed(str(exc)) from None


def _list(folder: Path, args: argparse.Namespace) -> int:
    listing = list_people(_engine(), folder)
    if args.json:
        _json(asdict(listing))
        return EXIT_OK
    print(f"{folder}: {len(listing.people)} people")
    for person in listing.people:
        print(f"  {person.name}: {len(person.images)} image(s)")
        for item in person.rejected:
            print(f"    rejected {item.path.name}: {item.reason}")
    for item in listing.rejected:
        if not any(item in p.rejected for p in listing.people):
            print(f"  rejected {item.path}: {item.reason}")
    return EXIT_OK


def _add(folder: Path, args: argparse.Namespace) -> int:
    results = add_images(_engine(), folder, args.name, list(args.images))
    for r in results:
        if r.accepted:
            print(f"added {r.source} -> {r.dest} (face {r.face_px} px)")
        else:
            print(f"refused {r.source}: {r.reason}")
    return EXIT_OK if all(r.accepted for r in results) else EXIT_FAILURE


def _check(folder: Path, tolerance: float, args: argparse.Namespace) -> int:
    report = check_gallery(_engine(), folder, tolerance)
    if args.json:
        _json(asdict(report) | {"ok": report.ok})
        return EXIT_OK
    print(f"{len(report.people)} people, {sum(report.people.values())} usable images")
    for item in report.rejected:
        print(f"  unusable {item.path}: {item.reason}")
    for small in report.small_faces:
        print(f"  small face {small.path}: {small.face_px} px (80 px or more recommended)")
    for d in report.disagreements:
        odd = f"; the odd one out: {d.outlier}" if d.outlier else ""
        print(
            f"  {d.person}: images disagree ({d.distance:.2f} > {report.tolerance:g}): "
            f"{d.pair[0].name} vs {d.pair[1].name}{odd}"
        )
    for c in report.confusions:
        print(
            f"  {c.people[0]} and {c.people[1]} look alike ({c.distance:.2f} <= "
            f"{report.tolerance:g}): {c.pair[0]} vs {c.pair[1]}"
        )
    print(
        f"tolerance {report.tolerance:g}; suggested {report.suggested_tolerance:.2f} "
        f"({report.suggestion_basis})"
    )
    print("gallery OK" if report.ok else "gallery needs attention")
    return EXIT_OK
