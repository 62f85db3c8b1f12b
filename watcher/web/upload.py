"""Photos uploaded from the page: a multipart/form-data body read (bounded) with the
standard library's MIME parser, each file saved under a safe name for `faces add`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from starlette.requests import Request

MAX_UPLOAD_BYTES: Final = 40 * 1024 * 1024  # a few phone photos, or one short video
MAX_FILES: Final = 20
MULTIPART: Final = "multipart/form-data"
_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._-]")


class UploadError(ValueError):
    """The upload cannot be read; the message is one line for the user."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Upload:
    """The fields and files of one multipart form."""

    fields: dict[str, str] = field(default_factory=dict)
    files: list[tuple[str, bytes]] = field(default_factory=list)  # (file name, bytes)


async def read_upload(request: Request) -> Upload:
    """The form's fields (first value each) and its files; UploadError when it cannot be."""
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith(MULTIPART):
        raise UploadError("expected a form with files")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES:
        raise UploadError(_too_big(), 413)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_UPLOAD_BYTES:
            raise UploadError(_too_big(), 413)
    return parse_multipart(content_type, bytes(body))


def _too_big() -> str:
    return f"too large: at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB at once"


def parse_multipart(content_type: str, body: bytes) -> Upload:
    """A multipart/form-data body's fields and files (the MIME parser of `email`)."""
    # Imported on the first upload: email's policies are 0.6 MB the idle page need not hold.
    import email.parser
    import email.policy

    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise UploadError("the form could not be read")
    upload = Upload()
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            continue
        filename = part.get_filename()
        if filename is None:
            upload.fields.setdefault(name, data.decode("utf-8", "replace"))
        elif filename and data:  # an empty file input sends a part with no name and bytes
            if len(upload.files) >= MAX_FILES:
                raise UploadError(f"at most {MAX_FILES} files at once")
            upload.files.append((filename, data))
    return upload


def safe_file_name(filename: str) -> str:
    """The last component of an uploaded file's name, made of safe characters only."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    safe = _UNSAFE.sub("_", base).lstrip(".-")
    return safe[-100:] or "photo"


def save_files(files: list[tuple[str, bytes]], folder: Path) -> list[Path]:
    """Write each file into a folder of its own under `folder` (names may repeat)."""
    paths = []
    for index, (filename, data) in enumerate(files):
        own = folder / str(index)
        own.mkdir(mode=0o700)
        path = own / safe_file_name(filename)
        path.write_bytes(data)
        paths.append(path)
    return paths
