"""Forged keys (issue 10, item 1): a form or query of base A that names a row of base B by its id, or that carries
``base_id=<B>``, writes nothing of B and nothing for B.

1. ``FORM_KEYS`` is the table of every form field that names another row by id: the endpoint (its address is
   built from the url_map with base A's real ids), the field, and which row of base B is planted in it.
   ``QUERY_KEYS`` are the ids a form's address may carry in its query string, ``FILTER_KEYS`` the list filters
   (GET, read only). For each, the manager of base A (or its tenant contact, or a graduate's contact, where only
   they post the form) submits the form with every other value valid, first with B's row: refused, i.e. a 4xx
   or the form again with a Chinese message on that field, and no row of any table changes. Then the control:
   the same form with A's own row is saved (a redirect, and the row written names it), so the refusal was the
   id's. The one field refused differently is the attendance grid's, whose check boxes carry the person's id in
   their *name* (``p<person id>_<day>``): the view reads only the names of its own company's people, so an
   unknown name is ignored like any unknown field (saved, nothing written) rather than answered with an error.
2. Two guards keep the tables complete: ``id_fields`` introspects every WTForms class of the app, and
   ``request_reads`` finds every raw read of the request (form, query string, JSON, cookies, body) in the views'
   syntax trees; a new field or read that may name a row fails until it is listed here (see their docstrings).
3. ``base_id=<B>`` is added, in the body and in the query string, to every state-changing form post of base A
   (the url_map walk of test_csrf.py, but with the CSRF token and the values each page shows, made valid by
   ``VALID``): as the manager, the tenant contact, a graduate's contact and a visitor of the public forms.
   Every row each request writes carries base A's id and names no row of another base, and no row of base B
   changes; the walk asserts that it really wrote (most forms are saved).

Rows are compared as test_csrf.py does, table by table, read past the ORM's base scoping and (on PostgreSQL)
past row-level security.
"""
import ast
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from io import BytesIO
from itertools import count
from pathlib import Path

import pytest
from sqlalchemy import select

from operator_app.accounts import constants as c
from operator_app.accounts.models import User
from operator_app.db import scoped_to
from operator_app.extensions import db
from operator_app.timeutil import today_in

from ..helpers import PDF_BYTES, Factory, field_errors, valid_uscc
from .test_fuzz_forms import _baseline, collect_forms, parse_forms
from .test_isolation import BASE_SCOPED, billing_ids, ledger_ids, one_of_everything

PROJECT = Path(__file__).resolve().parents[2]
PACKAGES = ("operator_app", "tenants", "ledger", "billing")
CJK = re.compile(r"[\u4e00-\u9fff]")
# Bookkeeping a request may change that is not data of a base: when a login was last used.
MAY_CHANGE = {("user_sessions", "last_seen_at")}


# --- Two bases with one of everything ---------------------------------------------------------------------

@dataclass
class World:
    a: object  # BaseRef of base A ("alpha"), whose users post the forms
    a_ids: dict
    b: object  # BaseRef of base B ("bravo"), whose ids are planted
    b_ids: dict
    users: dict = field(default_factory=dict)  # who posts: "manager", "tenant", "graduate"


def _open_followup(app, base, company_id):
    """The id of the company's follow-up that its contact can answer today."""
    from tenants.followups import GraduateFollowUp

    with app.app_context(), scoped_to(base.id):
        from operator_app.accounts.models import Base

        today = today_in(db.session.get(Base, base.id).timezone)
        followups = db.session.scalars(select(GraduateFollowUp).where(GraduateFollowUp.company_id == company_id)
                                       .order_by(GraduateFollowUp.due_on)).all()
        return next(followup.id for followup in followups if followup.is_open(today))


def _graduate(factory, base, name):
    """A company that left the base 200 days ago (so that one of its follow-ups is open now); its id."""
    from tenants import services as tenant_services
    from tenants.models import TenantCompany

    company_id = factory.company(base, name=name, moved_in_on=date(2020, 1, 1))
    exit_on = date.today() - timedelta(days=200)
    with factory.app.test_request_context(), scoped_to(base.id):
        tenant_services.record_exit(db.session.get(TenantCompany, company_id), reason="graduation", exit_on=exit_on,
                                    today=exit_on, keys_returned=True, rent_settled=True, deposit_settled=True,
                                    notes="", by=db.session.get(User, base.owner.id))
        db.session.commit()
    return company_id


def _resolve_request(factory, base, request_id):
    from ledger import services as ledger_services
    from ledger.models import ServiceRequest

    with factory.app.test_request_context(), scoped_to(base.id):
        ledger_services.set_request_status(db.session.get(ServiceRequest, request_id), "resolved", "已答复",
                                           now=datetime(2026, 3, 3, tzinfo=timezone.utc),
                                           by=db.session.get(User, base.owner.id))
        db.session.commit()


def _rows_to_plant(factory, base, company_id, ids):
    """The rows the forms name, added to ``ids``: a person at the workstations since 2020 (so last week can be
    marked), a resolved request and an activity the company signed in to (so it may rate them), a graduate whose
    follow-up is open, the base's staff login."""
    ids["grid_person_id"] = factory.person(base, company_id, active_from=date(2020, 1, 1))[0]
    ids["done_request_id"] = factory.service_request(base, company_id, content="已办结的诉求")
    _resolve_request(factory, base, ids["done_request_id"])
    factory.signin(base, ids["activity_id"], phone="13800000009", company_id=company_id)
    ids["graduate_id"] = _graduate(factory, base, "毕业科技有限公司")
    ids["open_followup_id"] = _open_followup(factory.app, base, ids["graduate_id"])
    ids["staff_user_id"] = base.users[c.ROLE_STAFF].id
    ids["spare_member_id"] = factory.service_person(base)
    ids["checkin_phone"] = "13500000001" if base.slug == "alpha" else "13500000002"
    ids["checkin_person_id"], ids["checkin_pin"] = factory.person(base, company_id, phone=ids["checkin_phone"])
    return ids


@pytest.fixture
def world(factory):
    base_a, a_ids = one_of_everything(factory)
    _rows_to_plant(factory, base_a, a_ids["company_id"], a_ids)
    graduate_contact = factory.member(base_a, c.ROLE_TENANT)
    factory.link_tenant(base_a, a_ids["graduate_id"], graduate_contact)

    base_b = factory.base("bravo")
    company_b = factory.company(base_b, name="布拉沃公司")
    factory.link_tenant(base_b, company_b)
    b_ids = {"company_id": company_b, "lease_id": factory.lease(base_b, company_b)}
    b_ids.update(ledger_ids(factory, base_b, company_b))
    b_ids.update(billing_ids(factory, base_b, b_ids["lease_id"]))
    _rows_to_plant(factory, base_b, company_b, b_ids)
    users = {"manager": base_a.owner, "tenant": base_a.users[c.ROLE_TENANT], "graduate": graduate_contact}
    return World(base_a, a_ids, base_b, b_ids, users)


# --- Reading every row ------------------------------------------------------------------------------------

def snapshot(app):
    """Every row of every table, read past the base scoping (and, on PostgreSQL, past row-level security, as
    ``unscoped()`` does for its transaction): {table: {primary key: {column: value}}}."""
    with app.app_context():
        db.session.remove()
        tables = {}
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql("SELECT set_config('app.unscoped', 'on', true)")
            for table in db.metadata.sorted_tables:
                columns = [column for column in table.columns if (table.name, column.name) not in MAY_CHANGE]
                keys = [column.name for column in table.primary_key.columns]
                rows = {}
                for row in connection.execute(select(*columns)).mappings():
                    rows[tuple(row[key] for key in keys)] = dict(row)
                tables[table.name] = rows
        return tables


def diff(before, after):
    """[(table, "new" | "changed" | "deleted", row)] between two snapshots (the row after, or before a delete)."""
    changes = []
    for name, rows in after.items():
        old = before[name]
        for key, row in rows.items():
            if key not in old:
                changes.append((name, "new", row))
            elif old[key] != row:
                changes.append((name, "changed", row))
        changes.extend((name, "deleted", row) for key, row in old.items() if key not in rows)
    return changes


def _owner(snapshot_, table, key):
    """The base the row ``key`` of ``table`` belongs to: its ``base_id`` (a base's own id for ``bases``), the set
    of the bases a user is a member of for ``users``, None for a row of no base."""
    row = snapshot_[table].get((key,))
    if row is None:
        return None
    if table == "bases":
        return row["id"]
    if table == "users":
        return {membership["base_id"] for membership in snapshot_["memberships"].values()
                if membership["user_id"] == key}
    return row.get("base_id")


def foreign_rows(changes, after, base_a_id):
    """The changes that do not belong to base A alone: a row of another base; a row of A whose foreign key
    names a row of another base (or a user who is no member of A); a table without a base changed (other than
    base A's own row in ``bases``, or a login's session)."""
    tables = {table.name: table for table in db.metadata.sorted_tables}
    wrong = []
    for name, how, row in changes:
        if "base_id" in row:
            if row["base_id"] != base_a_id:
                wrong.append((name, how, row))
                continue
        elif not (name == "bases" and row["id"] == base_a_id) and name != "user_sessions":
            wrong.append((name, how, row))
            continue
        if how == "deleted":
            continue
        for foreign_key in tables[name].foreign_keys:
            value = row.get(foreign_key.parent.name)
            if value is None:
                continue
            owner = _owner(after, foreign_key.column.table.name, value)
            if isinstance(owner, set) and owner and base_a_id not in owner:
                wrong.append((name, f"{foreign_key.parent.name} names a user of another base", row))
            elif isinstance(owner, int) and owner != base_a_id:
                wrong.append((name, f"{foreign_key.parent.name} names a row of base {owner}", row))
    return wrong


def rows_of(snapshot_, base_id):
    """The rows of ``base_id`` in every table (its ``bases`` row included)."""
    return {name: {key: row for key, row in rows.items()
                   if row.get("base_id", row.get("id") if name == "bases" else None) == base_id}
            for name, rows in snapshot_.items()}


# --- 1. The fields that name a row by id ------------------------------------------------------------------

REFUSED = "refused"  # a 4xx, or the form again with a Chinese message on the field
IGNORED = "ignored"  # the id is in a field's *name* (the attendance grid): an unknown name is not read at all


@dataclass(frozen=True)
class FormKey:
    """A form field that names a row by id. ``plant`` is the key, in both bases' ids, of the row it names;
    ``values`` the rest of a valid form (over the values the page itself shows); the control with A's
    ``control`` row (default: ``plant``) writes ``table`` with ``column`` = that id."""

    endpoint: str
    field: str
    plant: str
    declared_in: str  # "module.Form" of the WTForms field, or "module:function" of the view that reads it
    table: str
    column: str
    values: object = None  # ids -> {name: value}
    control: str = ""
    role: str = "manager"
    page: str = ""  # the endpoint of the page that shows the form (default: ``endpoint``)
    page_query: object = None  # ids -> query string of that page
    outcome: str = REFUSED

    @property
    def label(self):
        return f"{self.endpoint}:{self.field}"


def _request(ids):
    return {"company_id": ids["company_id"], "channel": "phone", "category": "financing",
            "received_at": "2026-03-01T10:00", "content": "想申请创业担保贷款"}


def _visit(ids):
    return {"company_id": ids["company_id"], "occurred_on": "2026-03-10", "staff_id": ids["member_id"],
            "purpose": "走访了解融资需求", "category": "coaching", "content": "座谈"}


def _activity(ids):
    return {"title": "融资对接会", "category": "financing", "starts_at": "2026-03-10T10:00",
            "ends_at": "2026-03-10T12:00", "place": "路演厅", "organiser_id": ids["member_id"],
            "signin_hours_after": "2"}


def _member(ids):
    return {"name": "新服务专员", "position": "专员", "is_active": "y"}


def _payment(ids):
    return {"company_id": ids["company_id"], "amount_yuan": "100", "received_on": "2026-03-10",
            "method": "bank_transfer", "reference": "FORGED-1"}


def _feedback(kind):
    return lambda ids: {"kind": kind, "rating": "5", "comment": "很好"}


def _last_week(ids):
    return f"week={_grid_day() - timedelta(days=_grid_day().weekday())}"


def _grid_day():
    """A day of last week: past, and after the grid person's registration."""
    return date.today() - timedelta(days=7)


FORM_KEYS = [
    FormKey("ledger.team", "user_id", "staff_user_id", "ledger.forms.PersonForm", "service_people", "user_id",
            values=_member),
    FormKey("ledger.person_edit", "user_id", "staff_user_id", "ledger.forms.PersonForm", "service_people",
            "user_id"),
    FormKey("ledger.request_create", "company_id", "company_id", "ledger.forms.RequestForm", "service_requests",
            "company_id", values=_request),
    FormKey("ledger.request_create", "handler_id", "member_id", "ledger.forms.RequestForm", "service_requests",
            "handler_id", values=_request),
    FormKey("ledger.request_edit", "company_id", "company_id", "ledger.forms.RequestForm", "service_requests",
            "company_id", control="graduate_id"),
    FormKey("ledger.request_edit", "handler_id", "member_id", "ledger.forms.RequestForm", "service_requests",
            "handler_id"),
    FormKey("ledger.visit_create", "company_id", "company_id", "ledger.forms.VisitForm", "visits", "company_id",
            values=_visit),
    FormKey("ledger.visit_create", "staff_id", "member_id", "ledger.forms.VisitForm", "visits", "staff_id",
            values=_visit),
    FormKey("ledger.visit_create", "agency_id", "agency_id", "ledger.forms.VisitForm", "visits", "agency_id",
            values=_visit),
    FormKey("ledger.visit_edit", "company_id", "company_id", "ledger.forms.VisitForm", "visits", "company_id",
            control="graduate_id"),
    FormKey("ledger.visit_edit", "staff_id", "member_id", "ledger.forms.VisitForm", "visits", "staff_id",
            control="spare_member_id"),
    FormKey("ledger.visit_edit", "agency_id", "agency_id", "ledger.forms.VisitForm", "visits", "agency_id"),
    FormKey("ledger.activity_create", "organiser_id", "member_id", "ledger.forms.ActivityForm", "activities",
            "organiser_id", values=_activity),
    FormKey("ledger.activity_create", "agency_id", "agency_id", "ledger.forms.ActivityForm", "activities",
            "agency_id", values=_activity),
    FormKey("ledger.activity_edit", "organiser_id", "member_id", "ledger.forms.ActivityForm", "activities",
            "organiser_id", control="spare_member_id"),
    FormKey("ledger.activity_edit", "agency_id", "agency_id", "ledger.forms.ActivityForm", "activities",
            "agency_id"),
    FormKey("ledger.feedback", "entry_id", "visit_id", "ledger.forms.FeedbackForm", "feedback", "visit_id",
            values=_feedback("visit"), role="tenant", page="ledger.mine"),
    FormKey("ledger.feedback", "entry_id", "done_request_id", "ledger.forms.FeedbackForm", "feedback",
            "request_id", values=_feedback("request"), role="tenant", page="ledger.mine"),
    FormKey("ledger.feedback", "entry_id", "activity_id", "ledger.forms.FeedbackForm", "feedback", "activity_id",
            values=_feedback("activity"), role="tenant", page="ledger.mine"),
    FormKey("billing.charges", "lease_id", "lease_id", "billing.invoice_forms.ChargeForm", "extra_charges",
            "lease_id", values=lambda ids: {"month": "2026-06", "kind": "utilities", "description": "6 月电费",
                                            "amount_yuan": "120"}),
    FormKey("billing.payment_new", "company_id", "company_id", "billing.payment_forms.PaymentForm",
            "rent_payments", "company_id", values=_payment),
    FormKey("billing.payment_new", "invoice_id", "invoice_id", "billing.payment_forms.PaymentForm",
            "payment_allocations", "invoice_id", values=_payment),
    FormKey("tenants.attendance_company", "p{id}_{day}", "grid_person_id", "tenants.attendance_views:_apply_week",
            "attendance", "person_id", page_query=_last_week, outcome=IGNORED),
    FormKey("tenants.followup_mine", "followup", "open_followup_id", "tenants.followup_views:followup_mine",
            "graduate_followups", "id", role="graduate",
            values=lambda ids: {"operating_status": "operating", "revenue_yuan": "1000000", "tax_yuan": "50000",
                                "employees": "12", "milestones": "获得天使轮融资"}),
]


def url(app, endpoint, ids):
    """The path of ``endpoint`` with the real ids of ``ids`` (as test_csrf.py builds them)."""
    rule = next(rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint)
    return rule.build({key: value for key, value in ids.items() if key in rule.arguments})[1]


def page_values(browser, page, action):
    """The values the form posting to ``action`` shows on ``page`` (its CSRF token and hidden fields included),
    as a browser would send them untouched."""
    response = browser.get(page)
    assert response.status_code == 200, (page, response.status_code)
    forms = [fields for form_action, fields in parse_forms(response.get_data(as_text=True), page)
             if form_action == action]
    assert forms, f"no form posting to {action} on {page}"
    return _baseline(forms[0])


def submit(app, browser, world, key, row_id):
    """Post ``key``'s form of base A, valid but for ``row_id`` in the key's field."""
    ids = world.a_ids
    path = url(app, key.endpoint, ids)
    page = url(app, key.page or key.endpoint, ids)
    if key.page_query:
        page += "?" + key.page_query(ids)
    data = page_values(browser, page, path)
    data.update({name: str(value) for name, value in (key.values(ids) if key.values else {}).items()})
    if key.field == "p{id}_{day}":
        data[key.field.format(id=row_id, day=_grid_day().isoformat())] = "1"
    else:
        data[key.field] = str(row_id)
    return browser.client.post(path, data=data)


def refused_on_field(response, name):
    """A 4xx, or the form again (200 or 422) with a Chinese message under ``name``."""
    if 400 <= response.status_code < 500:
        return True
    messages = field_errors(response).get(name, [])
    return response.status_code in (200, 422) and any(CJK.search(message) for message in messages)


@pytest.mark.parametrize("key", FORM_KEYS, ids=lambda key: f"{key.label}={key.plant}")
def test_an_id_of_another_base_in_a_form_is_refused_and_writes_nothing(app, world, browser, key):
    browser.login(world.users[key.role])
    before = snapshot(app)
    response = submit(app, browser, world, key, world.b_ids[key.plant])
    if key.outcome == IGNORED:
        assert response.status_code in (302, 303), (key.label, response.status_code)
    else:
        assert refused_on_field(response, key.field), (key.label, response.status_code, field_errors(response))
    assert diff(before, snapshot(app)) == [], key.label

    # The control: the same form with base A's own row is saved, so the refusal above was the id's.
    control_id = world.a_ids[key.control or key.plant]
    response = submit(app, browser, world, key, control_id)
    assert response.status_code in (302, 303), (key.label, response.status_code, field_errors(response))
    after = snapshot(app)
    changes = diff(before, after)
    assert any(name == key.table and how in ("new", "changed") and row[key.column] == control_id
               for name, how, row in changes), (key.label, [(name, how) for name, how, _ in changes])
    assert foreign_rows(changes, after, world.a.id) == []
    assert rows_of(after, world.b.id) == rows_of(before, world.b.id)


@dataclass(frozen=True)
class QueryKey:
    """An id read from the query string of a form's address (the link "record a payment for this bill"): it
    only fills the form's ``field`` in advance. Posted with B's id and the field left out, the form is refused
    on that field; posted with the field set to A's row, the form is saved with A's row and B's id is unused."""

    endpoint: str
    arg: str
    plant: str
    field: str
    declared_in: str
    table: str
    values: object

    @property
    def label(self):
        return f"{self.endpoint}?{self.arg}"


QUERY_KEYS = [
    QueryKey("ledger.request_create", "company", "company_id", "company_id", "ledger/views.py", "service_requests",
             _request),
    QueryKey("ledger.visit_create", "company", "company_id", "company_id", "ledger/views.py", "visits", _visit),
    QueryKey("billing.payment_new", "company_id", "company_id", "company_id", "billing/payment_views.py",
             "rent_payments", _payment),
    QueryKey("billing.payment_new", "invoice_id", "invoice_id", "invoice_id", "billing/payment_views.py",
             "rent_payments", lambda ids: {**_payment(ids), "invoice_id": ids["invoice_id"]}),
]


@pytest.mark.parametrize("key", QUERY_KEYS, ids=lambda key: key.label)
def test_an_id_of_another_base_in_a_forms_query_string_is_never_used(app, world, browser, key):
    browser.login(world.users["manager"])
    path = url(app, key.endpoint, world.a_ids)
    data = {**page_values(browser, path, path), **{name: str(value) for name, value in key.values(world.a_ids).items()}}
    forged = f"{path}?{key.arg}={world.b_ids[key.plant]}"
    before = snapshot(app)
    response = browser.client.post(forged, data={name: value for name, value in data.items() if name != key.field})
    assert refused_on_field(response, key.field), (key.label, response.status_code, field_errors(response))
    assert diff(before, snapshot(app)) == []

    response = browser.client.post(forged, data=data)
    assert response.status_code in (302, 303), (key.label, response.status_code, field_errors(response))
    after = snapshot(app)
    changes = diff(before, after)
    assert any(name == key.table and how == "new" for name, how, _ in changes), key.label
    assert foreign_rows(changes, after, world.a.id) == []
    assert rows_of(after, world.b.id) == rows_of(before, world.b.id)


@dataclass(frozen=True)
class FilterKey:
    """A list's filter that names a row (GET, reads only): B's id is dropped, the list shows none of B."""

    endpoint: str
    arg: str
    plant: str
    declared_in: str


FILTER_KEYS = [
    FilterKey("ledger.index", "company", "company_id", "ledger.forms.LedgerFilterForm"),
    FilterKey("ledger.index", "person", "member_id", "ledger.forms.LedgerFilterForm"),
    FilterKey("billing.index", "company", "company_id", "billing.invoice_forms.InvoiceFilterForm"),
]


def test_a_list_filtered_by_a_row_of_another_base_shows_none_of_it(app, world, browser):
    browser.login(world.users["manager"])
    before = snapshot(app)
    for key in FILTER_KEYS:
        path = url(app, key.endpoint, world.a_ids)
        unfiltered = browser.get(path).get_data(as_text=True)
        response = browser.get(f"{path}?{key.arg}={world.b_ids[key.plant]}")
        assert response.status_code == 200, (key, response.status_code)
        page = response.get_data(as_text=True)
        assert "布拉沃公司" not in page and "布拉沃公司" not in unfiltered, key
        # B's id is no filter of A's list: the list is the unfiltered one, A's own rows still there.
        assert page.count("<tr") == unfiltered.count("<tr") > 1, key
    assert diff(before, snapshot(app)) == []


# --- 2. The guards: a new id-taking field must join the tables above ----------------------------------------

# Fields the introspection below flags that name no row of a base, each with why.
_ZONE_KIND = "a zone kind (incubation, growth, public service) from fixed choices, stored as text"
NOT_ROW_IDS = {
    "billing.payment_forms.StripeAccountForm.stripe_account_id": "Stripe's own account id (acct_…), checked by "
                                                                 "pattern; the manager's setting of their base",
    "billing.stripe_views.SubscribeForm.plan": "a plan's key from the configuration (billing.plans), operator "
                                               "level",
    "ledger.forms.VisitForm.people": "free text: the names of the people who went",
    "operator_app.admin.forms.CalendarYearForm.year": "a year (the platform's work calendar, no base)",
    "tenants.forms.CompanyForm.zone": _ZONE_KIND,
    "tenants.forms.AdmitForm.zone": _ZONE_KIND,
    "tenants.listing.CompanyFilterForm.zone": _ZONE_KIND,
}


def _import_everything():
    import importlib
    import pkgutil

    for package in PACKAGES:
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, package + "."):
            importlib.import_module(info.name)


def _subclasses(cls):
    for subclass in cls.__subclasses__():
        yield subclass
        yield from _subclasses(subclass)


def _row_names():
    """The words a field naming a row would be called by: every foreign key column (``company_id``) and what it
    names (``company``), every table in the singular (``market_quote``) and its last word (``quote``)."""
    names = set()
    for table in db.metadata.sorted_tables:
        for foreign_key in table.foreign_keys:
            names.update({foreign_key.parent.name, foreign_key.parent.name.removesuffix("_id")})
        singular = re.sub(r"ies$", "y", table.name) if table.name.endswith("ies") else table.name.removesuffix("s")
        names.update({singular, singular.rsplit("_", 1)[-1]})
    return names


def id_fields():
    """{"module.Form.field"} of every WTForms field of the app that may name a row by id.

    Every module of the app's packages is imported, every WTForms class defined there is read (its declared,
    unbound fields: no request, no database, no rendering needed, so a field shown only in some state of a
    record is not missed), and a field is flagged when

    - its name is ``id`` or ends with ``_id`` (``company_id``, ``entry_id``), whatever its type; or
    - it is a choice field (select, radio, checkboxes) declared without choices: they are filled at request
      time, from the database (the view's ``form.company_id.choices = [...]``); or
    - it can carry an id (not a file, date, number with decimals, check box, text area, password or sub-form)
      and is named after a row: a foreign key column or what it names (``company``, ``person``, ``base``), or a
      table (``quote``, ``zone``), so a filter or a renamed field is caught too.

    A field is keyed by the class that declares it (an inherited field is listed once). What it misses: an
    integer field named after nothing in the schema (``IntegerField("target")``); hence the control cases of
    FORM_KEYS are also reviewed with every new form.
    """
    from wtforms import (BooleanField, DateField, DateTimeField, DecimalField, FileField, Form, FormField,
                         PasswordField, TextAreaField)
    from wtforms.fields import SelectFieldBase
    from wtforms.fields.core import UnboundField

    cannot_carry_an_id = (BooleanField, DateField, DateTimeField, DecimalField, FileField, FormField, PasswordField,
                          TextAreaField)
    _import_everything()
    row_names = _row_names()
    found = set()
    for cls in set(_subclasses(Form)):
        if cls.__module__.split(".")[0] not in PACKAGES:
            continue
        for name in dir(cls):
            unbound = getattr(cls, name, None)
            if not isinstance(unbound, UnboundField):
                continue
            declared_by = next(klass for klass in cls.__mro__ if name in vars(klass))
            choices = unbound.kwargs.get("choices", unbound.args[1] if len(unbound.args) > 1 else None)
            filled_later = issubclass(unbound.field_class, SelectFieldBase) and not choices
            named_after_a_row = name in row_names and not issubclass(unbound.field_class, cannot_carry_an_id)
            if name == "id" or name.endswith("_id") or filled_later or named_after_a_row:
                found.add(f"{declared_by.__module__}.{declared_by.__qualname__}.{name}")
    return found


def test_every_wtforms_field_that_names_a_row_is_covered(app):
    covered = {f"{key.declared_in}.{key.field}" for key in FORM_KEYS if ":" not in key.declared_in} | {
        f"{key.declared_in}.{key.arg}" for key in FILTER_KEYS}
    flagged = id_fields()
    assert len(flagged) > 15, flagged  # the introspection sees the app's forms
    unlisted = flagged - covered - set(NOT_ROW_IDS)
    assert not unlisted, ("a form field names a row by id: add it to FORM_KEYS (or FILTER_KEYS, or NOT_ROW_IDS "
                          f"with the reason) in tests/operator_app/test_forged_keys.py: {sorted(unlisted)}")
    stale = (covered | set(NOT_ROW_IDS)) - flagged
    assert not stale, f"listed but no longer in any form: {sorted(stale)}"


# What the views read from the request outside WTForms, by (file, mapping, key): a key that names a row gives
# the labels of the FORM_KEYS or QUERY_KEYS that cover it; every other key says what it is. "*" is the whole
# mapping (handed to a WTForms class, whose fields the test above checks, or asked whether a key is present).
REQUEST_READS = {
    ("tenants/followup_views.py", "form", "followup"): ("tenants.followup_mine:followup",),
    # The attendance grid's check boxes p<person id>_<day>, and was_p<person id>_<day> (their old value).
    ("tenants/attendance_views.py", "form", "request.form.get(key)"): ("tenants.attendance_company:p{id}_{day}",),
    ("tenants/attendance_views.py", "form", "request.form.get('was_' + key)"):
        ("tenants.attendance_company:p{id}_{day}",),
    ("ledger/views.py", "args", "company"): ("ledger.request_create?company", "ledger.visit_create?company"),
    ("billing/payment_views.py", "args", "request.args.get(name, type=int)"):
        ("billing.payment_new?company_id", "billing.payment_new?invoice_id"),
    ("billing/invoice_views.py", "args", "*"): "InvoiceFilterForm (FILTER_KEYS)",
    ("ledger/views.py", "args", "*"): "LedgerFilterForm (FILTER_KEYS)",
    ("tenants/views.py", "args", "*"): "CompanyFilterForm: zone, status, industry, sort (no ids)",
    ("billing/payment_views.py", "args", "*"): "ExportForm (dates) and whether 'download' is asked",
    ("billing/stripe_views.py", "get_data", "*"): "the Stripe webhook's body, verified by its signature",
    ("tenants/attendance_views.py", "cookies", "request.cookies.get(CHECKIN_COOKIE, '')"):
        "the phone's check-in cookie, signed by the server and bound to the base",
    ("billing/invoice_views.py", "args", "page"): "a page number",
    ("ledger/views.py", "args", "page"): "a page number",
    ("operator_app/bases/views.py", "args", "page"): "a page number",
    ("tenants/views.py", "args", "page"): "a page number",
    ("tenants/rent_views.py", "args", "history"): "a page number (the ended and future leases)",
    ("ledger/views.py", "args", "thumb"): "whether the thumbnail is asked",
    ("operator_app/auth/views.py", "args", "next"): "a path of this site (safe_next)",
    ("operator_app/filings/annual_views.py", "form", "action"): "which button",
    ("tenants/report_views.py", "form", "action"): "which button",
    ("tenants/views.py", "form", "action"): "which button",
    ("operator_app/filings/compliance_views.py", "args", "print"): "the printable layout",
    ("tenants/attendance_views.py", "args", "month"): "a month",
    ("tenants/attendance_views.py", "values", "month"): "a month",
    ("tenants/report_views.py", "args", "month"): "a month",
    ("tenants/attendance_views.py", "args", "week"): "a week's first day",
    ("tenants/attendance_views.py", "form", "week"): "a week's first day",
    ("tenants/views.py", "values", "status"): "a status",
}
INPUT_ATTRIBUTES = {"form", "args", "values", "json", "get_json", "cookies", "data", "get_data"}


def request_reads():
    """{(file, mapping, key)} of every read of the request's input in the app's source, found in its syntax tree.

    ``request.form.get("followup")`` and ``request.args["x"]`` give their key; a key that is not written out
    (``request.form.get(key)``) gives the call's source; the mapping used whole (``Form(request.args)``,
    ``"download" in request.args``, ``request.get_json()``) gives "*". JSON bodies and cookies are included,
    so a JSON endpoint or a new raw read fails the test below until it is classified.
    """
    reads = set()
    for package in PACKAGES:
        for path in sorted((PROJECT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                        and node.value.id == "request" and node.attr in INPUT_ATTRIBUTES):
                    continue
                parent, key = parents[node], "*"
                call = parents.get(parent)
                if isinstance(parent, ast.Attribute) and isinstance(call, ast.Call) and call.func is parent:
                    literal = call.args and isinstance(call.args[0], ast.Constant)
                    key = call.args[0].value if literal and parent.attr in ("get", "getlist") else ast.unparse(call)
                elif isinstance(parent, ast.Subscript) and parent.value is node:
                    key = parent.slice.value if isinstance(parent.slice, ast.Constant) else ast.unparse(parent)
                reads.add((path.relative_to(PROJECT).as_posix(), node.attr, key))
    return reads


def test_every_raw_read_of_the_request_is_classified():
    reads = request_reads()
    unlisted = reads - set(REQUEST_READS)
    assert not unlisted, ("a view reads the request outside WTForms: if the value names a row, cover it in "
                          "FORM_KEYS or QUERY_KEYS, else say what it is in REQUEST_READS "
                          f"(tests/operator_app/test_forged_keys.py): {sorted(unlisted)}")
    assert not set(REQUEST_READS) - reads, f"no longer read: {sorted(set(REQUEST_READS) - reads)}"
    # Each raw read that names a row is covered, and each key read outside WTForms is one of those reads.
    pointed_at = {label for what in REQUEST_READS.values() if isinstance(what, tuple) for label in what}
    raw_keys = {key.label for key in FORM_KEYS if ":" in key.declared_in} | {key.label for key in QUERY_KEYS}
    assert pointed_at == raw_keys


# --- 3. A forged base_id in every form post ---------------------------------------------------------------

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
# Posted last, in this order of words, so that the records the other forms name are still there.
LAST = ("review", "exit", "deactivate", "revoke", "withdraw", "remove", "delete")


def _pdf(name):
    """A file for an upload field (a new stream for each post)."""
    return BytesIO(PDF_BYTES), name


def _week_values(ids):
    monday = _grid_day() - timedelta(days=_grid_day().weekday())
    return {"week": monday.isoformat(), f"p{ids['grid_person_id']}_{monday.isoformat()}": "1"}


_PHONES = (f"137{n:08d}" for n in count(1))
_FIGURES = {"revenue_yuan": "100000", "tax_yuan": "5000", "employees": "10"}
# Values that make each form valid (a create form) or change its record (an edit form, which shows its record's
# values), over the values its page shows: so that the walk below really writes.
VALID = {
    "bases.members": lambda ids: {"email": "new.colleague@example.com", "role": c.ROLE_STAFF},
    "bases.profile": lambda ids: {"address": "太原市晋阳街 1 号"},
    "billing.charges": lambda ids: {"lease_id": ids["lease_id"], "month": "2026-06", "kind": "utilities",
                                    "description": "6 月电费", "amount_yuan": "120"},
    "billing.credit_note_new": lambda ids: {"amount_yuan": "5", "reason": "维修减免", "issued_on": "2026-03-10"},
    "billing.payment_new": _payment,
    "billing.settings": lambda ids: {"payee_name": "阿尔法运营有限公司"},
    "billing.stripe_account": lambda ids: {"stripe_account_id": "acct_1Alpha"},
    "filings.annual_save": lambda ids: {"plan": "明年计划：新增孵化场地"},
    "filings.annual_sent": lambda ids: {"sent_on": "2026-01-20"},
    "filings.inspection_documents": lambda ids: {"kind": "audit_report", "title": "专项审计报告",
                                                 "dated_on": "2026-03-01", "file": _pdf("审计报告.pdf")},
    "filings.new_version": lambda ids: {"reason": "数据更正"},
    "ledger.activity_create": _activity,
    "ledger.activity_edit": lambda ids: {"results": "对接成功 3 家"},
    "ledger.activity_files": lambda ids: {"kind": "notice", "files": _pdf("通知.pdf")},
    "ledger.agency_create": lambda ids: {"name": "新合作机构", "category": "financing",
                                         "agreement_starts_on": "2026-01-01"},
    "ledger.agency_edit": lambda ids: {"services": "融资对接"},
    "ledger.feedback": lambda ids: {"rating": "5"},
    "ledger.mine": lambda ids: {"category": "financing", "content": "需要融资对接"},
    "ledger.person_edit": lambda ids: {"position": "主任"},
    "ledger.request_create": _request,
    "ledger.request_edit": lambda ids: {"content": "想申请创业担保贷款（已核实）"},
    "ledger.request_status": lambda ids: {"status": "in_progress"},
    "ledger.team": _member,
    "ledger.visit_create": _visit,
    "ledger.visit_edit": lambda ids: {"follow_up": "下月回访"},
    "tenants.attendance_company": _week_values,
    "tenants.company_create": lambda ids: {"name": "新入驻科技有限公司", "uscc": valid_uscc(777), "industry": "I",
                                           "legal_representative": "李四", "moved_in_on": "2026-03-01"},
    "tenants.company_edit": lambda ids: {"main_business": "软件开发与信息服务"},
    "tenants.company_exit": lambda ids: {"reason": "graduation", "exit_on": "2026-11-01", "keys_returned": "y",
                                         "rent_settled": "y", "deposit_settled": "y"},
    "tenants.contact_invite": lambda ids: {"email": "contact.new@example.com"},
    "tenants.document_upload": lambda ids: {"kind": "licence", "file": _pdf("营业执照.pdf")},
    "tenants.followup_mine": lambda ids: {"followup": ids["open_followup_id"], "operating_status": "operating",
                                          **_FIGURES},
    "tenants.followup_record": lambda ids: {"operating_status": "operating", **_FIGURES},
    "tenants.lease_create": lambda ids: {"space_type": "office", "units": "B-201", "area_m2": "50",
                                         "starts_on": "2026-01-01", "ends_on": "2026-12-31",
                                         "list_rent_yuan": "40", "actual_rent_yuan": "30"},
    "tenants.lease_edit": lambda ids: {"notes": "续签"},
    "tenants.milestone_create": lambda ids: {"occurred_on": "2026-03-01", "kind": "patent", "title": "发明专利授权"},
    "tenants.people_manage": lambda ids: {"name": "新工位人员", "phone": next(_PHONES)},
    "tenants.points_manage": lambda ids: {"name": "二楼入口"},
    "tenants.policy_edit": lambda ids: {"summary": "入驻首年房租减半"},
    "tenants.quote_create": lambda ids: {"quoted_on": "2026-03-01", "source": "agency", "source_name": "链家",
                                         "space_type": "office", "price_yuan": "50"},
    "tenants.report_form": lambda ids: {**_FIGURES, "reason": "更正营业收入"},
    "tenants.rules_edit": lambda ids: {"entry_conditions": "科技型初创企业", "is_published": "y",
                                       "accepts_applications": "y"},
    "tenants_public.public_apply": lambda ids: {"name": "申请入驻科技有限公司", "uscc": valid_uscc(778),
                                                "industry": "I", "legal_representative": "周七",
                                                "contact_name": "周七", "contact_phone": "13600000001",
                                                "contact_email": "apply@example.com", "main_business": "人工智能"},
    "tenants_public.public_checkin": lambda ids: {"phone": ids["checkin_phone"], "pin": ids["checkin_pin"]},
    "ledger_public.signin": lambda ids: {"name": "访客", "phone": next(_PHONES), "company_name": "来访公司"},
}


def _order(rule):
    return next((n + 1 for n, word in enumerate(LAST) if word in rule.endpoint), 0), rule.endpoint


def walk_with_forged_base_id(app, browser, world, endpoints, label, ids=None, token_page="/account/password"):
    """Post every form of ``endpoints`` of base A with its page's values (and VALID's) plus ``base_id`` of B in
    the body and in the query string; returns {endpoint: the tables it wrote} and the problems found: a 500, a
    row written that is not base A's alone (``foreign_rows``), a row of base B changed."""
    ids = {**world.a_ids, **(ids or {})}
    forms = collect_forms(app, browser, ids, endpoints)
    token = browser.csrf_token(token_page)
    forged = str(world.b.id)
    wrote, problems = {}, []
    before = snapshot(app)
    b_rows = rows_of(before, world.b.id)
    rules = sorted((rule for rule in app.url_map.iter_rules() if rule.endpoint in endpoints
                    and rule.methods & STATE_CHANGING), key=_order)
    for rule in rules:
        path = url(app, rule.endpoint, ids)
        _, fields = forms.get(path, (None, {}))
        values = VALID.get(rule.endpoint)
        for method in sorted(rule.methods & STATE_CHANGING):
            data = {**_baseline(fields), "csrf_token": token, "base_id": forged}
            data.update({name: value if isinstance(value, tuple) else str(value)
                         for name, value in (values(ids) if values else {}).items()})
            response = browser.client.open(f"{path}?base_id={forged}", method=method, data=data)
            after = snapshot(app)
            changes = diff(before, after)
            if response.status_code >= 500:
                problems.append((label, rule.endpoint, response.status_code))
            problems.extend((label, rule.endpoint, *wrong) for wrong in foreign_rows(changes, after, world.a.id))
            written = {name for name, _, _ in changes if name not in ("user_sessions", "audit_entries")}
            if written:
                wrote[rule.endpoint] = sorted(written)
            before = after
    if rows_of(before, world.b.id) != b_rows:
        problems.append((label, "base B's rows changed"))
    return wrote, problems


_PUBLIC_FORMS = ("tenants_public.public_checkin", "ledger_public.signin", "tenants_public.public_apply")


def _public_ids(app, world):
    """The codes of base A's public forms: today's code of a check-in point, an activity open for sign-in."""
    from operator_app.accounts.models import Base
    from tenants import attendance_services
    from tenants.models import CheckInPoint

    factory = Factory(app)
    live = factory.activity(world.a, organiser_id=world.a_ids["member_id"],
                            starts_at=datetime.now(timezone.utc) - timedelta(minutes=30), title="正在进行的路演")
    with app.app_context(), scoped_to(world.a.id):
        point = db.session.get(CheckInPoint, world.a_ids["point_id"])
        point_code = attendance_services.point_code(point, today_in(db.session.get(Base, world.a.id).timezone))
    return {"tenants_public.public_checkin": {"code": point_code},
            "ledger_public.signin": {"activity_id": live, "code": factory.activity_code(world.a, live)},
            "tenants_public.public_apply": {}}


def test_a_forged_base_id_in_every_form_post_writes_only_base_a_rows(app, world, new_browser):
    """The manager walks every base form of A, the tenant contact and a graduate's contact theirs, a visitor the
    public ones (the rules accept applications once the manager's walk has saved them), all with B's base_id."""
    tenant_routes = {endpoint for endpoint in BASE_SCOPED
                     if c.ROLE_TENANT in app.view_functions[endpoint].allowed_roles}
    results = {}
    for role, endpoints in (("manager", BASE_SCOPED), ("tenant", tenant_routes), ("graduate", tenant_routes)):
        browser = new_browser()
        browser.login(world.users[role])
        results[role] = walk_with_forged_base_id(app, browser, world, endpoints, role)
    for endpoint, ids in _public_ids(app, world).items():
        results[endpoint] = walk_with_forged_base_id(app, new_browser(), world, {endpoint}, "visitor", ids,
                                                     token_page="/login")
    assert [problem for _, problems in results.values() for problem in problems] == []
    # The walk really wrote: most base forms, the tenant's and the graduate's own, every public one.
    assert len(results["manager"][0]) >= 45, sorted(results["manager"][0])
    assert {"ledger.feedback", "ledger.mine", "tenants.people_manage", "tenants.report_form"} <= set(
        results["tenant"][0])
    assert "tenants.followup_mine" in results["graduate"][0]
    for endpoint in _PUBLIC_FORMS:
        assert endpoint in results[endpoint][0], endpoint
