"""Issue 12, defect 5: hostile gallery files never stop the daemon or exhaust memory.

A gallery file of several GB stopped the daemon from starting (cv2.error, exit 1,
3.3 GB resident), a 20000x20000 PNG cost 2.5 GB for 10 s before "no face found",
`faces add` of /dev/zero read until memory ran out and a FIFO hung. Now only a
regular file of at most 50 MB is read (special files are never opened), a
picture's size is read from its header before it is decoded (over 40 megapixels
is refused), and a decoder error is that photo's rejection reason.
"""

from __future__ import annotations

import errno
import os
import signal
import struct
import subprocess
import time
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.support.cli import watcher, write_config
from tests.support.daemon import Daemon
from tests.support.media import FACES, MEDIA, VIDEO
from watcher.faces.gallery import ImageError, decode_rgb, image_size, read_bytes


def sparse(path: Path, size: str) -> Path:
    """A real file of `size` (e.g. '4G') that takes no disk space: `truncate -s`."""
    subprocess.run(["truncate", "-s", size, str(path)], check=True, timeout=30)
    return path


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def huge_png(path: Path, width: int = 20000, height: int = 20000) -> Path:
    """A real, valid grey PNG of width x height (a few MB: its rows are all black)."""
    deflate = zlib.compressobj(9)
    row = b"\0" * (width + 1)  # filter byte + pixels
    idat = b"".join(deflate.compress(row) for _ in range(height)) + deflate.flush()
    head = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", head) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )
    return path


def wide_bmp(path: Path) -> Path:
    """A real 24-bit BMP of 2097152 x 1 (2 megapixels, 6 MB): wider than OpenCV decodes,
    so cv2.imdecode raises cv2.error instead of returning None."""
    width = 2**21
    pixels = bytes((width * 3 + 3) // 4 * 4)
    info = struct.pack("<IiiHHIIiiII", 40, width, 1, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    path.write_bytes(b"BM" + struct.pack("<IHHI", 54 + len(pixels), 0, 0, 54) + info + pixels)
    return path


def test_header_sizes_agree_with_the_decoder_for_every_format() -> None:
    rng = np.random.default_rng(5)
    picture = rng.integers(0, 255, (123, 321, 3), dtype=np.uint8)
    encodings = {
        "jpeg": (".jpg", []),
        "progressive jpeg": (".jpg", [cv2.IMWRITE_JPEG_PROGRESSIVE, 1]),
        "png": (".png", []),
        "lossy webp": (".webp", [cv2.IMWRITE_WEBP_QUALITY, 80]),
        "lossless webp": (".webp", [cv2.IMWRITE_WEBP_QUALITY, 101]),
        "bmp": (".bmp", []),
    }
    for name, (ext, params) in encodings.items():
        ok, data = cv2.imencode(ext, picture, params)
        assert ok, name
        assert image_size(data.tobytes()) == (321, 123), name
    # Photos from cameras and the web: EXIF, progressive, RGBA PNG.
    for path in [*sorted(FACES.iterdir()), *sorted((MEDIA / "people").glob("*.jpg"))]:
        data = path.read_bytes()
        flags = cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION
        h, w = cv2.imdecode(np.frombuffer(data, np.uint8), flags).shape[:2]
        assert image_size(data) == (w, h), path.name
    assert image_size(b"II*\0 a TIFF") is None and image_size(b"\xff\xd8\xff") is None


def test_a_huge_picture_is_refused_from_its_header_at_once(tmp_path: Path) -> None:
    data = huge_png(tmp_path / "poster.png").read_bytes()
    assert len(data) < 5_000_000  # small on disk: 400 megapixels once decoded
    started = time.monotonic()
    with pytest.raises(ImageError, match=r"image too large \(20000x20000, 400 megapixels"):
        decode_rgb(data)
    assert time.monotonic() - started < 1.0  # not decoded: no 10 s, no 2.5 GB

    # A picture OpenCV refuses with an exception: the photo's reason, not a traceback.
    with pytest.raises(ImageError, match=r"not a readable image \(OpenCV: .*WIDTH"):
        decode_rgb(wide_bmp(tmp_path / "wide.bmp").read_bytes())


def test_special_files_are_never_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.jpg"
    zero.symlink_to("/dev/zero")
    for path, kind in ((fifo, "a FIFO"), (zero, "a device"), (tmp_path, "a folder")):
        with pytest.raises(ImageError, match=f"not a regular file \\({kind}\\)"):
            read_bytes(path)
    # Nobody holds the FIFO open for reading: a writer that does not wait finds no reader.
    with pytest.raises(OSError) as no_reader:
        os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    assert no_reader.value.errno == errno.ENXIO
    with pytest.raises(ImageError, match=r"file too large \(4\.3 GB; at most 50 MB\)"):
        read_bytes(sparse(tmp_path / "huge.jpg", "4G"))


@pytest.mark.timeout(180)
def test_hostile_gallery_files_are_skipped_and_the_daemon_runs(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        known={"obama": [FACES / "obama_1.jpg"]},
        source=str(VIDEO / "no_face.mp4"),
        extra="status_interval_s: 0\n",
    )
    person = tmp_path / "known_faces" / "obama"
    sparse(person / "backup.jpg", "4G")
    huge_png(person / "poster.png")
    wide_bmp(person / "wide.bmp")
    with Daemon(config) as daemon:
        daemon.wait_for(r"backup\.jpg: skipped: file too large \(4\.3 GB; at most 50 MB\)", 60)
        daemon.wait_for(r"poster\.png: skipped: image too large \(20000x20000", 30)
        daemon.wait_for(r"wide\.bmp: skipped: not a readable image \(OpenCV: ", 30)
        daemon.wait_for(r"gallery .*: 1 people, 1 images, 3 rejected", 30)
        daemon.wait_for(r"watching 1 camera\(s\)", 60)
        assert daemon.stop(signal.SIGTERM) == 0
    assert not [line for line in daemon.lines if "Traceback" in line]


@pytest.mark.timeout(240)
def test_faces_add_refuses_special_and_huge_files_without_reading_them(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.jpg"
    zero.symlink_to("/dev/zero")
    zero_video = tmp_path / "zero.mp4"
    zero_video.symlink_to("/dev/zero")
    huge = sparse(tmp_path / "huge.png", "4G")
    poster = huge_png(tmp_path / "poster.png")
    good = tmp_path / "obama.jpg"
    good.write_bytes((FACES / "obama_1.jpg").read_bytes())
    offered = [fifo, zero, zero_video, huge, poster, good]
    done = watcher("faces", "add", "obama", *map(str, offered), "-c", str(config), timeout=180)
    out = done.stdout
    assert f"refused {fifo}: not a regular file (a FIFO)" in out, done.stderr
    assert f"refused {zero}: not a regular file (a device)" in out
    assert f"refused {zero_video}: not a regular file (a device)" in out
    assert f"refused {huge}: file too large (4.3 GB; at most 50 MB)" in out
    assert f"refused {poster}: image too large (20000x20000, 400 megapixels; at most 40)" in out
    assert f"added {good} -> " in out
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert [p.name for p in (tmp_path / "known_faces" / "obama").iterdir()] == ["obama.jpg"]
