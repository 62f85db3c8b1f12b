"""`watcher faces ...`: manage the gallery of known people and name unknown ones."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path

from watcher.cli.common import (
    CommandFailed,
    Handler,
    Subparsers,
    command,
    database,
    face_engine,
    group,
    guard,
    missing_database,
    print_json,
)
from watcher.config import WatcherConfig
from watcher.constants import EXIT_FAILURE, EXIT_OK

# The gallery's modules (OpenCV, PyAV, numpy) are imported inside each command: the
# command line registers every group, and `watcher events list` must not pay for them.


def register(sub: Subparsers) -> None:
    """Add `faces` and its subcommands to the command line."""
    faces = group(sub, "faces", "manage the gallery of known people")
    listing = command(faces, "list", "people, image counts, learned looks, rejections", _list)
    listing.add_argument("--json", action="store_true")
    add = command(faces, "add", "check photos (or short videos of one person) and add them", _add)
    add.add_argument("name")
    add.add_argument(
        "images", nargs="+", type=Path, help="photos, or videos: a handful of good looks each"
    )
    forget = command(faces, "forget-learned", "delete the looks learned of a person", _forget)
    forget.add_argument("name")
    rm = command(faces, "remove", "remove a person, or one of their images", _remove)
    rm.add_argument("name")
    rm.add_argument("image", nargs="?")
    for verb, on, text in (
        ("watch", True, "put a known person on the watch-list: their appearance is an event"),
        ("unwatch", False, "take a person off the watch-list set by `faces watch`"),
    ):
        toggle = command(faces, verb, text, _watch)
        toggle.add_argument("name")
        toggle.set_defaults(watch=on)
    check = command(faces, "check", "a gallery quality report", _check)
    check.add_argument("--json", action="store_true")
    unknown = command(faces, "unknown", "unknown visitors, grouped across events", _unknown)
    unknown.add_argument("--json", action="store_true")
    name = command(faces, "name", "make an unknown identity a known person", _name)
    name.add_argument("label", help="as listed by `watcher faces unknown`, e.g. unknown-7")
    name.add_argument("name", help="the person's name (their folder in known_faces)")
    name.add_argument(
        "--photos", type=int, default=3, help="most crops to add to the gallery (default: 3)"
    )
    unname = command(faces, "unname", "undo `faces name`: its photos go, a stranger again", _unname)
    unname.add_argument("label", help="the identity that was named, e.g. unknown-7")


def _gallery_errors(func: Handler) -> Handler:
    """A GalleryError is the one line a command fails with."""

    @guard
    def wrapper(cfg: WatcherConfig, args: argparse.Namespace) -> int:
        from watcher.faces.manage import GalleryError

        try:
            return func(cfg, args)
        except GalleryError as exc:
            raise CommandFailed(str(exc)) from None

    wrapper.__doc__ = func.__doc__
    return wrapper


@_gallery_errors
def _remove(cfg: WatcherConfig, args: argparse.Namespace) -> int:
    """Remove a person (and what was learned of them), or one of their images."""
    from watcher.usecases import remove_photos

    for path in remove_photos(cfg.known_faces_dir, args.name, args.image):
        print(f"removed {path}")
    return EXIT_OK


@_gallery_errors
def _forget(cfg: WatcherConfig, args: argparse.Namespace) -> int:
    """Delete the looks learned of a person at the cameras."""
    from watcher.usecases import forget_learned

    count = forget_learned(cfg.known_faces_dir, args.name)
    print(f"forgot {count} learned look(s) of {args.name}")
    return EXIT_OK


@guard
def _watch(cfg: WatcherConfig, args: argparse.Namespace) -> int:
    """Put a person on the watch-list, or take them off (a marker in their folder)."""
    from watcher.faces.watchlist import NotAPerson, set_watched

    try:
        changed = set_watched(cfg.known_faces_dir, args.name, args.watch)
    except NotAPerson as exc:
        raise CommandFailed(f"{exc}: add their photos first (watcher faces add)") from None
    state = "on" if args.watch else "off"
    extra = "" if changed else " already"
    if not args.watch and args.name in cfg.alert_names():
        print(f"{args.name} stays on the watch-list by the config (people.{args.name}.alert)")
        return EXIT_OK
    print(f"{args.name} is{extra} {state} the watch-list")
    return EXIT_OK


@_gallery_errors
def _list(cfg: WatcherConfig, args: argparse.Namespace) -> int:
    """People, their images and learned looks, rejections."""
    from watcher.faces import learned
    from watcher.faces.manage import list_people

    folder = cfg.known_faces_dir
    listing = list_people(face_engine(folder), folder)
    if args.json:
        print_json(asdict(listing))
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


@_gallery_errors
def _add(cfg: WatcherConfig, args: argparse.Namespace) -> int:
    """Check photos or videos and copy the good looks into the gallery."""
    from watcher.usecases import add_photos

    folder = cfg.known_faces_dir
    results = add_photos(face_engine(folder), folder, args.name, list(args.images))
    for r in results:
        if r.accepted:
            print(f"added {r.source} -> {r.dest} (face {r.face_px} px)")
        else:
            print(f"refused {r.source}: {r.reason}")
    return EXIT_OK if all(r.accepted for r in results) else EXIT_FAILURE


@_gallery_errors
def _check(cfg: WatcherConfig, args: argparse.Namespace) -> int:
    """The gallery quality report."""
    from watcher.faces.report import check_gallery

    folder, tolerance = cfg.known_faces_dir, cfg.faces.tolerance
    report = check_gallery(face_engine(folder), folder, tolerance)
    if args.json:
        print_json(asdict(report) | {"ok": report.ok})
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


@guard  # it reads the database only: no gallery (and none of its OpenCV) to load
def _unknown(cfg: WatcherConfig, args: argparse.Namespace) -> int:
    """Unknown visitors, grouped across events."""
    from watcher.store import list_unknown

    with database(cfg, write=False) as engine:
        # The text lists no event ids: none are fetched for it.
        records = [] if engine is None else list_unknown(engine, None if args.json else 0)
    if args.json:
        print_json([r.to_json() for r in records])
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


@_gallery_errors
def _name(cfg: WatcherConfig, args: argparse.Namespace) -> int:
    """Make an unknown identity a known person."""
    from watcher.usecases import name_identity

    faces_engine = face_engine(cfg.known_faces_dir)
    with database(cfg, write=True) as engine:
        assert engine is not None
        result = name_identity(
            engine,
            args.label,
            args.name,
            cfg.known_faces_dir,
            face_engine=faces_engine,
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


@_gallery_errors
def _unname(cfg: WatcherConfig, args: argparse.Namespace) -> int:
    """Undo `faces name LABEL NAME`: the photos it added go, its sightings are unknown again."""
    from watcher.usecases.strangers import IdentityError, undo_naming

    if missing_database(cfg):  # nothing was ever named: do not create one to say so
        raise CommandFailed(f"no unknown identity {args.label!r}: no database yet")
    with database(cfg, write=True) as engine:
        assert engine is not None  # write=True opens (or makes) it
        try:
            undone = undo_naming(engine, args.label, cfg.known_faces_dir)
        except IdentityError as exc:
            raise CommandFailed(str(exc)) from None
    for photo in undone.photos:
        print(f"removed {photo}")
    print(
        f"{undone.label} is no longer {undone.name}: {len(undone.photos)} photo(s) removed, "
        f"{undone.sightings} sighting(s) unknown again "
        "(a running watcher picks the change up by itself)"
    )
    return EXIT_OK
