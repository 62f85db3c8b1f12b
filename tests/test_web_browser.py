"""The review page in a real browser: Debian's headless Chromium driven by Playwright.

The browser is the system's (`chromium-headless-shell`, installed by the test command);
Playwright's own browser download is never used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import STEP_MS
from tests.support.browser import browser as browser  # noqa: F401  (a fixture)
from tests.support.web import PASSWORD, WRITER_STOP_S, Page, passwd, record_real_event, write_config
from watcher.store import StoreWriter, init_db, make_engine

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A config with one real event (clip, snapshot, crops) recorded by the pipeline."""
    folder = tmp_path_factory.mktemp("browser")
    config = write_config(folder)
    engine = make_engine(f"sqlite:///{folder / 'rec' / 'watcher.db'}")
    init_db(engine)
    writer = StoreWriter(engine, backoff_s=0.01).start()
    try:
        event = record_real_event(folder, writer)
    finally:
        assert writer.stop(timeout=WRITER_STOP_S)
        engine.dispose()
    return config, event.id


def _set_password(config: Path) -> None:
    done = passwd(config, PASSWORD)
    assert done.returncode == 0, done.stderr


def test_log_in_filter_play_and_seek_the_clip_then_delete_on_a_phone(
    browser: Any, recorded: tuple[Path, str]
) -> None:
    config, event_id = recorded
    _set_password(config)
    page_process = Page(config).wait_ready()
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        tab = context.new_page()
        tab.set_default_timeout(STEP_MS)
        problems: list[str] = []
        tab.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        tab.on("pageerror", lambda e: problems.append(str(e)))
        base = f"http://127.0.0.1:{page_process.port}"

        # Log in: the timeline asks for it first, and a wrong password is said so.
        tab.goto(base + "/")
        assert "/login" in tab.url
        tab.fill("input[name=password]", "wrong password")
        tab.click("button[type=submit]")
        assert tab.locator("[role=alert]").inner_text() == "Wrong password."
        problems.clear()  # that page came with status 401, which the console reports
        tab.fill("input[name=password]", PASSWORD)
        tab.click("button[type=submit]")
        tab.wait_for_url(base + "/")
        assert tab.locator(f'[data-href="/events/{event_id}"]').count() == 1

        # Filter: choosing a camera reloads the timeline with it (no button needed).
        tab.select_option("select[name=camera]", "garage")
        tab.wait_for_url("**/?camera=garage**")
        assert tab.locator(".event").count() == 0
        tab.select_option("select[name=camera]", "cam")
        tab.wait_for_url("**/?camera=cam**")
        # The snapshot thumbnail really loads (lazily, as it comes into view).
        thumb = tab.locator(f'img[src="/events/{event_id}/snapshot"]')
        thumb.scroll_into_view_if_needed()
        tab.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle()
        )
        # Usable at 390 px: nothing wider than the screen.
        assert tab.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

        # Play the clip and seek it: the browser fetches it by HTTP Range.
        tab.click(f'a.when[href="/events/{event_id}"]')
        tab.wait_for_url(f"**/events/{event_id}")
        video = tab.locator("video#clip").element_handle()
        tab.wait_for_function("v => v.readyState >= 1 && v.duration > 1", arg=video)
        duration = tab.evaluate("v => v.duration", video)
        target = round(duration / 2, 1)
        seeked = tab.evaluate(
            """([v, t]) => new Promise((done, fail) => {
                v.muted = true;
                v.addEventListener("seeked", () => done(v.currentTime), {once: true});
                v.addEventListener("error", () => fail(String(v.error && v.error.code)));
                v.currentTime = t;
            })""",
            [video, target],
        )
        assert abs(seeked - target) < 0.5
        tab.wait_for_function("v => v.readyState >= 2", arg=video)
        played = tab.evaluate(
            """v => v.play().then(() => new Promise(done =>
                setTimeout(() => done(v.currentTime), 500)))""",
            video,
        )
        assert played > seeked  # it plays on from where it was sought
        assert tab.locator("table.sightings tbody tr").count() >= 1

        # The r key marks it reviewed.
        tab.locator("body").click(position={"x": 5, "y": 300})
        with tab.expect_navigation():
            tab.keyboard.press("r")
        assert tab.locator("#review button").inner_text() == "Not reviewed"

        # Delete, after the confirmation the page asks for.
        tab.once("dialog", lambda dialog: dialog.accept())
        tab.click("#delete button")
        tab.wait_for_url("**/?deleted=*")
        assert event_id in tab.locator("[role=status]").inner_text()
        assert tab.locator(f'[data-href="/events/{event_id}"]').count() == 0
        assert not problems, problems
    finally:
        context.close()
        page_process.stop()
