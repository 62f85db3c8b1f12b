"""Start, kill, freeze and restart a real RTSP server on loopback from the tests.

The server (tests/rtsp/server.py) is GStreamer's RTSP server, whose Python bindings
import only under Debian's /usr/bin/python3, so it runs as a subprocess of that
interpreter; this module imports only the standard library.

    with RtspServer(VIDEO / "noface_face.mp4", loop=True) as server:
        server.url        # rtsp://127.0.0.1:PORT/stream, READY to connect
        server.freeze()   # SIGSTOP: the socket stays open, nothing is sent
        server.resume()   # SIGCONT
        server.kill()     # SIGKILL: connections drop, the port refuses
        server.restart()  # again on the same port and path

One process may serve many mounts (sixteen cameras, or one camera's two streams):

    with MultiRtspServer(numbered_mounts(VIDEO / "a.mp4", 16), loop=True) as server:
        server.urls       # {"/cam01": "rtsp://127.0.0.1:PORT/cam01", ...}
    with TwoStreamCamera(main_file, sub_file) as camera:
        camera.main_url, camera.sub_url

Tests call `gst_rtsp_available()` (or `require_gst_rtsp()`) to skip where the
GStreamer RTSP server cannot be installed.
"""

from __future__ import annotations

import contextlib
import functools
import os
import select
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, NoReturn, Self

SYSTEM_PYTHON = Path("/usr/bin/python3")
SERVER_SCRIPT = Path(__file__).resolve().with_name("server.py")
PROBE = "import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0')"
MISSING_HINT = (
    "the GStreamer RTSP server is not usable by /usr/bin/python3 "
    "(apt-get install gir1.2-gst-rtsp-server-1.0 python3-gi gstreamer1.0-plugins-*; "
    "`python3 .ci/bootstrap.py test` installs them)"
)


@functools.cache
def gst_rtsp_available() -> bool:
    """Whether Debian's python3 can load GstRtspServer (checked once per session)."""
    if not SYSTEM_PYTHON.exists():
        return False
    try:
        done = subprocess.run(
            [str(SYSTEM_PYTHON), "-c", PROBE],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def require_gst_rtsp() -> None:
    """Skip the calling test (or module, at import) when the server cannot run."""
    import pytest  # only the tests call this; the module itself stays stdlib-only

    if not gst_rtsp_available():
        if os.environ.get("WATCHER_TEST_SERVICES") == "required":
            pytest.fail(f"{MISSING_HINT} (the test command installed it, so this is a fault)")
        pytest.skip(MISSING_HINT, allow_module_level=True)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RtspServer:
    """One RTSP server process streaming `file` at rtsp://127.0.0.1:PORT/stream.

    A context manager: entering starts it, leaving always kills and reaps it (frozen
    or not). `port` defaults to a free one, kept across `restart()`. The stream is
    shared like a camera's: a client joins it where it is; when the last client
    leaves, the next one starts the file from its beginning. With `loop` it never
    ends (timestamps keep increasing); without, each run of the file ends in EOF.
    """

    def __init__(
        self,
        file: Path,
        port: int | None = None,
        *,
        path: str = "/stream",
        loop: bool = False,
    ) -> None:
        self.file = Path(file).resolve()
        self.port = port if port is not None else free_port()
        self.path = path if path.startswith("/") else f"/{path}"
        self.loop = loop
        self.proc: subprocess.Popen[bytes] | None = None
        self.frozen = False
        self.log: IO[bytes] | None = None  # its stderr: a pipe could fill and block it

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}{self.path}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def command(self) -> list[str]:
        args = [str(SYSTEM_PYTHON), str(SERVER_SCRIPT), "--port", str(self.port)]
        args += ["--file", str(self.file), "--path", self.path]
        return [*args, "--loop"] if self.loop else args

    def start(self, timeout: float = 10.0) -> Self:
        """Spawn the server and wait until it prints READY; raise (with its stderr) if not."""
        if self.running:
            raise RuntimeError(f"RTSP server already running at {self.url}")
        if self.log is None:
            self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by __exit__
        proc = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self.log,
            start_new_session=True,  # a Ctrl-C in pytest does not reach it; we reap it
            # and it dies with the thread that started it (PR_SET_PDEATHSIG in server.py)
        )
        self.proc, self.frozen = proc, False
        assert proc.stdout is not None
        deadline = time.monotonic() + timeout
        seen = b""
        while b"READY" not in seen:
            left = deadline - time.monotonic()
            if left <= 0:
                self._fail(f"not READY within {timeout:g} s")
            ready, _, _ = select.select([proc.stdout], [], [], left)
            if ready:
                chunk = os.read(proc.stdout.fileno(), 4096)
                if not chunk:
                    self._fail(f"exited with code {proc.wait(timeout=5)} before READY")
                seen += chunk
        return self

    def _fail(self, why: str) -> NoReturn:
        self.kill()
        stderr = self.stderr()
        self.close_log()
        raise RuntimeError(f"RTSP server on port {self.port} {why}:\n{stderr}")

    def stderr(self) -> str:
        """What the server (all of its runs so far) wrote on stderr."""
        if self.log is None:
            return ""
        self.log.seek(0)
        return self.log.read().decode(errors="replace").strip()

    def kill(self) -> None:
        """SIGKILL the server and reap it: open connections drop, the port refuses."""
        proc, self.proc = self.proc, None
        self.frozen = False
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()  # SIGKILL works on a stopped process too
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM (resuming it if frozen) and reap it; SIGKILL if it lingers."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            if self.frozen:
                proc.send_signal(signal.SIGCONT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=timeout)
        self.kill()

    def restart(self, timeout: float = 10.0) -> Self:
        """Kill it if running, then start it again on the same port and path."""
        self.kill()
        return self.start(timeout)

    def freeze(self) -> None:
        """SIGSTOP: connections stay open but nothing more is sent or answered."""
        self._signal(signal.SIGSTOP)
        self.frozen = True

    def resume(self) -> None:
        """SIGCONT after `freeze()`."""
        self._signal(signal.SIGCONT)
        self.frozen = False

    def _signal(self, signum: signal.Signals) -> None:
        if self.proc is None or self.proc.poll() is not None:
            raise RuntimeError(f"RTSP server at {self.url} is not running")
        self.proc.send_signal(signum)

    def __enter__(self) -> Self:
        if not self.running:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.kill()
        self.close_log()

    def close_log(self) -> None:
        if self.log is not None:
            self.log.close()
            self.log = None


def _slashed(path: str) -> str:
    return path if path.startswith("/") else f"/{path}"


def numbered_mounts(file: Path, count: int, prefix: str = "cam") -> dict[str, Path]:
    """`count` mounts of one file: /cam01, /cam02, ... (zero-padded, so they sort)."""
    width = max(2, len(str(count)))
    return {f"/{prefix}{k:0{width}d}": Path(file) for k in range(1, count + 1)}


class MultiRtspServer(RtspServer):
    """One RTSP server process serving several files, each at its own mount path.

    Each mount is its own shared media (a camera of its own, looping on its own);
    `url` is the first mount's. Everything else (freeze, kill, restart) acts on the
    one process, so on every mount at once. With `in_step` (and `loop`) each mount
    plays its file as if looping since the server started: files of the same length
    and keyframes show the same moment at the same time, whoever connects when.
    With `stagger` (and `in_step`) mount k of n is k/n of its file ahead instead:
    cameras of the same footage, each at its own moment (no motion on all at once).
    """

    def __init__(
        self,
        mounts: Mapping[str, Path],
        port: int | None = None,
        *,
        loop: bool = False,
        in_step: bool = False,
        stagger: bool = False,
    ) -> None:
        if not mounts:
            raise ValueError("at least one mount")
        if in_step and not loop:
            raise ValueError("in_step needs loop")
        if stagger and not in_step:
            raise ValueError("stagger needs in_step")
        self.stagger = stagger
        self.mounts = {_slashed(path): Path(file).resolve() for path, file in mounts.items()}
        self.in_step = in_step
        first_path, first_file = next(iter(self.mounts.items()))
        super().__init__(first_file, port, path=first_path, loop=loop)

    @property
    def urls(self) -> dict[str, str]:
        """Every mount's URL, by its path."""
        return {path: self.url_of(path) for path in self.mounts}

    def url_of(self, path: str) -> str:
        """The URL of one mount."""
        path = _slashed(path)
        if path not in self.mounts:
            raise KeyError(f"no mount {path}; mounts: {sorted(self.mounts)}")
        return f"rtsp://127.0.0.1:{self.port}{path}"

    def command(self) -> list[str]:
        args = [str(SYSTEM_PYTHON), str(SERVER_SCRIPT), "--port", str(self.port)]
        for path, file in self.mounts.items():
            args += ["--mount", f"{path}={file}"]
        if self.in_step:
            args.append("--in-step")
        if self.stagger:
            args.append("--stagger")
        return [*args, "--loop"] if self.loop else args


class TwoStreamCamera(MultiRtspServer):
    """A camera with a main stream and a low-resolution sub-stream of the same scene.

    As NVRs are set up: record `main_url`, analyse `sub_url`. Both loop in step by
    default (the same moment at the same time, as a camera encodes both from one
    sensor), given two files of the same length and keyframes at the same frames
    (tests/rtsp/substream.py makes the sub-stream of a file; bench/footage/sizes.py
    the bench's scenes at 1080p, 720p and 640x360).
    """

    def __init__(
        self,
        main: Path,
        sub: Path,
        port: int | None = None,
        *,
        main_path: str = "/main",
        sub_path: str = "/sub",
        loop: bool = True,
        in_step: bool = True,
    ) -> None:
        self.main_path, self.sub_path = _slashed(main_path), _slashed(sub_path)
        mounts = {self.main_path: main, self.sub_path: sub}
        super().__init__(mounts, port, loop=loop, in_step=in_step and loop)

    @property
    def main_url(self) -> str:
        return self.url_of(self.main_path)

    @property
    def sub_url(self) -> str:
        return self.url_of(self.sub_path)
