"""The review page's memory and speed with 10,000 events (issue 14's budget: under 60 MB
RSS idle, a page in under 200 ms).

    .venv/bin/python -m bench.web [--events 10000] [--strangers 200]

Seeds a database the daemon's way (the store's models: events, five sightings each,
unknown identities), then starts the real `watcher web` twice: as its systemd unit runs
it (watcher/web/bytecode.py's settings) and as a plain `watcher web` typed by hand. Each
is asked every page once, then 400 pages one after another, then 8 browsers at once
(40 pages each, the static files among them); its RSS is read after each, idle (no
request in flight). Page times are the median of 5 askings. Writes bench/out/web.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.live import proc_rss_mb
from bench.paths import OUT, ROOT

START_S = 60.0
HTTP_S = 30.0
PAGES = ("/", "/strangers", "/gallery", "/status", "/?page=2", "/?camera=garden")
BROWSERS = 8
TOUR = 400
# Idle before RSS is read: the page trims its heaps a second after its last request
# (watcher/web/memory.py TRIM_AFTER_S).
IDLE_S = 1.5


def seed(folder: Path, events: int, strangers: int) -> Path:
    """A config and a database of `events` events (5 sightings each) and `strangers`."""
    from sqlalchemy import insert
    from sqlalchemy.orm import Session

    from watcher.store import init_db, make_engine
    from watcher.store.models import Event, EventIdentity, Sighting, UnknownIdentity

    database = folder / "rec" / "watcher.db"
    engine = make_engine(f"sqlite:///{database}")
    init_db(engine)
    now = datetime.now(UTC)
    rng = random.Random(1)
    with Session(engine) as session, session.begin():
        identities = [
            UnknownIdentity(
                label=f"unknown-{i + 1}",
                first_seen=now - timedelta(days=20),
                last_seen=now - timedelta(hours=i),
                sightings=5,
                events=events // strangers,
                centroid=bytes(512),
            )
            for i in range(strangers)
        ]
        session.add_all(identities)
        session.flush()
        rows, sightings, links = [], [], []
        for i in range(events):
            event_id = f"ev{i:08d}"
            start = now - timedelta(minutes=3 * i)
            rows.append(
                {
                    "id": event_id,
                    "camera": rng.choice(["front_door", "garden"]),
                    "started_at": start,
                    "ended_at": start + timedelta(seconds=12),
                    "faces": 1,
                    "closest_distance": 0.7,
                    "status": "closed",
                    "decision": "stranger on 3 good looks",
                    "created_at": start,
                }
            )
            identity = identities[i % strangers].id
            links.append({"event_id": event_id, "identity_id": identity})
            sightings.extend(
                {
                    "event_id": event_id,
                    "at": start + timedelta(seconds=k),
                    "offset_s": float(k),
                    "top": 10,
                    "right": 60,
                    "bottom": 60,
                    "left": 10,
                    "distance": 0.7,
                    "embedding": bytes(512),
                    "identity_id": identity,
                }
                for k in range(5)
            )
        session.execute(insert(Event), rows)
        session.execute(insert(Sighting), sightings)
        session.execute(insert(EventIdentity), links)
    engine.dispose()
    config = folder / "watcher.yaml"
    config.write_text(
        "known_faces_dir: known_faces\nrecordings_dir: rec\n"
        "database_url: sqlite:///rec/watcher.db\n"
        "cameras:\n  front_door:\n    source: demo\n  garden:\n    source: demo\n"
    )
    return config


def ask(port: int, path: str) -> float:
    """Seconds one GET took (its whole body read)."""
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=HTTP_S) as reply:
            reply.read()
    except urllib.error.HTTPError as exc:
        raise SystemExit(f"bench.web: {path} answered {exc.code}") from None
    return time.perf_counter() - start


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def measure(config: Path, env: dict[str, str], events: int) -> dict[str, object]:
    """One page process: its RSS idle at start, after each load, and its page times."""
    port = free_port()
    command = [sys.executable, "-m", "watcher", "web", "-c", str(config), "--port", str(port)]
    proc = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + START_S
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit("bench.web: the page did not start") from None
                time.sleep(0.05)
        time.sleep(1)
        rss = {"start": proc_rss_mb(proc.pid)}
        event_pages = [f"/events/ev{i:08d}" for i in (3, events // 2, events - 1)]
        times = {
            path: statistics.median(ask(port, path) for _ in range(5))
            for path in (*PAGES, *event_pages)
        }
        time.sleep(IDLE_S)
        rss["every page"] = proc_rss_mb(proc.pid)
        rng = random.Random(2)
        for _ in range(TOUR):
            ask(port, rng.choice([*PAGES, f"/events/ev{rng.randrange(events):08d}"]))
        time.sleep(IDLE_S)
        rss[f"{TOUR} pages"] = proc_rss_mb(proc.pid)
        statics = ["/static/app.css", "/static/app.js"]

        def browser(seed: int) -> None:
            pick = random.Random(seed)
            for _ in range(40):
                ask(
                    port, pick.choice([*PAGES, *statics, f"/events/ev{pick.randrange(events):08d}"])
                )

        with ThreadPoolExecutor(BROWSERS) as pool:
            list(pool.map(browser, range(BROWSERS)))
        time.sleep(IDLE_S)
        rss[f"{BROWSERS} browsers"] = proc_rss_mb(proc.pid)
        threads = len(os.listdir(f"/proc/{proc.pid}/task"))
        return {
            "rss_mib": rss,
            "page_ms": {p: t * 1000 for p, t in times.items()},
            "threads": threads,
        }
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    """Seed, measure both ways of running the page, write bench/out/web.md."""
    parser = argparse.ArgumentParser(prog="python -m bench.web", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--strangers", type=int, default=200)
    args = parser.parse_args(argv)
    from watcher.web.bytecode import page_env, without_page_settings

    with tempfile.TemporaryDirectory() as tmp:
        config = seed(Path(tmp), args.events, args.strangers)
        base = without_page_settings(dict(os.environ))
        runs = {
            # As the unit: the compiled cache the bootstrap filled, nothing written to it.
            "as the unit runs it": measure(
                config, page_env({**base, "PYTHONDONTWRITEBYTECODE": "1"}), args.events
            ),
            "plain `watcher web`": measure(config, base, args.events),
        }
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    loads = list(next(iter(runs.values()))["rss_mib"])  # type: ignore[call-overload]
    lines = [
        f"# The review page with {args.events:,} events and {args.strangers} strangers ({when})",
        "",
        "RSS in MiB (1 MiB = 1.048576 MB), idle after each load:",
        "",
        "| page process | " + " | ".join(loads) + " | threads |",
        "|---" * (len(loads) + 2) + "|",
    ]
    for name, run in runs.items():
        rss: dict[str, float] = run["rss_mib"]  # type: ignore[assignment]
        cells = " | ".join(f"{rss[k]:.1f}" for k in loads)
        lines.append(f"| {name} | {cells} | {run['threads']} |")
    lines += ["", "Page times (median of 5, ms), as the unit runs it:", ""]
    times: dict[str, float] = runs["as the unit runs it"]["page_ms"]  # type: ignore[assignment]
    lines += ["| page | ms |", "|---|---|"]
    lines += [f"| `{path}` | {ms:.0f} |" for path, ms in times.items()]
    text = "\n".join(lines) + "\n"
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "web.md").write_text(text)
    (OUT / "web.json").write_text(json.dumps({"when": when, "runs": runs}, indent=2))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
