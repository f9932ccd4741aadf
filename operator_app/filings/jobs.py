"""The filings' scheduled work: every morning, each base's recent quarters get their filing (the draft made the
day after the quarter ends, regenerated daily until the manager submits it; a quarter missed while the server
was down is made at the next start)."""
from operator_app.scheduler import register_job
from operator_app.timeutil import to_local

from . import services

QUARTERLY_JOB = "filings.quarterly"


def _day(base, now):
    """Once per base-local day."""
    return to_local(now, base.timezone).date().isoformat()


register_job(QUARTERLY_JOB, services.daily_filings, period=_day, trigger={"hour": 0, "minute": 40})
