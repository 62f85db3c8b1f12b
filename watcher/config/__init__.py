"""The config: one typed, validated tree loaded from config/watcher.yaml."""

from watcher.config.loader import (
    ConfigError,
    default_config_path,
    load_config,
    mask_url,
    summary,
)
from watcher.config.models import CameraConfig, WatcherConfig, is_url
from watcher.config.sections import FacesConfig, MotionConfig, RecordConfig

__all__ = [
    "CameraConfig",
    "ConfigError",
    "FacesConfig",
    "MotionConfig",
    "RecordConfig",
    "WatcherConfig",
    "default_config_path",
    "is_url",
    "load_config",
    "mask_url",
    "summary",
]
