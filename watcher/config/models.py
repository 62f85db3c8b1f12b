"""The config tree: one pydantic model per concern, every value bounded and described."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from watcher.config.notify import MqttConfig, NotifyConfig, PushConfig, WebhookConfig
from watcher.config.sections import (
    CAMERA_SECTIONS,
    CameraInput,
    FacesConfig,
    MotionConfig,
    PersonPolicy,
    PrivacyConfig,
    RecordConfig,
    RetentionConfig,
)
from watcher.config.web import WebConfig
from watcher.constants import DEMO_SOURCE

# Validation context key: the loader passes the config file's absolute path under it.
CONTEXT_CONFIG_FILE = "config_file"

URL_SCHEMES = frozenset({"rtsp", "rtsps", "http", "https"})
CAMERA_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$"
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


def is_url(source: str) -> bool:
    """Tell whether a camera source is a URL (`scheme://...`) rather than a path or `demo`."""
    return _SCHEME.match(source) is not None


def _absolute(path: Path, base: Path) -> Path:
    """Make `path` absolute against absolute `base`, expanding `~` and collapsing `..`."""
    with contextlib.suppress(RuntimeError):  # ~user that does not exist: keep it literal
        path = path.expanduser()
    # normpath, not resolve(): no disk access, and /dev/v4l/by-id/... links stay links.
    return Path(os.path.normpath(path if path.is_absolute() else base / path))


def _check_camera_name(name: str) -> str:
    """Refuse camera names that would not make a safe folder or log name."""
    if not re.match(CAMERA_NAME_PATTERN, name):
        raise PydanticCustomError(
            "camera_name",
            "camera name must be 1-63 letters, digits, '_' or '-', starting with a letter or digit",
        )
    return name


CameraName = Annotated[str, AfterValidator(_check_camera_name)]


class _Refused:
    """Stands for a key the loader fills in that the config file wrote itself."""

    __slots__ = ("hint",)

    def __init__(self, hint: str) -> None:
        self.hint = hint


def _refuse(value: Any) -> Any:
    """Raise an unknown-key error for a `_Refused` value, pass anything else through."""
    if isinstance(value, _Refused):
        raise PydanticCustomError("extra_forbidden", "unknown key ({hint})", {"hint": value.hint})
    return value


class CameraConfig(CameraInput):
    """One camera: where its video comes from and its effective faces/record settings."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        default="",
        description="The camera's key under `cameras`; filled in by the loader, "
        "never written in the file.",
    )
    source: str = Field(
        description="`demo`, an rtsp://, rtsps://, http:// or https:// URL, a USB camera "
        "such as /dev/video0, or a video file path (relative to base_dir).",
    )
    detect_source: str | None = Field(
        default=None,
        description="A low-resolution stream of the same camera to analyse (an NVR's "
        "sub-stream, e.g. 640x360): faces are searched in it, while `source` (H.264 or "
        "H.265) is recorded and gives the full-resolution crop each face is judged on. "
        "An rtsp://, http:// URL or a video file path.",
    )
    enabled: bool = Field(default=True, description="Whether the daemon watches this camera.")
    faces: FacesConfig = Field(
        default_factory=FacesConfig,
        description="Face settings: the global `faces` merged with this camera's overrides.",
    )
    record: RecordConfig = Field(
        default_factory=RecordConfig,
        description="Recording settings: the global `record` merged with this camera's overrides.",
    )
    motion: MotionConfig = Field(
        default_factory=MotionConfig,
        description="Motion gate: the global `motion` merged with this camera's overrides.",
    )

    @field_validator("name", mode="before")
    @classmethod
    def _name_not_written(cls, value: Any) -> Any:
        """Refuse a `name` the config file wrote: the name is the key under `cameras`."""
        return _refuse(value)

    @field_validator("detect_source")
    @classmethod
    def _check_detect_source(cls, value: str | None) -> str | None:
        """Accept what `source` accepts, but `demo` or a USB camera (no sub-stream there)."""
        if value is None:
            return None
        value = cls._check_source(value)
        if value == DEMO_SOURCE or value.startswith("/dev/"):
            raise PydanticCustomError(
                "detect_source", "must be a URL or a video file: the camera's sub-stream"
            )
        return value

    @field_validator("source")
    @classmethod
    def _check_source(cls, value: str) -> str:
        """Accept demo, a URL with a supported scheme and a host, or any path."""
        value = value.strip()
        if not value:
            raise PydanticCustomError(
                "source_empty",
                "must not be empty: use demo, a URL, /dev/videoN or a video file path",
            )
        match = _SCHEME.match(value)
        if match is None:
            return value
        scheme = match.group(1).lower()
        if scheme not in URL_SCHEMES:
            raise PydanticCustomError(
                "source_scheme",
                "unsupported URL scheme '{scheme}': use rtsp://, rtsps://, http:// or https://",
                {"scheme": scheme},
            )
        try:
            host = urlsplit(value).hostname
        except ValueError:
            host = None
        if not host:
            raise PydanticCustomError("source_url", "the URL has no valid host")
        return value


def _merge_camera(key: Any, camera: Any, data: dict[str, Any], from_file: bool) -> Any:
    """Fill in a raw camera's name and merge the global faces/record under its overrides."""
    if isinstance(camera, CameraConfig):
        return camera if camera.name else camera.model_copy(update={"name": str(key)})
    if camera is None:
        camera = {}
    if not isinstance(camera, dict):
        return camera
    camera = dict(camera)
    if "name" in camera and (from_file or camera["name"] != key):
        camera["name"] = _Refused("a camera's name is its key under cameras")
    else:
        camera["name"] = key if isinstance(key, str) else str(key)
    for section in CAMERA_SECTIONS:
        own = camera.get(section)
        own = {} if own is None else own
        base = data.get(section)
        if isinstance(base, BaseModel):
            base = base.model_dump()
        if isinstance(own, dict):
            camera[section] = {**base, **own} if isinstance(base, dict) else own
    return camera


class WatcherConfig(BaseModel):
    """The whole config: paths, database, logging, global defaults and the cameras."""

    model_config = ConfigDict(extra="forbid")

    base_dir: Path = Field(
        default=Path("."),
        description="Folder the relative paths below resolve against; itself relative to "
        "the config file's folder. Absolute after loading.",
    )
    known_faces_dir: Path = Field(
        default=Path("known_faces"),
        description="Gallery of known people: one sub-folder of photos per person.",
    )
    recordings_dir: Path = Field(
        default=Path("recordings"),
        description="Where clips, snapshots and face crops of events are written.",
    )
    database_url: str = Field(
        default="sqlite:///recordings/watcher.db",
        description="SQLAlchemy URL of the events database; a relative sqlite file path "
        "resolves against base_dir.",
    )
    log_level: LogLevel = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR.")
    status_interval_s: float = Field(
        default=300.0,
        ge=0,
        le=86400,
        description="Seconds between per-camera status lines in the log; 0 turns them off "
        "(SIGUSR1 asks for one at any time).",
    )
    detectors: int = Field(
        default=0,
        ge=0,
        le=64,
        description="Face engines shared by the cameras (each about 30 MB), so that several "
        "cameras analyse at once; 0: one per CPU core.",
    )
    web: WebConfig = Field(
        default_factory=WebConfig,
        description="The review page (`watcher web`): address, port, password file.",
    )
    faces: FacesConfig = Field(
        default_factory=FacesConfig, description="Face settings every camera inherits."
    )
    record: RecordConfig = Field(
        default_factory=RecordConfig, description="Recording settings every camera inherits."
    )
    motion: MotionConfig = Field(
        default_factory=MotionConfig, description="Motion gate settings every camera inherits."
    )
    retention: RetentionConfig = Field(
        default_factory=RetentionConfig, description="How long recordings are kept."
    )
    privacy: PrivacyConfig = Field(
        default_factory=PrivacyConfig,
        description="How long unknown people's face embeddings and crops are kept.",
    )
    people: dict[str, PersonPolicy] = Field(
        default_factory=dict,
        description="Per-person policy by gallery name, e.g. `mallory: {alert: true}`.",
    )
    mqtt: MqttConfig | None = Field(
        default=None,
        description="The MQTT broker events, stranger state and snapshots are published to; "
        "null or absent: no MQTT.",
    )
    webhooks: list[WebhookConfig] = Field(
        default_factory=list,
        description="HTTP endpoints every message is POSTed to, signed (Standard Webhooks).",
    )
    push: list[PushConfig] = Field(
        default_factory=list,
        description="Push services (Apprise URLs) told of each stranger, with the snapshot.",
    )
    notify: NotifyConfig = Field(
        default_factory=NotifyConfig,
        description="Delivery of MQTT and webhook messages: retries and giving up.",
    )
    cameras: dict[CameraName, CameraConfig] = Field(
        default_factory=dict,
        validate_default=True,
        description="The cameras by name; at least one.",
    )
    config_path: Path | None = Field(
        default=None,
        description="The file this config was loaded from; set by the loader, never written.",
    )

    @model_validator(mode="before")
    @classmethod
    def _prepare(cls, data: Any, info: ValidationInfo) -> Any:
        """Take config_path from the loader, name each camera and merge its overrides."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        config_file = (info.context or {}).get(CONTEXT_CONFIG_FILE)
        from_file = config_file is not None
        if from_file:
            written = "config_path" in data
            data["config_path"] = _Refused("set by the loader") if written else config_file
        for listed in ("webhooks", "push"):
            if data.get(listed, []) is None:
                data[listed] = []
        for section in (*CAMERA_SECTIONS, "retention", "privacy", "people", "notify", "cameras"):
            if section in data and data[section] is None:
                data[section] = {}
        cameras = data.get("cameras")
        if isinstance(cameras, dict):
            data["cameras"] = {
                key: _merge_camera(key, camera, data, from_file) for key, camera in cameras.items()
            }
        return data

    @field_validator("config_path", mode="before")
    @classmethod
    def _config_path_not_written(cls, value: Any) -> Any:
        """Refuse a `config_path` the config file wrote."""
        return _refuse(value)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        """Accept the level in any case."""
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        """Refuse what SQLAlchemy cannot parse as a URL (without echoing it: passwords)."""
        try:
            make_url(value)
        except (ArgumentError, ValueError):
            raise PydanticCustomError(
                "database_url", "not a SQLAlchemy database URL (e.g. sqlite:///file.db)"
            ) from None
        return value

    @field_validator("cameras")
    @classmethod
    def _at_least_one(cls, value: dict[str, CameraConfig]) -> dict[str, CameraConfig]:
        """Refuse a config without cameras."""
        if not value:
            raise PydanticCustomError("no_cameras", "at least one camera is required")
        return value

    @model_validator(mode="after")
    def _resolve_paths(self) -> WatcherConfig:
        """Make every path absolute: base_dir against the config's folder, the rest against it."""
        if self.config_path is not None:
            self.config_path = _absolute(self.config_path, Path.cwd())
        folder = self.config_path.parent if self.config_path is not None else Path.cwd()
        self.base_dir = _absolute(self.base_dir, folder)
        self.known_faces_dir = _absolute(self.known_faces_dir, self.base_dir)
        self.recordings_dir = _absolute(self.recordings_dir, self.base_dir)
        self.database_url = _absolute_sqlite(self.database_url, self.base_dir)
        self._resolve_notify_paths()
        for camera in self.cameras.values():
            source = camera.source
            if source != DEMO_SOURCE and not is_url(source) and not Path(source).is_absolute():
                camera.source = str(_absolute(Path(source), self.base_dir))
            detect = camera.detect_source
            if detect is not None and not is_url(detect) and not Path(detect).is_absolute():
                camera.detect_source = str(_absolute(Path(detect), self.base_dir))
        return self

    def _resolve_notify_paths(self) -> None:
        """Password, secret and certificate files resolve against base_dir."""
        if self.mqtt is not None:
            if self.mqtt.password_file is not None:
                self.mqtt.password_file = _absolute(self.mqtt.password_file, self.base_dir)
            tls = self.mqtt.tls
            if tls is not None:
                for key in ("ca_file", "cert_file", "key_file"):
                    value = getattr(tls, key)
                    if value is not None:
                        setattr(tls, key, _absolute(value, self.base_dir))
        for hook in self.webhooks:
            if hook.secret_file is not None:
                hook.secret_file = _absolute(hook.secret_file, self.base_dir)

    def alert_names(self) -> frozenset[str]:
        """Known people whose appearance starts an event (the watch-list)."""
        return frozenset(name for name, policy in self.people.items() if policy.alert)

    def enabled_cameras(self) -> list[CameraConfig]:
        """Return the cameras to watch, in config order."""
        return [camera for camera in self.cameras.values() if camera.enabled]

    @field_validator("web", mode="before")
    @classmethod
    def _web_empty(cls, value: Any) -> Any:
        """`web:` with nothing under it takes every default."""
        return {} if value is None else value

    @model_validator(mode="after")
    def _resolve_web_paths(self) -> WatcherConfig:
        """The page's password file resolves against base_dir (absolute by now)."""
        self.web.password_file = _absolute(self.web.password_file, self.base_dir)
        return self


def _absolute_sqlite(url: str, base: Path) -> str:
    """Rewrite a sqlite URL's relative file path against `base`; leave any other URL as is."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database:
        return url
    if database == ":memory:" or database.startswith("file:") or Path(database).is_absolute():
        return url
    absolute = parsed.set(database=str(_absolute(Path(database), base)))
    return absolute.render_as_string(hide_password=False)
