"""Imports every model module so that Alembic and the mapper see the whole schema from one place."""
import billing.models  # noqa: F401
import ledger.models  # noqa: F401
import tenants.models  # noqa: F401
import tenants.followups  # noqa: F401

from . import audit, scheduler, storage, workcalendar  # noqa: F401
from .accounts import models  # noqa: F401
from .filings import models as filing_models  # noqa: F401
