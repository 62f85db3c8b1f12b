"""`watcher faces ...`: manage the gallery of known people and name unknown ones."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from watcher.commands import CommandFailed, guard
from watcher.config import WatcherConfig
from watcher.constants import EXIT_FAILURE, EXIT_OK
from watcher.core import FaceEngine
from watcher.faces import ModelsMissing, learned, open_engine
from watcher.faces.cache import cache_dir
from watcher.faces.manage import (
    GalleryError,
    add_images,
    list_people,
    remove,
    validate_name,
)
from watcher.faces.report import check_gallery
from watcher.store import SchemaError, init_db, list_unknown, make_engine, promote


def _engine(folder: Path) -> FaceEngine:
    try:
        return open_engine(cache_dir(folder))
    except ModelsMissing as exc:
        raise CommandFailed(str(exc)) from None


@contextmanager
def _database(cfg: WatcherConfig) -> Iterator[Engine]:
    """The events database, migrated; any database failure is one line for the user."""
    try:
        engine = make_engine(cfg.database_url)
    except (SQLAlchemyError, OSError) as exc:
        raise CommandFailed(f"database unavailable: {_first_line(exc)}") from None
    try:
        init_db(engine)
        yield engine
    except (SQLAlchemyError, OSError, SchemaError) as exc:
        raise CommandFailed(f"database unavailable: {_first_line(exc)}") from None
    finally:
        engine.dispose()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


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
        if args.faces_command == "forget-learned":
            validate_name(args.name)
            count = learned.forget(folder, args.name)
            print(f"forgot {count} learned look(s) of {args.name}")
            return EXIT_OK
        if args.faces_command == "unknown":
            return _unknown(cfg, args)
        if args.faces_command == "name":
            return _name(cfg, args)
        return _check(folder, cfg.faces.tolerance, args)
    except GalleryError as exc:
        raise CommandFailed(str(exc)) from None


def _list(folder: Path, args: argparse.Namespace) -> int:
    listing = list_people(_engine(folder), folder)
    if args.json:
        _json(asdict(listing))
        return EXIT_OK
    print(f"{folder}: {len(listing.people)} people")
    for person in listing.people:
        looks = learned.load(folder, person.name)
        seen = f", {len(looks)} learned look(s) (last {looks.seen_at[-1]})" if len(looks) else ""
        print(f"  {person.name}: {len(person.images)} image(s){seen}")
        for item in person.rejected:
            print(f"    rejected {item.path.name}: {item.reason}")
    for item in listing.rejected:
        if not any(item in p.rejected for p in listing.people):
            print(f"  rejected {item.path}: {item.reason}")
    return EXIT_OK


def _add(folder: Path, args: argparse.Namespace) -> int:
    results = add_images(_engine(folder), folder, args.name, list(args.images))
    for r in results:
        if r.accepted:
            print(f"added {r.source} -> {r.dest} (face {r.face_px} px)")
        else:
            print(f"refused {r.source}: {r.reason}")
    return EXIT_OK if all(r.accepted for r in results) else EXIT_FAILURE


def _check(folder: Path, tolerance: float, args: argparse.Namespace) -> int:
    report = check_gallery(_engine(folder), folder, tolerance)
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
    for c in report.unclear:
        print(f"  {c.people[0]} and {c.people[1]} cannot be told apart ({c.distance:.2f})")
    for person, bound in report.bounds.items():
        print(f"  {person}: known within {bound:.2f}")
    for line in report.advice:
        print(f"  advice: {line}")
    print(
        f"tolerance {report.tolerance:g} (the cap of every bound); suggested "
        f"{report.suggested_tolerance:.2f} ({report.suggestion_basis})"
    )
    print("gallery OK" if report.ok else "gallery needs attention")
    return EXIT_OK


def _unknown(cfg: WatcherConfig, args: argparse.Namespace) -> int:
    with _database(cfg) as engine:
        records = list_unknown(engine)
    if args.json:
        _json([r.to_json() for r in records])
        return EXIT_OK
    if not records:
        print("no unknown faces")
    for r in records:
        named = f"  named {r.named_as}" if r.named_as else ""
        print(
            f"{r.label:<12} events={r.events:<3} sightings={r.sightings:<4} "
            f"first {r.first_seen.astimezone():%Y-%m-%d %H:%M}  "
            f"last {r.last_seen.astimezone():%Y-%m-%d %H:%M}  "
            f"{r.crop_path or '(no crop)'}{named}"
        )
    return EXIT_OK


def _name(cfg: WatcherConfig, args: argparse.Namespace) -> int:
    face_engine = _engine(cfg.known_faces_dir)
    with _database(cfg) as engine:
        result = promote(
            engine,
            args.label,
            args.name,
            cfg.known_faces_dir,
            face_engine=face_engine,
            max_photos=args.photos,
        )
    for photo in result.photos:
        print(f"added {photo}")
    for crop, reason in result.refused:
        print(f"skipped {crop}: {reason}")
    print(
        f"{result.label} is now {result.name}: {len(result.photos)} photo(s) added, "
        f"{result.events} event(s) and {result.sightings} sighting(s) relabelled "
        "(a running watcher picks the photos up by itself)"
    )
    return EXIT_OK
