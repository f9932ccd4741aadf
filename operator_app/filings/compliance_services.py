"""The only code that changes the base's inspection documents (审计报告, 财务制度, 标识照片, …): upload and remove,
each flushed and audited; the request commits once. Also the kinds of document and the reading the pages use."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import audit
from ..extensions import db
from ..storage import DOCUMENT_TYPES, save_upload
from ..timeutil import utcnow
from .models import InspectionDocument

KIND_AUDIT_REPORT = "audit_report"
KIND_FINANCE_SYSTEM = "finance_system"
KIND_SIGNAGE_PHOTO = "signage_photo"
KIND_SITE_DOCUMENTS = "site_documents"
KIND_VENTURE_FUND = "venture_fund"
KIND_OTHER = "other"
# What an inspector asks to see (001 "6个要" §5 六查看, §1 venture fund of a demonstration base, "8个有" §2–3).
DOCUMENT_KINDS = {
    KIND_AUDIT_REPORT: _l("Special audit report (专项审计报告)"),
    KIND_FINANCE_SYSTEM: _l("Finance system (财务制度)"),
    KIND_SIGNAGE_PHOTO: _l("Photo of the \"小微企业服务站\" sign"),
    KIND_SITE_DOCUMENTS: _l("Site documents (场地手续: property certificate or lease)"),
    KIND_VENTURE_FUND: _l("Venture fund agreement and investment cases (创投基金)"),
    KIND_OTHER: _l("Other document"),
}
DOCUMENT_FIELDS = ("kind", "title", "dated_on")

audit.register_labels(
    actions={"inspection_document.create": _l("Inspection document uploaded"),
             "inspection_document.remove": _l("Inspection document removed")},
    objects={"InspectionDocument": _l("Inspection document")},
    fields={"document_kind": _l("Kind of document"), "dated_on": _l("Date of the document"), "file": _l("File")},
    values={"document_kind": DOCUMENT_KINDS},
)


def documents():
    """The base's documents still in force (not removed), newest date first, with their files."""
    return db.session.scalars(select(InspectionDocument).where(InspectionDocument.deleted_at.is_(None))
                              .options(selectinload(InspectionDocument.file))
                              .order_by(InspectionDocument.dated_on.desc().nulls_last(),
                                        InspectionDocument.uploaded_at.desc(), InspectionDocument.id.desc())).all()


def _audited(document):
    return {"document_kind": document.kind, "title": document.title,
            "dated_on": document.dated_on.isoformat() if document.dated_on else None,
            "file": document.file.original_name if document.file else None}


def add_document(values, *, upload, by):
    """Store ``upload`` as an inspection document of ``values['kind']``. Raises storage.UploadError (nothing is
    kept: the caller rolls back) for an empty, oversized or refused file."""
    if values["kind"] not in DOCUMENT_KINDS:
        raise ValueError(values["kind"])
    stored = save_upload(upload, allowed=DOCUMENT_TYPES, by=by)
    document = InspectionDocument(file_id=stored.id, uploaded_by_id=by.id if by else None,
                                  **{field: values[field] for field in DOCUMENT_FIELDS})
    db.session.add(document)
    db.session.flush()
    db.session.refresh(document, ["file"])
    audit.record("inspection_document.create", document, after=_audited(document), user=by)
    return document


def remove_document(document, *, by):
    """Withdraw a document uploaded by mistake: it stops counting as evidence, the row and file stay."""
    document.deleted_at = utcnow()
    db.session.flush()
    audit.record("inspection_document.remove", document, before=_audited(document), user=by)
