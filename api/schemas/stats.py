"""The dashboard's numbers."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel


class TaskCounts(BaseModel):
    total: int
    done: int
    overdue: int
    completion_rate: float


class SubjectMinutes(BaseModel):
    subject: str | None
    minutes: int


class FigureOut(BaseModel):
    """One labelled figure, worded as the chat and the dashboard word it."""

    key: str
    label: str
    value: float
    text: str


class StatsOut(BaseModel):
    """The dashboard's numbers: one entry per day in `days` for every daily series."""

    period: str
    days: list[date]
    activity: dict[str, list[int]]
    colours: dict[str, str]
    study_minutes: list[float]
    study_by_subject: list[SubjectMinutes]
    reviews: list[int]
    retention: float | None
    tasks: TaskCounts | None
    streak: int
    linked_accounts: int
    due_days: list[date]
    due_forecast: list[int]
    total_activity: int
    ai_requests: list[int]
    ai_tokens: list[int]
    figures: list[FigureOut]
