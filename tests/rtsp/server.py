"""A loopback RTSP server for the tests: streams the H.264 track of an MP4/MOV file.

Runs under Debian's /usr/bin/python3, the only interpreter GstRtspServer's bindings
import under (tests/rtsp/harness.py starts it):

    /usr/bin/python3 tests/rtsp/server.py --port 8554 --file clip.mp4 [--path /stream] [--loop]
    /usr/bin/python3 tests/rtsp/server.py --port 8554 --mount /cam1=a.mp4 --mount /cam2=b.mp4

One process serves every mount (--file at --path, and each --mount PATH=FILE), so
sixteen cameras cost one server, not sixteen; each mount is its own shared media and
loops on its own. With --loop --in-step every mount plays in step with the clock (a
camera's main and sub-stream: see CameraMedia). Prints READY on stdout once it
listens on 127.0.0.1. The media is shared, like a camera's: a client that connects
while another one watches joins the running stream; when the last client leaves, the
next one starts the file from its beginning. With --loop the file plays again and
again, its timestamps increasing throughout.
"""

import argparse
import ctypes
import os
import signal
import sys
import threading
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

Gst.init(None)  # before subclassing RTSPMedia: its vfuncs take GstMessage

LAUNCH = (
    "( filesrc location={file} ! qtdemux name=demux demux.video_0 ! h264parse name=parse"
    " ! rtph264pay name=pay0 pt=96 config-interval=1 )"
)
LEAD_NS = 100_000_000  # in step: seek this far ahead of the clock, for the data to flow
LATE_NS = 40_000_000  # in step: a keyframe up to a frame behind the clock is on time


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

    In step (--in-step), a camera's streams show the same moment, as a real camera's
    main and sub-streams do: each mount plays its file as if it had been looping since
    the server started, whenever its first client comes. The flushing seek goes to the
    first keyframe after the clock's place in the file, and the parser's pad offset
    holds that keyframe until the clock gets there (at most a GOP, as when joining a
    camera). Files of the same length and keyframes thus stay frame for frame together.
    """

    def arm(self, loop, origin=None, phase=0.0):
        """Set the media up: looping or not; `origin` (monotonic ns) keeps it in step.

        `phase` (a share of the file's length) puts this mount that much ahead of
        the others: staggered cameras, each at its own moment of the same scene.
        """
        self.phase = phase
        self.flushed = not loop
        self.seeking = False
        self.last_duration = 0
        self.origin = origin if loop else None
        self.anchoring = False  # in step: the next SEGMENT says where the stream starts
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
        event = info.get_event()
        if event.type == Gst.EventType.FLUSH_STOP:
            self.flushed, self.seeking = True, False
            if self.origin is None:
                return Gst.PadProbeReturn.REMOVE
            self.anchoring = True
            return Gst.PadProbeReturn.OK
        if event.type == Gst.EventType.SEGMENT and self.anchoring:
            self.anchoring = False
            self._anchor(pad, event.parse_segment().start)
            return Gst.PadProbeReturn.OK
        if event.type == Gst.EventType.EOS:  # the demuxer may reach the end before the seek
            return Gst.PadProbeReturn.DROP
        return Gst.PadProbeReturn.OK

    def _enter_segment_mode(self, pause=0.0):
        time.sleep(pause)
        flags, start = Gst.SeekFlags.FLUSH | Gst.SeekFlags.SEGMENT, 0
        if self.origin is not None:
            # In step: the first keyframe after where the clock is in the file now (a
            # little ahead: the data takes a moment to flow); _anchor then holds it.
            flags |= Gst.SeekFlags.KEY_UNIT | Gst.SeekFlags.SNAP_AFTER
            start = (self._clock() + LEAD_NS) % self._duration()
        if not self._seek(flags, start):
            print("cannot loop: the segment seek failed", file=sys.stderr, flush=True)
            self.flushed = True

    def _anchor(self, pad, start):
        """Delay the stream so that the frame at `start` goes out when the clock is there."""
        duration = self._duration()
        ahead = (start - self._clock()) % duration
        if ahead > duration // 2 and duration - ahead > LATE_NS:
            # Behind the clock: the seek was slow, or found no keyframe before the file's
            # end. Seek again (past the end, the clock soon comes round to the start).
            self.flushed, self.seeking = False, True
            threading.Thread(target=self._enter_segment_mode, args=(0.02,), daemon=True).start()
            return
        pad.set_offset(ahead if ahead <= duration // 2 else 0)  # running time ~0 now

    def _clock(self):
        """Nanoseconds since the origin every mount of this server counts from."""
        return time.monotonic_ns() - self.origin + round(self.phase * self._duration())

    def _duration(self):
        ok, duration = self.get_element().get_by_name("demux").query_duration(Gst.Format.TIME)
        return duration if ok and duration > 0 else 1

    def do_handle_message(self, message):
        if message.type == Gst.MessageType.SEGMENT_DONE:
            pad = self._parsed()
            pad.set_offset(pad.get_offset() + self.last_duration)
            self._seek(Gst.SeekFlags.SEGMENT)
            return True
        return GstRtspServer.RTSPMedia.do_handle_message(self, message)

    def _parsed(self):
        return self.get_element().get_by_name("parse").get_static_pad("src")

    def _seek(self, flags, start=0):
        # To the demuxer: before a client's SETUP the pipeline has no sink to pass it on.
        demuxer = self.get_element().get_by_name("demux")
        return demuxer.seek(
            1.0, Gst.Format.TIME, flags, Gst.SeekType.SET, start, Gst.SeekType.NONE, -1
        )


def die_with_parent():
    """No orphan server when the tests are killed: SIGKILL when the parent goes."""
    parent = os.getppid()
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it went before prctl took effect
        sys.exit("parent gone")


def _mounts(parser, args):
    """Every (path, absolute file) to serve: --file at --path, then each --mount."""
    mounts = [(args.path, args.file)] if args.file else []
    for spec in args.mount:
        path, sep, file = spec.partition("=")
        if not sep or not path.startswith("/") or not file:
            parser.error(f"--mount wants /PATH=FILE, not {spec!r}")
        mounts.append((path, file))
    if not mounts:
        parser.error("give --file or at least one --mount")
    paths = [path for path, _ in mounts]
    if len(set(paths)) != len(paths):
        parser.error(f"a mount path is given twice: {paths}")
    for _, file in mounts:
        if not os.path.isfile(file):
            parser.error(f"no such file: {file}")
    return [(path, os.path.abspath(file)) for path, file in mounts]


def _factory(file, loop, origin, phase):
    """A shared media factory streaming `file` (looping or not, in step or not)."""
    location = file.replace("\\", "\\\\").replace('"', '\\"')
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(LAUNCH.format(file=f'"{location}"'))
    factory.set_shared(True)
    factory.set_media_gtype(CameraMedia)
    factory.connect("media-configure", lambda _factory, media: media.arm(loop, origin, phase))
    return factory


def main():
    parser = argparse.ArgumentParser(description="Stream video files' H.264 over RTSP.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--file", help="a file to serve at --path")
    parser.add_argument("--path", default="/stream")
    parser.add_argument(
        "--mount", action="append", default=[], metavar="PATH=FILE", help="repeatable"
    )
    parser.add_argument("--loop", action="store_true", help="every mount loops")
    parser.add_argument(
        "--in-step",
        action="store_true",
        help="with --loop: every mount shows its file as if playing since the server started",
    )
    parser.add_argument(
        "--stagger",
        action="store_true",
        help="with --in-step: mount k of n is k/n of its file ahead (cameras out of phase)",
    )
    args = parser.parse_args()
    if sys.platform == "linux":
        die_with_parent()
    mounts = _mounts(parser, args)
    if args.in_step and not args.loop:
        parser.error("--in-step needs --loop")
    if args.stagger and not args.in_step:
        parser.error("--stagger needs --in-step")
    origin = time.monotonic_ns() if args.in_step else None

    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    points = server.get_mount_points()
    for k, (path, file) in enumerate(mounts):
        phase = k / len(mounts) if args.stagger else 0.0
        points.add_factory(path, _factory(file, args.loop, origin, phase))
    if not server.attach(None):
        sys.exit(f"cannot listen on 127.0.0.1:{args.port}")
    print("READY", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
