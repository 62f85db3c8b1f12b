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
from pathlib import Path
from types import TracebackType
from typing import IO, NoReturn

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

    def start(self, timeout: float = 10.0) -> RtspServer:
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

    def restart(self, timeout: float = 10.0) -> RtspServer:
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

    def __enter__(self) -> RtspServer:
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
