"""The stats' words: plurals, labels and colours, from a report built by hand."""

from datetime import date, timedelta

from core.analytics.chart import render_png
from core.analytics.report import StatsReport, TaskStats, figures, summary_text
from core.analytics.vocabulary import SERIES, duration, plural

DAYS = [date(2026, 11, 25) - timedelta(days=n) for n in (1, 0)]


def test_plural_and_duration_read_like_words() -> None:
    assert [plural(n, "day") for n in (0, 1, 2)] == ["0 days", "1 day", "2 days"]
    assert plural(1_200, "token") == "1,200 tokens"
    assert [duration(m) for m in (0, 59.6, 60, 135)] == ["0 min", "1 h", "1 h", "2 h 15 min"]


def test_every_figure_has_words_and_things_done_adds_up_the_chart() -> None:
    report = StatsReport(
        "week",
        DAYS,
        activity={"cards reviewed": [3, 18], "tasks added": [1, 0]},
        study_minutes=[0.0, 50.0],
        study_by_subject=[("chem", 30), (None, 20)],
        reviews=[3, 18],
        retention=0.75,
        tasks=TaskStats(total=2, done=1, overdue=0),
        streak=1,
    )
    by_key = {f.key: f for f in figures(report)}
    assert by_key["streak"].text == "1 day"
    assert by_key["things_done"].text == "22: 21 cards reviewed, 1 task added"
    assert by_key["study_time"].text == "50 min (#chem 30 min, no subject 20 min)"
    assert by_key["tasks"].text == "1 of 2 (50%), none overdue"
    text = summary_text(report)
    assert "- Streak: 1 day" in text and "new" not in text and "_" not in text
    assert len(set(report.colours.values())) == len(report.colours)
    assert render_png(report).startswith(b"\x89PNG")


def test_series_labels_are_distinct_words_with_singular_and_plural() -> None:
    assert len({s.many for s in SERIES}) == len(SERIES)
    assert all(s.count(1).startswith("1 ") and s.one in s.count(1) for s in SERIES)
    assert all(s.many in s.count(2) for s in SERIES)
