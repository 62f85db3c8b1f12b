"""Screenshots of the review page for the README: the timeline and the strangers page, on
a phone (390 px) and a desktop, from a database seeded with real faces of real footage.

    .venv/bin/python -m bench.screens [--out docs/screens]

The faces are found and grouped by watcher's own code (dlib, the store's writer); the
page is `watcher web` in its own process; the browser is Debian's headless Chromium
driven by Playwright (its own browser download is never used).
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import av
import cv2
import numpy as np

from watcher.constants import EVENT_INTERRUPTED
from watcher.core import FaceEngine, box_height
from watcher.faces import open_engine
from watcher.faces.gallery import read_rgb
from watcher.record.snapshot import crop, write_jpeg
from watcher.store import SightingData, StoreWriter, init_db, make_engine, to_blob
from watcher.store.db import set_reviewed

ROOT: Final = Path(__file__).resolve().parent.parent
MEDIA: Final = (ROOT.parent / "shared" / "media").resolve()
OUT: Final = ROOT / "docs" / "screens"
BROWSERS: Final = ("chromium-headless-shell", "chromium")
SIZES: Final = {"phone": (390, 844), "desktop": (1280, 800)}
PAGES: Final = {"timeline": "/", "strangers": "/strangers"}
SNAPSHOT_WIDTH: Final = 640
START_S: Final = 60.0
STEP_MS: Final = 15_000
MAX_BYTES: Final = 150 * 1024
MIN_FACE_PX: Final = 20
COLOURS: Final = 128  # a palette this size keeps a screenshot well under MAX_BYTES


@dataclass(frozen=True)
class Visit:
    """One seeded event: a real picture with a face, where and when it was seen."""

    camera: str
    picture: str  # a video (frame at `second`) or a photo, under the shared media
    hours_ago: float
    second: float = 0.0
    seconds: int = 12
    reviewed: bool = False
    interrupted: bool = False


VISITS: Final = (
    Visit("front_door", "video/single_face.mp4", 0.4, second=1.0, seconds=9),
    Visit("garage", "video/short_hamilton_clip.mp4", 1.5, second=1.0, seconds=23),
    Visit("front_door", "people/person_e_1.jpg", 3.2, seconds=6, reviewed=True),
    Visit("front_door", "video/noface_face.mp4", 26.0, second=5.0, seconds=14, reviewed=True),
    Visit("garage", "people/person_e_2.jpg", 28.5, seconds=41, interrupted=True),
    Visit("garage", "video/short_hamilton_clip.mp4", 30.0, second=5.0, seconds=8),
)


def picture(visit: Visit) -> np.ndarray[Any, Any]:
    """The RGB picture of a visit, at most SNAPSHOT_WIDTH wide."""
    path = MEDIA / visit.picture
    if path.suffix == ".jpg":
        rgb = read_rgb(path)
    else:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            for frame in container.decode(stream):
                if frame.time is not None and frame.time >= visit.second:
                    rgb = frame.to_ndarray(format="rgb24")
                    break
            else:
                raise SystemExit(f"{path} is shorter than {visit.second} s")
    scale = SNAPSHOT_WIDTH / rgb.shape[1]
    if scale < 1:
        rgb = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(rgb)


def seed(folder: Path, faces: FaceEngine) -> Path:
    """A config, a database and pictures under `folder`; the config's path."""
    config = folder / "watcher.yaml"
    config.write_text(
        "known_faces_dir: known_faces\nrecordings_dir: rec\n"
        "database_url: sqlite:///rec/watcher.db\n"
        "cameras:\n  front_door:\n    source: rtsp://admin:secret@192.168.1.20/stream1\n"
        "  garage:\n    source: rtsp://192.168.1.21/live\n"
    )
    (folder / "known_faces").mkdir()
    rec = folder / "rec"
    rec.mkdir()
    engine = make_engine(f"sqlite:///{rec / 'watcher.db'}")
    init_db(engine)
    writer = StoreWriter(engine).start()
    now = datetime.now(UTC).replace(microsecond=0)
    try:
        for n, visit in enumerate(VISITS, 1):
            rgb = picture(visit)
            found = faces.detect(rgb, MIN_FACE_PX)
            if not found:
                raise SystemExit(f"no face in {visit.picture} at {visit.second} s")
            box = max(found, key=box_height)
            event_id = f"ev{n:04d}"
            snapshot, face = rec / f"{event_id}.jpg", rec / f"{event_id}-face.jpg"
            write_jpeg(snapshot, rgb)
            write_jpeg(face, crop(rgb, box))
            at = now - timedelta(hours=visit.hours_ago)
            writer.open_event(event_id, visit.camera, at, decision="stranger: 4 good looks")
            vector = to_blob(faces.embed(rgb, [box])[0])
            writer.add_sightings(
                event_id,
                [
                    SightingData(
                        at=at,
                        offset_s=0.0,
                        box=box,
                        distance=0.82,
                        embedding=vector,
                        crop_path=str(face),
                    )
                ],
            )
            fields = {"snapshot_path": str(snapshot), "face_path": str(face)}
            if n == 1:
                writer.update_event(event_id, **fields)  # still recording
                continue
            status = {"status": EVENT_INTERRUPTED} if visit.interrupted else {}
            writer.close_event(event_id, at + timedelta(seconds=visit.seconds), **status, **fields)
        if not writer.flush(60):
            raise SystemExit("the store's writer did not finish")
    finally:
        writer.stop(timeout=30)
    for n, visit in enumerate(VISITS, 1):
        if visit.reviewed:
            set_reviewed(engine, f"ev{n:04d}", True)
    engine.dispose()
    return config


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(config: Path, port: int) -> subprocess.Popen[bytes]:
    """`watcher web` on `config`, listening when this returns."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "watcher", "web", "-c", str(config), "--port", str(port)],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"watcher web exited {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("watcher web did not start listening in time")


def browser_path() -> str:
    import shutil

    for name in BROWSERS:
        if found := shutil.which(name):
            return found
    raise SystemExit("no Chromium: install Debian's chromium-headless-shell")


def shrink(path: Path) -> None:
    """A palette PNG (Pillow, when installed): the README's pictures stay small."""
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=COLOURS, dither=Image.Dither.NONE)
    small.save(path, optimize=True)


def shoot(base: str, out: Path) -> list[Path]:
    """Each page at each size, as docs/screens/<page>-<size>.png."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=browser_path(), args=["--no-sandbox"], timeout=STEP_MS
        )
        try:
            for size, (width, height) in SIZES.items():
                phone = size == "phone"
                context = browser.new_context(
                    viewport={"width": width, "height": height},
                    is_mobile=phone,
                    has_touch=phone,
                    color_scheme="light" if phone else "dark",
                )
                tab = context.new_page()
                tab.set_default_timeout(STEP_MS)
                for name, path in PAGES.items():
                    tab.goto(base + path, wait_until="networkidle")
                    # Lazy pictures below the fold are loaded, then the top is shot.
                    tab.evaluate("window.scrollTo(0, document.body.scrollHeight)")
                    tab.wait_for_load_state("networkidle")
                    tab.evaluate("window.scrollTo(0, 0)")
                    target = out / f"{name}-{size}.png"
                    tab.screenshot(path=str(target))
                    shrink(target)
                    written.append(target)
                context.close()
        finally:
            browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    """Seed, serve, shoot; print each picture and its size."""
    parser = argparse.ArgumentParser(prog="python -m bench.screens", description=__doc__)
    parser.add_argument("--out", type=Path, default=OUT, help=f"default: {OUT}")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="watcher-screens-") as tmp:
        config = seed(Path(tmp), open_engine())
        port = free_port()
        proc = serve(config, port)
        try:
            written = shoot(f"http://127.0.0.1:{port}", args.out)
        finally:
            proc.terminate()
            proc.wait(timeout=15)
    too_big = False
    for path in written:
        size = path.stat().st_size
        too_big |= size > MAX_BYTES
        print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {size // 1024} KB")
    return 1 if too_big else 0


if __name__ == "__main__":
    sys.exit(main())
