"""The audit log: who changed what, when, in which base, with the values before and after."""
from datetime import date, datetime, timezone
from decimal import Decimal

from flask import has_request_context, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import JSON, DateTime, ForeignKey, String, inspect as sa_inspect
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import current_base_id
from .extensions import db
from .timeutil import utcnow


#: Labels for the audit page, registered by each package for the actions and fields it records.
ACTION_LABELS = {}
OBJECT_LABELS = {}
FIELD_LABELS = {}
VALUE_LABELS = {}  # field name -> {stored code: label}


def register_labels(actions=None, objects=None, fields=None, values=None):
    """Let a package name its audit actions, object types, fields and coded values for people reading the log."""
    ACTION_LABELS.update(actions or {})
    OBJECT_LABELS.update(objects or {})
    FIELD_LABELS.update(fields or {})
    VALUE_LABELS.update(values or {})


def display_value(field, value):
    """An audited value as a person reads it: codes named, yes/no, empty, lists joined."""
    codes = VALUE_LABELS.get(field, {})
    if isinstance(value, list):
        return "、".join(str(codes.get(item, item)) for item in value) or _l("(empty)")
    if value in codes:
        return codes[value]
    if value is None or value == "":
        return _l("(empty)")
    if value is True:
        return _l("Yes")
    if value is False:
        return _l("No")
    return value


class AuditEntry(db.Model):
    """One recorded change. ``base_id`` is empty for account-level actions (signup, password change)."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"), index=True)
    base_id: Mapped[int | None] = mapped_column(ForeignKey("bases.id"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[int | None]
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(45))

    user = relationship("User")

    @property
    def action_label(self):
        return ACTION_LABELS.get(self.action, self.action)

    @property
    def object_label(self):
        return OBJECT_LABELS.get(self.object_type, self.object_type)

    @staticmethod
    def field_label(name):
        return FIELD_LABELS.get(name, name)


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def snapshot(obj, fields=None):
    """The column values of ``obj`` as JSON-ready data (passwords and token hashes left out)."""
    mapper = sa_inspect(obj).mapper
    names = fields or [attr.key for attr in mapper.column_attrs]
    return {name: _plain(_zoned(mapper, name, getattr(obj, name))) for name in names
            if name not in ("password_hash", "token_hash")}


def _zoned(mapper, name, value):
    """A timestamp of a time-zone column as SQLite gives it back (naive, stored in UTC) made aware, so that
    loading a row never reads as a change."""
    if isinstance(value, datetime) and value.tzinfo is None and name in mapper.columns:
        if getattr(mapper.columns[name].type, "timezone", False):
            return value.replace(tzinfo=timezone.utc)
    return value


def record(action, obj, before=None, after=None, *, user=None, base_id=None, operator_id=None):
    """Add an audit entry for ``action`` on ``obj`` to the session (the caller's transaction commits it)."""
    if user is None and has_request_context() and current_user and current_user.is_authenticated:
        user = current_user
    if getattr(obj, "id", "absent") is None:
        db.session.flush()  # give a new object its id before it is named in the log
    if base_id is None:
        base_id = getattr(obj, "base_id", None) or current_base_id()
    entry = AuditEntry(
        user_id=user.id if user is not None else None,
        operator_id=operator_id or (user.operator_id if user is not None else None),
        base_id=base_id,
        action=action,
        object_type=type(obj).__name__,
        object_id=getattr(obj, "id", None),
        before=before,
        after=after,
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    return entry


def update(obj, values, fields, *, action, user=None):
    """Set ``fields`` of ``obj`` from ``values`` (those present) and record what changed, before and after.

    Returns the names of the fields that changed; nothing is recorded when none did.
    """
    before = snapshot(obj, fields)
    for field in fields:
        if field in values:
            setattr(obj, field, values[field])
    after = snapshot(obj, fields)
    changed = {key for key in after if before[key] != after[key]}
    if changed:
        record(action, obj, before={key: before[key] for key in changed},
               after={key: after[key] for key in changed}, user=user)
    db.session.flush()
    return changed
