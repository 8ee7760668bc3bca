"""Issue 24 in `teddy chat`: exams, hours and the plan; goals and badges; the forecast's
chart written to a file. Each user is a separate process; one never sees the other's."""

from pathlib import Path

from teddy.servers import Servers
from tests.e2e.test_console import run_chat

NOW = "2026-11-25T09:00:00+00:00"  # a Wednesday


def texts(out: list[dict[str, object]]) -> list[str]:
    return [str(o["text"]) for o in out if o["kind"] == "reply"]


def test_console_exams_hours_plan_goals_and_forecast_are_each_users_own(
    tmp_path: Path, servers: Servers, core: object
) -> None:
    lee = run_chat(
        tmp_path, servers, ["/exam Lee secret viva dec 2"], "--user", "lee", "--now", NOW
    )
    assert texts(lee)[0].startswith("📅 Lee secret viva: Wed 02 Dec")
    lines = [
        "/hours 2h weekdays, 4h weekends",
        "/task Lab report fri 5pm",
        "/exam Chemistry final dec 1",
        "/exams",
        "/plan 7",
        "/goal 1h study",
        "/log 45m #chem",
        "/goal",
        "/badges",
        "/deck Chem",
        "/card Avogadro | 6.022e23",
        "/forecast",
    ]
    out = run_chat(tmp_path, servers, lines, "--user", "kim", "--now", NOW)
    shown = texts(out)
    hours, _, exam, exams, plan, goal, _, progress, badges, _, _, forecast = shown
    assert hours.startswith("Study hours saved: Mon–Fri 2h, Sat–Sun 4h (18h a week).")
    assert exam.startswith("📅 Chemistry final: Tue 01 Dec (in 6 days).")
    assert "Chemistry final" in exams and "Lee" not in exams
    assert "Your plan for 7 days" in plan and "Exam: Chemistry final" in plan
    assert "Lab report" in plan and "viva" not in plan
    assert goal.startswith("🎯 Goal set: 1h study time a week.")
    assert "Study time: 45 min of 1h" in progress and "75%" in progress
    assert badges.startswith("No badges yet")
    assert "Predicted retention" in forecast and "Chem" in forecast
    [reply] = [o for o in out if o["kind"] == "reply" and "Predicted retention" in str(o["text"])]
    [chart] = [Path(str(p)) for p in reply["files"]]  # type: ignore[attr-defined]
    assert chart.is_relative_to(tmp_path) and chart.read_bytes().startswith(b"\x89PNG")

    again = run_chat(tmp_path, servers, ["/exams", "/forecast"], "--user", "lee", "--now", NOW)
    lee_exams, lee_forecast = texts(again)
    assert "Lee secret viva" in lee_exams and "Chemistry" not in lee_exams
    assert lee_forecast.startswith("No flashcards yet")
