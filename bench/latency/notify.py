"""Notification latency over the live RTSP camera: a stranger on screen -> the household told.

    python -m bench.latency.notify                   # 10 unknown appearances (~3.5 min)
    python -m bench.latency.notify --appearances 20

Issue 13, item 7: from the first frame with the stranger's face in view, the `new`
message on the MQTT broker within 1.0 s (median; the max is reported), the retained
snapshot within 0.2 s after it, a webhook within 1.5 s.

The camera, the witness that dates each frame and the appearances are bench.latency's
(see its docstring): the same looped footage of two unknown visitors over the tests'
GStreamer RTSP server, the same daemon with watcher's default settings, plus `mqtt`
(a throwaway Mosquitto on loopback, tests/support/mosquitto.py) and one `webhooks`
endpoint (an http.server on loopback that checks the signature). A subscriber and the
endpoint note the wall time each message reaches them; a message is matched to its
appearance through its event id (the event whose row was created within the window
bench.latency uses). Snapshot: the first `<prefix>/door/snapshot` message after the
event's `new` message, minus that message's arrival.

Writes bench/out/notify_latency.md and bench/out/notify_latency.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from bench.latency.__main__ import SETTLE_S, TAIL_S
from bench.latency.daemon import CAMERA, DaemonProcess, write_config
from bench.latency.events import claim_event, read_events
from bench.latency.live import (
    appearances_from,
    clean_work,
    start_witness,
    visitors_loop,
    write_report,
)
from bench.latency.loopfile import LOOP_VIDEO, WORK
from bench.latency.witness import witness_position
from bench.machine import machine_info
from bench.paths import OUT, ROOT
from tests.rtsp.harness import MISSING_HINT, RtspServer, gst_rtsp_available
from tests.support.mosquitto import Broker
from watcher.notify.signing import verify

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
REPORT_MD = OUT / "notify_latency.md"
REPORT_JSON = OUT / "notify_latency.json"
GOALS = {"mqtt_new_s": 1.0, "snapshot_after_new_s": 0.2, "webhook_new_s": 1.5}


class Inbox:
    """Every MQTT message and webhook call, with the wall time it arrived."""

    def __init__(self) -> None:
        self.mqtt: list[tuple[float, str, bytes]] = []
        self.hooks: list[tuple[float, dict[str, Any], bool]] = []
        self.lock = threading.Lock()

    def on_message(self, _c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.mqtt.append((time.time(), msg.topic, bytes(msg.payload)))


def receiver(inbox: Inbox) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            at = time.time()
            ok = verify(
                SECRET,
                self.headers["webhook-id"],
                int(self.headers["webhook-timestamp"]),
                body,
                self.headers["webhook-signature"],
            )
            with inbox.lock:
                inbox.hooks.append((at, json.loads(body), ok))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run(args: argparse.Namespace) -> dict[str, Any]:
    _meta, loop, period = visitors_loop()
    clean_work()
    info = machine_info()
    inbox = Inbox()
    hooks = receiver(inbox)
    broker = Broker(Path(tempfile.mkdtemp(prefix="watcher-bench-mqtt-")))
    broker.start()
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench")
    sub.on_message = inbox.on_message
    sub.connect(broker.host, broker.port)
    sub.subscribe("watcher/#", qos=1)
    sub.loop_start()
    try:
        with RtspServer(LOOP_VIDEO, loop=True) as server:
            config = write_config(server.url)
            with config.open("a") as out:
                out.write(
                    f"mqtt: {{host: {broker.host}, port: {broker.port}}}\n"
                    f"webhooks: [{{url: 'http://127.0.0.1:{hooks.server_address[1]}/hook', "
                    f"secret: {SECRET}}}]\n"
                )
            witness = start_witness(server.url, "notify latency")
            daemon = DaemonProcess(config, WORK / "daemon-notify.log")
            try:
                connected = daemon.first("connected to rtsp://", timeout=120)
                first_pos = witness_position(witness, connected) + SETTLE_S
                todo = appearances_from(loop, period, first_pos, args.appearances)
                last = todo[-1].position(period)
                eta = last - witness_position(witness, time.time()) + TAIL_S
                print(f"notify latency: {len(todo)} appearances, ~{eta:.0f} s", file=sys.stderr)
                began = time.monotonic()
                while witness_position(witness, time.time()) < last + TAIL_S:
                    if daemon.proc.poll() is not None:
                        raise SystemExit("notify latency: watcher exited early")
                    if time.monotonic() - began > args.timeout:
                        raise SystemExit("notify latency: gave up")
                    time.sleep(0.5)
                code = daemon.stop()
            finally:
                daemon.kill()
                witness.stop()
        witness.join(10)
    finally:
        sub.disconnect()
        sub.loop_stop()
        broker.stop()
        hooks.shutdown()
    events = [e for e in read_events(WORK / "watcher.db") if e["camera"] == CAMERA]
    news: dict[str, float] = {}
    for at, topic, payload in inbox.mqtt:
        if topic == "watcher/events":
            body = json.loads(payload)
            if body["type"] == "new":
                news.setdefault(body["after"]["id"], at)
    snapshots = [at for at, topic, _ in inbox.mqtt if topic == f"watcher/{CAMERA}/snapshot"]
    hooks_new = {b["after"]["id"]: at for at, b, ok in inbox.hooks if ok and b["type"] == "new"}
    rows: list[dict[str, Any]] = []
    taken: set[str] = set()
    for app in todo:
        arrived = witness.wall(app.position(period))
        row: dict[str, Any] = {"visitor": app.visitor, "round": app.round, "arrival": arrived}
        e = None if arrived is None else claim_event(events, arrived, taken)
        if arrived is not None and e is not None:
            row["event"] = e["id"]
            row["row_s"] = e["created"] - arrived
            if e["id"] in news:
                row["mqtt_new_s"] = news[e["id"]] - arrived
                after = [s for s in snapshots if s >= news[e["id"]]]
                if after:
                    row["snapshot_after_new_s"] = after[0] - news[e["id"]]
            if e["id"] in hooks_new:
                row["webhook_new_s"] = hooks_new[e["id"]] - arrived
        rows.append(row)
    return {
        "info": info,
        "exit_code": code,
        "appearances": rows,
        "unsigned_webhooks": sum(1 for _, _, ok in inbox.hooks if not ok),
    }


def summary(result: dict[str, Any]) -> dict[str, dict[str, float | int]]:
    out: dict[str, dict[str, float | int]] = {}
    for key in ("row_s", *GOALS):
        values = [r[key] for r in result["appearances"] if key in r]
        if values:
            out[key] = {
                "n": len(values),
                "median": round(statistics.median(values), 3),
                "max": round(max(values), 3),
            }
    return out


def report(result: dict[str, Any]) -> str:
    figures = summary(result)
    info = result["info"]
    lines = [
        "# Notification latency (bench/latency/notify.py)",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {info.get('cpu', '?')}; "
        f"{len(result['appearances'])} unknown appearances over loopback RTSP.",
        "",
        "| from the stranger's first frame | n | median | max | goal |",
        "|---|---|---|---|---|",
    ]
    names = {
        "row_s": "event row in the database",
        "mqtt_new_s": "`new` on the MQTT broker",
        "snapshot_after_new_s": "retained snapshot, after `new`",
        "webhook_new_s": "webhook `new` received",
    }
    for key, name in names.items():
        f = figures.get(key)
        goal = f"≤ {GOALS[key]:g} s median" if key in GOALS else ""
        if f:
            lines.append(f"| {name} | {f['n']} | {f['median']:.2f} s | {f['max']:.2f} s | {goal} |")
        else:
            lines.append(f"| {name} | 0 | – | – | {goal} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.latency.notify")
    parser.add_argument("--appearances", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args(argv)
    if not gst_rtsp_available():
        print(f"notify latency: {MISSING_HINT}", file=sys.stderr)
        return 2
    result = run(args)
    result["summary"] = summary(result)
    text = report(result)
    write_report(text, result, REPORT_MD, REPORT_JSON)
    print(f"notify latency: wrote {REPORT_MD.relative_to(ROOT)}", file=sys.stderr)
    return 0 if result["exit_code"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
