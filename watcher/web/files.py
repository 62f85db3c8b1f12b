"""Serving an event's files: only under the recordings folder, with HTTP Range.

A clip still being written grows: each request serves what is on disk at that moment
(its size is read when the request comes), so a player seeks within what exists.
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from starlette.responses import Response, StreamingResponse

CHUNK: Final = 64 * 1024
HEAD_BYTES: Final = 64 * 1024  # ftyp and moov, where the codec is named
_RANGE: Final = re.compile(r"^bytes=(\d*)-(\d*)$")
MEDIA_TYPES: Final = {".mp4": "video/mp4", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


def resolve_under(root: Path, stored: str | None) -> Path | None:
    """The real path of a stored file name if it lies under `root`, else None.

    Symbolic links and `..` are resolved first, so neither a database row nor a link
    in the recordings folder can make the page serve anything outside it.
    """
    if not stored:
        return None
    try:
        real = Path(os.path.realpath(stored))
        base = Path(os.path.realpath(root))
    except (OSError, ValueError):
        return None
    if real == base or not real.is_relative_to(base) or not real.is_file():
        return None
    return real


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """The first and last byte of a single `bytes=` range within `size`; None if unsatisfiable.

    Raises ValueError for a header that is not a single byte range (served whole).
    """
    match = _RANGE.match(header.strip())
    if match is None or match.group(0) == "bytes=-":
        raise ValueError(header)
    first_text, last_text = match.groups()
    if not first_text:  # the last N bytes
        length = int(last_text)
        if length == 0 or size == 0:
            return None
        return max(0, size - length), size - 1
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if first >= size or last < first:
        return None
    return first, min(last, size - 1)


def playable_size(path: Path, size: int) -> int:
    """How much of an MP4 a player can use: up to its last complete fragment.

    A clip still being written, or torn by a crash or a power cut, ends inside a
    box. Its top-level boxes (ftyp, moov, then moof + mdat per fragment) are walked
    by their headers, and it is served up to the end of the last whole box, less a
    movie fragment whose media data did not follow: seeks then stay within what can
    be decoded. A file that is not such an MP4 is served whole.
    """
    end = moof_start = 0
    last_kind = b""
    try:
        with path.open("rb") as handle:
            while end + 8 <= size:
                handle.seek(end)
                header = handle.read(16)
                if len(header) < 8:
                    break
                box_size, kind = struct.unpack(">I4s", header[:8])
                if box_size == 1 and len(header) == 16:
                    box_size = struct.unpack(">Q", header[8:16])[0]
                elif box_size == 0:  # to the end of the file
                    box_size = size - end
                if box_size < 8 or not kind.isalnum():
                    return size if end == 0 else end  # not an MP4 we know: whole
                if end + box_size > size:
                    break
                end += box_size
                last_kind = kind
                if last_kind == b"moof":
                    moof_start = end - box_size
    except OSError:
        return size
    if last_kind == b"moof":
        return moof_start
    return end if end else size


def clip_codec(path: Path) -> str | None:
    """The clip's video codec from its sample description: "H.264", "H.265" or None."""
    try:
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError:
        return None
    for tag, name in ((b"hvc1", "H.265"), (b"hev1", "H.265"), (b"avc1", "H.264")):
        if tag in head:
            return name
    return None


def _read(path: Path, first: int, length: int) -> Iterator[bytes]:
    with path.open("rb") as handle:
        handle.seek(first)
        left = length
        while left > 0:
            chunk = handle.read(min(CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk


def file_response(path: Path, range_header: str | None, *, cache: str = "private") -> Response:
    """The file, whole (200) or one byte range of it (206; 416 when out of bounds)."""
    size = path.stat().st_size
    media_type = MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
    if media_type == "video/mp4":
        size = playable_size(path, size)
    headers = {"Accept-Ranges": "bytes", "Cache-Control": f"{cache}, no-cache"}
    if range_header:
        try:
            span = parse_range(range_header, size)
        except ValueError:
            span = (0, size - 1) if size else None
            range_header = None  # not one we serve in parts: send it whole
        if range_header is not None:
            if span is None:
                return Response(
                    status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"}
                )
            first, last = span
            length = last - first + 1
            return StreamingResponse(
                _read(path, first, length),
                status_code=206,
                media_type=media_type,
                headers={
                    **headers,
                    "Content-Range": f"bytes {first}-{last}/{size}",
                    "Content-Length": str(length),
                },
            )
    return StreamingResponse(
        _read(path, 0, size),
        media_type=media_type,
        headers={**headers, "Content-Length": str(size)},
    )
