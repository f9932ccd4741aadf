"""The service ledger (服务台账): service requests, visits, activities with sign-ins, photos and notices, feedback
and satisfaction, the service team and partner agencies (issue 6)."""
from flask_babel import lazy_gettext as _l

from operator_app import audit

from . import constants as c

audit.register_labels(
    actions={
        "service_person.create": _l("Team member added"), "service_person.update": _l("Team member changed"),
        "agency.create": _l("Partner agency added"), "agency.update": _l("Partner agency changed"),
        "agency.agreement": _l("Agency agreement uploaded"),
        "request.create": _l("Service request logged"), "request.update": _l("Service request changed"),
        "request.status": _l("Service request status changed"), "request.delete": _l("Service request withdrawn"),
        "visit.create": _l("Visit recorded"), "visit.update": _l("Visit changed"),
        "visit.delete": _l("Visit withdrawn"),
        "activity.create": _l("Activity created"), "activity.update": _l("Activity changed"),
        "activity.delete": _l("Activity withdrawn"), "activity.files": _l("Activity files added"),
        "activity.file_delete": _l("Activity file withdrawn"),
        "activity.overdue": _l("Activity archive overdue"), "feedback.create": _l("Feedback given"),
    },
    objects={"ServicePerson": _l("Team member"), "PartnerAgency": _l("Partner agency"),
             "ServiceRequest": _l("Service request"), "Visit": _l("Company visit"), "Activity": _l("Activity"),
             "Feedback": _l("Feedback")},
    fields={
        "position": _l("Position"), "is_mentor": _l("Certified startup mentor"),
        "certificate_issuer": _l("Certificate issued by"), "certificate_number": _l("Certificate number"),
        "category": _l("Service category"), "services": _l("Services it provides"),
        "agreement_starts_on": _l("Agreement from"), "agreement_ends_on": _l("Agreement until"),
        "contact_name": _l("Contact person"), "contact_phone": _l("Contact phone"),
        "channel": _l("How it came in"), "received_at": _l("Received at"), "content": _l("Content"),
        "handler_id": _l("Handled by"), "status": _l("Status"), "resolution": _l("What was done"),
        "responded_at": _l("First answer at"), "resolved_at": _l("Ended at"), "company_id": _l("Company"),
        "occurred_on": _l("Date"), "staff_id": _l("Base staff"), "agency_id": _l("Partner agency"),
        "people": _l("People who went"), "purpose": _l("Purpose"), "follow_up": _l("Follow-up"),
        "title": _l("Title"), "starts_at": _l("Start time"), "ends_at": _l("End time"), "ends_on": _l("Last day"),
        "place": _l("Place"), "organiser_id": _l("Organised by"), "expected_companies": _l("Companies expected"),
        "signin_hours_after": _l("Sign-in stays open after the end (hours)"),
        "publicity_links": _l("Publicity"), "results": _l("Results"), "missing": _l("Missing"),
        "agenda": _l("Content of the activity"), "sheet_companies": _l("Paper sheet: companies"),
        "sheet_people": _l("Paper sheet: people"), "entry_id": _l("Service entry"), "rating": _l("Rating"),
        "user_id": _l("Their login"), "comment": _l("Comment"), "files": _l("Files"), "kind": _l("Kind"),
    },
    values={"category": c.CATEGORIES, "channel": c.CHANNELS, "status": c.REQUEST_STATUSES,
            "kind": {**c.FILE_KINDS, **c.KINDS}, "missing": c.ARCHIVE_ITEMS},
)
