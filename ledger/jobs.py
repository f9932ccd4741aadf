"""The ledger's scheduled work: each morning, mark activities whose three archive days passed incomplete."""
from operator_app.scheduler import daily, register_job

from . import services

ARCHIVE_JOB = "ledger.archive_deadlines"

register_job(ARCHIVE_JOB, services.mark_overdue, period=daily, trigger={"hour": 1, "minute": 10})
