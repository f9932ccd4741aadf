"""Clock helpers: every stored timestamp is UTC; tests replace ``utcnow`` with a fixed clock."""
from datetime import datetime, timezone


def utcnow():
    """The current time in UTC, timezone-aware."""
    return datetime.now(timezone.utc)


def today_in(timezone_name):
    """Today's date in the given IANA timezone (a base's own day, not the server's)."""
    from zoneinfo import ZoneInfo

    return utcnow().astimezone(ZoneInfo(timezone_name)).date()


def as_utc(moment):
    """A stored timestamp as an aware UTC datetime (SQLite gives back naive ones; they were stored in UTC)."""
    from datetime import timezone

    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def to_local(moment, timezone_name):
    """A stored timestamp in a base's own time zone, for showing and for the base's day."""
    from zoneinfo import ZoneInfo

    return as_utc(moment).astimezone(ZoneInfo(timezone_name)) if moment is not None else None


def from_local(naive, timezone_name):
    """A wall-clock time typed in a base's time zone as an aware UTC datetime (None stays None)."""
    from datetime import timezone
    from zoneinfo import ZoneInfo

    if naive is None:
        return None
    return naive.replace(tzinfo=ZoneInfo(timezone_name)).astimezone(timezone.utc)
