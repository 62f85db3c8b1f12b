"""Constants shared across watcher: names, defaults and exit codes in one place."""

from __future__ import annotations

from typing import Final

# Exit statuses of the command line.
EXIT_OK: Final = 0
EXIT_FAILURE: Final = 1
EXIT_CONFIG: Final = 2  # broken or missing config: the error names the key's path

# Config location.
ENV_CONFIG: Final = "WATCHER_CONFIG"
DEFAULT_CONFIG_PATH: Final = "config/watcher.yaml"

# Source kinds (the `source:` value of a camera).
DEMO_SOURCE: Final = "demo"

# Event statuses, as stored in the database.
EVENT_OPEN: Final = "open"  # recording now (or the daemon died while it was)
EVENT_CLOSED: Final = "closed"  # finished, clip complete
EVENT_INTERRUPTED: Final = "interrupted"  # closed at start-up after a crash
EVENT_NO_CLIP: Final = "no_clip"  # the event is real but its clip could not be written

# Recording layout: recordings/<camera>/<YYYY-MM-DD>/<HHMMSS>-<event id>.<ext>
CLIP_EXT: Final = ".mp4"
SNAPSHOT_EXT: Final = ".jpg"
FACE_CROP_SUFFIX: Final = "-face.jpg"
DAY_DIR_FORMAT: Final = "%Y-%m-%d"
CLIP_TIME_FORMAT: Final = "%H%M%S"

# Fragmented MP4: every keyframe starts a fragment and packets reach the disk at
# once, so a crash or power cut leaves a file playable up to the last fragment.
MP4_OPTIONS: Final = {
    "movflags": "frag_keyframe+empty_moov+default_base_moof",
    "flush_packets": "1",
}

# Face engine.
EMBEDDING_SIZE: Final = 128
# The face height dlib's HOG detector finds at its base scale, without upsampling.
# Its window is 80 px, but measured on every face of ../shared/media scaled to
# 60 px, a scale of 68/60 finds all of them (64/60 misses one): each search is
# scaled to bring its smallest face to this height, and every pixel it adds costs.
HOG_WINDOW_PX: Final = 68
GALLERY_IMAGE_EXTS: Final = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})

# Raw sources (USB, demo) are encoded to H.264 once, at the source, so the
# pre-roll buffer holds compressed packets and clips are remuxed like RTSP ones.
RAW_ENCODER: Final = "libx264"
RAW_ENCODER_OPTIONS: Final = {"preset": "ultrafast", "tune": "zerolatency"}
RAW_KEYFRAME_INTERVAL_S: Final = 1.0
