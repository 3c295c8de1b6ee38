"""The race socket's frames (/ws/race/), built here and nowhere else; docs/race.md lists them.

Times in a lane are milliseconds since the race began, on the driver's clock: `sent` and `received`
are the driver's own readings, `began` and `ended` the server's (its answer's epoch timestamps,
on the same machine's clock).
"""

from __future__ import annotations

from typing import Any

from demo.race_rules import LANE_GROUPS, MAX_RACE_SECONDS, MAX_REQUESTS, MAX_SERIAL_MS_PER_GROUP, Race


def error_frame(code: str, detail: str) -> dict[str, Any]:
    return {"type": "error", "code": code, "detail": detail}


def race_started_frame(race: Race, stacks: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "race.started",
        "mode": "server",
        "probe": race.probe,
        "params": dict(race.query),
        "n": race.n,
        "order": race.order,
        "groups": [
            {
                "group": group,
                "label": LANE_GROUPS[group].label,
                "stack": LANE_GROUPS[group].stack,
                "path": race.path(group),
                "raced": LANE_GROUPS[group].stack in stacks,
            }
            for group in race.groups
        ],
    }


def lane_frame(group: str, index: int, origin_ms: float, timings: dict[str, float], answer: dict) -> dict:
    frame: dict[str, Any] = {"type": "lane", "group": group, "index": index}
    frame.update({name: round(value - origin_ms, 1) for name, value in timings.items()})
    frame.update(
        {
            "began": round(answer["began_ms"] - origin_ms, 1),
            "ended": round(answer["ended_ms"] - origin_ms, 1),
            "pid": answer["pid"],
            "thread": answer["thread"],
            "thread_id": answer.get("thread_id"),
        }
    )
    return frame


def lane_failed_frame(group: str, index: int, origin_ms: float, timings: dict[str, float], why: str) -> dict:
    frame: dict[str, Any] = {"type": "lane", "group": group, "index": index, "error": why}
    frame.update({name: round(value - origin_ms, 1) for name, value in timings.items()})
    return frame


def group_finished_frame(
    group: str, *, wall_ms: float, ok: int, failed: int, limit: dict[str, Any], predicted_ms: float | None
) -> dict[str, Any]:
    return {
        "type": "group.finished",
        "group": group,
        "wall_ms": round(wall_ms, 1),
        "ok": ok,
        "failed": failed,
        "requests_per_second": round(ok / (wall_ms / 1000), 1) if wall_ms > 0 else None,
        "limit": limit,
        "predicted_ms": None if predicted_ms is None else round(predicted_ms, 1),
    }


def group_skipped_frame(group: str, why: str) -> dict[str, Any]:
    return {"type": "group.skipped", "group": group, "detail": why}


def race_finished_frame(wall_ms: float, timed_out: bool) -> dict[str, Any]:
    return {"type": "race.finished", "wall_ms": round(wall_ms, 1), "timed_out": timed_out}


def ready_frame(stacks: dict[str, str]) -> dict[str, Any]:
    """The first frame: which stacks this driver races, and the limits a race must keep."""
    return {
        "type": "ready",
        "stacks": sorted(stacks),
        "limits": {
            "max_requests": MAX_REQUESTS,
            "max_serial_ms_per_group": MAX_SERIAL_MS_PER_GROUP,
            "max_race_seconds": MAX_RACE_SECONDS,
        },
    }
