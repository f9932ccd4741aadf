"""The graduates' scheduled work: each night, schedule the follow-ups of graduates that have none and mark the
follow-ups that became overdue (each audited once)."""
from operator_app.scheduler import daily, register_job

from . import followup_services as services

FOLLOWUP_JOB = "tenants.graduate_followups"

register_job(FOLLOWUP_JOB, services.daily_work, period=daily, trigger={"hour": 1, "minute": 20})
