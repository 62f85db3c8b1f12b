"""The review page over real HTTP: `watcher web` in its own process, on a real database
filled by the real StoreWriter, with a real clip recorded by the real pipeline."""

from __future__ import annotations

import re
import statistics
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from tests.support.web import (
    CAMERA_SECRET,
    PASSWORD,
    START_S,
    WRITER_STOP_S,
    Page,
    cookie_of,
    csrf_of,
    passwd,
    record_real_event,
    request,
    write_config,
)
from watcher.constants import EVENT_CLOSED
from watcher.pipeline.status import CameraStatus, write_status
from watcher.store import Event, SightingData, StoreWriter, init_db, make_engine
from watcher.web.auth import hash_password, verify_password

FILLER = 10_000
PAGE_BUDGET_S = 0.2


@dataclass
class Site:
    """A config, its recordings and database, and the real event recorded into them."""

    folder: Path
    config: Path
    recordings: Path
    event_id: str
    clip: Path
    growing_id: str = "growing0001"
    growing: Path = field(default_factory=Path)
    outside_id: str = "outside0001"


def fragment_ends(data: bytes) -> list[int]:
    """Where each movie fragment (moof + mdat) of a fragmented MP4 ends."""
    ends, at, kinds = [], 0, []
    while at + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        at += size
        kinds.append(kind)
        if kind == b"mdat" and kinds[-2:-1] == [b"moof"]:
            ends.append(at)
    return ends


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("web")
    config = write_config(folder)
    recordings = folder / "rec"
    engine = make_engine(f"sqlite:///{recordings / 'watcher.db'}")
    init_db(engine)
    writer = StoreWriter(engine, backoff_s=0.01).start()
    try:
        real = record_real_event(folder, writer)
        assert real.clip is not None
        # An event still being recorded: its clip grows while the page serves it.
        now = datetime.now(UTC)
        growing = recordings / "cam" / "growing.mp4"
        # The clip's first fragment whole and the start of its second: its file so far.
        clip_data = Path(real.clip).read_bytes()
        growing.write_bytes(clip_data[: fragment_ends(clip_data)[0] + 10])
        writer.open_event("growing0001", "cam", now)
        writer.update_event("growing0001", clip_path=str(growing))
        # A row naming a file outside the recordings (a damaged or hostile database).
        writer.open_event("outside0001", "cam", now - timedelta(seconds=1))
        writer.update_event("outside0001", clip_path="/etc/passwd", snapshot_path=str(config))
        writer.add_sightings(
            "outside0001",
            [SightingData(now, 0.0, (1, 2, 3, 4), None, 0.7, note="counted: beyond the bound")],
        )
        # An H.265 clip (the same file, its sample entry tagged hvc1), long ago.
        hevc = recordings / "cam" / "hevc.mp4"
        hevc.write_bytes(clip_data.replace(b"avc1", b"hvc1"))
        writer.open_event("hevc0001", "cam", now - timedelta(days=40))
        writer.close_event("hevc0001", now - timedelta(days=40) + timedelta(seconds=5))
        writer.update_event("hevc0001", clip_path=str(hevc))
        assert writer.flush(30)
    finally:
        assert writer.stop(timeout=WRITER_STOP_S)
    # 10,000 older events on two cameras, one insert (the budget is for reading them).
    base = datetime.now(UTC) - timedelta(days=30)
    with Session(engine) as session:
        session.execute(
            insert(Event),
            [
                {
                    "id": f"fill{i:06d}",
                    "camera": "garage" if i % 3 else "cam",
                    "started_at": base + timedelta(minutes=3 * i),
                    "ended_at": base + timedelta(minutes=3 * i, seconds=9),
                    "status": EVENT_CLOSED,
                    "faces": 1,
                    "decision": f"stranger on {i % 7 + 2} good looks",
                    "created_at": base,
                }
                for i in range(FILLER)
            ],
        )
        session.commit()
    engine.dispose()
    yield Site(folder, config, recordings, real.id, Path(real.clip), growing=growing)


@pytest.fixture(scope="module")
def page(site: Site) -> Iterator[Page]:
    running = Page(site.config).wait_ready()
    yield running
    running.stop()


def test_timeline_newest_first_grouped_by_day_with_lazy_thumbnails(site: Site, page: Page) -> None:
    status, headers, body = request(page.port, "/")
    assert status == 200
    html = body.decode()
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    # The newest first: today's three, then the filler from a month ago, newest first.
    ids = re.findall(r'data-href="/events/([^"]+)"', html)
    assert set(ids[:3]) == {"growing0001", "outside0001", site.event_id}
    assert ids[3:6] == [f"fill{i:06d}" for i in range(FILLER - 1, FILLER - 4, -1)]
    assert len(ids) == 50  # one page
    assert "recording now" in html and "closed" in html
    assert f'src="/events/{site.event_id}/snapshot" loading="lazy"' in html
    assert html.count("<h2>") >= 2  # today, and the filler's days
    assert "stranger on" in html  # each event's decision


def test_timeline_filters_by_camera_and_day(site: Site, page: Page) -> None:
    _, _, body = request(page.port, "/?camera=garage")
    ids = re.findall(r'data-href="/events/([^"]+)"', body.decode())
    assert ids and all(int(i.removeprefix("fill")) % 3 for i in ids)
    day = (datetime.now(UTC) - timedelta(days=30) + timedelta(days=2)).astimezone().date()
    _, _, body = request(page.port, "/?" + urlencode({"date": day.isoformat(), "camera": "cam"}))
    ids = re.findall(r'data-href="/events/([^"]+)"', body.decode())
    assert ids
    html = body.decode()
    assert html.count("<h2>") == 1
    status, _, _ = request(page.port, "/?camera=" + quote("../etc"))
    assert status == 400


def test_timeline_filters_by_a_range_of_days(site: Site, page: Page) -> None:
    first = (datetime.now(UTC) - timedelta(days=30) + timedelta(days=2)).astimezone().date()
    last = first + timedelta(days=1)
    labels = {f"{d:%A %d %B %Y}" for d in (first, last)}
    # Typed backwards, the range still means those two days.
    for query in ({"from": first, "to": last}, {"from": last, "to": first}):
        html = request(page.port, "/?" + urlencode({**query, "camera": "cam"}))[2].decode()
        days = re.findall(r"<h2>([^<]+)</h2>", html)
        assert days == [f"{last:%A %d %B %Y}"], days  # the newest day of the range first
        assert f'value="{first.isoformat()}"' in html and f'value="{last.isoformat()}"' in html
    # Older pages keep the range, and end with its first day: nothing outside it.
    path: str | None = "/?" + urlencode({"from": first, "to": last, "camera": "cam"})
    seen: list[str] = []
    for _ in range(10):
        if path is None:
            break
        html = request(page.port, path)[2].decode()
        seen += re.findall(r"<h2>([^<]+)</h2>", html)
        match = re.search(r'href="([^"]+)" rel="next"', html)
        path = match.group(1).replace("&amp;", "&") if match else None
        assert path is None or f"from={first.isoformat()}" in path
    assert path is None and set(seen) == labels and seen[-1] == f"{first:%A %d %B %Y}"
    # Open-ended: from a day on, the newest events (today's) are there.
    html = request(page.port, "/?" + urlencode({"from": last.isoformat()}))[2].decode()
    assert site.event_id in html


def test_each_event_shows_its_face_lazily(site: Site, page: Page) -> None:
    html = request(page.port, "/")[2].decode()
    assert f'src="/events/{site.event_id}/face" loading="lazy"' in html
    status, headers, _ = request(page.port, f"/events/{site.event_id}/face")
    assert status == 200 and headers["Content-Type"] == "image/jpeg"


def test_pages_follow_each_other_and_each_comes_in_under_200_ms(page: Page) -> None:
    seen: list[str] = []
    path: str | None = "/"
    timings = []
    for _ in range(5):
        assert path is not None
        started = time.perf_counter()
        status, _, body = request(page.port, path)
        timings.append(time.perf_counter() - started)
        assert status == 200
        html = body.decode()
        seen += re.findall(r'data-href="/events/([^"]+)"', html)
        match = re.search(r'href="([^"]+)" rel="next"', html)
        path = match.group(1).replace("&amp;", "&") if match else None
    assert len(seen) == len(set(seen)) == 250  # no event twice, none skipped
    # A deep page (the oldest events) is found by the index as fast as the first.
    deep = "/?" + urlencode({"before": f"{(datetime.now(UTC) - timedelta(days=29)).isoformat()}~z"})
    for _ in range(5):
        started = time.perf_counter()
        status, _, body = request(page.port, deep)
        timings.append(time.perf_counter() - started)
        assert status == 200 and b"fill000" in body
    assert statistics.median(timings) < PAGE_BUDGET_S, timings


def test_event_page_shows_clip_snapshot_sightings_and_masks_the_camera_url(
    site: Site, page: Page
) -> None:
    status, _, body = request(page.port, f"/events/{site.event_id}")
    assert status == 200
    html = body.decode()
    assert re.search(f'<video id="clip" [^>]*src="/events/{site.event_id}/clip"', html)
    assert f"/events/{site.event_id}/snapshot" in html
    assert html.count("<td>unknown</td>") >= 2  # a row per sighting (no gallery: no distance)
    assert CAMERA_SECRET not in html and "admin:***@10.0.0.5" in html
    _, _, body = request(page.port, "/events/outside0001")
    # Each sighting with its distance and what it counted for.
    assert "<td>0.700</td>" in body.decode() and "counted: beyond the bound" in body.decode()
    assert request(page.port, "/events/nothere")[0] == 404
    # The codec is said per event; an H.265 clip says why it may not play, and offers it.
    assert "Download the clip</a> (H.264)" in html and "HEVC" not in html
    _, _, body = request(page.port, "/events/hevc0001")
    assert "Download the clip</a> (H.265)" in body.decode() and "HEVC" in body.decode()


def test_clip_is_served_with_range(site: Site, page: Page) -> None:
    data = site.clip.read_bytes()
    size = len(data)
    url = f"/events/{site.event_id}/clip"
    status, headers, body = request(page.port, url)
    assert (status, headers["Accept-Ranges"], headers["Content-Type"]) == (
        200,
        "bytes",
        "video/mp4",
    )
    assert body == data
    status, headers, body = request(page.port, url, headers={"Range": "bytes=100-1099"})
    assert status == 206
    assert headers["Content-Range"] == f"bytes 100-1099/{size}"
    assert body == data[100:1100]
    status, headers, body = request(page.port, url, headers={"Range": "bytes=-500"})
    assert (status, body) == (206, data[-500:])
    status, headers, body = request(page.port, url, headers={"Range": f"bytes={size - 10}-"})
    assert (status, headers["Content-Range"], body) == (
        206,
        f"bytes {size - 10}-{size - 1}/{size}",
        data[-10:],
    )
    status, headers, _ = request(page.port, url, headers={"Range": f"bytes={size}-"})
    assert (status, headers["Content-Range"]) == (416, f"bytes */{size}")
    # A clip still being written (or torn by a crash) is served up to its last whole
    # fragment at that moment: a player never seeks into half a fragment.
    ends = fragment_ends(data)
    assert len(ends) >= 3
    grow = f"/events/{site.growing_id}/clip"
    status, headers, body = request(page.port, grow, headers={"Range": "bytes=0-"})
    assert (status, headers["Content-Range"]) == (206, f"bytes 0-{ends[0] - 1}/{ends[0]}")
    assert body == data[: ends[0]]
    with site.growing.open("ab") as out:
        out.write(data[site.growing.stat().st_size : ends[1] + 10])  # into a moof
    status, headers, body = request(page.port, grow, headers={"Range": "bytes=100-"})
    assert headers["Content-Range"] == f"bytes 100-{ends[1] - 1}/{ends[1]}"
    assert (status, body) == (206, data[100 : ends[1]])
    with site.growing.open("ab") as out:
        out.write(data[site.growing.stat().st_size : ends[2] - 5])  # into its mdat
    assert request(page.port, grow, headers={"Range": f"bytes={ends[1]}-"})[0] == 416
    with site.growing.open("ab") as out:
        out.write(data[site.growing.stat().st_size : ends[2]])
    status, headers, body = request(page.port, grow, headers={"Range": f"bytes={ends[1]}-"})
    assert (status, body) == (206, data[ends[1] : ends[2]])


def test_no_path_leaves_the_recordings_folder(site: Site, page: Page) -> None:
    for path in (
        "/events/outside0001/clip",  # a row naming /etc/passwd
        "/events/outside0001/snapshot",  # ...and the config file
        "/events/..%2F..%2Fetc%2Fpasswd/clip",
        "/events/%2e%2e/clip",
        f"/events/{site.event_id}/..%2F..%2Fwatcher.yaml",
        "/static/..%2F..%2F..%2Fconfig.py",
        "/static/../app.py",
    ):
        status, _, body = request(page.port, path)
        assert status in (400, 404), (path, status)
        assert b"root:" not in body and b"cameras:" not in body
    # A link inside the recordings pointing outside is refused too.
    link = site.recordings / "cam" / "link.mp4"
    link.symlink_to("/etc/passwd")
    try:
        engine = make_engine(f"sqlite:///{site.recordings / 'watcher.db'}")
        writer = StoreWriter(engine, backoff_s=0.01).start()
        writer.update_event("outside0001", clip_path=str(link))
        assert writer.stop(timeout=WRITER_STOP_S)
        engine.dispose()
        assert request(page.port, "/events/outside0001/clip")[0] == 404
    finally:
        link.unlink()


def test_a_change_without_the_csrf_token_is_refused(page: Page) -> None:
    status, headers, body = request(page.port, "/")
    cookie, token = cookie_of(headers), csrf_of(body)
    form = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    assert request(page.port, "/logout", method="POST", headers=form, body=b"")[0] == 403
    bad = urlencode({"csrf": token + "x"}).encode()
    assert request(page.port, "/logout", method="POST", headers=form, body=bad)[0] == 403
    good = urlencode({"csrf": token}).encode()
    # The token without its cookie, and the right pair from another site, are refused.
    no_cookie = {"Content-Type": "application/x-www-form-urlencoded"}
    assert request(page.port, "/logout", method="POST", headers=no_cookie, body=good)[0] == 403
    other = {**form, "Origin": "http://evil.example"}
    assert request(page.port, "/logout", method="POST", headers=other, body=good)[0] == 403
    assert request(page.port, "/logout", method="POST", headers=form, body=good)[0] == 303


def test_password_hash_is_salted_pbkdf2() -> None:
    first, second = hash_password("pw", iterations=1000), hash_password("pw", iterations=1000)
    assert first != second and first.startswith("pbkdf2_sha256$1000$")
    assert verify_password("pw", first) and not verify_password("pW", first)
    assert not verify_password("pw", "garbage")


def test_a_network_address_needs_a_password_then_logins_are_required(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    refused = Page(config, "--host", "0.0.0.0")
    try:
        assert refused.proc.wait(timeout=START_S) == 2
        out = refused.proc.stdout.read() if refused.proc.stdout else ""
        assert "without a password" in out and "watcher web passwd" in out
    finally:
        refused.stop()
    done = passwd(config, PASSWORD)
    assert done.returncode == 0, done.stderr
    stored = tmp_path / "web-password"
    assert PASSWORD not in stored.read_text() and "pbkdf2_sha256$" in stored.read_text()
    assert stored.stat().st_mode & 0o777 == 0o600
    served = Page(config, "--host", "0.0.0.0").wait_ready()
    try:
        port = served.port
        status, headers, _ = request(port, "/")
        assert (status, headers["Location"]) == (303, "/login?next=%2F")
        assert request(port, "/events/x/clip")[0] == 401
        status, headers, body = request(port, "/login")
        cookie, token = cookie_of(headers), csrf_of(body)
        form = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
        wrong = urlencode({"csrf": token, "password": "nope", "next": "/"}).encode()
        assert request(port, "/login", method="POST", headers=form, body=wrong)[0] == 401
        right = urlencode({"csrf": token, "password": PASSWORD, "next": "//evil"}).encode()
        status, headers, _ = request(port, "/login", method="POST", headers=form, body=right)
        assert (status, headers["Location"]) == (303, "/")
        set_cookie = headers["Set-Cookie"]
        assert "HttpOnly" in set_cookie and "SameSite=strict" in set_cookie.replace(
            "Strict", "strict"
        )
        session = {"Cookie": cookie_of(headers)}
        assert request(port, "/", headers=session)[0] == 200
        # The cookie before login is worth nothing after it; a forged one neither.
        assert request(port, "/", headers={"Cookie": cookie})[0] == 303
        forged = session["Cookie"][:-3] + "AAA"
        assert request(port, "/", headers={"Cookie": forged})[0] == 303
        # Brute force: after 5 failures in a row, even the right password waits; with no
        # proxy trusted, a forged X-Forwarded-For changes nothing.
        for n in range(5):
            forged = {**form, "X-Forwarded-For": f"192.0.2.{n}"}
            request(port, "/login", method="POST", headers=forged, body=wrong)
        assert request(port, "/login", method="POST", headers=form, body=right)[0] == 429
    finally:
        served.stop()


def test_marking_reviewed_and_the_reviewed_filter(site: Site, page: Page) -> None:
    status, headers, body = request(page.port, f"/events/{site.event_id}")
    assert b"Mark reviewed" in body
    form = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie_of(headers)}
    url = f"/events/{site.event_id}/reviewed"
    mark = {"csrf": csrf_of(body), "reviewed": "yes"}
    no_token = urlencode({"reviewed": "yes"}).encode()
    assert request(page.port, url, method="POST", headers=form, body=no_token)[0] == 403
    marked = urlencode(mark).encode()
    status, headers, _ = request(page.port, url, method="POST", headers=form, body=marked)
    assert (status, headers["Location"]) == (303, f"/events/{site.event_id}")
    assert b"Not reviewed" in request(page.port, f"/events/{site.event_id}")[2]

    def shown(query: str) -> list[str]:
        return re.findall(r'data-href="/events/([^"]+)"', request(page.port, query)[2].decode())

    assert shown("/?reviewed=yes") == [site.event_id]
    assert site.event_id not in shown("/?reviewed=no") and len(shown("/?reviewed=no")) == 50
    assert site.event_id in shown("/")
    # Pages of a filter keep the filter.
    assert "reviewed=no" in request(page.port, "/?reviewed=no")[2].decode().split('rel="next"')[0]
    unmark = urlencode({**mark, "reviewed": "no"}).encode()
    assert request(page.port, url, method="POST", headers=form, body=unmark)[0] == 303
    assert shown("/?reviewed=yes") == []
    nothere = "/events/nothere/reviewed"
    assert request(page.port, nothere, method="POST", headers=form, body=marked)[0] == 404


def test_status_page_shows_what_watcher_status_shows(site: Site, page: Page) -> None:
    status, _, body = request(page.port, "/status")
    assert status == 200 and b"has written no status" in body
    live = CameraStatus(
        camera="cam",
        connected=True,
        since="2026-12-05T10:00:00+00:00",
        finished=False,
        input_fps=25.0,
        analysed_fps=4.8,
        frames_skipped=3,
        gated_share=0.5,
        embeddings_per_min=12.0,
        reconnects=2,
        event="growing0001",
    )
    write_status(site.recordings, [live])  # as the daemon writes it (this pid: running)
    try:
        html = request(page.port, "/status")[2].decode()
        assert "Daemon running (pid" in html
        camera = html[html.index('id="camera-cam"') :]
        assert "connected" in camera and "in 25.0 fps" in camera and "analysed 4.8 fps" in camera
        assert 'href="/events/growing0001">recording event growing0001' in camera
        assert CAMERA_SECRET not in html and "admin:***@10.0.0.5" in html
        assert "GB free of" in html and "at most 14 days" in html
        assert 'id="camera-garage"' in html and "Last event:" in html
    finally:
        (site.recordings / "status.json").unlink()


def test_strangers_page_shows_each_identity_with_its_best_crops(site: Site, page: Page) -> None:
    status, _, body = request(page.port, "/strangers")
    assert status == 200
    html = body.decode()
    labels = re.findall(r'<li class="stranger card" id="(unknown-\d+)"', html)
    assert labels, html[-2000:]
    label = labels[0]
    assert f'href="/events/{site.event_id}"' in html  # its visit
    status, headers, body = request(page.port, f"/strangers/{label}/crop/0")
    assert (status, headers["Content-Type"]) == (200, "image/jpeg")
    assert body[:2] == b"\xff\xd8"
    assert request(page.port, f"/strangers/{label}/crop/3")[0] in (200, 404)
    for path in ("/strangers/unknown-999/crop/0", "/strangers/..%2F..%2F/crop/0"):
        assert request(page.port, path)[0] == 404
    assert request(page.port, f"/strangers/{label}/crop/99")[0] == 404
    # The timeline names each event's stranger with their visits, and filters by them.
    html = request(page.port, "/")[2].decode()
    assert f'<a class="who" href="/?identity={label}">{label} (1 visit)</a>' in html
    html = request(page.port, f"/?identity={label}")[2].decode()
    assert re.findall(r'data-href="/events/([^"]+)"', html) == [site.event_id]
    assert request(page.port, "/?identity=" + quote("../x"))[0] == 400
    # Undoing a naming that never was: refused, in the command's own words.
    status, headers, body = request(page.port, "/strangers")
    form = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie_of(headers)}
    token = urlencode({"csrf": csrf_of(body)}).encode()
    undo = f"/strangers/{label}/undo"
    status, _, body = request(page.port, undo, method="POST", headers=form, body=token)
    assert status == 409 and f"Not undone: {label} is not named" in body.decode()


def test_deleting_an_event_removes_its_clip_pictures_and_rows(site: Site, page: Page) -> None:
    """Last in this file: it deletes the real event the other tests look at."""
    status, headers, body = request(page.port, f"/events/{site.event_id}")
    cookie, token = cookie_of(headers), csrf_of(body)
    assert f'action="/events/{site.event_id}/delete"' in body.decode()
    form = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    url = f"/events/{site.event_id}/delete"
    files = [p for p in site.clip.parent.iterdir() if site.event_id in p.name]
    assert len(files) >= 2  # the clip, the snapshot, the crops
    # Without the token nothing happens.
    assert request(page.port, url, method="POST", headers=form, body=b"")[0] == 403
    assert all(p.exists() for p in files)
    # An event still recording is not deleted.
    grow = urlencode({"csrf": token}).encode()
    status, _, body = request(
        page.port, f"/events/{site.growing_id}/delete", method="POST", headers=form, body=grow
    )
    assert status == 409 and b"still recording" in body
    status, headers, _ = request(page.port, url, method="POST", headers=form, body=grow)
    assert status == 303 and headers["Location"].startswith("/?deleted=")
    assert not any(p.exists() for p in files)
    assert request(page.port, f"/events/{site.event_id}")[0] == 404
    assert request(page.port, f"/events/{site.event_id}/clip")[0] == 404
    _, _, body = request(page.port, "/")
    assert f'data-href="/events/{site.event_id}"'.encode() not in body


def test_only_a_trusted_proxy_is_believed(tmp_path: Path) -> None:
    config = write_config(tmp_path, "  trusted_proxies: [127.0.0.1]\n")
    done = passwd(config, PASSWORD)
    assert done.returncode == 0, done.stderr
    served = Page(config).wait_ready()
    try:
        port = served.port
        # Behind TLS at the proxy, the login cookie is Secure; over plain http it is not.
        _, headers, _ = request(port, "/login", headers={"X-Forwarded-Proto": "https"})
        assert "secure" in headers["Set-Cookie"].lower()
        _, headers, body = request(port, "/login")
        assert "secure" not in headers["Set-Cookie"].lower()
        form = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie_of(headers)}
        token = csrf_of(body)
        wrong = urlencode({"csrf": token, "password": "nope"}).encode()
        right = urlencode({"csrf": token, "password": PASSWORD}).encode()
        # Failed logins are counted per real client, as the proxy says.
        mallory = {**form, "X-Forwarded-For": "198.51.100.7"}
        for _ in range(5):
            assert request(port, "/login", method="POST", headers=mallory, body=wrong)[0] == 401
        assert request(port, "/login", method="POST", headers=mallory, body=right)[0] == 429
        alice = {**form, "X-Forwarded-For": "203.0.113.9"}
        assert request(port, "/login", method="POST", headers=alice, body=right)[0] == 303
    finally:
        served.stop()


def _login(port: int, password: str) -> dict[str, str]:
    """Log in; the headers of a form post in that session (its cookie and CSRF token)."""
    _, headers, body = request(port, "/login")
    form = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie_of(headers)}
    data = urlencode({"csrf": csrf_of(body), "password": password}).encode()
    status, headers, _ = request(port, "/login", method="POST", headers=form, body=data)
    assert status == 303
    session = {"Cookie": cookie_of(headers)}
    token = csrf_of(request(port, "/", headers=session)[2])
    return {**form, **session, "X-CSRF-Token": token}


def test_a_viewer_looks_but_cannot_change_anything(site: Site, tmp_path: Path) -> None:
    """Last in this file: it sets passwords on the shared site."""
    first = passwd(write_config(tmp_path), "viewer password", "--viewer")
    assert first.returncode == 1 and "admin password first" in first.stderr
    assert passwd(site.config, PASSWORD).returncode == 0
    same = passwd(site.config, PASSWORD, "--viewer")
    assert same.returncode == 1 and "must differ" in same.stderr
    assert passwd(site.config, "just looking", "--viewer").returncode == 0
    served = Page(site.config).wait_ready()
    try:
        port = served.port
        viewer = _login(port, "just looking")
        html = request(port, "/events/hevc0001", headers=viewer)[2].decode()
        assert "Mark reviewed" not in html and "/delete" not in html and ">viewer<" in html
        assert 'action="/strangers/' not in request(port, "/strangers", headers=viewer)[2].decode()
        for action in ("delete", "reviewed"):
            url = f"/events/hevc0001/{action}"
            status, _, body = request(port, url, method="POST", headers=viewer, body=b"")
            assert status == 403 and b"A viewer can look" in body
        assert request(port, "/events/hevc0001/clip", headers=viewer)[0] == 200
        admin = _login(port, PASSWORD)
        html = request(port, "/events/hevc0001", headers=admin)[2].decode()
        assert "Mark reviewed" in html and "/events/hevc0001/delete" in html
        status, _, _ = request(port, "/events/hevc0001/delete", method="POST", headers=admin)
        assert status == 303
    finally:
        served.stop()
        (site.folder / "web-password").unlink()
