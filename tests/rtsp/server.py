"""A loopback RTSP server for the tests: streams the H.264 track of an MP4/MOV file.

Runs under Debian's /usr/bin/python3, the only interpreter GstRtspServer's bindings
import under (tests/rtsp/harness.py starts it):

    /usr/bin/python3 tests/rtsp/server.py --port 8554 --file clip.mp4 [--path /stream] [--loop]

Prints READY on stdout once it listens on 127.0.0.1. The media is shared, like a
camera's: a client that connects while another one watches joins the running stream;
when the last client leaves, the next one starts the file from its beginning.
With --loop the file plays again and again, its timestamps increasing throughout.
"""

import argparse
import ctypes
import os
import signal
import sys
import threading

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

Gst.init(None)  # before subclassing RTSPMedia: its vfuncs take GstMessage

LAUNCH = (
    "( filesrc location={file} ! qtdemux name=demux demux.video_0 ! h264parse name=parse"
    " ! rtph264pay name=pay0 pt=96 config-interval=1 )"
)


class CameraMedia(GstRtspServer.RTSPMedia):
    """The file as a camera would send it: clients cannot seek, and it may loop.

    FFmpeg's PLAY asks for npt=0, which would rewind the stream under every other
    client: the media says it is not seekable, and GStreamer then ignores the Range.

    To loop, segment mode: the file's end posts SEGMENT_DONE rather than EOS, and a
    seek back to the start without a flush keeps the timestamps increasing. Entering
    it takes a flushing seek at the first frame; what the demuxer sends before that
    flush is dropped, else a client may get the first frame twice (or an early EOS).
    GStreamer starts each next round at the last frame's start, not its end, so the
    parser's pad offset grows by one frame duration per round: no repeated timestamp.
    """

    def arm(self, loop):
        self.flushed = not loop
        self.seeking = False
        self.last_duration = 0
        pad = self._parsed()
        pad.add_probe(Gst.PadProbeType.QUERY_UPSTREAM, self._on_query)
        if loop:
            pad.add_probe(Gst.PadProbeType.BUFFER, self._on_buffer)
            flow = Gst.PadProbeType.EVENT_DOWNSTREAM | Gst.PadProbeType.EVENT_FLUSH
            pad.add_probe(flow, self._on_event)

    def _on_query(self, pad, info):
        if info.get_query().type != Gst.QueryType.SEEKING:
            return Gst.PadProbeReturn.OK
        return Gst.PadProbeReturn.HANDLED  # as it stands: a new SEEKING query says "no"

    def _on_buffer(self, pad, info):
        if not self.flushed:  # before the seek: drop it, this frame comes again
            if not self.seeking:
                self.seeking = True
                # Not from this streaming thread; the main loop waits for the preroll.
                threading.Thread(target=self._enter_segment_mode, daemon=True).start()
            return Gst.PadProbeReturn.DROP
        duration = info.get_buffer().duration
        if duration != Gst.CLOCK_TIME_NONE:
            self.last_duration = duration
        return Gst.PadProbeReturn.OK

    def _on_event(self, pad, info):
        kind = info.get_event().type
        if kind == Gst.EventType.FLUSH_STOP:
            self.flushed = True
            return Gst.PadProbeReturn.REMOVE
        if kind == Gst.EventType.EOS:  # the demuxer may reach the end before the seek
            return Gst.PadProbeReturn.DROP
        return Gst.PadProbeReturn.OK

    def _enter_segment_mode(self):
        if not self._seek(Gst.SeekFlags.FLUSH | Gst.SeekFlags.SEGMENT):
            print("cannot loop: the segment seek failed", file=sys.stderr, flush=True)
            self.flushed = True

    def do_handle_message(self, message):
        if message.type == Gst.MessageType.SEGMENT_DONE:
            pad = self._parsed()
            pad.set_offset(pad.get_offset() + self.last_duration)
            self._seek(Gst.SeekFlags.SEGMENT)
            return True
        return GstRtspServer.RTSPMedia.do_handle_message(self, message)

    def _parsed(self):
        return self.get_element().get_by_name("parse").get_static_pad("src")

    def _seek(self, flags):
        # To the demuxer: before a client's SETUP the pipeline has no sink to pass it on.
        demuxer = self.get_element().get_by_name("demux")
        return demuxer.seek(1.0, Gst.Format.TIME, flags, Gst.SeekType.SET, 0, Gst.SeekType.NONE, -1)


def die_with_parent():
    """No orphan server when the tests are killed: SIGKILL when the parent goes."""
    parent = os.getppid()
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it went before prctl took effect
        sys.exit("parent gone")


def main():
    parser = argparse.ArgumentParser(description="Stream a video file's H.264 over RTSP.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--file", required=True)
    parser.add_argument("--path", default="/stream")
    parser.add_argument("--loop", action="store_true")
    args = parser.parse_args()
    if sys.platform == "linux":
        die_with_parent()
    if not os.path.isfile(args.file):
        parser.error(f"no such file: {args.file}")
    location = os.path.abspath(args.file).replace("\\", "\\\\").replace('"', '\\"')

    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(LAUNCH.format(file=f'"{location}"'))
    factory.set_shared(True)
    factory.set_media_gtype(CameraMedia)
    factory.connect("media-configure", lambda _factory, media: media.arm(args.loop))
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    server.get_mount_points().add_factory(args.path, factory)
    if not server.attach(None):
        sys.exit(f"cannot listen on 127.0.0.1:{args.port}")
    print("READY", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
