"""The ledger's scheduled work: each morning, mark activities whose three archive days passed incomplete."""
from operator_app.scheduler import register_job
from operator_app.timeutil import to_local

from . import services

ARCHIVE_JOB = "ledger.archive_deadlines"


def _day(base, now):
    """Once per base-local day."""
    return to_local(now, base.timezone).date().isoformat()


register_job(ARCHIVE_JOB, services.mark_overdue, period=_day, trigger={"hour": 1, "minute": 10})
