"""The gallery and the strangers' tidying on the review page, in a real browser
(Debian's headless Chromium) and over HTTP: photos uploaded and checked by `faces add`
itself, the quality report, removals, merging and forgetting strangers, a viewer."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import av
import cv2
import pytest
from sqlalchemy import Engine

from tests.support.browser import STEP_MS
from tests.support.browser import browser as browser  # noqa: F401  (a fixture)
from tests.support.media import MEDIA, STILLS, VIDEO
from tests.support.web import (
    PASSWORD,
    WRITER_STOP_S,
    Page,
    cookie_of,
    csrf_of,
    passwd,
    record_real_event,
    request,
    write_config,
)
from watcher.core import FaceEngine, box_height
from watcher.faces.gallery import read_rgb
from watcher.record.snapshot import crop, write_jpeg
from watcher.store import SightingData, StoreWriter, init_db, list_unknown, make_engine, to_blob
from watcher.web.upload import MAX_UPLOAD_BYTES

PEOPLE = MEDIA / "people"
CLI_MS = 240_000  # a `watcher faces` command the page runs (it loads dlib)
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def no_face_photo(dest: Path) -> Path:
    """A real picture with no face in it: a frame of the animated title footage."""
    with av.open(str(VIDEO / "no_face.mp4")) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index == 40:
                cv2.imwrite(str(dest), frame.to_ndarray(format="bgr24"))
                return dest
    raise AssertionError("no_face.mp4 is shorter than 40 frames")


def strangers(engine: Engine, face_engine: FaceEngine, rec: Path, photos: list[str]) -> None:
    """One event per photo, its face stored by the real writer as the pipeline does."""
    writer = StoreWriter(engine, backoff_s=0.01).start()
    try:
        now = datetime.now(UTC).replace(microsecond=0)
        for n, photo in enumerate(photos, 1):
            rgb = read_rgb(PEOPLE / photo)
            box = max(face_engine.detect(rgb, 40), key=box_height)
            path = rec / f"visit{n}-face.jpg"
            write_jpeg(path, crop(rgb, box))
            at = now - timedelta(hours=len(photos) - n)
            event_id = f"visit{n:04d}"
            writer.open_event(event_id, "cam", at)
            vector = to_blob(face_engine.embed(rgb, [box])[0])
            sighting = SightingData(
                at=at, offset_s=0.0, box=box, distance=0.9, embedding=vector, crop_path=str(path)
            )
            writer.add_sightings(event_id, [sighting])
            writer.close_event(event_id, at + timedelta(seconds=4))
    finally:
        assert writer.stop(timeout=WRITER_STOP_S)


def watch_listed(engine: Engine) -> None:
    """An event of zoe, a known person on the watch-list (people.zoe.alert)."""
    writer = StoreWriter(engine, backoff_s=0.01).start()
    try:
        at = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
        writer.open_event("watch0001", "cam", at)
        seen = SightingData(at=at, offset_s=0.0, box=(10, 110, 110, 10), name="zoe", distance=0.3)
        writer.add_sightings("watch0001", [seen])
        writer.close_event("watch0001", at + timedelta(seconds=3))
    finally:
        assert writer.stop(timeout=WRITER_STOP_S)


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, face_engine: FaceEngine
) -> Iterator[tuple[Path, Page, Engine]]:
    """No password (this machine only: the admin), three strangers, an empty gallery."""
    folder = tmp_path_factory.mktemp("gallery")
    config = write_config(folder, "people:\n  zoe: {alert: true}\n")
    (folder / "known_faces").mkdir()
    (folder / "rec").mkdir()
    engine = make_engine(f"sqlite:///{folder / 'rec' / 'watcher.db'}")
    init_db(engine)
    strangers(
        engine, face_engine, folder / "rec", ["person_a_1.jpg", "person_b_1.jpg", "person_c_1.jpg"]
    )
    watch_listed(engine)
    page = Page(config).wait_ready()
    yield config, page, engine
    page.stop()
    engine.dispose()


def test_the_timeline_names_a_watch_listed_person_and_an_event_links_its_neighbours(
    site: tuple[Path, Page, Engine],
) -> None:
    _, page, _ = site
    html = request(page.port, "/")[2].decode()
    assert '<span class="badge watch">zoe (watch-list)</span>' in html
    assert html.count("(watch-list)") == 1
    html = request(page.port, "/events/visit0002")[2].decode()
    assert 'id="newer" href="/events/visit0003"' in html
    assert 'id="older" href="/events/visit0001"' in html
    html = request(page.port, "/events/watch0001")[2].decode()
    assert 'id="older"' not in html and 'id="newer" href="/events/visit0001"' in html


def test_gallery_changes_need_the_csrf_token_and_photos_are_served_from_the_gallery_only(
    site: tuple[Path, Page, Engine],
) -> None:
    config, page, _ = site
    known = config.parent / "known_faces"
    (known / "zoe").mkdir(exist_ok=True)
    shutil.copyfile(PEOPLE / "person_d_1.jpg", known / "zoe" / "one.jpg")
    (known / "José").mkdir(exist_ok=True)
    shutil.copyfile(PEOPLE / "person_g_1.jpg", known / "José" / "at home #2.jpg")
    status, headers, body = request(page.port, "/gallery")
    assert status == 200 and b'src="/gallery/zoe/photo/one.jpg"' in body
    assert request(page.port, "/gallery/zoe/photo/one.jpg")[0] == 200
    # A name and a file name that a URL must escape are escaped, and served.
    escaped = "/gallery/Jos%C3%A9/photo/at%20home%20%232.jpg"
    assert f'src="{escaped}"'.encode() in body
    assert request(page.port, escaped)[0] == 200
    shutil.rmtree(known / "José")  # the later tests start from a gallery of zoe alone
    for bad in ("/gallery/zoe/photo/..%2F..%2Fwatcher.yaml", "/gallery/..%2Frec/photo/watcher.db"):
        assert request(page.port, bad)[0] == 404
    form = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie_of(headers)}
    url = "/gallery/zoe/remove"
    no_token = urlencode({"photo": "one.jpg"}).encode()
    assert request(page.port, url, method="POST", headers=form, body=no_token)[0] == 403
    token = csrf_of(body)
    outside = urlencode({"csrf": token, "photo": "../../watcher.yaml"}).encode()
    status, _, answer = request(page.port, url, method="POST", headers=form, body=outside)
    assert status == 409 and (config.parent / "watcher.yaml").is_file(), answer[-400:]
    ok = urlencode({"csrf": token, "photo": "one.jpg"}).encode()
    assert request(page.port, url, method="POST", headers=form, body=ok)[0] == 303
    assert not (known / "zoe").exists()
    # An upload without the token changes nothing.
    boundary = "b0undary"
    part = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nzoe\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="a.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    data = part + (PEOPLE / "person_d_1.jpg").read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    multipart = {**form, "Content-Type": f"multipart/form-data; boundary={boundary}"}
    assert request(page.port, "/gallery/add", method="POST", headers=multipart, body=data)[0] == 403
    assert not (known / "zoe").exists()
    # One that says it is larger than an upload may be is refused before it is read.
    huge = {**multipart, "Content-Length": str(MAX_UPLOAD_BYTES + 1)}
    status, _, answer = request(page.port, "/gallery/add", method="POST", headers=huge, body=data)
    assert status == 413 and b"too large" in answer


@pytest.mark.browser
def test_upload_a_photo_see_it_refuse_one_with_no_face_check_and_remove(
    site: tuple[Path, Page, Engine],
    browser: Any,  # noqa: F811 (the fixture)
    tmp_path: Path,
) -> None:
    config, page, _ = site
    known = config.parent / "known_faces"
    blank = no_face_photo(tmp_path / "garden.jpg")
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        tab = context.new_page()
        tab.set_default_timeout(STEP_MS)
        base = f"http://127.0.0.1:{page.port}"
        tab.goto(base + "/gallery")

        # A photo with no face: refused by `faces add`'s own check, and the page says why.
        tab.fill("#upload input[name=name]", "anna")
        tab.set_input_files("#upload input[type=file]", str(blank))
        with tab.expect_navigation(timeout=CLI_MS):
            tab.click("#upload button[type=submit]")
        assert "Not every photo was added to anna" in tab.locator("[role=alert]").inner_text()
        assert "refused garden.jpg: no face" in tab.locator("pre.output").inner_text()
        assert not (known / "anna").exists()

        # Two real photos of her: added, shown, and their thumbnails load.
        tab.goto(base + "/gallery")
        tab.fill("#upload input[name=name]", "anna")
        photos = [str(PEOPLE / "person_a_1.jpg"), str(PEOPLE / "person_a_2.jpg")]
        tab.set_input_files("#upload input[type=file]", photos)
        with tab.expect_navigation(timeout=CLI_MS):
            tab.click("#upload button[type=submit]")
        assert "Added to anna" in tab.locator("[role=status]").inner_text()
        assert sorted(p.name for p in (known / "anna").iterdir()) == [
            "person_a_1.jpg",
            "person_a_2.jpg",
        ]
        tab.goto(base + "/gallery")
        card = tab.locator("#person-anna")
        assert "2 photos" in card.inner_text()
        first = card.locator("img").first
        first.scroll_into_view_if_needed()
        tab.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=first.element_handle()
        )
        assert tab.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

        # The quality report of `faces check`.
        with tab.expect_navigation(timeout=CLI_MS):
            tab.click("a[href='/gallery/check']")
        assert "2 usable photos" in tab.locator("[role=status]").inner_text()
        assert "anna" in tab.locator("table").inner_text()

        # Remove one photo, then the person.
        tab.goto(base + "/gallery")
        tab.once("dialog", lambda dialog: dialog.accept())
        with tab.expect_navigation(timeout=CLI_MS):
            tab.click("#person-anna .remove-photo >> nth=0 >> button")
        assert "person_a_1.jpg removed" in tab.locator("[role=status]").inner_text()
        assert [p.name for p in (known / "anna").iterdir()] == ["person_a_2.jpg"]
        tab.once("dialog", lambda dialog: dialog.accept())
        with tab.expect_navigation(timeout=CLI_MS):
            tab.click("#person-anna .remove-person button")
        assert not (known / "anna").exists()
        assert tab.locator("#person-anna").count() == 0
    finally:
        context.close()


@pytest.mark.browser
def test_merge_two_strangers_then_forget_one(
    site: tuple[Path, Page, Engine],
    browser: Any,  # noqa: F811 (the fixture)
) -> None:
    _, page, engine = site
    assert {r.label for r in list_unknown(engine)} == {"unknown-1", "unknown-2", "unknown-3"}
    context = browser.new_context(viewport=DESKTOP)
    try:
        tab = context.new_page()
        tab.set_default_timeout(STEP_MS)
        tab.goto(f"http://127.0.0.1:{page.port}/strangers")
        card = tab.locator("#unknown-1")
        card.locator("input[name=other]").fill("unknown-2")
        tab.once("dialog", lambda dialog: dialog.accept())
        with tab.expect_navigation():
            card.locator(".merge-form button").click()
        assert "unknown-2 merged into unknown-1" in tab.locator("[role=status]").inner_text()
        assert tab.locator("#unknown-2").count() == 0
        assert "2 visits" in tab.locator("#unknown-1").inner_text()

        tab.once("dialog", lambda dialog: dialog.accept())
        with tab.expect_navigation():
            tab.locator("#unknown-3 .forget-form button").click()
        assert "unknown-3 forgotten" in tab.locator("[role=status]").inner_text()
        assert tab.locator("#unknown-3").count() == 0

        # On an event page, j and k go to the older and the newer event.
        tab.goto(f"http://127.0.0.1:{page.port}/events/visit0002")
        with tab.expect_navigation():
            tab.keyboard.press("j")
        assert tab.url.endswith("/events/visit0001")
        with tab.expect_navigation():
            tab.keyboard.press("k")
        assert tab.url.endswith("/events/visit0002")
    finally:
        context.close()
    (merged,) = list_unknown(engine)
    assert merged.label == "unknown-1" and merged.events == 2


@pytest.mark.browser
def test_a_viewer_cannot_delete_nor_change_the_gallery(
    tmp_path: Path,
    browser: Any,  # noqa: F811 (the fixture)
) -> None:
    config = write_config(tmp_path)
    engine = make_engine(f"sqlite:///{tmp_path / 'rec' / 'watcher.db'}")
    init_db(engine)
    writer = StoreWriter(engine, backoff_s=0.01).start()
    try:
        event = record_real_event(tmp_path, writer)
    finally:
        assert writer.stop(timeout=WRITER_STOP_S)
        engine.dispose()
    (tmp_path / "known_faces" / "anna").mkdir(parents=True)
    shutil.copyfile(STILLS / "obama_3.jpg", tmp_path / "known_faces" / "anna" / "one.jpg")
    assert passwd(config, PASSWORD).returncode == 0
    assert passwd(config, "just looking", "--viewer").returncode == 0
    page = Page(config).wait_ready()
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        tab = context.new_page()
        tab.set_default_timeout(STEP_MS)
        base = f"http://127.0.0.1:{page.port}"
        tab.goto(base + f"/events/{event.id}")
        tab.fill("input[name=password]", "just looking")
        tab.click("button[type=submit]")
        tab.wait_for_url(base + f"/events/{event.id}")
        assert tab.locator(".role").inner_text() == "viewer"
        # No button to delete, and the Delete key does nothing.
        assert tab.locator("#delete").count() == 0 and tab.locator("#review").count() == 0
        tab.keyboard.press("Delete")
        tab.wait_for_timeout(300)
        assert tab.url == base + f"/events/{event.id}"
        # A delete forged from the page itself, with its CSRF token: refused.
        status = tab.evaluate(
            """id => fetch(`/events/${id}/delete`, {method: "POST", headers: {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-CSRF-Token": document.querySelector("meta[name=csrf-token]").content}})
              .then(r => r.status)""",
            event.id,
        )
        assert status == 403
        tab.goto(base + "/gallery")
        assert tab.locator("#person-anna img").count() == 1
        assert tab.locator("#upload").count() == 0 and tab.locator(".remove-person").count() == 0
        tab.goto(base + "/")
        assert tab.locator(f'[data-href="/events/{event.id}"]').count() == 1
    finally:
        context.close()
        page.stop()
    assert (tmp_path / "known_faces" / "anna" / "one.jpg").is_file()


@pytest.mark.browser
def test_put_a_person_on_the_watch_list_and_take_them_off(
    site: tuple[Path, Page, Engine],
    browser: Any,  # noqa: F811 (the fixture)
) -> None:
    config, page, _ = site
    known = config.parent / "known_faces"
    (known / "ben").mkdir(exist_ok=True)
    shutil.copyfile(PEOPLE / "person_b_1.jpg", known / "ben" / "one.jpg")
    marker = known / "ben" / ".watch"
    # Without the page's token nothing changes.
    _, headers, _ = request(page.port, "/gallery")
    form = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie_of(headers)}
    forged = urlencode({"on": "1"}).encode()
    url = "/gallery/ben/watch"
    assert request(page.port, url, method="POST", headers=form, body=forged)[0] == 403
    assert not marker.exists()
    context = browser.new_context(viewport=DESKTOP)
    try:
        tab = context.new_page()
        tab.set_default_timeout(STEP_MS)
        tab.goto(f"http://127.0.0.1:{page.port}/gallery")
        card = tab.locator("#person-ben")
        assert "Not on the watch-list" in card.inner_text()
        with tab.expect_navigation(timeout=CLI_MS):
            card.locator(".watch-person button").click()
        card = tab.locator("#person-ben")
        assert card.locator(".badge.watch").count() == 1 and marker.is_file()
        with tab.expect_navigation(timeout=CLI_MS):
            card.locator(".watch-person button").click()
        assert not marker.exists()
        assert tab.locator("#person-ben .badge.watch").count() == 0
        # zoe is on it by the config: no button takes her off here.
        (known / "zoe").mkdir(exist_ok=True)
        shutil.copyfile(PEOPLE / "person_d_1.jpg", known / "zoe" / "one.jpg")
        tab.reload()
        zoe = tab.locator("#person-zoe")
        assert zoe.locator(".badge.watch").count() == 1
        assert zoe.locator(".watch-person").count() == 0 and "people.zoe.alert" in zoe.inner_text()
    finally:
        context.close()
        shutil.rmtree(known / "ben", ignore_errors=True)
        shutil.rmtree(known / "zoe", ignore_errors=True)
