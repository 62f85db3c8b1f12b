"""A loopback RTSP server for the tests: streams the H.264 track of an MP4/MOV file.

Runs under Debian's /usr/bin/python3, the only interpreter GstRtspServer's bindings
import under (see tests/rtsp/harness.py, which starts it):

    /usr/bin/python3 tests/rtsp/server.py --port 8554 --file clip.mp4 [--path /stream] [--loop]

Prints READY on stdout once it listens on 127.0.0.1. The media is shared, like a
camera's: a client that connects while another is watching joins the running stream.
With --loop the file plays again and again with timestamps that keep increasing
(segment seeks, so the pipeline never flushes or restarts).
"""

import argparse
import os
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

Gst.init(None)  # before subclassing: GstMessage must be a known type by then

LAUNCH = (
    "( filesrc location={file} ! qtdemux name=d d.video_0 ! h264parse"
    " ! rtph264pay name=pay0 pt=96 config-interval=1 )"
)
SEGMENT_SEEK = Gst.SeekFlags.SEGMENT


def quote(text):
    """A gst-launch string literal (double quotes; backslash escapes)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class LoopingMedia(GstRtspServer.RTSPMedia):
    """Plays its file in a loop: a segment seek at start, another at each segment end."""

    def do_prepared(self):
        self._seek(Gst.SeekFlags.FLUSH | SEGMENT_SEEK)

    def do_handle_message(self, message):
        print("MSG", message.type, file=sys.stderr, flush=True)
        if message.type == Gst.MessageType.SEGMENT_DONE:
            self._seek(SEGMENT_SEEK)
            return True
        return GstRtspServer.RTSPMedia.do_handle_message(self, message)

    def _seek(self, flags):
        pipeline = self.get_element().get_parent() or self.get_element()
        return pipeline.seek(1.0, Gst.Format.TIME, flags, Gst.SeekType.SET, 0, Gst.SeekType.NONE, -1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--file", required=True)
    parser.add_argument("--path", default="/stream")
    parser.add_argument("--loop", action="store_true")
    args = parser.parse_args()

    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(LAUNCH.format(file=quote(os.path.abspath(args.file))))
    factory.set_shared(True)
    if args.loop:
        factory.set_media_gtype(LoopingMedia)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    server.get_mount_points().add_factory(args.path, factory)
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{args.port}", file=sys.stderr)
        return 1
    print("READY", flush=True)
    GLib.MainLoop().run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
