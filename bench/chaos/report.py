"""The soak's figures, and chaos.md."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from bench.chaos.daemon import Life
from bench.chaos.truth import Appearance

TRACEBACK = "Traceback (most recent call last)"


def _spread(values: list[float]) -> str:
    if not values:
        return "–"
    return f"median {statistics.median(values):.1f} s, max {max(values):.1f} s (n={len(values)})"


def log_summary(lines: list[tuple[float, int, str]]) -> dict[str, Any]:
    """Tracebacks (with the error line before each) and ERROR lines by kind."""
    texts = [line for _, _, line in lines]
    tracebacks = []
    for i, line in enumerate(texts):
        if TRACEBACK in line:
            tail = next((t for t in texts[i + 1 : i + 60] if t and not t.startswith(" ")), "")
            tracebacks.append({"before": texts[i - 1] if i else "", "exception": tail})
    errors: Counter[str] = Counter()
    for line in texts:
        if " ERROR " in line or " CRITICAL " in line:
            kind = re.sub(r"\b[0-9a-f]{12}\b", "<id>", line.split(" ", 3)[-1])
            errors[re.sub(r"\d+(\.\d+)?", "N", kind)[:160]] += 1
    return {"tracebacks": tracebacks, "errors": dict(errors.most_common(30))}


def rss(lives: list[Life]) -> dict[str, Any]:
    samples = [s for life in lives for s in life.rss]
    if not samples:
        return {}
    first_life = lives[0]
    warm = [kb for t, kb in first_life.rss if t >= first_life.started + 60] or [
        kb for _, kb in first_life.rss
    ]
    longest = max(lives, key=lambda life: (life.ended or samples[-1][0]) - life.started)
    return {
        "first_mb": round((warm[0] if warm else samples[0][1]) / 1024, 1),
        "last_mb": round(samples[-1][1] / 1024, 1),
        "peak_mb": round(max(kb for _, kb in samples) / 1024, 1),
        "longest_life_s": round((longest.ended or samples[-1][0]) - longest.started),
        "longest_life_mb": [
            round(longest.rss[0][1] / 1024, 1) if longest.rss else None,
            round(longest.rss[-1][1] / 1024, 1) if longest.rss else None,
        ],
    }


def figures(
    apps: list[Appearance],
    rows: list[dict[str, Any]],
    extra: list[dict[str, Any]],
    clips: list[dict[str, Any]],
    orphans: dict[str, list[str]],
    integrity: str,
    times: list[dict[str, Any]],
    lives: list[Life],
    lines: list[tuple[float, int, str]],
) -> dict[str, Any]:
    expected = [a for a in apps if a.expected]
    unknown = [a for a in apps if not a.known]
    partial = [a for a in unknown if not a.expected]
    known_hit = [a for a in apps if a.known and a.events]
    lost = [a for a in expected if not a.events]
    dups = sum(len(a.events or []) - 1 for a in expected if len(a.events or []) > 1)
    kinds = Counter(t["kind"] for t in times)
    notice: dict[str, list[float]] = {}
    recover: dict[str, list[float]] = {}
    for t in times:
        if t.get("noticed_s") is not None:
            notice.setdefault(t["kind"], []).append(t["noticed_s"])
        if t.get("recovered_s") is not None:
            recover.setdefault(t["kind"], []).append(t["recovered_s"])
    logs = log_summary(lines)
    clock: dict[str, list[float]] = {}
    for r in rows:
        if r.get("decided") is not None and r["started"] is not None:
            clock.setdefault(r["camera"], []).append(r["started"] - r["decided"])
    return {
        "start_vs_decision": {
            cam: {
                "median_s": round(statistics.median(v), 2),
                "min_s": round(min(v), 2),
                "max_s": round(max(v), 2),
            }
            for cam, v in sorted(clock.items())
        },
        "faults": dict(sorted(kinds.items())),
        "faults_total": sum(kinds.values()),
        "appearances_unknown": len(unknown),
        "expected": len(expected),
        "recorded": sum(1 for a in expected if a.events),
        "lost": len(lost),
        "lost_list": [asdict(a) for a in lost],
        "duplicates": dups,
        "partial": len(partial),
        "partial_recorded": sum(1 for a in partial if a.events),
        "known_visitor_events": sum(len(a.events or []) for a in known_hit),
        "unmatched_events": [
            {k: r[k] for k in ("id", "camera", "created_at", "status")} for r in extra
        ],
        "events": len(rows),
        "status": dict(Counter(r["status"] for r in rows)),
        "left_open": [r["id"] for r in rows if r["status"] == "open" or r["ended_at"] is None],
        "clips": len(clips),
        "unplayable": [c for c in clips if c["error"]],
        "events_without_clip": sum(1 for r in rows if not r["clip_path"]),
        "orphans": orphans,
        "integrity": integrity,
        "rss": rss(lives),
        "tracebacks": logs["tracebacks"],
        "errors": logs["errors"],
        "notice": {k: _spread(v) for k, v in sorted(notice.items())},
        "recover": {k: _spread(v) for k, v in sorted(recover.items())},
        "not_noticed": [
            t for t in times if t["kind"] in ("camera_freeze",) and t.get("noticed_s") is None
        ],
        "lives": len(lives),
    }


def table(f: dict[str, Any]) -> list[str]:
    r = f["rss"]
    o = f["orphans"]
    out = [
        "| figure | value |",
        "|---|---|",
        f"| faults | {f['faults_total']}: "
        + ", ".join(f"{k} {v}" for k, v in f["faults"].items())
        + " |",
        f"| unknown visitors' appearances (expected: watcher and camera both up) "
        f"| {f['appearances_unknown']} ({f['expected']}) |",
        f"| recorded / expected | **{f['recorded']} / {f['expected']}** |",
        f"| lost | **{f['lost']}** |",
        f"| duplicates | {f['duplicates']} |",
        f"| appearances cut by a fault: recorded anyway "
        f"| {f['partial_recorded']} of {f['partial']} |",
        f"| events for the known visitor / matching no visitor "
        f"| {f['known_visitor_events']} / {len(f['unmatched_events'])} |",
        f"| events (status) | {f['events']}: "
        + ", ".join(f"{k} {v}" for k, v in sorted(f["status"].items()))
        + " |",
        f"| left open | {len(f['left_open'])} |",
        f"| unplayable clips (decoded with PyAV) | {len(f['unplayable'])} of {f['clips']} |",
        f"| orphans: files without rows, rows without files "
        f"| {len(o['files_without_rows'])}, {len(o['rows_without_files'])} |",
        f"| SQLite integrity_check | {f['integrity']} |",
        f"| watcher RSS first (60 s in) / last / peak "
        f"| {r.get('first_mb')} / {r.get('last_mb')} / {r.get('peak_mb')} MB "
        f"({f['lives']} processes; longest {r.get('longest_life_s')} s: "
        f"{r.get('longest_life_mb')} MB) |",
        f"| tracebacks in the log | {len(f['tracebacks'])} |",
        "| events' started_at minus the log line of the decision (median, min..max) | "
        + "; ".join(
            f"{cam} {v['median_s']:+.1f} s ({v['min_s']:+.1f}..{v['max_s']:+.1f})"
            for cam, v in f["start_vs_decision"].items()
        )
        + " |",
    ]
    for kind, text in f["notice"].items():
        out.append(f"| time to notice: {kind} | {text} |")
    for kind, text in f["recover"].items():
        out.append(f"| time to recover: {kind} | {text} |")
    return out


def _utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%H:%M:%S")


def markdown(result: dict[str, Any]) -> str:
    info, f = result["info"], result["figures"]
    minutes = (result["stopped"] - result["started"]) / 60
    cams = ", ".join(
        f"`{name}` ({c['kind']}{', B-frames' if c['kind'] in ('bframes', 'hevc') else ''})"
        for name, c in result["cameras"].items()
    )
    lines = [
        "# watcher chaos soak",
        "",
        f"- date: {info['date']}; seed **{result['seed']}**; {minutes:.1f} min of faults "
        f"(`python -m bench.chaos --minutes {result['minutes']:g} --seed {result['seed']} "
        f"--cameras {len(result['cameras'])}`)",
        f"- machine: `{info['machine']}`, {info['cpu']}, {info['cores']} cores (shared); "
        f"load average before {info['load_before']}, after {info['load_after']}",
        f"- watcher {result['watcher_commit']} (a snapshot of the commit: `git archive`)",
        f"- cameras: {cams}; the recordings and the database on {result['disk']}",
        f"- watcher's final SIGTERM: exit {result['final_exit']}; "
        f"exits by itself: {len(result['deaths'])}",
        "",
        *table(f),
        "",
    ]
    if f["lost_list"]:
        lines.append("**Lost** (expected, no event):")
        for a in f["lost_list"]:
            lines.append(f"- {a['camera']}: {a['visitor']} arriving {_utc(a['arrival'])} UTC")
        lines.append("")
    if f["unplayable"]:
        lines.append("**Unplayable clips**:")
        lines += [f"- {c['id']}: {c['error']} ({c['frames']} pictures)" for c in f["unplayable"]]
        lines.append("")
    if f["left_open"]:
        lines.append(f"**Left open**: {', '.join(f['left_open'])}")
        lines.append("")
    o = f["orphans"]
    for key in ("files_without_rows", "rows_without_files"):
        if o[key]:
            lines.append(f"**{key.replace('_', ' ')}**: " + ", ".join(o[key][:10]))
            lines.append("")
    if f["unmatched_events"]:
        lines.append(
            "**Events matching no visitor**: "
            + ", ".join(
                f"{e['camera']} {e['id']} ({e['created_at']}, {e['status']})"
                for e in f["unmatched_events"]
            )
        )
        lines.append("")
    if f["tracebacks"]:
        lines.append("**Tracebacks**:")
        lines += [f"- `{t['before'][:140]}` → `{t['exception'][:140]}`" for t in f["tracebacks"]]
        lines.append("")
    if f["errors"]:
        lines.append("ERROR lines in watcher's log, by kind:")
        lines += [f"- {n} × `{text}`" for text, n in f["errors"].items()]
        lines.append("")
    lines += [
        "Faults (seconds from the start; noticed: the camera's loss logged; recovered: its "
        '"connected to" after the fault was undone, or every camera\'s after a restart):',
        "",
        "| at s | kind | target | detail | noticed s | recovered s |",
        "|--:|---|---|---|--:|--:|",
    ]
    for t in result["faults"]:
        lines.append(
            f"| {t['start'] - result['started']:.0f} | {t['kind']} | {t['target']} "
            f"| {t['detail']} | {_s(t.get('noticed_s'))} | {_s(t.get('recovered_s'))} |"
        )
    lines += [
        "",
        "Expected: an unknown visitor's appearance while watcher was connected to the camera "
        "and the camera streamed in real time, from 2 s before the visitor came in until "
        "they were gone (bench/chaos/truth.py). An event belongs to the appearance in whose "
        "window (coming in - 1 s to gone + 8 s) watcher logged its decision.",
        "",
    ]
    return "\n".join(lines)


def _s(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"
