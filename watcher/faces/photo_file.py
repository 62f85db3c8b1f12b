"""Reading a photo file safely: regular files only, bounded bytes, pixels checked before decoding.

A gallery photo is whatever a user or a share puts in known_faces/: a file of
several GB, /dev/zero, a FIFO or a decompression bomb must be a clear rejection,
never a hang, an exhausted memory or a stopped daemon.
"""

from __future__ import annotations

import os
import re
import stat
import struct
from pathlib import Path

import cv2
import numpy as np

from watcher.core import RGBImage

# A gallery photo is a phone photo at most: anything bigger is refused before it is
# read (a file of several GB, /dev/zero) or decoded (a 20000x20000 PNG is 1.2 GB of
# pixels for a photo that needs a few hundred thousand).
MAX_IMAGE_BYTES = 50_000_000
MAX_IMAGE_PIXELS = 40_000_000


class ImageError(ValueError):
    """An image file that cannot be read as a picture."""


def decode_rgb(data: bytes) -> RGBImage:
    """Decode image bytes as contiguous RGB, or raise ImageError with the reason.

    Only JPEG, PNG, WebP and BMP are decoded, and only once their header says the
    picture is at most MAX_IMAGE_PIXELS: a decoder is never handed a bomb.
    """
    if not data:
        raise ImageError("empty file")
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageError(f"file too large ({_mb(len(data))}; at most {_mb(MAX_IMAGE_BYTES)})")
    size = image_size(data)
    if size is None:
        raise ImageError("not a readable image (not a JPEG, PNG, WebP or BMP)")
    width, height = size
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageError(
            f"image too large ({width}x{height}, {width * height / 1e6:.0f} megapixels; "
            f"at most {MAX_IMAGE_PIXELS / 1e6:.0f})"
        )
    try:
        bgr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    except cv2.error as exc:  # the content's fault: one rejected photo, not a dead daemon
        line = (str(exc).strip().splitlines() or ["decoder error"])[-1].strip()
        reason = re.sub(r"^OpenCV\([^)]*\) \S+: error: ", "OpenCV: ", line)
        raise ImageError(f"not a readable image ({reason})") from None
    if bgr is None:
        raise ImageError("not a readable image")
    return np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))


def _mb(n: int) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG, PNG, WebP or BMP header, without decoding; None
    for any other content or a header too broken to say."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        if len(data) < 24 or data[12:16] != b"IHDR":
            return None
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return _webp_size(data)
    if data.startswith(b"BM") and len(data) >= 26:
        header = struct.unpack("<I", data[14:18])[0]
        if header == 12:  # BITMAPCOREHEADER: 16-bit sizes
            width, height = struct.unpack("<HH", data[18:22])
            return width, height
        width, height = struct.unpack("<ii", data[18:26])
        return abs(width), abs(height)  # a negative height is a top-down bitmap
    return None


# JPEG start-of-frame markers (C0-CF but DHT C4, JPG C8 and DAC CC) hold the size.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Walk the JPEG's marker segments up to its frame header."""
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # no length follows
            pos += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, or scan data before any frame
            return None
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if marker in _JPEG_SOF:
            if length < 7 or pos + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        if length < 2:
            return None
        pos += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    """The canvas of a lossy (VP8), lossless (VP8L) or extended (VP8X) WebP."""
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = struct.unpack("<I", data[21:25])[0]
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    return None


def regular_file(path: Path) -> os.stat_result:
    """The stat of `path` if it is a regular file (through symlinks), else ImageError.

    A FIFO, device or socket is never opened: opening a FIFO waits for a writer,
    and /dev/zero never ends.
    """
    try:
        st = os.stat(path)
    except OSError as exc:
        raise ImageError(f"cannot read: {exc.strerror or exc}") from None
    _refuse_special(st)
    return st


def _refuse_special(st: os.stat_result) -> None:
    if stat.S_ISREG(st.st_mode):
        return
    kinds = (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a device"),
        (stat.S_ISBLK, "a device"),
    )
    kind = next((name for test, name in kinds if test(st.st_mode)), "a special file")
    raise ImageError(f"not a regular file ({kind})")


def read_bytes(path: Path) -> tuple[bytes, os.stat_result]:
    """An image file's bytes and its stat taken when opened, or ImageError with the reason.

    Only a regular file of at most MAX_IMAGE_BYTES is read.
    """
    st = regular_file(path)
    if st.st_size > MAX_IMAGE_BYTES:
        raise ImageError(f"file too large ({_mb(st.st_size)}; at most {_mb(MAX_IMAGE_BYTES)})")
    try:
        # O_NONBLOCK: should a FIFO have replaced the file since the stat, the open
        # returns at once instead of waiting for a writer (and fstat refuses it).
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise ImageError(f"cannot read: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            _refuse_special(st)
            data = f.read(MAX_IMAGE_BYTES + 1)  # never more, whatever the file became
    except OSError as exc:
        raise ImageError(f"cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageError(f"file too large (over {_mb(MAX_IMAGE_BYTES)})")
    return data, st


def read_rgb(path: Path) -> RGBImage:
    """Read an image file as contiguous RGB, or raise ImageError with the reason."""
    return decode_rgb(read_bytes(path)[0])
