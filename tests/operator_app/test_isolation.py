"""Isolation by base: every route as a user of another base answers 404; the ORM hook fails closed."""
import pytest
from sqlalchemy.orm.exc import ObjectDeletedError
from sqlalchemy import delete, exists, func, select, update

from operator_app.accounts import constants as c
from operator_app.accounts.models import Base, Invitation, Zone
from operator_app.db import ScopeError, get_or_404, scoped_to, set_current_base, unscoped
from operator_app.extensions import db
from werkzeug.exceptions import NotFound

from ..helpers import Factory

# Every endpoint of the app, classified. A new route that is not listed here fails test_every_route_is_classified.
PUBLIC = {"auth.home", "auth.login", "auth.signup", "auth.accept_invite", "auth.set_language",
          "static", "bootstrap.static", "stripe_webhook.receive"}
ACCOUNT = {"auth.logout", "auth.change_password", "operators.bases", "operators.base_create", "operators.filings",
           "admin.calendar", "subscription.index", "subscription.subscribe", "subscription.portal"}
BASE_SCOPED = {"bases.dashboard", "bases.profile", "bases.members", "bases.invitation_revoke", "bases.audit_log",
               "tenants.company_list", "tenants.company_export", "tenants.company_create", "tenants.company_detail",
               "tenants.company_edit", "tenants.milestone_create", "tenants.milestone_delete",
               "tenants.document_upload", "tenants.document_download", "tenants.document_delete",
               "tenants.company_review", "tenants.company_move_in", "tenants.company_exit", "tenants.contact_invite",
               "tenants.my_company", "tenants.rules_edit", "tenants.company_import", "tenants.import_template",
               "tenants.rent_compliance", "tenants.rent_export", "tenants.quote_create", "tenants.quote_delete",
               "tenants.quote_evidence", "tenants.policy_edit", "tenants.policy_document", "tenants.rent_settings",
               "tenants.lease_create", "tenants.lease_edit", "tenants.lease_delete",
               "tenants.attendance_month", "tenants.attendance_settings", "tenants.attendance_company",
               "tenants.attendance_export", "tenants.attendance_import", "tenants.people_manage",
               "tenants.person_deactivate", "tenants.person_reset_pin", "tenants.points_manage",
               "tenants.point_show", "tenants.portal", "tenants.report_form", "tenants.company_reports",
               "tenants.reports_month", "tenants.report_settings", "tenants.graduate_list",
               "tenants.followup_overdue", "tenants.followup_company", "tenants.followup_record",
               "tenants.followup_mine", "tenants.followup_settings",
               "ledger.index", "ledger.export", "ledger.satisfaction", "ledger.team", "ledger.person_edit",
               "ledger.agency_create", "ledger.agency_edit", "ledger.agency_agreement", "ledger.request_create",
               "ledger.request_detail", "ledger.request_edit", "ledger.request_status", "ledger.visit_create",
               "ledger.visit_detail", "ledger.visit_edit", "ledger.activity_create", "ledger.activity_detail",
               "ledger.activity_edit", "ledger.activity_files", "ledger.activity_file", "ledger.activity_file_delete",
               "ledger.activity_qr", "ledger.entry_delete", "ledger.mine", "ledger.feedback",
               "filings.index", "filings.quarter", "filings.generate", "filings.filing", "filings.download",
               "filings.submit", "filings.new_version", "filings.settings", "filings.annual_list",
               "filings.annual_draft", "filings.annual_show", "filings.annual_save", "filings.annual_refresh",
               "filings.annual_sent", "filings.annual_docx", "filings.annual_annex", "filings.compliance",
               "filings.compliance_panel",
               "filings.inspection_documents", "filings.inspection_document_remove",
               "filings.inspection_document_file",
                "billing.index", "billing.invoices_issue", "billing.invoice", "billing.invoice_print",
                "billing.charges", "billing.charge_withdraw", "billing.supplementary_issue", "billing.settings",
                "billing.my_invoices", "billing.payment_new", "billing.payment_detail", "billing.credit_note_new",
                "billing.credit_note_detail", "billing.company_statement", "billing.arrears", "billing.export",
                "billing.stripe_account", "billing.payment_link_create", "billing.pay_online"}
# Pages a base shows to anyone under /p/<base_slug>/ (published rules, the application link).
PUBLIC_BASE = {"tenants_public.public_rules", "tenants_public.public_apply", "tenants_public.public_apply_done",
               "tenants_public.public_checkin", "ledger_public.signin"}

ROLES = (c.ROLE_MANAGER, c.ROLE_STAFF, c.ROLE_MENTOR, c.ROLE_TENANT)


def test_every_route_is_classified(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    unknown = endpoints - PUBLIC - ACCOUNT - BASE_SCOPED - PUBLIC_BASE
    assert not unknown, f"classify these routes in tests/operator_app/test_isolation.py: {sorted(unknown)}"
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if rule.endpoint in BASE_SCOPED:
            assert rule.rule.startswith("/b/<base_slug>/"), rule.rule
            assert getattr(view, "allowed_roles", None), f"{rule.endpoint} declares no roles"
        elif rule.endpoint in PUBLIC_BASE:
            assert rule.rule.startswith("/p/<base_slug>/"), rule.rule
        else:
            assert "<base_slug>" not in rule.rule, rule.rule


@pytest.fixture
def two_bases(factory):
    base_a = factory.base("alpha")
    base_b = factory.base("bravo")
    invitation_id, _ = factory.invitation(base_b, email="someone@bravo.example")
    company_id = factory.company(base_b, name="布拉沃公司")
    factory.company(base_a, name="阿尔法公司")
    ids = {"invitation_id": invitation_id, "company_id": company_id,
           "milestone_id": factory.milestone(base_b, company_id),
           "document_id": factory.document(base_b, company_id),
           "quote_id": factory.quote(base_b), "policy_id": factory.policy(base_b),
           "lease_id": factory.lease(base_b, company_id),
           "person_id": factory.person(base_b, company_id)[0], "point_id": factory.point(base_b)}
    ids.update(ledger_ids(factory, base_b, company_id), month="2026-10", followup_id=graduate_followup(factory, base_b))
    ids.update(filing_ids(factory, base_b))
    ids.update(billing_ids(factory, base_b, ids["lease_id"]))
    return base_a, base_b, ids


def billing_ids(factory, base, lease_id):
    """A supplementary bill of ``base`` (an extra charge billed at once) with a credit note and a payment, and a
    charge still pending, named as the billing routes name their ids."""
    from datetime import date

    from billing import invoicing, payments
    from operator_app.accounts.models import User
    from tenants.models import Lease

    with factory.app.test_request_context(), scoped_to(base.id):
        owner = db.session.get(User, base.owner.id)
        lease = db.session.get(Lease, lease_id)
        invoicing.add_charge(lease, {"month": "2026-03", "kind": "utilities", "description": "3 月电费",
                                     "amount_fen": 100_000}, by=owner)
        bill = invoicing.issue_supplementary(lease, date(2026, 3, 5), by=owner)
        pending = invoicing.add_charge(lease, {"month": "2026-04", "kind": "utilities", "description": "4 月电费",
                                               "amount_fen": 100}, by=owner)
        note = payments.issue_credit_note(bill, amount_fen=1_000, reason="停电一天减免", issued_on=date(2026, 3, 6),
                                          by=owner)
        payment = payments.record_payment(lease.company, {
            "amount_fen": 5_000, "received_on": date(2026, 3, 7), "method": "bank_transfer", "reference": "B-1",
            "notes": ""}, by=owner)
        db.session.commit()
        return {"invoice_id": bill.id, "charge_id": pending.id, "credit_note_id": note.id, "payment_id": payment.id}


def one_of_everything(factory, mentor_is_author=False):
    """A base ("alpha") with one of every record the base routes name, its tenant contact linked to a company;
    returns (base, ids) with the ids named as the routes name them. With ``mentor_is_author`` the ledger entries
    are the mentor's (a mentor may change only their own)."""
    base = factory.base("alpha")
    invitation_id, token = factory.invitation(base)
    company_id = factory.company(base)
    factory.link_tenant(base, company_id)
    ids = {"base_slug": base.slug, "invitation_id": invitation_id, "token": token, "company_id": company_id,
           "milestone_id": factory.milestone(base, company_id), "document_id": factory.document(base, company_id),
           "quote_id": factory.quote(base), "policy_id": factory.policy(base),
           "lease_id": factory.lease(base, company_id), "person_id": factory.person(base, company_id)[0],
           "point_id": factory.point(base)}
    author = base.users[c.ROLE_MENTOR] if mentor_is_author else None
    ids.update(ledger_ids(factory, base, company_id, author=author), month="2026-10",
               followup_id=graduate_followup(factory, base))
    ids.update(filing_ids(factory, base))
    ids.update(billing_ids(factory, base, ids["lease_id"]))
    return base, ids


def graduate_followup(factory, base):
    """A graduate of ``base`` (left 31 August 2025) and the id of its first follow-up."""
    from datetime import date

    from operator_app.accounts.models import User
    from tenants import services as tenant_services
    from tenants.followups import GraduateFollowUp
    from tenants.models import TenantCompany

    graduate = factory.company(base, name="毕业公司", moved_in_on=date(2020, 1, 1))
    with factory.app.test_request_context(), scoped_to(base.id):
        tenant_services.record_exit(db.session.get(TenantCompany, graduate), reason="graduation",
                                    exit_on=date(2025, 8, 31), today=date(2025, 8, 31), keys_returned=True,
                                    rent_settled=True, deposit_settled=True, notes="",
                                    by=db.session.get(User, base.owner.id))
        db.session.commit()
        return db.session.scalar(select(GraduateFollowUp.id).where(GraduateFollowUp.company_id == graduate)
                                 .order_by(GraduateFollowUp.due_on))


def filing_ids(factory, base):
    """The 2025 Q3 filing, the 2025 annual summary and an inspection document of ``base``, and the other parts
    of the filings' addresses."""
    from datetime import date, datetime, timezone
    from io import BytesIO

    from werkzeug.datastructures import FileStorage

    from operator_app.accounts.models import User
    from operator_app.filings import annual, compliance_services
    from operator_app.filings import services as filing_services

    with factory.app.test_request_context(), scoped_to(base.id):
        base_row = db.session.get(Base, base.id)
        filing = filing_services.generate(base_row, 2025, 3, today=date(2025, 10, 20))
        annual.ensure_summary(base_row, 2025, today=date(2026, 1, 5),
                              now=datetime(2026, 1, 5, tzinfo=timezone.utc))
        upload = FileStorage(BytesIO(b"%PDF-1.4 audit report"), filename="审计报告.pdf")
        document = compliance_services.add_document(
            {"kind": "audit_report", "title": "2025年度专项审计报告", "dated_on": date(2026, 3, 1)},
            upload=upload, by=db.session.get(User, base.owner.id))
        db.session.commit()
        return {"filing_id": filing.id, "year": 2025, "quarter": 3, "file_format": "xlsx",
                "inspection_document_id": document.id}


def ledger_ids(factory, base, company_id, author=None):
    """One of each ledger record of ``base``, named as the ledger's routes name their ids (entries recorded by
    ``author``, default the owner)."""
    factory.ledger_author = author
    staff = factory.service_person(base)
    activity = factory.activity(base, organiser_id=staff)
    agency = factory.agency(base)
    with_agreement = factory.agency(base)
    factory.link_agreement(base, with_agreement)
    ids = {"agency_id": with_agreement, "request_id": factory.service_request(base, company_id),
           "visit_id": factory.visit(base, company_id, staff_id=staff, agency_id=agency),
           "activity_id": activity, "file_id": factory.activity_file(base, activity),
           "kind": "visit", "entry_id": factory.visit(base, company_id, staff_id=staff),
           "code": factory.activity_code(base, activity), "member_id": staff}
    factory.ledger_author = None
    return ids


def _base_urls(app, base_b, ids, with_ids_only=False):
    for rule in app.url_map.iter_rules():
        if rule.endpoint not in BASE_SCOPED or (with_ids_only and not any(argument.endswith("_id")
                                                                          for argument in rule.arguments)):
            continue
        values = {"base_slug": base_b.slug}
        for argument in rule.arguments - {"base_slug"}:
            assert argument in ids, f"no id of base B for <{argument}> in {rule.rule}"
            values[argument] = ids[argument]
        path = rule.build(values)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, path


def _walk_as(app, browser, urls, expected_status, label):
    token = browser.csrf_token("/account/password")
    checked = 0
    for method, path in urls:
        response = browser.client.open(path, method=method, data={
            "csrf_token": token, "email": "x@example.com", "role": "staff", "name": "改名", "base_type": "university"})
        assert response.status_code == expected_status, (label, method, path, response.status_code)
        checked += 1
    assert checked >= len(BASE_SCOPED)


def _base_b_untouched(app, base_b, ids):
    from tenants.models import CompanyDocument, Milestone, TenantCompany

    with app.app_context(), unscoped("test reads base B's rows directly"):
        invitation = db.session.get(Invitation, ids["invitation_id"])
        assert invitation.revoked_at is None and invitation.base_id == base_b.id
        assert db.session.get(Base, base_b.id).name == base_b.name
        company = db.session.get(TenantCompany, ids["company_id"])
        assert company.name == "布拉沃公司" and company.status == "in_residence" and company.base_id == base_b.id
        assert db.session.get(Milestone, ids["milestone_id"]).deleted_at is None
        assert db.session.get(CompanyDocument, ids["document_id"]).deleted_at is None
        assert db.session.scalar(select(func.count(TenantCompany.id)).where(TenantCompany.base_id == base_b.id)) == 2
        from tenants.followups import GraduateFollowUp

        assert db.session.get(GraduateFollowUp, ids["followup_id"]).answered_at is None
        from tenants.models import Lease, MarketQuote

        assert db.session.get(MarketQuote, ids["quote_id"]).deleted_at is None
        lease = db.session.get(Lease, ids["lease_id"])
        assert lease.deleted_at is None and lease.actual_rent_fen == 3000
        from ledger.models import Activity, ActivityFile, ServicePerson, ServiceRequest, Visit

        assert db.session.get(ServiceRequest, ids["request_id"]).status == "open"
        assert db.session.get(ServiceRequest, ids["request_id"]).deleted_at is None
        assert db.session.get(Visit, ids["entry_id"]).deleted_at is None
        assert db.session.get(Activity, ids["activity_id"]).deleted_at is None
        assert db.session.get(ActivityFile, ids["file_id"]).deleted_at is None
        assert db.session.get(ServicePerson, ids["member_id"]).name != "改名"
        from billing.models import CreditNote, ExtraCharge, Payment, RentInvoice

        assert db.session.scalar(select(func.count(RentInvoice.id)).where(RentInvoice.base_id == base_b.id)) == 1
        assert db.session.scalar(select(func.count(Payment.id)).where(Payment.base_id == base_b.id)) == 1
        assert db.session.scalar(select(func.count(CreditNote.id)).where(CreditNote.base_id == base_b.id)) == 1
        assert db.session.get(ExtraCharge, ids["charge_id"]).deleted_at is None


@pytest.mark.parametrize("role", ROLES + ("owner",))
def test_every_base_route_of_another_base_is_404(app, two_bases, browser, role):
    base_a, base_b, ids = two_bases
    browser.login(base_a.owner if role == "owner" else base_a.users[role])
    _walk_as(app, browser, _base_urls(app, base_b, ids), 404, role)
    _base_b_untouched(app, base_b, ids)


def test_another_bases_object_id_under_ones_own_base_is_404(app, two_bases, browser):
    """The manager of A uses A's address with B's object ids: the scoped lookup answers 404."""
    base_a, base_b, ids = two_bases
    browser.login(base_a.owner)
    urls = [(method, path.replace(f"/b/{base_b.slug}/", f"/b/{base_a.slug}/", 1))
            for method, path in _base_urls(app, base_b, ids, with_ids_only=True)]
    assert urls, "every route with an object id is tried"
    for method, path in urls:
        response = browser.post(path, {}, form_page="/account/password") if method == "POST" else browser.get(path)
        assert response.status_code == 404, (method, path)
    _base_b_untouched(app, base_b, ids)


def test_anonymous_is_sent_to_login_for_every_base_and_account_route(app, two_bases, browser):
    _, base_b, ids = two_bases
    token = browser.csrf_token("/login")
    account_urls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ACCOUNT:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                account_urls.append((method, rule.build({})[1]))
    for method, path in list(_base_urls(app, base_b, ids)) + account_urls:
        response = browser.client.open(path, method=method, data={"csrf_token": token})
        assert response.status_code == 302 and "/login" in response.headers["Location"], (method, path)


def test_lists_and_exports_of_a_base_hold_no_row_of_another(app, two_bases, browser):
    import io

    import openpyxl

    base_a, base_b, ids = two_bases
    browser.login(base_a.owner)
    page = browser.get(f"/b/{base_a.slug}/tenants/?status=all").get_data(as_text=True)
    assert "阿尔法公司" in page and "布拉沃公司" not in page
    assert f'data-company-id="{ids["company_id"]}"' not in page
    export = browser.get(f"/b/{base_a.slug}/tenants/export.xlsx?status=all")
    names = [row[0] for row in openpyxl.load_workbook(io.BytesIO(export.data)).active.iter_rows(min_row=2,
                                                                                                  values_only=True)]
    assert names == ["阿尔法公司"]
    factory = Factory(app)
    alpha_company = factory.company(base_a, name="阿尔法二号")
    factory.service_request(base_a, alpha_company, content="阿尔法的诉求")
    ledger = browser.get(f"/b/{base_a.slug}/ledger/").get_data(as_text=True)
    assert "阿尔法的诉求" in ledger and "想了解创业担保贷款" not in ledger and "创业培训沙龙" not in ledger
    assert f'data-entry="request-{ids["request_id"]}"' not in ledger
    rows = list(openpyxl.load_workbook(io.BytesIO(browser.get(f"/b/{base_a.slug}/ledger/export.xlsx").data))
                .active.iter_rows(min_row=2, values_only=True))
    assert [row[4] for row in rows] == ["阿尔法的诉求"]


def test_public_pages_of_an_unknown_base_or_unpublished_rules_are_404(two_bases, browser):
    base_a, _, _ = two_bases
    for path in ("/p/no-such-base/rules", "/p/no-such-base/apply", f"/p/{base_a.slug}/rules",
                 f"/p/{base_a.slug}/apply"):
        assert browser.get(path).status_code == 404, path


def test_unknown_base_slug_is_404(factory, browser):
    base = factory.base("alpha")
    browser.login(base.owner)
    assert browser.get("/b/no-such-base/").status_code == 404
    assert browser.get("/b/ALPHA/").status_code == 404


def test_operator_pages_show_only_the_owners_operator(two_bases, browser):
    base_a, base_b, _ = two_bases
    browser.login(base_a.owner)
    page = browser.get("/operator/bases").get_data(as_text=True)
    assert base_a.name in page and base_b.name not in page
    home = browser.get("/").get_data(as_text=True)
    assert base_b.name not in home


def test_audit_log_shows_only_this_bases_entries(two_bases, browser):
    base_a, base_b, _ = two_bases
    browser.login(base_a.owner)
    page = browser.get(f"/b/{base_a.slug}/audit").get_data(as_text=True)
    assert "someone@bravo.example" not in page and base_b.owner.name not in page
    assert base_a.owner.name in page


def test_members_page_lists_only_this_bases_people(two_bases, browser):
    base_a, base_b, _ = two_bases
    browser.login(base_a.owner)
    page = browser.get(f"/b/{base_a.slug}/members").get_data(as_text=True)
    assert base_a.users[c.ROLE_STAFF].email in page
    assert base_b.users[c.ROLE_STAFF].email not in page
    assert "someone@bravo.example" not in page


# --- The fail-closed hook, tested directly --------------------------------------------------------------

def test_query_of_base_owned_model_without_base_raises(app, two_bases):
    with app.app_context():
        with pytest.raises(ScopeError):
            db.session.scalars(select(Invitation)).all()
        with pytest.raises(ScopeError):
            db.session.scalar(select(func.count(Invitation.id)))
        with pytest.raises(ScopeError):
            db.session.execute(update(Zone).values(description="x"))


def test_scoped_query_sees_only_the_current_base(app, two_bases):
    base_a, base_b, ids = two_bases
    with app.app_context():
        set_current_base(base_a.id)
        assert db.session.scalars(select(Invitation)).all() == []
        assert db.session.scalar(select(Invitation).where(Invitation.id == ids["invitation_id"])) is None
        zones = db.session.scalars(select(Zone)).all()
        assert {zone.base_id for zone in zones} == {base_a.id} and len(zones) == 3
        with pytest.raises(NotFound):
            get_or_404(Invitation, ids["invitation_id"])


def test_subqueries_and_exists_on_base_owned_tables_also_fail_closed(app, two_bases):
    with app.app_context():
        for statement in (select(Base).where(Base.id.in_(select(Zone.base_id))),
                          select(Base).where(exists().where(Zone.base_id == Base.id)),
                          select(select(func.count(Zone.id)).scalar_subquery())):
            with pytest.raises(ScopeError):
                db.session.execute(statement).all()


def test_scoped_subqueries_see_only_the_current_base(app, two_bases):
    base_a, base_b, _ = two_bases
    with app.app_context():
        set_current_base(base_a.id)
        assert db.session.scalar(select(select(func.count(Zone.id)).scalar_subquery())) == 3
        slugs = db.session.scalars(select(Base.slug).where(Base.id.in_(select(Zone.base_id)))).all()
        assert slugs == [base_a.slug]


def test_bulk_update_and_delete_of_another_bases_rows_change_nothing(app, two_bases):
    base_a, base_b, ids = two_bases
    with app.app_context():
        set_current_base(base_a.id)
        result = db.session.execute(update(Zone).where(Zone.base_id == base_b.id).values(description="hacked"),
                                    execution_options={"synchronize_session": False})
        assert result.rowcount == 0
        result = db.session.execute(update(Invitation).values(email="hacked@example.com"),
                                    execution_options={"synchronize_session": False})
        assert result.rowcount == 0
        result = db.session.execute(delete(Invitation).where(Invitation.id == ids["invitation_id"]),
                                    execution_options={"synchronize_session": False})
        assert result.rowcount == 0
        db.session.commit()
    with app.app_context(), unscoped("test reads base B's rows directly"):
        assert db.session.get(Invitation, ids["invitation_id"]).email == "someone@bravo.example"
        descriptions = db.session.scalars(select(Zone.description).where(Zone.base_id == base_b.id)).all()
        assert "hacked" not in descriptions and len(descriptions) == 3


def test_an_object_of_another_base_in_the_session_cannot_be_changed_or_deleted(app, two_bases):
    base_a, base_b, ids = two_bases
    with app.app_context():
        with unscoped("test loads base B's invitation into the session"):
            invitation = db.session.get(Invitation, ids["invitation_id"])
        set_current_base(base_a.id)
        invitation.email = "hacked@example.com"
        with pytest.raises(ScopeError):
            db.session.flush()
        db.session.rollback()
        db.session.delete(invitation)
        # The rollback expired it: on PostgreSQL row-level security hides base B's row from the reload itself.
        with pytest.raises((ScopeError, ObjectDeletedError)):
            db.session.flush()
        db.session.rollback()
    with app.app_context(), unscoped("test reads base B's rows directly"):
        assert db.session.get(Invitation, ids["invitation_id"]).email == "someone@bravo.example"


def test_new_row_takes_the_current_base_and_cannot_name_another(app, two_bases):
    base_a, base_b, _ = two_bases
    with app.app_context():
        db.session.add(Zone(kind="extra"))
        with pytest.raises(ScopeError):
            db.session.flush()
        db.session.rollback()
        with scoped_to(base_a.id):
            zone = Zone(kind="extra")
            db.session.add(zone)
            db.session.flush()
            assert zone.base_id == base_a.id
            db.session.add(Zone(kind="extra2", base_id=base_b.id))
            with pytest.raises(ScopeError):
                db.session.flush()
        db.session.rollback()


def test_base_id_cannot_change_after_insert(app, two_bases):
    base_a, base_b, _ = two_bases
    with app.app_context(), scoped_to(base_a.id):
        zone = db.session.scalars(select(Zone)).first()
        zone.base_id = base_b.id
        with pytest.raises(ScopeError):
            db.session.flush()
        db.session.rollback()


def test_unscoped_needs_a_reason(app):
    with app.app_context():
        with pytest.raises(ValueError):
            with unscoped(""):
                pass


def test_ids_beyond_any_integer_are_404_on_every_route(app, two_bases, browser):
    base_a, _, ids = two_bases
    browser.login(base_a.owner)
    huge = {name: 2**40 for name in ids}
    urls = [(method, path.replace("/b/bravo/", f"/b/{base_a.slug}/", 1))
            for method, path in _base_urls(app, type("B", (), {"slug": "bravo"}), huge)
            if str(2**40) in path]
    assert urls
    for method, path in urls:
        response = browser.post(path, {}, form_page="/account/password") if method == "POST" else browser.get(path)
        assert response.status_code == 404, (method, path)
