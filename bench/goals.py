"""Issue 22's goal table, read from the benchmark modules' output.

A module states a figure the table needs with one machine-readable line (`bench._common.goal`
prints it):

    GOAL {"key": "settings_p99_ms", "value": 8.4, "reference": "SELECT 1 p99 0.9 ms"}

with optional "size" (how big the run was, in the unit the goal's size is given in) and
"note". The runner collects these lines from each module it ran and reports every row of
the table as met, missed, no figure (the module ran but printed none: it failed or stopped)
or not run. A row whose module prints no GOAL line (yet) may give a `pattern` that finds
the figure in the module's ordinary output instead."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Literal

PREFIX = "GOAL "


@dataclass(frozen=True)
class Goal:
    key: str
    what: str
    module: str
    target: float
    better: Literal["lower", "higher"]
    unit: str
    size: int | None = None  # the size the goal is stated at; a smaller run is "scaled down"
    pattern: str | None = None  # fallback: a regex whose first group is the figure
    reference_pattern: str | None = None  # fallback: a regex whose match is the reference

    def met_by(self, value: float) -> bool:
        return value <= self.target if self.better == "lower" else value >= self.target

    @property
    def goal_text(self) -> str:
        if self.target == 0 and self.better == "lower":
            return f"0 {self.unit}"
        sign = "≤" if self.better == "lower" else "≥"
        return f"{sign} {_number(self.target)} {self.unit}".strip()


_SELECT_1 = r"reference: SELECT 1 round trip p50 [\d.]+ ms"

GOALS: tuple[Goal, ...] = (
    Goal("bot_idle_rss_mib", "RSS of an idle bot process", "embed_bench", 150, "lower", "MiB"),
    Goal(
        "bot_rss_after_messages_mib",
        "RSS of a bot process after 100,000 messages",
        "memory_bench",
        200,
        "lower",
        "MiB",
        size=100_000,
    ),
    Goal("api_rss_mib", "RSS of the API process", "embed_bench", 200, "lower", "MiB"),
    Goal(
        "settings_commands_per_s",
        "/settings through the core, 20 concurrent",
        "core_roundtrip",
        1000,
        "higher",
        "commands/s",
    ),
    Goal("settings_p99_ms", "/settings p99, 20 concurrent", "core_roundtrip", 10, "lower", "ms"),
    Goal(
        "settings_statements",
        "SQL statements per /settings",
        "core_roundtrip",
        4,
        "lower",
        "statements",
    ),
    Goal(
        "settings_transactions",
        "transactions per message in the /settings load",
        "core_roundtrip",
        1,
        "lower",
        "transactions",
    ),
    Goal(
        "stats_req_per_s",
        "dashboard stats under 16 clients, a year of history",
        "web_bench",
        500,
        "higher",
        "req/s",
    ),
    Goal("stats_p99_ms", "dashboard stats p99 under 16 clients", "web_bench", 50, "lower", "ms"),
    Goal(
        "hybrid_user_p99_ms",
        "hybrid search in one user's scope, 1,000,000 passages over 10,000 users",
        "documents_bench",
        30,
        "lower",
        "ms",
        size=1_000_000,
    ),
    Goal(
        "hybrid_user_recall",
        "recall@10 of that search's vector side against exact",
        "documents_bench",
        0.95,
        "higher",
        "",
        size=1_000_000,
    ),
    Goal(
        "hybrid_room_p99_ms",
        "hybrid search in one room scope of 100,000 passages",
        "documents_bench",
        100,
        "lower",
        "ms",
        size=100_000,
    ),
    Goal(
        "keyword_long_p99_ms",
        "keyword search, a 200-word question over 10,000 chunks",
        "documents_bench",
        100,
        "lower",
        "ms",
        size=10_000,
    ),
    Goal(
        "ingest_keyword_pages_s",
        "ingestion, keyword only",
        "documents_bench",
        50,
        "higher",
        "pages/s",
        pattern=r"keyword only\s+([\d.]+) pages/s",
        reference_pattern=_SELECT_1,
    ),
    Goal(
        "ingest_model_pages_s",
        "ingestion with the local model",
        "documents_bench",
        10,
        "higher",
        "pages/s",
        pattern=r"all-MiniLM-L6-v2\s+([\d.]+) pages/s",
        reference_pattern=_SELECT_1,
    ),
    Goal(
        "reminders_telegram_s",
        "1,000 reminders due at once on Telegram",
        "fanout_bench",
        35,
        "lower",
        "s",
        size=1000,
    ),
    Goal("reminders_telegram_429s", "… 429s from Telegram", "fanout_bench", 0, "lower", "429s"),
    Goal(
        "reminders_telegram_duplicates",
        "… reminders delivered twice",
        "fanout_bench",
        0,
        "lower",
        "duplicates",
    ),
    Goal(
        "load_worst_p99_ms",
        "load, 10,000 students: the slowest non-LLM command's p99",
        "load",
        1000,
        "lower",
        "ms",
        size=10_000,
    ),
    Goal("load_errors", "load: errors", "load", 0, "lower", "errors"),
)


@dataclass(frozen=True)
class Figure:
    value: float
    reference: str = ""
    size: int | None = None
    note: str = ""


def goal_line(
    key: str, value: float, *, reference: str = "", size: int | None = None, note: str = ""
) -> str:
    """The line a module prints for one figure of the table."""
    fields: dict[str, object] = {"key": key, "value": value, "reference": reference}
    if size is not None:
        fields["size"] = size
    if note:
        fields["note"] = note
    return PREFIX + json.dumps(fields, ensure_ascii=False)


def parse_figures(output: str) -> dict[str, Figure]:
    """Every well-formed GOAL line in a module's output; a key's last line wins. Anything
    else (other output, a line cut short by a timeout, a value that is not a number) is
    skipped."""
    figures: dict[str, Figure] = {}
    for line in output.splitlines():
        line = line.strip()
        if not line.startswith(PREFIX):
            continue
        try:
            fields = json.loads(line[len(PREFIX) :])
        except ValueError:
            continue
        figure = _figure(fields)
        if figure is not None:
            figures[str(fields["key"])] = figure
    return figures


def _figure(fields: object) -> Figure | None:
    if not isinstance(fields, dict) or not isinstance(fields.get("key"), str):
        return None
    value, size = fields.get("value"), fields.get("size")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return Figure(
        float(value),
        str(fields.get("reference", "")),
        size if isinstance(size, int) and not isinstance(size, bool) else None,
        str(fields.get("note", "")),
    )


def _fallback(goal: Goal, output: str) -> Figure | None:
    if goal.pattern is None:
        return None
    found = re.search(goal.pattern, output)
    if found is None:
        return None
    reference = ""
    if goal.reference_pattern is not None:
        ref = re.search(goal.reference_pattern, output)
        reference = ref.group(0).removeprefix("reference: ") if ref else ""
    return Figure(float(found.group(1)), reference, note="read from the module's text output")


@dataclass(frozen=True)
class Row:
    key: str
    what: str
    module: str
    goal: str
    # "met", "missed", "smaller run" (the figure is from a run smaller than the goal's size,
    # so it neither meets nor misses it), "no figure" or "not run"
    status: str
    value: float | None = None
    unit: str = ""
    reference: str = ""
    scaled_down: str = ""  # "20,000 of 1,000,000" when the run was smaller than the goal's
    note: str = ""


def evaluate(outputs: Mapping[str, tuple[str, str]]) -> list[Row]:
    """One row per goal from {module: (status, stdout)} of the modules that ran."""
    figures = {name: parse_figures(out) for name, (_, out) in outputs.items()}
    rows = []
    for goal in GOALS:
        blank = Row(goal.key, goal.what, goal.module, goal.goal_text, "not run", unit=goal.unit)
        if goal.module not in outputs:
            rows.append(blank)
            continue
        status, output = outputs[goal.module]
        figure = figures[goal.module].get(goal.key) or _fallback(goal, output)
        if figure is None:
            rows.append(replace(blank, status="no figure", note=f"the module {status}"))
            continue
        scaled = ""
        if goal.size is not None and figure.size is not None and figure.size < goal.size:
            scaled = f"{figure.size:,} of {goal.size:,}"
        verdict = "met" if goal.met_by(figure.value) else "missed"
        rows.append(
            replace(
                blank,
                status="smaller run" if scaled else verdict,
                value=figure.value,
                reference=figure.reference,
                scaled_down=scaled,
                note=figure.note,
            )
        )
    return rows


def as_json(rows: Iterable[Row]) -> list[dict[str, object]]:
    return [asdict(row) for row in rows]


def markdown(rows: Iterable[Row]) -> list[str]:
    lines = [
        "## Goals (issue 22)",
        "",
        "| what | bench | figure | goal | status | reference (same run) | note |",
        "|---|---|---:|---|---|---|---|",
    ]
    for row in rows:
        figure = "—" if row.value is None else f"{_number(row.value)} {row.unit}".strip()
        status = f"**{row.status}**" + (f" ({row.scaled_down})" if row.scaled_down else "")
        cells = [row.what, row.module, figure, row.goal, status, row.reference, row.note]
        lines.append("| " + " | ".join(c.replace("|", "\\|") or "—" for c in cells) + " |")
    return lines


def _number(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.3f}" if abs(value) < 1 else f"{value:,.1f}"
