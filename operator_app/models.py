"""Imports every model so that Alembic and the mapper see the whole schema from one place."""
from tenants.models import (AdmissionDecision, BaseRules, CompanyDocument, ExitRecord, Milestone,  # noqa: F401
                            TenantCompany)

from .accounts.models import Base, Invitation, Membership, Operator, User, UserSession, Zone  # noqa: F401
from .audit import AuditEntry  # noqa: F401
from .storage import StoredFile  # noqa: F401
from .workcalendar import CalendarYear  # noqa: F401
