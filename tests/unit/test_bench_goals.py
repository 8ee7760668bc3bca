"""Issue 22's goal table in the benchmark report: figures read from real module output."""

from __future__ import annotations

import bench.__main__ as runner
from bench import goals

# Captured from `python -m bench --quick --only core_roundtrip --only fanout_bench`
# (3 Dec 2026, a busy machine: load average 9).
CORE_ROUNDTRIP = """\
GOAL {"key": "settings_statements", "value": 1.0, "reference": "", "note": "1.0 transactions per command"}
machine: x86_64, python 3.11.7
SQL per command (20 runs each, budget 4 for /settings):
  /settings              1.0 statements   1.0 transactions   1.0 checkouts per command
  /help                  1.0 statements   1.0 transactions   1.0 checkouts per command
bare SELECT 1 (reference)          n=  2000  p50=   0.34 ms  p99=   9.63 ms  mean=   1.22 ms
/settings, 100 users, c=20         n=  2000  p50=  91.86 ms  p99= 438.41 ms  mean= 104.58 ms
throughput: 190 commands/s over 10.5 s; 1.00 statements and 1.00 transactions per command in the load (1.10 as PostgreSQL counts them, pings included)
GOAL {"key": "settings_commands_per_s", "value": 190, "reference": "SELECT 1 p99 9.63 ms"}
GOAL {"key": "settings_p99_ms", "value": 438.41, "reference": "SELECT 1 p99 9.63 ms"}
GOAL {"key": "settings_transactions", "value": 1.0, "reference": "1.10 as PostgreSQL counts them, pings included"}
"""  # noqa: E501

FANOUT_QUICK = """\
reminder fan-out: 100 reminders due at once on each of 3 platforms, every platform delivering at the same time
  bare SELECT 1 (reference)          n=   500  p50=   0.28 ms  p99=   8.52 ms  mean=   1.00 ms
  sweep: 300 reminders queued in the outbox in 0.31 s
  platform   delivered  seconds  floor s  first s  limit/s busiest 1 s  429s twice
  telegram         100      4.1      3.0     0.36       30          30     0     0
  slack            100      5.1      4.0     0.45       20          20     0     0
  discord          100      2.8      2.0     0.41       40          40     0     0
  undelivered rows left in the outbox: 0
GOAL {"key": "reminders_telegram_s", "value": 4.1, "reference": "floor 3 s", "size": 100}
GOAL {"key": "reminders_telegram_429s", "value": 0, "reference": "SELECT 1 p99 8.52 ms", "size": 100}
GOAL {"key": "reminders_telegram_duplicates", "value": 0, "reference": "SELECT 1 p99 8.52 ms", "size": 100}
"""  # noqa: E501

# The full run of 29 Nov 2026 (docs/benchmarks.md), from before documents_bench printed
# GOAL lines: its ingestion rows are read from the text.
DOCUMENTS_TEXT_ONLY = """\
reference: SELECT 1 round trip p50 2.96 ms
ingestion (intake + job: extract, chunk, embed, index, summarise):
  keyword only                38.7 pages/s    232.3 chunks/s (3 PDFs x 20 pages, 360 chunks, 1.6 s)
  local all-MiniLM-L6-v2       3.0 pages/s     18.1 chunks/s (3 PDFs x 20 pages, 360 chunks, 19.9 s)
"""


def by_key(rows: list[goals.Row]) -> dict[str, goals.Row]:
    return {row.key: row for row in rows}


def test_every_row_of_the_issue_table_is_reported_even_when_nothing_ran() -> None:
    rows = goals.evaluate({})
    assert len(rows) == len(goals.GOALS) == 20
    assert {row.status for row in rows} == {"not run"}
    assert {g.module for g in goals.GOALS} <= set(runner.discover())


def test_figures_and_references_come_from_the_goal_lines() -> None:
    rows = by_key(goals.evaluate({"core_roundtrip": ("ok", CORE_ROUNDTRIP)}))
    rate = rows["settings_commands_per_s"]
    assert (rate.value, rate.status, rate.reference) == (190, "missed", "SELECT 1 p99 9.63 ms")
    assert (rows["settings_p99_ms"].value, rows["settings_p99_ms"].status) == (438.41, "missed")
    assert (rows["settings_statements"].value, rows["settings_statements"].status) == (1, "met")
    assert rows["settings_statements"].note == "1.0 transactions per command"
    assert rows["settings_transactions"].status == "met"  # 1.0 ≤ 1: the bound is inclusive
    assert rows["bot_idle_rss_mib"].status == "not run"


def test_a_run_smaller_than_the_goal_size_neither_meets_nor_misses() -> None:
    rows = by_key(goals.evaluate({"fanout_bench": ("ok", FANOUT_QUICK)}))
    seconds = rows["reminders_telegram_s"]
    assert (seconds.value, seconds.status, seconds.scaled_down) == (
        4.1,
        "smaller run",
        "100 of 1,000",
    )
    assert seconds.reference == "floor 3 s"
    # A row without a size in the issue (zero 429s) is judged at any size.
    assert rows["reminders_telegram_429s"].status == "met"
    full = FANOUT_QUICK.replace('"size": 100', '"size": 1000').replace(
        '"value": 4.1', '"value": 37.5'
    )
    assert by_key(goals.evaluate({"fanout_bench": ("ok", full)}))[
        "reminders_telegram_s"
    ].status == ("missed")


def test_a_module_without_goal_lines_is_read_from_its_text_where_the_row_says_how() -> None:
    rows = by_key(goals.evaluate({"documents_bench": ("ok", DOCUMENTS_TEXT_ONLY)}))
    keyword, model = rows["ingest_keyword_pages_s"], rows["ingest_model_pages_s"]
    assert (keyword.value, keyword.status) == (38.7, "missed")
    assert (model.value, model.status) == (3.0, "missed")
    assert keyword.reference == "SELECT 1 round trip p50 2.96 ms"
    assert rows["hybrid_user_p99_ms"].status == "no figure"
    assert rows["hybrid_user_p99_ms"].note == "the module ok"


def test_a_module_that_failed_before_its_figures_says_so() -> None:
    cut = CORE_ROUNDTRIP.split("throughput")[0] + 'GOAL {"key": "settings_commands_per_s", "val'
    rows = by_key(goals.evaluate({"core_roundtrip": ("timeout", cut)}))
    assert rows["settings_commands_per_s"].status == "no figure"
    assert rows["settings_commands_per_s"].note == "the module timeout"
    assert rows["settings_statements"].status == "met"  # printed before the cut


def test_malformed_goal_lines_are_skipped_and_the_last_line_of_a_key_wins() -> None:
    output = "\n".join(
        [
            "GOAL not json",
            'GOAL {"key": "stats_p99_ms", "value": "fast"}',
            'GOAL {"key": "stats_p99_ms", "value": true}',
            'GOAL {"value": 3}',
            goals.goal_line("stats_p99_ms", 80.0, reference="SELECT 1 p99 2 ms"),
            "  "
            + goals.goal_line("stats_p99_ms", 42.5, reference="SELECT 1 p99 1 ms", note="2 API"),
        ]
    )
    assert goals.parse_figures(output) == {
        "stats_p99_ms": goals.Figure(42.5, "SELECT 1 p99 1 ms", None, "2 API")
    }


def test_the_report_carries_the_goal_table_in_markdown_and_json() -> None:
    ok = runner.ModuleResult("fanout_bench", "ok", 21.2, 0, ["python"], FANOUT_QUICK, "")
    report = {"mode": "quick", "generated_at": "now", "total_seconds": 21.2, "machine": {}}
    text = runner.markdown(report, [ok])
    assert "## Goals (issue 22)" in text
    assert (
        "| 1,000 reminders due at once on Telegram | fanout_bench | 4.1 s | ≤ 35 s | "
        "**smaller run** (100 of 1,000) | floor 3 s | — |"
    ) in text
    assert "| … 429s from Telegram | fanout_bench | 0 429s | 0 429s | **met** |" in text
    assert "| RSS of the API process | embed_bench | — | ≤ 200 MiB | **not run** |" in text
    assert not [h for h in runner.highlights(FANOUT_QUICK) if h.startswith("GOAL")]
    rows = goals.as_json(runner.goal_rows([ok]))
    assert rows[0]["key"] == "bot_idle_rss_mib" and rows[0]["status"] == "not run"
