"""The demo planning round: Region Uppsala's round for the next term, with demand from
both demo universities, in its allocation window with a published allocation.

A round's gates pass by the calendar, and a new round's gates must lie ahead, so the
loader opens the round and collects its demand ten days back in time (the placements
service's calendar file, ``vfu_devrun.launcher.CALENDAR_FILE``). Then it returns to
today, which lies after demand and offers were due and before allocation day, and runs
and publishes the allocation. Uppsala universitet's lines are served from the region's
demo offers; Örebro universitet's line has no agreement with the region, so its
explanation says that no offer could be given.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from vfu_devrun.demo_placements import NURSING, demo_periods
from vfu_devrun.http import request_json

# Gate offsets from today: demand and offers already due, allocation a week ahead.
GATE_DAYS = {
    "demand_due": -5,
    "offers_due": -3,
    "allocation": 7,
    "answers": 14,
    "answers_outside_county": 21,
    "names_due": 35,
    "lock": 45,
}


def _set_today(calendar_file: Path, day: date | None) -> None:
    """Replace the calendar file (None: remove it, back to the real date)."""
    if day is None:
        calendar_file.unlink(missing_ok=True)
        return
    temporary = calendar_file.with_suffix(".new")
    temporary.write_text(day.isoformat())
    os.replace(temporary, calendar_file)


def load_round_demo(
    gateway_url: str,
    keys: Mapping[str, str],
    *,
    org_id: Callable[[str], str],
    calendar_file: Path,
    say: Callable[[str], None],
    today: date | None = None,
) -> str:
    """Open, fill, allocate and publish the demo round; returns its id."""
    api = f"{gateway_url}/api/v1/placements"

    def call(who: str, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        status, answer = request_json(method, api + path, keys[who], body)
        if not 200 <= status < 300:
            raise RuntimeError(f"demo: {method} {path} as {who} gave {status}: {answer}")
        return answer

    today = today or date.today()
    upcoming = demo_periods(today)["upcoming"]
    assert upcoming is not None
    region, uu, oru = "Region Uppsala", "Uppsala universitet", "Örebro universitet"
    gates = {gate: (today + timedelta(days=d)).isoformat() for gate, d in GATE_DAYS.items()}
    line = {
        **NURSING,
        "course_code": "3SJ201",
        "course_instance": f"{upcoming.term}-1",
        "start_date": upcoming.start.isoformat(),
        "end_date": upcoming.end.isoformat(),
        "municipality_codes": ["0380"],
    }
    _set_today(calendar_file, today - timedelta(days=10))
    try:
        round_ = call(
            region,
            "POST",
            "/rounds",
            {
                "term": upcoming.term,
                "title": f"VFU {upcoming.term}, Region Uppsala",
                "scope": {"provider_ids": [org_id(region)]},
                "gates": gates,
                "policy": {
                    "tiers": [
                        {"name": "own and contracted", "university_ids": [org_id(uu)]},
                        {"name": "others"},
                    ],
                    "default_tier": "others",
                    "seed": 2027,
                },
            },
        )
        path = f"/rounds/{round_['id']}"
        call(
            uu,
            "POST",
            f"{path}/demand",
            line | {"students": 5, "care_settings": ["slutenvard", "akutsjukvard"]},
        )
        call(uu, "POST", f"{path}/demand", line | {"students": 1, "care_settings": ["primarvard"]})
        call(oru, "POST", f"{path}/demand", line | {"students": 3})
    finally:
        _set_today(calendar_file, None)
    run = call(region, "POST", f"{path}/allocations")
    call(region, "POST", f"{path}/allocations/{run['id']}/publish")
    places = sum(p["places"] for p in run["places"])
    say(f"demo: planning round {round_['id']} allocated and published ({places} places)")
    return str(round_["id"])
