"""Clock and calendar helpers: every stored timestamp is UTC; months are written as their first day."""
import calendar
from datetime import date, datetime, timezone


def utcnow():
    """The current time in UTC, timezone-aware."""
    return datetime.now(timezone.utc)


def today_in(timezone_name):
    """Today's date in the given IANA timezone (a base's own day, not the server's)."""
    from zoneinfo import ZoneInfo

    return utcnow().astimezone(ZoneInfo(timezone_name)).date()


def as_utc(moment):
    """A stored timestamp as an aware UTC datetime (SQLite gives back naive ones; they were stored in UTC)."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def to_local(moment, timezone_name):
    """A stored timestamp in a base's own time zone, for showing and for the base's day."""
    from zoneinfo import ZoneInfo

    return as_utc(moment).astimezone(ZoneInfo(timezone_name)) if moment is not None else None


def from_local(naive, timezone_name):
    """A wall-clock time typed in a base's time zone as an aware UTC datetime (None stays None)."""
    from zoneinfo import ZoneInfo

    if naive is None:
        return None
    return naive.replace(tzinfo=ZoneInfo(timezone_name)).astimezone(timezone.utc)


def add_months(day, months):
    """``day`` moved by ``months`` (negative goes back), clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def month_of(day):
    """The first day of ``day``'s month."""
    return date(day.year, day.month, 1)


def month_end(month_on):
    return month_on.replace(day=calendar.monthrange(month_on.year, month_on.month)[1])


def month_key(month_on):
    """A month as "YYYY-MM", as URLs and sheets write it."""
    return f"{month_on.year:04d}-{month_on.month:02d}"


def parse_month(text):
    """"2026-10" as date(2026, 10, 1); None when it is not a month between 2000 and 2100."""
    try:
        year, month = (int(part) for part in str(text).split("-"))
        return date(year, month, 1) if 2000 <= year <= 2100 else None
    except (TypeError, ValueError):
        return None
