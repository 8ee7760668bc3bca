"""The /forecast images: predicted retention per deck over the next 30 days, and the
calibration curve (matplotlib, Agg backend, as the /stats chart)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, timedelta

from core.insights.calibration import Calibration
from core.insights.retention import DeckRetention

MAX_LINES = 7
PALETTE = ("#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2", "#9D755D")


def render_png(
    decks: Sequence[DeckRetention], today: date, desired: float, exam_days: Sequence[date]
) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 3.6), dpi=100)
    axes = figure.add_subplot()
    shown = [d for d in decks if d.studied][:MAX_LINES]
    for index, deck in enumerate(shown):
        days = list(range(len(deck.curve)))
        percent = [100 * r for r in deck.curve]
        axes.plot(days, percent, label=deck.deck[:30], color=PALETTE[index % len(PALETTE)])
    axes.axhline(100 * desired, color="#999999", linestyle="--", linewidth=1)
    for exam_day in exam_days:
        offset = (exam_day - today).days
        if 0 <= offset <= 30:
            axes.axvline(offset, color="#E45756", linestyle=":", linewidth=1)
    ticks = list(range(0, 31, 5))
    axes.set_xticks(ticks, [(today + timedelta(days=t)).strftime("%d %b") for t in ticks])
    axes.set_ylim(0, 100)
    axes.set_ylabel("predicted recall, %")
    axes.set_title("Study Teddy — retention if you stop reviewing today")
    axes.spines[["top", "right"]].set_visible(False)
    if shown:
        axes.legend(loc="lower left", frameon=False, fontsize=8)
    else:
        axes.text(0.5, 0.5, "no studied cards yet", ha="center", transform=axes.transAxes)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def render_calibration_png(calibration: Calibration) -> bytes:
    """Recalled vs predicted per bin, the diagonal for a perfect prediction, the number of
    reviews per bin as bars behind."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 4), dpi=100)
    axes = figure.add_subplot()
    counts = axes.twinx()
    centres = [100 * (b.low + b.high) / 2 for b in calibration.bins]
    counts.bar(centres, [b.count for b in calibration.bins], width=8, color="#DDDDDD")
    counts.set_ylabel("reviews")
    axes.set_zorder(counts.get_zorder() + 1)
    axes.patch.set_visible(False)
    axes.plot([0, 100], [0, 100], color="#999999", linestyle="--", linewidth=1)
    axes.plot(
        [100 * b.predicted for b in calibration.bins],
        [100 * b.actual for b in calibration.bins],
        color=PALETTE[0],
        marker="o",
        label="you",
    )
    axes.set_xlim(0, 100)
    axes.set_ylim(0, 100)
    axes.set_xlabel("predicted recall, %")
    axes.set_ylabel("recalled, %")
    axes.set_title("Study Teddy — FSRS's prediction against your answers")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
