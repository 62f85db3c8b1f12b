"""Issue 12, defect 4: a password in a URL's query string is masked like the userinfo's.

Cameras take credentials as query parameters too (rtsp://cam/live?user=admin&password=…,
…/snapshot.cgi?usr=admin&pwd=…, a token or a signed URL). They were logged in clear in
the daemon's log, its `connected to` line and `check-config`.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.rtsp.harness import RtspServer, require_gst_rtsp
from tests.support.cli import watcher, write_config
from tests.support.daemon import Daemon
from tests.support.media import VIDEO
from watcher.config import mask_url
from watcher.source.av_source import AVSource

SECRET = "hunter2"


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        (
            "rtsp://host/cam?user=admin&password=hunter2",
            "rtsp://host/cam?user=admin&password=***",
        ),
        (  # any case, and the other parameters kept as they are
            "rtsp://host/cam?channel=1&PassWord=hunter2&subtype=0",
            "rtsp://host/cam?channel=1&PassWord=***&subtype=0",
        ),
        ("http://cam/snap.cgi?usr=admin&pwd=hunter2", "http://cam/snap.cgi?usr=admin&pwd=***"),
        ("http://cam/v.mjpg?user=a&pass=hunter2", "http://cam/v.mjpg?user=a&pass=***"),
        ("http://cam/v.mjpg?passwd=hunter2;res=hd", "http://cam/v.mjpg?passwd=***;res=hd"),
        ("https://cam/live.m3u8?token=ab12-cd", "https://cam/live.m3u8?token=***"),
        ("https://cam/x?access_token=a&apiKey=b", "https://cam/x?access_token=***&apiKey=***"),
        ("https://cam/x?api_key=a&apikey=b&KEY=c", "https://cam/x?api_key=***&apikey=***&KEY=***"),
        ("https://cam/x?auth=a&Secret=b&sig=c", "https://cam/x?auth=***&Secret=***&sig=***"),
        (
            "https://s3/clip.mp4?X-Amz-Credential=AK/1&X-Amz-Signature=f00",
            "https://s3/clip.mp4?X-Amz-Credential=***&X-Amz-Signature=***",
        ),
        ("https://cam/x?signature=abc%3D%3D", "https://cam/x?signature=***"),
        ("rtsp://cam/x?api%5Fkey=abc", "rtsp://cam/x?api%5Fkey=***"),  # a %-encoded name
        ("rtsp://cam/x?adminPassword=abc", "rtsp://cam/x?adminPassword=***"),
        # Both the userinfo and the query.
        (
            "rtsp://admin:hunter2@cam:554/live?token=t0k&profile=1",
            "rtsp://admin:***@cam:554/live?token=***&profile=1",
        ),
        # '@' in the query is no userinfo.
        (
            "rtsp://cam/x?email=a@b.example&password=hunter2",
            "rtsp://cam/x?email=a@b.example&password=***",
        ),
        # In the fragment and in the path (some cameras put them there).
        ("https://cam/#access_token=abc", "https://cam/#access_token=***"),
        (
            "rtsp://cam:554/user=admin_password=hunter2_channel=1_stream=0.sdp",
            "rtsp://cam:554/user=admin_password=***",
        ),
        # No secret: left as it is.
        (
            "rtsp://cam/Streaming/Channels/101?transportmode=unicast&profile=Profile_1",
            "rtsp://cam/Streaming/Channels/101?transportmode=unicast&profile=Profile_1",
        ),
        ("rtsp://cam/x?keyint=50&monkey=1&user=a", "rtsp://cam/x?keyint=50&monkey=1&user=a"),
        ("rtsp://cam/x?password=&user=a", "rtsp://cam/x?password=&user=a"),  # nothing to hide
        ("rtsp://cam/x?password=***", "rtsp://cam/x?password=***"),  # masked already
        ("sqlite:///recordings/watcher.db", "sqlite:///recordings/watcher.db"),
        ("videos/password=1.mp4", "videos/password=1.mp4"),  # a file, not a URL
        (
            "postgresql+psycopg://w@db/w?sslmode=require&password=hunter2",
            "postgresql+psycopg://w@db/w?sslmode=require&password=***",
        ),
        # URLs inside messages: the rest of the message stays readable.
        (
            "cannot open 'rtsp://cam/x?user=a&password=hunter2': 401 Unauthorized",
            "cannot open 'rtsp://cam/x?user=a&password=***': 401 Unauthorized",
        ),
        (
            "rtsp://cam/x?password=***: no data for 5 s",
            "rtsp://cam/x?password=***: no data for 5 s",
        ),
        (
            "from http://a/x?token=t1 and https://u:p@b/y?sig=s2 &c",
            "from http://a/x?token=*** and https://u:***@b/y?sig=*** &c",
        ),
    ],
)
def test_mask_url_masks_secret_query_parameters(url: str, masked: str) -> None:
    assert mask_url(url) == masked
    assert mask_url(masked) == masked  # masking twice changes nothing


def test_a_sources_description_masks_its_query_password() -> None:
    source = AVSource(f"rtsp://cam/live?user=admin&password={SECRET}")
    assert source.description == "rtsp://cam/live?user=admin&password=***"


def test_check_config_shows_no_query_password(tmp_path: Path) -> None:
    url = f"rtsp://192.0.2.10:554/live?user=admin&password={SECRET}&channel=1"
    config = write_config(tmp_path, source=url)
    done = watcher("check-config", "-c", str(config))
    assert done.returncode == 0, done.stderr
    assert "rtsp://192.0.2.10:554/live?user=admin&password=***&channel=1" in done.stdout
    assert SECRET not in done.stdout + done.stderr


@pytest.mark.gstreamer
@pytest.mark.timeout(90)
def test_the_daemon_log_shows_no_query_password(tmp_path: Path) -> None:
    require_gst_rtsp()
    with RtspServer(VIDEO / "noface_face.mp4", loop=True) as server:
        url = f"{server.url}?user=admin&password={SECRET}"
        config = write_config(tmp_path, source=url, extra="status_interval_s: 0\n")
        with Daemon(config) as daemon:
            connected = daemon.wait_for(r"watcher\.capture\.cam: connected to (\S+)", timeout=30)
            assert connected.group(1) == f"{server.url}?user=admin&password=***"
            assert daemon.stop(signal.SIGTERM) == 0
    assert [line for line in daemon.lines if "password=***" in line]
    assert not [line for line in daemon.lines if SECRET in line]
