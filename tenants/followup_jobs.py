"""The graduates' scheduled work: each night, schedule the follow-ups of graduates that have none and mark the
follow-ups that became overdue (each audited once)."""
from operator_app.scheduler import register_job
from operator_app.timeutil import to_local

from . import followup_services as services

FOLLOWUP_JOB = "tenants.graduate_followups"


def _day(base, now):
    """Once per base-local day."""
    return to_local(now, base.timezone).date().isoformat()


register_job(FOLLOWUP_JOB, services.daily_work, period=_day, trigger={"hour": 1, "minute": 20})
