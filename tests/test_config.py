"""The config: the shipped sample, defaults, merging, path resolution and error reporting."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from watcher.config import (
    CameraConfig,
    ConfigError,
    FacesConfig,
    RecordConfig,
    WatcherConfig,
    default_config_path,
    load_config,
    mask_url,
    summary,
)
from watcher.constants import DEFAULT_CONFIG_PATH, ENV_CONFIG, EXIT_CONFIG, EXIT_OK

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "config" / "watcher.yaml"


def write(folder: Path, text: str, name: str = "watcher.yaml") -> Path:
    """Write a dedented config file and return its path."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def errors_of(path: Path) -> list[str]:
    """Load a config that must fail and return its error lines."""
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.errors, "a ConfigError must say what is wrong"
    assert str(info.value) == "\n".join(info.value.errors)
    return info.value.errors


# --- the shipped sample ------------------------------------------------------------------


def test_shipped_config_loads_with_absolute_paths_at_the_repo_root() -> None:
    cfg = load_config(SHIPPED)
    assert cfg.config_path == SHIPPED
    assert cfg.base_dir == REPO
    assert cfg.known_faces_dir == REPO / "known_faces"
    assert cfg.recordings_dir == REPO / "recordings"
    assert cfg.database_url == f"sqlite:///{REPO / 'recordings' / 'watcher.db'}"
    for path in (cfg.base_dir, cfg.known_faces_dir, cfg.recordings_dir):
        assert path.is_absolute()
    assert list(cfg.cameras) == ["front_door"]
    camera = cfg.cameras["front_door"]
    assert (camera.name, camera.source, camera.enabled) == ("front_door", "demo", True)
    assert cfg.enabled_cameras() == [camera]


def test_shipped_config_writes_every_key_and_the_documented_examples() -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    top = set(WatcherConfig.model_fields) - {"config_path"}
    assert top <= set(raw)
    assert set(raw["faces"]) == set(FacesConfig.model_fields)
    assert set(raw["record"]) == set(RecordConfig.model_fields)
    assert set(raw["cameras"]["front_door"]) == {"source", "enabled"}
    for example in ("rtsp://user:password@192.168.1.10:554/stream1", "/dev/video0", ".mp4"):
        assert example in text
    # The sample's values are the models' defaults, so the comments cannot lie.
    assert FacesConfig(**raw["faces"]) == FacesConfig()
    assert RecordConfig(**raw["record"]) == RecordConfig()


def test_default_path_and_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_CONFIG, raising=False)
    assert default_config_path() == Path(DEFAULT_CONFIG_PATH)
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "config", "cameras: {here: {source: demo}}")
    assert list(load_config().cameras) == ["here"]
    other = write(tmp_path, "cameras: {there: {source: demo}}", "other.yaml")
    monkeypatch.setenv(ENV_CONFIG, str(other))
    assert default_config_path() == other
    assert list(load_config().cameras) == ["there"]


# --- defaults, merging and resolution -----------------------------------------------------


def test_minimal_config_takes_every_default(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, "cameras: {c: {source: demo}}"))
    assert cfg.base_dir == tmp_path
    assert cfg.known_faces_dir == tmp_path / "known_faces"
    assert cfg.recordings_dir == tmp_path / "recordings"
    assert cfg.database_url == f"sqlite:///{tmp_path / 'recordings' / 'watcher.db'}"
    assert cfg.log_level == "INFO"
    assert cfg.faces == FacesConfig()
    assert cfg.record == RecordConfig()
    camera = cfg.cameras["c"]
    assert camera.name == "c"
    assert camera.enabled is True
    assert camera.faces == FacesConfig(tolerance=0.6, min_face_px=60, confirm_frames=2)
    assert camera.record == RecordConfig(pre_capture_s=3, post_capture_s=5, max_clip_s=300)


def test_camera_overrides_merge_over_the_global_sections(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        faces: {tolerance: 0.5, analyse_fps: 2}
        record: {post_capture_s: 8}
        cameras:
          a:
            source: demo
            faces: {tolerance: 0.4}
            record: {pre_capture_s: 1}
          b:
            source: demo
            enabled: false
        """,
    )
    cfg = load_config(path)
    a, b = cfg.cameras["a"], cfg.cameras["b"]
    assert a.faces == FacesConfig(tolerance=0.4, analyse_fps=2)
    assert a.record == RecordConfig(pre_capture_s=1, post_capture_s=8)
    assert b.faces == FacesConfig(tolerance=0.5, analyse_fps=2)
    assert b.record == RecordConfig(post_capture_s=8)
    assert cfg.faces == FacesConfig(tolerance=0.5, analyse_fps=2)
    assert cfg.enabled_cameras() == [a]


def test_base_dir_resolves_against_the_config_folder(tmp_path: Path) -> None:
    conf = tmp_path / "etc" / "conf"
    cfg = load_config(write(conf, "base_dir: ../data\ncameras: {c: {source: demo}}"))
    assert cfg.base_dir == tmp_path / "etc" / "data"
    assert cfg.known_faces_dir == tmp_path / "etc" / "data" / "known_faces"
    elsewhere = tmp_path / "elsewhere"
    text = f"base_dir: {elsewhere}\nknown_faces_dir: /srv/faces\ncameras: {{c: {{source: demo}}}}"
    cfg = load_config(write(conf, text))
    assert cfg.base_dir == elsewhere
    assert cfg.recordings_dir == elsewhere / "recordings"
    assert cfg.known_faces_dir == Path("/srv/faces")


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////var/lib/watcher/events.db",
        "sqlite://",
        "sqlite:///:memory:",
        "postgresql://watcher:secret@db.local:5432/watcher",
        "mysql+pymysql://u@h/w",
    ],
)
def test_absolute_and_non_sqlite_urls_are_untouched(tmp_path: Path, url: str) -> None:
    cfg = load_config(write(tmp_path, f"database_url: '{url}'\ncameras: {{c: {{source: demo}}}}"))
    assert cfg.database_url == url


def test_relative_sqlite_path_resolves_against_base_dir(tmp_path: Path) -> None:
    text = "base_dir: data\ndatabase_url: sqlite:///db/events.db\ncameras: {c: {source: demo}}"
    cfg = load_config(write(tmp_path, text))
    assert cfg.database_url == f"sqlite:///{tmp_path / 'data' / 'db' / 'events.db'}"


def test_only_plain_file_sources_resolve(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        cameras:
          file: {source: videos/door.mp4}
          usb: {source: /dev/video0}
          ip: {source: "rtsp://u:p@10.0.0.2:554/s"}
          web: {source: "https://cam.local/live.m3u8"}
          demo: {source: demo}
        """,
    )
    sources = {name: camera.source for name, camera in load_config(path).cameras.items()}
    assert sources == {
        "file": str(tmp_path / "videos" / "door.mp4"),
        "usb": "/dev/video0",
        "ip": "rtsp://u:p@10.0.0.2:554/s",
        "web": "https://cam.local/live.m3u8",
        "demo": "demo",
    }


def test_models_can_be_built_in_python(tmp_path: Path) -> None:
    cfg = WatcherConfig(
        base_dir=tmp_path,
        faces=FacesConfig(tolerance=0.5),
        cameras={"a": {"source": "demo", "faces": {"confirm_frames": 3}}},  # type: ignore[dict-item]
    )
    assert cfg.cameras["a"].name == "a"
    assert cfg.cameras["a"].faces == FacesConfig(tolerance=0.5, confirm_frames=3)
    assert cfg.recordings_dir == tmp_path / "recordings"
    again = WatcherConfig.model_validate(cfg.model_dump())
    assert again == cfg
    assert CameraConfig(name="x", source="demo").name == "x"


# --- errors: each names the key path and its line -----------------------------------------


def test_unknown_keys_name_path_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        recordings_dir: recordings
        databse_url: sqlite://
        faces:
          tolerance: 0.5
          tolerence: 0.5
        cameras:
          front_door:
            source: demo
            enable: true
        """,
    )
    assert errors_of(path) == [
        f"{path}:2: databse_url: unknown key; did you mean 'database_url'?",
        f"{path}:5: faces.tolerence: unknown key; did you mean 'tolerance'?",
        f"{path}:9: cameras.front_door.enable: unknown key; did you mean 'enabled'?",
    ]


def test_loader_filled_keys_cannot_be_written(tmp_path: Path) -> None:
    path = write(tmp_path, "config_path: x.yaml\ncameras:\n  c:\n    source: demo\n    name: c\n")
    errors = errors_of(path)
    assert errors[0].startswith(f"{path}:1: config_path: unknown key")
    assert errors[1].startswith(f"{path}:5: cameras.c.name: unknown key")
    assert len(errors) == 2


def test_wrong_type_and_out_of_bounds(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        faces:
          min_face_px: lots
        record:
          max_clip_s: 5
        log_level: LOUD
        cameras: {c: {source: demo}}
        """,
    )
    errors = errors_of(path)
    assert errors[0].startswith(f"{path}:2: faces.min_face_px: Input should be a valid integer")
    assert errors[1] == f"{path}:4: record.max_clip_s: Input should be greater than or equal to 10"
    assert errors[2].startswith(f"{path}:5: log_level: Input should be 'DEBUG'")
    assert len(errors) == 3


def test_decode_threads_default_and_bounds(tmp_path: Path) -> None:
    ok = write(tmp_path, "cameras: {c: {source: demo}, d: {source: demo, decode_threads: 0}}\n")
    cameras = load_config(ok).cameras
    assert cameras["c"].decode_threads == 1 and cameras["d"].decode_threads == 0
    bad = write(tmp_path, "cameras:\n  c:\n    source: demo\n    decode_threads: 64\n")
    (error,) = errors_of(bad)
    assert error.startswith(f"{bad}:4: cameras.c.decode_threads: Input should be less than")


def test_override_errors_point_into_the_camera(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        faces:
          tolerance: 0.5
        cameras:
          front_door:
            source: demo
            faces:
              tolerance: 2
        """,
    )
    assert errors_of(path) == [
        f"{path}:7: cameras.front_door.faces.tolerance: Input should be less than or equal to 1.2"
    ]


def test_bad_global_value_is_reported_once_at_the_global_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        cameras:
          a: {source: demo}
          b: {source: demo}
        record:
          pre_capture_s: -1
          extra: 1
        """,
    )
    assert errors_of(path) == [
        f"{path}:5: record.pre_capture_s: Input should be greater than or equal to 0",
        f"{path}:6: record.extra: unknown key",
    ]


def test_missing_source_points_at_the_camera(tmp_path: Path) -> None:
    path = write(tmp_path, "log_level: INFO\ncameras:\n  door:\n    enabled: true\n")
    assert errors_of(path) == [f"{path}:3: cameras.door.source: required key is missing"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cameras: {}\n", ":1: cameras: at least one camera is required"),
        ("cameras:\n", ":1: cameras: at least one camera is required"),
        ("log_level: INFO\n", ": cameras: at least one camera is required"),
    ],
)
def test_no_cameras(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    assert errors_of(path) == [f"{path}{expected}"]


def test_bad_camera_names_and_sources(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        cameras:
          "front door": {source: demo}
          ok: {source: "rtmp://h/live"}
          empty: {source: "  "}
          nohost: {source: "rtsp:///x"}
        """,
    )
    errors = errors_of(path)
    assert errors[0].startswith(f"{path}:2: cameras.front door: camera name must be")
    assert errors[1].startswith(f"{path}:3: cameras.ok.source: unsupported URL scheme 'rtmp'")
    assert errors[2].startswith(f"{path}:4: cameras.empty.source: must not be empty")
    assert errors[3] == f"{path}:5: cameras.nohost.source: the URL has no valid host"
    assert len(errors) == 4


def test_duplicate_keys_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "cameras:\n  a: {source: demo}\n  a: {source: demo}\n")
    assert errors_of(path) == [f"{path}:3: cameras.a: duplicate key (first on line 2)"]


def test_yaml_anchors_and_merge_keys_work(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        cameras:
          a: &cam {source: demo, faces: {tolerance: 0.4}}
          b:
            <<: *cam
            faces: {tolerance: 9}
        """,
    )
    assert errors_of(path) == [
        f"{path}:5: cameras.b.faces.tolerance: Input should be less than or equal to 1.2"
    ]


def test_all_errors_are_reported_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        faces: {tolerance: 0, min_face_px: 1, confirm_frames: 0, analyse_fps: 100}
        record: {pre_capture_s: 61, post_capture_s: 601, max_clip_s: 1}
        cameras:
          a: {source: demo, enabled: perhaps}
          b: {}
        """,
    )
    errors = errors_of(path)
    assert len(errors) == 9
    keys = [line.split(": ")[1] for line in errors]
    assert keys == [
        "faces.tolerance",
        "faces.min_face_px",
        "faces.confirm_frames",
        "faces.analyse_fps",
        "record.pre_capture_s",
        "record.post_capture_s",
        "record.max_clip_s",
        "cameras.a.enabled",
        "cameras.b.source",
    ]
    assert [int(line.split(":")[1]) for line in errors] == [1] * 4 + [2] * 3 + [4, 5]


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    assert errors_of(missing) == [
        f"{missing}: config file not found (pass a config path or set ${ENV_CONFIG})"
    ]
    assert errors_of(tmp_path)[0] == f"{tmp_path}: is a folder, not a config file"
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"cameras: \xff\xfe\n")
    assert errors_of(binary)[0].startswith(f"{binary}: not UTF-8 text")


def test_yaml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "cameras:\n  a:\n    source: demo\n   enabled: [true\n")
    (error,) = errors_of(path)
    assert error.startswith(f"{path}:4: invalid YAML: ")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- a\n- b\n", ":1: the top level must be a mapping of keys, not a list"),
        ("just words\n", ":1: the top level must be a mapping of keys, not a str"),
        ("# only comments\n", ": the file is empty; it needs at least a `cameras:` section"),
    ],
)
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    assert errors_of(path) == [f"{path}{expected}"]


def test_errors_never_show_a_source_password(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        database_url: "postgresql://dbuser:dbsecret@/x?host=/tmp&port=bad port"
        cameras:
          door:
            source: "rtsp://admin:hunter2@10.0.0.5:554/stream1"
            enabled: sometimes
            faces: nope
          yard:
            source: ["rtsp://admin:hunter2@10.0.0.6/s"]
        """,
    )
    text = "\n".join(errors_of(path))
    assert "cameras.door.enabled" in text
    assert "cameras.door.faces" in text
    assert "cameras.yard.source" in text
    assert "hunter2" not in text
    assert "dbsecret" not in text


def test_summary_masks_passwords(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        database_url: "postgresql://dbuser:dbsecret@db/watcher"
        faces: {tolerance: 0.45}
        cameras:
          door: {source: "rtsp://admin:hunter2@10.0.0.5/s", record: {pre_capture_s: 2}}
          lab: {source: demo, enabled: false}
        """,
    )
    text = summary(load_config(path))
    assert "hunter2" not in text and "dbsecret" not in text
    for part in (
        str(path),
        str(tmp_path),
        "postgresql://dbuser:***@db/watcher",
        "rtsp://admin:***@10.0.0.5/s",
        "door",
        "lab",
        "disabled",
        "0.45",
        "pre 2",
    ):
        assert part in text


# --- mask_url -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("rtsp://user:pass@host:554/x", "rtsp://user:***@host:554/x"),
        ("rtsps://admin:p@ss:w0rd@10.0.0.1/live", "rtsps://admin:***@10.0.0.1/live"),
        ("rtsp://admin:pa/ss@cam/stream", "rtsp://admin:***@cam/stream"),
        ("https://u:p@cam.local/snap?x=1", "https://u:***@cam.local/snap?x=1"),
        ("postgresql+psycopg://w:secret@db:5432/w", "postgresql+psycopg://w:***@db:5432/w"),
        ("rtsp://:secret@host/x", "rtsp://:***@host/x"),
        ("rtsp://user@host/x", "rtsp://user@host/x"),
        ("rtsp://host:554/x", "rtsp://host:554/x"),
        ("http://host:8080/img@2x.png", "http://host:8080/img@2x.png"),
        ("sqlite:///recordings/watcher.db", "sqlite:///recordings/watcher.db"),
        ("demo", "demo"),
        ("/dev/video0", "/dev/video0"),
        ("", ""),
        ("rtsp://u:pa ss@h/x", "rtsp://u:***@h/x"),
        ("rtsp://u:***@h/x", "rtsp://u:***@h/x"),
        (
            "cannot open 'rtsp://a:s1@h/x' nor https://b:s2@k/y: refused",
            "cannot open 'rtsp://a:***@h/x' nor https://b:***@k/y: refused",
        ),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


# --- the CLI contract for config problems -------------------------------------------------


def run_cli(
    *args: str, cwd: Path, env_config: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `python -m watcher ...` in a fresh process, as a user would."""
    env = {k: v for k, v in os.environ.items() if k != ENV_CONFIG}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    if env_config is not None:
        env[ENV_CONFIG] = str(env_config)
    command = [sys.executable, "-m", "watcher", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_cli_check_config_prints_the_summary(tmp_path: Path) -> None:
    path = write(tmp_path, 'cameras:\n  door:\n    source: "rtsp://admin:hunter2@10.0.0.5/s"\n')
    done = run_cli("check-config", "--config", str(path), cwd=tmp_path)
    assert done.returncode == EXIT_OK, done.stderr
    assert str(tmp_path / "known_faces") in done.stdout
    assert "door: rtsp://admin:***@10.0.0.5/s (enabled)" in done.stdout
    assert "hunter2" not in done.stdout + done.stderr


def test_cli_reports_config_errors_with_exit_status_2(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        cameras:
          door:
            source: "rtsp://admin:hunter2@10.0.0.5/s"
            enabled: sometimes
        """,
    )
    done = run_cli("check-config", "-c", str(path), cwd=tmp_path)
    assert done.returncode == EXIT_CONFIG
    assert f"{path}:4: cameras.door.enabled: " in done.stderr
    assert "hunter2" not in done.stdout + done.stderr
    missing = run_cli("check-config", cwd=tmp_path)  # no config/watcher.yaml here
    assert missing.returncode == EXIT_CONFIG
    assert f"{DEFAULT_CONFIG_PATH}: config file not found" in missing.stderr


def test_cli_takes_the_config_from_the_environment(tmp_path: Path) -> None:
    path = write(tmp_path, "cameras: {envcam: {source: demo}}", "from-env.yaml")
    done = run_cli("check-config", cwd=tmp_path, env_config=path)
    assert done.returncode == EXIT_OK, done.stderr
    assert "envcam: demo (enabled)" in done.stdout


def test_a_detect_source_is_a_stream_or_a_file_and_decoding_a_known_mode(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        cameras:
          a: {source: "rtsp://cam/main", detect_source: demo}
          b: {source: "rtsp://cam/main", detect_source: /dev/video0}
          c: {source: "rtsp://cam/main", detect_source: "rtmp://cam/sub"}
          d: {source: "rtsp://cam/main", decoding: sometimes}
          e: {source: "rtsp://cam/main", detect_source: "rtsp://cam/sub", decoding: full}
        """,
    )
    errors = errors_of(path)
    assert errors[0].startswith(f"{path}:2: cameras.a.detect_source: must be a URL or a video")
    assert errors[1].startswith(f"{path}:3: cameras.b.detect_source: must be a URL or a video")
    assert errors[2].startswith(f"{path}:4: cameras.c.detect_source: unsupported URL scheme")
    assert errors[3].startswith(f"{path}:5: cameras.d.decoding: Input should be 'limited'")
    assert len(errors) == 4


def test_a_detect_source_file_resolves_against_base_dir(tmp_path: Path) -> None:
    path = write(tmp_path, "cameras:\n  a: {source: main.mp4, detect_source: sub.mp4}\n")
    camera = load_config(path).cameras["a"]
    assert camera.detect_source == str(tmp_path / "sub.mp4")
    assert camera.decoding == "limited"
