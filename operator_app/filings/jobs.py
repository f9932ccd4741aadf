"""The filings' scheduled work: every morning, each base's recent quarters get their filing (the draft made the
day after the quarter ends, regenerated daily until the manager submits it; a quarter missed while the server
was down is made at the next start)."""
from operator_app.scheduler import daily, register_job

from . import services

QUARTERLY_JOB = "filings.quarterly"

register_job(QUARTERLY_JOB, services.daily_filings, period=daily, trigger={"hour": 0, "minute": 40})
