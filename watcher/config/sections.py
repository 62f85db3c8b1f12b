"""The per-camera sections of the config: faces, record, motion (each overridable per camera)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# Sections a camera inherits from the top level and may override key by key.
CAMERA_SECTIONS = ("faces", "record", "motion")


class FacesConfig(BaseModel):
    """How faces are found and judged known or unknown."""

    model_config = ConfigDict(extra="forbid")

    rule: Literal["open_set", "fixed"] = Field(
        default="open_set",
        description="open_set: each person's bound comes from the gallery (how close their "
        "own photos and their nearest look-alike are), capped by `tolerance`, and a face is "
        "judged on the median distance of its good looks; fixed: one distance, `tolerance`, "
        "for everyone.",
    )
    tolerance: float = Field(
        default=0.6,
        gt=0,
        le=1.2,
        description="The largest embedding distance at which a face can be a known person "
        "(every person's bound is at most this); lower is stricter.",
    )
    min_face_px: int = Field(
        default=60,
        ge=20,
        le=2000,
        description="Smallest face height, in source pixels, that is detected and judged.",
    )
    confirm_frames: int = Field(
        default=2,
        ge=1,
        le=50,
        description="Looks at a face that must agree it is unknown before an event starts "
        "(one more when none of them is a good look).",
    )
    evidence_looks: int = Field(
        default=6,
        ge=1,
        le=50,
        description="How many of a face's latest usable looks its verdict rests on.",
    )
    learn: bool = Field(
        default=True,
        description="Keep a few looks of known people that the camera saw clearly "
        "(known_faces/.learned/), so that the household is recognised better at this "
        "camera; `watcher faces forget-learned NAME` undoes it.",
    )
    embeddings_per_s: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="Budget of a face not yet decided: at most this many embeddings a second.",
    )
    analyse_fps: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="Frames per second analysed for faces.",
    )
    refresh_s: float = Field(
        default=10.0,
        ge=0,
        le=3600,
        description="A face followed across frames, once judged, is embedded again at most "
        "this often (or when it comes closer).",
    )


class RecordConfig(BaseModel):
    """How much video an event's clip holds around the unknown face."""

    model_config = ConfigDict(extra="forbid")

    pre_capture_s: float = Field(
        default=3.0,
        ge=0,
        le=60,
        description="Seconds of video kept from before the unknown face appeared.",
    )
    post_capture_s: float = Field(
        default=5.0,
        ge=0,
        le=600,
        description="Seconds recording goes on after the last unknown face left.",
    )
    max_clip_s: float = Field(
        default=300.0,
        ge=10,
        le=86400,
        description="Longest clip in seconds; a longer event is cut at this length.",
    )


class MotionConfig(BaseModel):
    """The motion gate: where nothing moved, no face is searched for."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(
        default=True,
        description="Search for faces only where the picture changed (and around faces "
        "already in view); off searches every analysed frame in full.",
    )
    threshold: int = Field(
        default=18,
        ge=1,
        le=255,
        description="Grey-level change (0-255) of a small blurred frame that counts as motion.",
    )
    min_area: float = Field(
        default=0.002,
        ge=0,
        le=1,
        description="Smallest moving region, as a share of the frame, that wakes the detector.",
    )
    frame_height: int = Field(
        default=120,
        ge=32,
        le=720,
        description="Height in pixels of the small grey frame motion is computed on.",
    )


class CameraInput(BaseModel):
    """How a camera's source is opened and read (camera-level keys)."""

    model_config = ConfigDict(extra="forbid")

    rtsp_transport: Literal["tcp", "udp"] = Field(
        default="tcp",
        description="RTSP transport: tcp (reliable through NAT and Wi-Fi) or udp.",
    )
    loop: bool = Field(
        default=False,
        description="A video file source starts again when it ends (demo and test setups); "
        "otherwise the camera stops at its end.",
    )
    video_size: str | None = Field(
        default=None,
        pattern=r"^\d{2,5}x\d{2,5}$",
        description="USB (V4L2) cameras: picture size to ask for, e.g. 1280x720.",
    )
    fps: float | None = Field(
        default=None, gt=0, le=240, description="USB (V4L2) cameras: frame rate to ask for."
    )
    input_format: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9_]{2,20}$",
        description="USB (V4L2) cameras: input format to ask for, e.g. mjpeg or yuyv422.",
    )
    skip_nonref_frames: bool = Field(
        default=True,
        description="Decode only the frames other frames refer to (skips B-frames, about "
        "a third less decoding); analysis needs only a few frames a second, and clips "
        "keep every frame since they are never decoded.",
    )
    decoding: Literal["limited", "full"] = Field(
        default="limited",
        description="limited: while nothing moves, decode only the keyframes (at most "
        "one every 4 s while the packets would show motion: a few percent of the work) "
        "and watch the compressed packets' sizes for motion; on "
        "motion, decode every frame again, starting with the frames since the last "
        "keyframe, so nothing analysis needs is missed. full: decode every frame "
        "(H.264/H.265 cameras; other inputs are always decoded in full).",
    )
    decode_threads: int = Field(
        default=1,
        ge=0,
        le=16,
        description="Threads that decode the camera's video: 1 costs the least CPU and is "
        "plenty for 1080p at 30 fps on a Raspberry Pi 4; 0 lets FFmpeg use every core "
        "(for 4K, or an old CPU that cannot keep up on one).",
    )
    open_timeout_s: float = Field(
        default=10.0,
        ge=1,
        le=300,
        description="Seconds to wait for a network camera to answer before retrying.",
    )
    read_timeout_s: float = Field(
        default=5.0,
        ge=1,
        le=300,
        description="Seconds without data after which a connected camera counts as lost "
        "(a frozen camera) and is reconnected.",
    )


class RetentionConfig(BaseModel):
    """How long recordings are kept; the oldest go first when any limit is passed."""

    model_config = ConfigDict(extra="forbid")

    max_age_days: float | None = Field(
        default=14,
        gt=0,
        description="Events older than this many days are removed; null: no limit.",
    )
    max_disk_gb: float | None = Field(
        default=20,
        gt=0,
        description="Most gigabytes (10^9 bytes) watcher's clips, snapshots and face crops "
        "may take (other files in recordings_dir do not count); null: no limit.",
    )
    min_free_gb: float | None = Field(
        default=1,
        ge=0,
        description="Free gigabytes kept on the recordings disk; null: no limit. When "
        "something else fills the disk so that removing every event would not do, the "
        "events are kept and a warning says so.",
    )
    interval_s: float = Field(
        default=600, ge=10, le=86400, description="Seconds between retention passes."
    )


class PrivacyConfig(BaseModel):
    """How long personal data of unknown people (face embeddings and crops) is kept."""

    model_config = ConfigDict(extra="forbid")

    unknown_faces_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="Days the embeddings and face crops of unknown people are kept; older "
        "ones are deleted (files and rows together), and an unknown identity not seen "
        "for this long is forgotten.",
    )


class PersonPolicy(BaseModel):
    """What watcher does when a known person appears."""

    model_config = ConfigDict(extra="forbid")

    alert: bool = Field(
        default=False,
        description="A watch-list entry: this known person's appearance starts an event "
        "like an unknown face does (the rule stays: record only what is unknown).",
    )
