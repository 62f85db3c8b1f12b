"""The loopback RTSP server of tests/rtsp/ for an HEVC (H.265) file instead of H.264.

As a script (under /usr/bin/python3, like server.py) it runs server.py with an
H.265 parser and payloader; imported (by the tests) it gives HevcRtspServer, an
RtspServer that starts this script. Everything else (loop, freeze, kill) is the
same server.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":
    # Run as a script: server.py sits beside this file (sys.path[0]).
    import server

    server.LAUNCH = (
        "( filesrc location={file} ! qtdemux name=demux demux.video_0 ! h265parse name=parse"
        " ! rtph265pay name=pay0 pt=96 config-interval=1 )"
    )
    sys.exit(server.main())

from tests.rtsp.harness import SERVER_SCRIPT, RtspServer

HEVC_SCRIPT = Path(__file__).resolve()


class HevcRtspServer(RtspServer):
    """An RtspServer streaming the H.265 track of `file`."""

    def command(self) -> list[str]:
        return [str(HEVC_SCRIPT) if arg == str(SERVER_SCRIPT) else arg for arg in super().command()]
