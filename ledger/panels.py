"""What the ledger shows on other packages' pages: the dashboard's archive deadlines, a company file's services,
and the service-team items of the policy checks (有人员)."""
from flask import g
from flask_babel import lazy_gettext as _l

from operator_app.accounts import constants as ac
from operator_app.bases.checks import MET, NOT_MET, Check, register_checks
from operator_app.memo import once
from operator_app.panels import register_panel
from operator_app.scoping import STAFF_ROLES
from operator_app.timeutil import today_in

from . import constants as c
from . import services


def _archive_context(base):
    today = today_in(base.timezone)
    return {"overdue": once(services.overdue_activities, today), "due_soon": services.due_soon(today, base.timezone),
            "today": today}


def _company_services_context(base, company):
    requests, visits, activities = services.services_of(company)
    return {"company": company, "requests": requests, "visits": visits, "activities": activities,
            "feedback": services.feedback_of(company), "staff": g.role in STAFF_ROLES,
            "tenant": g.role == ac.ROLE_TENANT}


def _team_checks(base):
    counts = services.team_counts(today_in(base.timezone))
    return [
        Check("team", _l("Service team (有人员)"), MET if counts.team >= c.MIN_TEAM else NOT_MET,
              _l("At least %(min)d people on the service team; %(n)d now.", min=c.MIN_TEAM, n=counts.team)),
        Check("mentors", _l("Certified startup mentors"), MET if counts.mentors >= c.MIN_MENTORS else NOT_MET,
              _l("At least %(min)d mentors with a certificate recorded; %(n)d now.", min=c.MIN_MENTORS,
                 n=counts.mentors)),
        Check("agencies", _l("Partner agencies"), MET if counts.agencies >= c.MIN_AGENCIES else NOT_MET,
              _l("At least %(min)d external service agencies under agreement; %(n)d now.", min=c.MIN_AGENCIES,
                 n=counts.agencies)),
    ]


register_panel("ledger/_archive_panel.html", _archive_context, STAFF_ROLES, order=40)
register_panel("ledger/_company_services.html", _company_services_context, STAFF_ROLES + (ac.ROLE_TENANT,),
               place="company")
register_checks(_team_checks)
