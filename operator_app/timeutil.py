"""Clock helpers: every stored timestamp is UTC; tests replace ``utcnow`` with a fixed clock."""
from datetime import datetime, timezone


def utcnow():
    """The current time in UTC, timezone-aware."""
    return datetime.now(timezone.utc)
