"""The iCalendar (.ics) feed of a user's tasks, importable by Google and Apple calendars."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from core.tasks.models import Task
from core.tasks.parsing import Priority

EVENT_LENGTH = timedelta(minutes=30)
END_OF_TIME = datetime.max.replace(tzinfo=UTC)


def build_feed(tasks: Sequence[Task]) -> str:
    """One VEVENT per task with a due time (VTODO is ignored by Google Calendar)."""
    # Imported here: icalendar takes a while to import, and only the feed needs it.
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//Study Teddy//Tasks//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "Study Teddy tasks")
    for task in tasks:
        if task.due_at is None:
            continue
        event = Event()
        event.add("uid", f"task-{task.id}@study-teddy")
        done = task.completed_at is not None
        event.add("summary", ("✓ " if done else "") + task.title)
        event.add("dtstart", task.due_at)
        # A task due in the last half hour of year 9999 (stored before due dates had a
        # horizon) would overflow; it ends with the calendar instead.
        end = task.due_at + min(EVENT_LENGTH, END_OF_TIME - task.due_at)
        event.add("dtend", end)
        event.add("dtstamp", task.updated_at)
        details = [f"Priority: {Priority(task.priority).label}"]
        if task.subject:
            details.append(f"Subject: #{task.subject}")
            event.add("categories", [task.subject])
        if task.notes:
            details.append(task.notes)
        event.add("description", "\n".join(details))
        cal.add_component(event)
    ical: bytes = cal.to_ical()
    return ical.decode()
