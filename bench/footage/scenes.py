"""What the footage shows: its format, the visitors who walk through it, and the scenes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

GENERATOR_VERSION = 1

W, H, FPS = 1280, 720, 25
CRF = 23
PRESET = "medium"
KEYINT = 50  # a keyframe every 2 s, as many IP cameras send
NOISE_SIGMA = 2.2  # sensor noise, 8-bit levels, per channel
SEED = 20240605

VISITORS_S = 50.0
EMPTY_S = 120.0
STARTUP_S = 1.0
HAMILTON_S = 9.17
# Faces in every frame, for a minute: the media's face clips played back to back.
SINGLE_FACE_LOOPS = 25  # 2.4 s each
HAMILTON_LOOPS = 6  # 9.2 s each

Box = tuple[int, int, int, int]  # (top, right, bottom, left), as dlib / face_recognition
FloatImage = npt.NDArray[np.float32]
RGB = npt.NDArray[np.uint8]


# --------------------------------------------------------------------------- scenes


@dataclass(frozen=True)
class Visitor:
    """A person (a photo cut-out) who walks in, stands a few seconds, and walks out."""

    person: str
    known: bool
    photo: str  # under MEDIA
    face_box: Box  # the face in the photo, as dlib's HOG detector boxes it
    face_px: float  # face box height in the frame on arrival
    grow: float  # face height factor reached at the end of the stay (stepping closer)
    enter_s: float  # first frame showing any of the person
    face_top: float  # y of the face box's top while standing
    stand_x: float  # x of the face's centre while standing
    from_left: bool
    walk_s: float = 0.9  # walking into and out of the frame
    stay_s: float = 5.0

    @property
    def exit_s(self) -> float:
        return self.enter_s + 2 * self.walk_s + self.stay_s


VISITORS: tuple[Visitor, ...] = (
    Visitor(
        person="multi_face.jpg woman, right",
        known=False,
        photo="stills/multi_face.jpg",
        face_box=(308, 786, 415, 678),
        face_px=180,
        grow=1.07,
        enter_s=5.0,
        face_top=150,
        stand_x=560,
        from_left=True,
    ),
    Visitor(
        person="obama",
        known=True,
        photo="faces/obama_1.jpg",
        face_box=(142, 618, 410, 350),
        face_px=200,
        grow=1.07,
        enter_s=20.0,
        face_top=120,
        stand_x=720,
        from_left=False,
    ),
    Visitor(
        person="biden",
        known=False,
        photo="faces/biden_1.jpg",
        face_box=(242, 742, 563, 420),
        face_px=190,
        grow=1.07,
        enter_s=35.0,
        face_top=140,
        stand_x=620,
        from_left=True,
    ),
)
GALLERY_PHOTO = "faces/obama_2.jpg"  # the known visitor's other photo
GALLERY_PERSON = "obama"


@dataclass(frozen=True)
class Visit:
    """Ground truth of one person's visit, in media seconds."""

    person: str
    known: bool
    arrival_s: float  # the face is fully in view from this frame on
    leave_s: float  # ...until this frame
    enter_s: float | None = None  # first frame showing any of the person
    exit_s: float | None = None  # first frame with nothing of the person left
    face_px: tuple[float, float] | None = None  # face box height range while fully in view
    note: str = ""


@dataclass(frozen=True)
class Scene:
    """One benchmark input: the video, the watcher config and gallery, and the ground truth."""

    name: str
    video: Path
    config: Path
    gallery: Path
    duration_s: float
    visits: list[Visit] = field(default_factory=list)
    note: str = ""
    # Faces too small for the recipe's 1/4 scale: the naive peer is also run at full scale.
    small_faces: bool = False

    @property
    def expected_events(self) -> int:
        return sum(1 for v in self.visits if not v.known)
