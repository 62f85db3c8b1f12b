"""Naming a stranger from the review page: the whole identity at once, through
`watcher faces name` itself, and the next replay recognises them."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.support.browser import STEP_MS
from tests.support.browser import browser as browser  # noqa: F401  (a fixture)
from tests.support.web import ROOT, Page, cookie_of, csrf_of, request

VIDEO = (ROOT.parent / "shared" / "media" / "video").resolve()
CLI_S = 240


def replay(config: Path, video: Path) -> list[dict[str, Any]]:
    """`watcher replay` over a real video: the events it recorded."""
    done = subprocess.run(
        [sys.executable, "-m", "watcher", "replay", str(video), "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=CLI_S,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    events: list[dict[str, Any]] = json.loads(done.stdout)["events"]
    return events


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Page]]:
    """An empty gallery, one stranger (a real face in real footage), the page on it."""
    folder = tmp_path_factory.mktemp("naming")
    (folder / "known_faces").mkdir()
    config = folder / "watcher.yaml"
    config.write_text(
        "known_faces_dir: known_faces\n"
        "recordings_dir: recordings\n"
        "database_url: sqlite:///recordings/watcher.db\n"
        "record:\n  pre_capture_s: 3\n  post_capture_s: 2\n"
        "cameras:\n  cam:\n    source: demo\n"
    )
    assert len(replay(config, VIDEO / "noface_face.mp4")) == 1
    page = Page(config).wait_ready()
    yield config, page
    page.stop()


def test_naming_needs_the_csrf_token_and_a_valid_name(site: tuple[Path, Page]) -> None:
    config, page = site
    status, headers, body = request(page.port, "/strangers")
    assert status == 200 and b'action="/strangers/unknown-1/preview"' in body
    form = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie_of(headers)}
    url = "/strangers/unknown-1/name"
    no_token = urlencode({"name": "visitor"}).encode()
    assert request(page.port, url, method="POST", headers=form, body=no_token)[0] == 403
    token = csrf_of(body)
    for bad in ("../evil", "--photos", "a/b"):
        data = urlencode({"csrf": token, "name": bad}).encode()
        status, _, answer = request(page.port, url, method="POST", headers=form, body=data)
        assert status == 409 and b"invalid name" in answer, answer[-600:]
    assert [p.name for p in (config.parent / "known_faces").iterdir()] == [".cache"]
    data = urlencode({"csrf": token, "name": "visitor"}).encode()
    bad_label = "/strangers/..%2Funknown-1/name"
    assert request(page.port, bad_label, method="POST", headers=form, body=data)[0] == 404


@pytest.mark.browser
def test_a_stranger_named_in_the_browser_is_recognised_on_the_next_replay(
    site: tuple[Path, Page],
    browser: Any,  # noqa: F811 (the fixture)
) -> None:
    config, page = site
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        tab = context.new_page()
        tab.set_default_timeout(STEP_MS)
        tab.goto(f"http://127.0.0.1:{page.port}/strangers")
        card = tab.locator("#unknown-1")
        assert "1 visit" in card.inner_text()
        tab.wait_for_function(
            "img => img.complete && img.naturalWidth > 0",
            arg=card.locator("img.crop").first.element_handle(),
        )
        card.locator("input[name=name]").fill("visitor")
        card.locator(".name-form button[type=submit]").click()
        # The preview: the crops naming will try, before anything changes.
        tab.wait_for_url("**/strangers/unknown-1/preview?name=visitor")
        first = tab.locator(".preview figure.first img").first
        tab.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=first.element_handle()
        )
        assert not (config.parent / "known_faces" / "visitor").exists()
        with tab.expect_navigation(timeout=CLI_S * 1000):
            tab.locator("#confirm-name button[type=submit]").click()
        assert "unknown-1 is now visitor" in tab.locator("[role=status]").inner_text()
    finally:
        context.close()
    photos = list((config.parent / "known_faces" / "visitor").glob("*.jpg"))
    assert photos
    # The daemon's code, on the next visit: no event, the face is known.
    assert replay(config, VIDEO / "noface_face.mp4") == []

    # Undo the naming from the page: its photos go and the face is a stranger again.
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        tab = context.new_page()
        tab.set_default_timeout(STEP_MS)
        tab.goto(f"http://127.0.0.1:{page.port}/strangers")
        card = tab.locator("#unknown-1")
        assert "named visitor" in card.inner_text()
        tab.once("dialog", lambda dialog: dialog.accept())
        with tab.expect_navigation():
            card.locator(".undo-form button").click()
        assert "unknown-1" in tab.locator("[role=status]").inner_text()
        assert "named" not in tab.locator("#unknown-1 h2").inner_text()
    finally:
        context.close()
    assert not any(p.exists() for p in photos)
    assert len(replay(config, VIDEO / "noface_face.mp4")) == 1
