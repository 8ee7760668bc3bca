"""The /stats image: matplotlib with the Agg backend (no display needed). It draws the
report's series with their vocabulary colours, so the chart, the text and the web agree."""

from __future__ import annotations

import io

from core.analytics.report import StatsReport
from core.analytics.vocabulary import STUDY_MINUTES_COLOUR


def render_png(report: StatsReport) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 3.6), dpi=100)
    axes = figure.add_subplot()
    positions = list(range(len(report.days)))
    bottom = [0.0] * len(positions)
    colours = report.colours
    for name, values in report.activity.items():
        axes.bar(positions, values, bottom=bottom, label=name, color=colours[name])
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    if sum(report.study_minutes):
        twin = axes.twinx()
        twin.plot(
            positions,
            report.study_minutes,
            color=STUDY_MINUTES_COLOUR,
            marker="o",
            linestyle="--",
            label="study minutes",
        )
        twin.set_ylabel("study minutes")
        twin.set_ylim(bottom=0)
    step = max(1, len(positions) // 10)
    axes.set_xticks(positions[::step], [d.strftime("%d %b") for d in report.days[::step]])
    axes.set_ylabel("things done")
    axes.set_title("Study Teddy: things done per day (bars), study minutes (line)")
    axes.spines[["top", "right"]].set_visible(False)
    if report.activity:
        axes.legend(loc="upper left", frameon=False, fontsize=8)
    elif not sum(report.study_minutes):
        axes.text(0.5, 0.5, "nothing yet", ha="center", va="center", transform=axes.transAxes)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
