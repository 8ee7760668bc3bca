"""The words and colours of the stats, shared by the chat text, the chart, the web
dashboard and the REST API, so each figure is called the same everywhere."""

from __future__ import annotations

from dataclasses import dataclass

# Okabe & Ito (2008), "Color Universal Design": eight colours told apart with every common
# kind of colour blindness. Each series below has its own, so none repeats.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
    "black": "#000000",
}


@dataclass(frozen=True)
class Series:
    """One kind of thing a student does, counted per day."""

    key: str
    one: str  # "task added": after the number 1
    many: str  # "tasks added": after any other number, and as the chart's legend
    colour: str

    def count(self, n: int) -> str:
        return f"{n:,} {self.one if n == 1 else self.many}"


# In the order the chart stacks them and the text lists them.
SERIES: tuple[Series, ...] = (
    Series("cards_reviewed", "card reviewed", "cards reviewed", OKABE_ITO["blue"]),
    Series("tasks_done", "task done", "tasks done", OKABE_ITO["bluish green"]),
    Series("tasks_added", "task added", "tasks added", OKABE_ITO["orange"]),
    Series("reminders_set", "reminder set", "reminders set", OKABE_ITO["yellow"]),
    Series("decks_made", "deck made", "decks made", OKABE_ITO["sky blue"]),
    Series("documents_added", "document added", "documents added", OKABE_ITO["vermillion"]),
    Series(
        "tutor_work",
        "quiz or card draft from the tutor",
        "quizzes and card drafts from the tutor",
        OKABE_ITO["reddish purple"],
    ),
)
BY_KEY = {s.key: s for s in SERIES}
STUDY_MINUTES_COLOUR = OKABE_ITO["black"]


def plural(n: int, one: str, many: str | None = None) -> str:
    """`plural(1, "day")` -> "1 day"; `plural(2, "day")` -> "2 days"."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def duration(minutes: float) -> str:
    """`45 min`, `1 h`, `1 h 30 min`."""
    whole = round(minutes)
    hours, rest = divmod(whole, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours:,} h" if not rest else f"{hours:,} h {rest} min"
