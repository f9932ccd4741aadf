"""Clock helpers: every stored timestamp is UTC; tests replace ``utcnow`` with a fixed clock."""
from datetime import datetime, timezone


def utcnow():
    """The current time in UTC, timezone-aware."""
    return datetime.now(timezone.utc)


def today_in(timezone_name):
    """Today's date in the given IANA timezone (a base's own day, not the server's)."""
    from zoneinfo import ZoneInfo

    return utcnow().astimezone(ZoneInfo(timezone_name)).date()
