"""A person's settings as typed in chat or on the web: time zone, quiet hours, the daily
digest and display name, each read and checked before any is set."""

from __future__ import annotations

from datetime import time
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from core.chat.markup import escape, shorten
from core.errors import BadInput
from core.identity.models import User


def parse_timezone(name: str) -> str:
    """Validate an IANA time zone name, accepting any capitalisation."""
    cleaned = name.strip()
    try:
        ZoneInfo(cleaned)
        return cleaned
    except (ZoneInfoNotFoundError, ValueError, OSError):
        pass
    match = _zones_by_lowercase().get(cleaned.lower())
    if match is None:
        raise BadInput(
            f"I don't know the time zone “{escape(shorten(cleaned))}”. Use an Area/City name "
            "such as Europe/Berlin or America/New_York.",
            "For example /settings tz Europe/Berlin",
        )
    return match


@cache
def _zones_by_lowercase() -> dict[str, str]:
    # available_timezones() walks the tz database on disk: once per process is enough.
    return {tz.lower(): tz for tz in available_timezones()}


def parse_clock_time(text: str) -> time:
    cleaned = text.strip()
    try:
        hours, minutes = cleaned.split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise BadInput(
            f"“{escape(shorten(cleaned))}” is not a time. Use 24-hour HH:MM, for example 22:30."
        ) from None


def parse_quiet_hours(text: str) -> tuple[time, time] | None:
    """`22:00-07:00` -> (22:00, 07:00); `off` -> None."""
    cleaned = text.strip().lower()
    if cleaned == "off":
        return None
    start, sep, end = cleaned.partition("-")
    if not sep:
        raise BadInput(
            "Quiet hours are two times, like 22:00-07:00 (or off).",
            "For example /settings quiet 22:00-07:00",
        )
    return parse_clock_time(start), parse_clock_time(end)


def parse_digest_time(text: str) -> time | None:
    """`07:30` -> 07:30; `off` (or nothing) -> None."""
    cleaned = text.strip().lower()
    return None if cleaned in ("", "off") else parse_clock_time(cleaned)


MAX_DISPLAY_NAME = 200


def update_settings(
    user: User,
    *,
    display_name: str | None = None,
    timezone: str | None = None,
    quiet: str | None = None,
    digest: str | None = None,
) -> None:
    """Change the given settings, as typed in chat or on the web. Every value is read
    before any is set, so one that cannot be read changes nothing."""
    zone = parse_timezone(timezone) if timezone is not None else user.timezone
    hours = parse_quiet_hours(quiet) if quiet is not None else (user.quiet_start, user.quiet_end)
    digest_at = parse_digest_time(digest) if digest is not None else user.digest_time
    name = " ".join((display_name or "").split())[:MAX_DISPLAY_NAME]
    if name:
        user.display_name = name
    user.timezone = zone
    user.quiet_start, user.quiet_end = hours if hours else (None, None)
    user.digest_time = digest_at


def in_quiet_hours(user: User, local_time: time) -> bool:
    """Whether a local wall-clock time falls inside the user's quiet hours."""
    start, end = user.quiet_start, user.quiet_end
    if start is None or end is None or start == end:
        return False
    if start < end:
        return start <= local_time < end
    return local_time >= start or local_time < end


def user_zone(user: User) -> ZoneInfo:
    try:
        return ZoneInfo(user.timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return ZoneInfo("UTC")
