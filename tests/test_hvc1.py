"""Issue 14, item 3: H.265 clips are tagged `hvc1` in the MP4, so Safari plays them.

FFmpeg muxes H.265 under the sample entry `hev1` unless told otherwise; Safari and
Apple's players only take `hvc1`, whose hvcC box holds the parameter sets (VPS,
SPS, PPS) with their arrays marked complete. The clip stays a fragmented MP4 that
decodes from its first picture to its last. A camera whose SDP names no parameter
sets (they come in-band only) gets them from its first keyframe: without them no
player opens the file, whichever the tag.

The H.265 stream is noface_face.mp4 encoded again with libx265 into the test's
tmp_path, served by the loopback RTSP server of tests/rtsp/hevc.py.
"""

from __future__ import annotations

import signal
import struct
from fractions import Fraction
from pathlib import Path

import av
import pytest

from tests.rtsp.harness import require_gst_rtsp
from tests.rtsp.hevc import HevcRtspServer
from tests.support.cli import write_config
from tests.support.daemon import CONNECTED, ENDED, Daemon, check_playable, events, new_event
from tests.support.media import VIDEO
from watcher.record.clip import ClipWriter, parameter_sets
from watcher.source.av_source import AVSource
from watcher.source.base import Packet, StreamInfo

SCENE = VIDEO / "noface_face.mp4"  # 960x540, 25 fps, 6.36 s; a man from ~4.0 s
KEYINT = 25  # a keyframe a second, as many cameras send
VPS, SPS, PPS = 32, 33, 34  # H.265 NAL unit types
VISUAL_ENTRY_HEADER = 78  # bytes of a VisualSampleEntry before its child boxes


def encode(source: Path, dest: Path, encoder: str, frames: int | None = None) -> Path:
    """`source` encoded with `encoder`, a keyframe every KEYINT pictures (format by suffix)."""
    with av.open(str(source)) as inp, av.open(str(dest), "w") as out:
        src = inp.streams.video[0]
        stream = out.add_stream(encoder, rate=25)
        stream.width, stream.height, stream.pix_fmt = src.width, src.height, "yuv420p"
        # Closed GOPs (IDR keyframes), as cameras send: a clip that starts at an open
        # GOP's keyframe would lose the pictures leading it, however it is tagged.
        params = f"keyint={KEYINT}:min-keyint={KEYINT}"
        stream.codec_context.options = (
            {"x265-params": f"{params}:open-gop=0:log-level=error"}
            if encoder == "libx265"
            else {"x264-params": params}
        )
        for i, frame in enumerate(inp.decode(src)):
            if frames is not None and i >= frames:
                break
            picture = frame.reformat(format="yuv420p")
            picture.pts, picture.time_base = i, Fraction(1, 25)
            picture.pict_type = av.video.frame.PictureType.NONE  # the encoder chooses
            out.mux(stream.encode(picture))
        out.mux(stream.encode(None))
    return dest


def _boxes(data: bytes, start: int, end: int) -> dict[str, tuple[int, int]]:
    """The MP4 boxes between `start` and `end`: type -> (payload start, end)."""
    found: dict[str, tuple[int, int]] = {}
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        header = 8
        if size == 1:
            (size,) = struct.unpack(">Q", data[at + 8 : at + 16])
            header = 16
        elif size == 0:
            size = end - at
        assert size >= header, f"a broken box at byte {at}"
        found.setdefault(kind.decode("latin-1"), (at + header, at + size))
        at += size
    return found


def sample_entry(path: Path) -> tuple[str, bytes]:
    """The video track's sample entry type and its configuration box (hvcC / avcC) payload."""
    data = path.read_bytes()
    span = (0, len(data))
    for kind in ("moov", "trak", "mdia", "minf", "stbl", "stsd"):
        boxes = _boxes(data, *span)
        assert kind in boxes, f"{path}: no {kind} box (have {sorted(boxes)})"
        span = boxes[kind]
    entries = _boxes(data, span[0] + 8, span[1])  # stsd: version, flags, entry count
    assert len(entries) == 1, entries
    ((entry, (start, end)),) = entries.items()
    children = _boxes(data, start + VISUAL_ENTRY_HEADER, end)
    config = "hvcC" if entry in ("hvc1", "hev1") else "avcC"
    assert config in children, f"{path}: {entry} without {config} (have {sorted(children)})"
    first, last = children[config]
    return entry, data[first:last]


def hvcc_arrays(hvcc: bytes) -> dict[int, tuple[bool, int]]:
    """The hvcC's NAL unit arrays: type -> (array_completeness, number of units)."""
    arrays: dict[int, tuple[bool, int]] = {}
    at = 23  # the fixed part of HEVCDecoderConfigurationRecord, then numOfArrays
    for _ in range(hvcc[22]):
        complete, kind = bool(hvcc[at] & 0x80), hvcc[at] & 0x3F
        (count,) = struct.unpack(">H", hvcc[at + 1 : at + 3])
        at += 3
        for _ in range(count):
            (length,) = struct.unpack(">H", hvcc[at : at + 2])
            assert length > 0
            at += 2 + length
        arrays[kind] = (complete, count)
    assert at == len(hvcc), "the hvcC's arrays do not fill it"
    return arrays


def decode_all(path: Path) -> tuple[int, int]:
    """(packets, pictures) of the clip decoded to its end; a decoding error raises."""
    packets = pictures = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for packet in container.demux(stream):
            packets += bool(packet.size)
            pictures += len(packet.decode())
    return packets, pictures


def assert_hvc1(clip: Path) -> None:
    """Tagged hvc1, its VPS, SPS and PPS in the hvcC marked complete, and it decodes."""
    entry, hvcc = sample_entry(clip)
    assert entry == "hvc1", f"{clip}: sample entry {entry}"
    arrays = hvcc_arrays(hvcc)
    for kind in (VPS, SPS, PPS):
        assert arrays.get(kind, (False, 0))[1] >= 1, f"{clip}: no NAL type {kind} in {arrays}"
        assert arrays[kind][0], f"{clip}: NAL array {kind} not marked complete"
    with av.open(str(clip)) as container:
        assert container.streams.video[0].codec_context.codec_tag == "hvc1"
    packets, pictures = decode_all(clip)
    assert packets > KEYINT and pictures == packets, (packets, pictures)


def test_parameter_sets_are_taken_from_an_annexb_keyframe() -> None:
    vps, sps, pps = b"\x40\x01\x0c", b"\x42\x01\x01", b"\x44\x01\xc1"
    sei, idr = b"\x4e\x01\x05", b"\x26\x01\xaf\x00\x00\x03\x01"  # an emulation-prevented IDR
    unit = (
        b"\x00\x00\x00\x01" + vps + b"\x00\x00\x01" + sps + b"\x00"  # a trailing zero byte
        b"\x00\x00\x01"
        + pps
        + b"\x00\x00\x01"
        + sei
        + b"\x00\x00\x01"
        + vps  # repeated
        + b"\x00\x00\x01"
        + idr
    )
    start = b"\x00\x00\x00\x01"
    assert parameter_sets(unit, "hevc") == start + vps + start + sps + start + pps
    h264 = start + b"\x67\x64\x00\x1f" + start + b"\x68\xee" + start + b"\x65\x88"
    assert parameter_sets(h264, "h264") == start + b"\x67\x64\x00\x1f" + start + b"\x68\xee"
    assert parameter_sets(unit, "mjpeg") == b""


@pytest.mark.timeout(120)
def test_an_hevc_file_remuxed_is_tagged_hvc1(tmp_path: Path) -> None:
    """An MP4 file's H.265 (FFmpeg's hev1, its parameter sets known) becomes an hvc1 clip."""
    scene = encode(SCENE, tmp_path / "scene.mp4", "libx265", frames=3 * KEYINT)
    with av.open(str(scene)) as container:
        assert container.streams.video[0].codec_context.codec_tag == "hev1"  # the test can fail
    clip = tmp_path / "clip.mp4"
    source = AVSource(str(scene), paced=False)
    info = source.open()
    try:
        assert info.codec == "hevc" and info.template is not None
        writer = ClipWriter(clip, info)
        for chunk in source.chunks():
            for packet in chunk.packets:
                writer.write(packet)
        writer.close()
    finally:
        source.close()
    assert_hvc1(clip)


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("codec", "encoder"), [("hevc", "libx265"), ("h264", "libx264")])
def test_parameter_sets_only_in_band_still_make_a_playable_clip(
    tmp_path: Path, codec: str, encoder: str
) -> None:
    """A stream with no parameter sets up front (an SDP without them): taken from the keyframe."""
    # A raw elementary stream: Annex B packets, the parameter sets in the first keyframe only.
    scene = encode(SCENE, tmp_path / f"scene.{codec}", encoder, frames=2 * KEYINT + 5)
    clip = tmp_path / "clip.mp4"
    with av.open(str(scene)) as inp:
        stream = inp.streams.video[0]
        # The input stream is the template, as a camera's RTSP stream is. FFmpeg's file
        # demuxers always find the parameter sets; a camera whose SDP has no sprop-* does
        # not, which is what clearing them from the clip's stream stands for.
        writer = ClipWriter(clip, StreamInfo(codec, stream.width, stream.height, 25, stream))
        context = writer._stream.codec_context
        assert context is not None
        context.extradata = None
        assert not context.extradata_size
        for i, raw in enumerate(p for p in inp.demux(stream) if p.size):
            raw.pts = raw.dts = i  # a raw stream has no times
            raw.time_base, raw.duration = Fraction(1, 25), 1
            writer.write(Packet(raw, i / 25, bool(raw.is_keyframe)))
    writer.close()
    if codec == "hevc":
        assert_hvc1(clip)
    else:
        assert sample_entry(clip)[0] == "avc1"
        packets, pictures = decode_all(clip)
        assert packets == 2 * KEYINT + 5 and pictures == packets


@pytest.mark.gstreamer
@pytest.mark.timeout(180)
def test_an_hevc_event_clip_over_rtsp_is_tagged_hvc1_and_decodes(tmp_path: Path) -> None:
    """The daemon records a stranger on an H.265 RTSP camera: the event's clip is hvc1."""
    require_gst_rtsp()
    scene = encode(SCENE, tmp_path / "hevc.mp4", "libx265")
    with HevcRtspServer(scene, loop=True) as server:
        keys = (
            "    read_timeout_s: 2\n    open_timeout_s: 3\n"
            "    record: {pre_capture_s: 2, post_capture_s: 1}\nstatus_interval_s: 0\n"
        )
        config = write_config(tmp_path, source=server.url, extra=keys)
        with Daemon(config) as daemon:
            daemon.wait_for(CONNECTED.format(cam="cam"), timeout=30)
            event_id = daemon.wait_for(new_event(), timeout=40).group(1)
            closed = daemon.wait_for(ENDED.format(cam="cam", id=event_id), timeout=30)
            assert closed.group(2) == "closed"
            assert daemon.stop(signal.SIGTERM) == 0
    row = {str(r["id"]): r for r in events(config)}[event_id]
    clip = Path(str(row["clip"]))
    assert_hvc1(clip)
    check_playable(row, at_least_s=2.0)
