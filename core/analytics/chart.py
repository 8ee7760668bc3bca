"""The /stats image: matplotlib with the Agg backend (no display needed)."""

from __future__ import annotations

import io

from core.analytics.service import StatsReport

PALETTE = ("#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2", "#9D755D")


def render_png(report: StatsReport) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 3.6), dpi=100)
    axes = figure.add_subplot()
    positions = list(range(len(report.days)))
    bottom = [0.0] * len(positions)
    series = dict(report.activity)
    if sum(report.reviews):
        series["reviews"] = report.reviews
    for index, (name, values) in enumerate(sorted(series.items())):
        axes.bar(positions, values, bottom=bottom, label=name, color=PALETTE[index % 7])
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    if sum(report.study_minutes):
        twin = axes.twinx()
        twin.plot(positions, report.study_minutes, color="#333333", marker="o", label="minutes")
        twin.set_ylabel("study minutes")
    step = max(1, len(positions) // 10)
    axes.set_xticks(positions[::step], [d.strftime("%d %b") for d in report.days[::step]])
    axes.set_ylabel("things done")
    axes.set_title("Study Teddy — your activity")
    axes.spines[["top", "right"]].set_visible(False)
    if series:
        axes.legend(loc="upper left", frameon=False, fontsize=8)
    else:
        axes.text(0.5, 0.5, "nothing yet", ha="center", va="center", transform=axes.transAxes)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
