"""The one ledger view: requests, visits and activities merged into one list, filtered and ordered in SQL.

A UNION ALL of the three tables' common columns finds the page's (kind, id) pairs; the entries of the page
are then loaded with what they show (company, person, files, sign-ins) in one query per kind.
"""
from dataclasses import dataclass

from sqlalchemy import Integer, cast, func, literal_column, null, select
from sqlalchemy.orm import joinedload, selectinload

from operator_app.db import current_base_id
from operator_app.extensions import db

from . import constants as c
from .models import Activity, ServiceRequest, SignIn, Visit

PER_PAGE = 25


@dataclass(frozen=True)
class Filters:
    date_from: object = None
    date_to: object = None
    kind: str | None = None
    category: str | None = None
    company_id: int | None = None
    person_id: int | None = None

    @classmethod
    def from_form(cls, form):
        """The valid filters of a submitted LedgerFilterForm (an invalid value is dropped, not an error page)."""
        form.validate()
        value = lambda name: None if form[name].errors else (form[name].data or None)  # noqa: E731
        return cls(value("date_from"), value("date_to"), value("kind"), value("category"), value("company"),
                   value("person"))


def _member(model, kind, person_column, filters, company_column=None):
    base_id = current_base_id()
    company = company_column if company_column is not None else cast(null(), Integer)
    statement = select(literal_column(f"'{kind}'").label("kind"), model.id.label("id"),
                       model.occurred_on.label("occurred_on"), model.created_at.label("created_at"),
                       company.label("company_id")).where(model.base_id == base_id, model.deleted_at.is_(None))
    if filters.date_from:
        statement = statement.where(model.occurred_on >= filters.date_from)
    if filters.date_to:
        statement = statement.where(model.occurred_on <= filters.date_to)
    if filters.category:
        statement = statement.where(model.category == filters.category)
    if filters.person_id:
        statement = statement.where(person_column == filters.person_id)
    if filters.company_id:
        if company_column is not None:
            statement = statement.where(company_column == filters.company_id)
        else:  # an activity counts for the companies that signed in to it
            statement = statement.where(model.id.in_(
                select(SignIn.activity_id).where(SignIn.company_id == filters.company_id)))
    return statement


def _union(filters):
    members = []
    if filters.kind in (None, c.KIND_REQUEST):
        members.append(_member(ServiceRequest, c.KIND_REQUEST, ServiceRequest.handler_id, filters,
                               ServiceRequest.company_id))
    if filters.kind in (None, c.KIND_VISIT):
        members.append(_member(Visit, c.KIND_VISIT, Visit.staff_id, filters, Visit.company_id))
    if filters.kind in (None, c.KIND_ACTIVITY):
        members.append(_member(Activity, c.KIND_ACTIVITY, Activity.organiser_id, filters))
    if not members:
        return None
    return members[0].union_all(*members[1:]).subquery() if len(members) > 1 else members[0].subquery()


def _ordered(union):
    return select(union.c.kind, union.c.id).order_by(union.c.occurred_on.desc(), union.c.created_at.desc(),
                                                     union.c.kind, union.c.id.desc())


@dataclass
class Page:
    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self):
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self):
        return self.page > 1

    @property
    def has_next(self):
        return self.page < self.pages


def ledger_page(filters, page=1, per_page=PER_PAGE):
    """One page of the ledger, newest first."""
    union = _union(filters)
    if union is None:
        return Page([], 0, page, per_page)
    total = db.session.scalar(select(func.count()).select_from(union))
    keys = db.session.execute(_ordered(union).limit(per_page).offset((page - 1) * per_page)).all()
    return Page(load_entries(keys), total, page, per_page)


def ledger_entries(filters):
    """Every entry the filters select, newest first (the export)."""
    union = _union(filters)
    return load_entries(db.session.execute(_ordered(union)).all()) if union is not None else []


def load_entries(keys):
    """The entries named by (kind, id) pairs, in that order, with what the list shows loaded."""
    wanted = {kind: [entry_id for entry_kind, entry_id in keys if entry_kind == kind] for kind in c.KINDS}
    loaded = {}
    queries = {
        # Many-to-one relations come in the entries' own query (a join); collections in one query each.
        c.KIND_REQUEST: select(ServiceRequest).options(joinedload(ServiceRequest.company),
                                                      joinedload(ServiceRequest.handler)),
        c.KIND_VISIT: select(Visit).options(joinedload(Visit.company), joinedload(Visit.staff),
                                            joinedload(Visit.agency)),
        c.KIND_ACTIVITY: select(Activity).options(joinedload(Activity.organiser), joinedload(Activity.agency),
                                                  selectinload(Activity.files), selectinload(Activity.signins)),
    }
    for kind, ids in wanted.items():
        if ids:
            model = queries[kind].column_descriptions[0]["entity"]
            for entry in db.session.scalars(queries[kind].where(model.id.in_(ids))):
                loaded[(kind, entry.id)] = entry
    return [loaded[(kind, entry_id)] for kind, entry_id in keys if (kind, entry_id) in loaded]
