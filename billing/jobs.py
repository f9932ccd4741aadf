"""Rent billing's scheduled work: every morning at 00:20 (Shanghai), each base with billing on gets the bills due
by its own date: on the 1st the month's bills, on other days the bills of leases entered since, and after a
server outage every month missed (the claim is the base's day; the bills' own claim is (lease, month))."""
from operator_app.scheduler import daily, register_job
from operator_app.timeutil import to_local

from . import invoicing

INVOICES_JOB = "billing.invoices"


def _period(base, now):
    """The base's day while billing is on; None (nothing claimed, nothing done) while it is off."""
    return daily(base, now) if invoicing.invoicing_enabled() else None


def _run(base, now):
    invoicing.issue_due(base, to_local(now, base.timezone).date())


register_job(INVOICES_JOB, _run, period=_period, trigger={"hour": 0, "minute": 20})
