"""The role matrix: what each role of a base may open, declared on the route and checked by requests."""
import pytest

from operator_app.accounts import constants as c

from .test_isolation import BASE_SCOPED, one_of_everything

M, S, T, N = c.ROLE_MANAGER, c.ROLE_STAFF, c.ROLE_MENTOR, c.ROLE_TENANT
# The intended permissions (DESIGN.md "Roles"): settings and people are the manager's.
STAFF, EDITORS, ALL = {M, S, T}, {M, S}, {M, S, T, N}
EXPECTED = {
    "bases.dashboard": ALL,
    "bases.profile": {M},
    "bases.members": {M},
    "bases.invitation_revoke": {M},
    "bases.audit_log": {M},
    # Mentors read the tenant files; managers and staff keep them; a tenant contact sees only its own company.
    "tenants.company_list": STAFF,
    "tenants.company_export": STAFF,
    "tenants.company_create": EDITORS,
    "tenants.company_detail": ALL,
    "tenants.company_edit": EDITORS,
    "tenants.milestone_create": EDITORS,
    "tenants.milestone_delete": EDITORS,
    "tenants.document_upload": EDITORS,
    "tenants.document_download": ALL,
    "tenants.document_delete": EDITORS,
    "tenants.company_review": EDITORS,
    "tenants.company_move_in": EDITORS,
    "tenants.company_exit": EDITORS,
    "tenants.contact_invite": {M},
    "tenants.my_company": {N},
    "tenants.rules_edit": {M},
    "tenants.company_import": EDITORS,
    "tenants.import_template": EDITORS,
    # Rent: staff keep quotes and leases, everyone on the team reads the check; the policy and settings are
    # the manager's.
    "tenants.rent_compliance": STAFF,
    "tenants.rent_export": STAFF,
    "tenants.quote_create": EDITORS,
    "tenants.quote_delete": EDITORS,
    "tenants.quote_evidence": STAFF,
    "tenants.policy_edit": {M},
    "tenants.policy_document": STAFF,
    "tenants.rent_settings": {M},
    "tenants.lease_create": EDITORS,
    "tenants.lease_edit": EDITORS,
    "tenants.lease_delete": EDITORS,
    # Attendance: a tenant contact registers its own people and sees its own days; points are the manager's.
    "tenants.attendance_month": STAFF,
    "tenants.attendance_settings": {M},
    "tenants.attendance_company": ALL,
    "tenants.attendance_export": STAFF,
    "tenants.attendance_import": EDITORS,
    "tenants.people_manage": EDITORS | {N},
    "tenants.person_deactivate": EDITORS | {N},
    "tenants.person_reset_pin": EDITORS | {N},
    "tenants.points_manage": {M},
    "tenants.point_show": STAFF,
    # Monthly data: a tenant contact files its own; managers and staff file on a company's behalf.
    "tenants.portal": {N},
    "tenants.report_form": EDITORS | {N},
    "tenants.company_reports": ALL,
    "tenants.reports_month": STAFF,
    "tenants.report_settings": {M},
    # Graduates: the team reads the cohort and the follow-ups; managers and staff record phone answers; the
    # graduate's contact answers its own.
    "tenants.graduate_list": STAFF,
    "tenants.followup_overdue": STAFF,
    "tenants.followup_company": STAFF,
    "tenants.followup_record": EDITORS,
    "tenants.followup_mine": {N},
    "tenants.followup_settings": {M},
    # The ledger: the whole team records services (a mentor edits only what they recorded); managers and staff
    # keep the team and the agencies; a tenant contact files requests and rates services on its own page.
    "ledger.index": STAFF,
    "ledger.export": STAFF,
    "ledger.satisfaction": STAFF,
    "ledger.team": STAFF,
    "ledger.person_edit": EDITORS,
    "ledger.agency_create": EDITORS,
    "ledger.agency_edit": EDITORS,
    "ledger.agency_agreement": STAFF,
    "ledger.request_create": STAFF,
    "ledger.request_detail": STAFF,
    "ledger.request_edit": STAFF,
    "ledger.request_status": STAFF,
    "ledger.visit_create": STAFF,
    "ledger.visit_detail": STAFF,
    "ledger.visit_edit": STAFF,
    "ledger.activity_create": STAFF,
    "ledger.activity_detail": STAFF,
    "ledger.activity_edit": STAFF,
    "ledger.activity_files": STAFF,
    "ledger.activity_file": STAFF,
    "ledger.activity_file_delete": STAFF,
    "ledger.activity_qr": STAFF,
    "ledger.entry_delete": STAFF,
    "ledger.mine": {N},
    "ledger.feedback": {N},
    # The filings are the manager's to make; staff read and download them.
    "filings.index": EDITORS,
    "filings.quarter": EDITORS,
    "filings.filing": EDITORS,
    "filings.download": EDITORS,
    "filings.generate": {M},
    "filings.submit": {M},
    "filings.new_version": {M},
    "filings.settings": {M},
    "filings.annual_list": EDITORS,
    "filings.annual_show": EDITORS,
    "filings.annual_docx": EDITORS,
    "filings.annual_annex": EDITORS,
    "filings.annual_draft": {M},
    "filings.annual_save": {M},
    "filings.annual_refresh": {M},
    "filings.annual_sent": {M},
    "filings.compliance": EDITORS,
    "filings.compliance_panel": EDITORS,
    "filings.inspection_documents": EDITORS,
    "filings.inspection_document_file": EDITORS,
    "filings.inspection_document_remove": {M},
    # Rent bills and money received are front-desk work; settings, credit notes and Stripe are the manager's;
    # a tenant contact reads their own company's bills, payments and statement and may pay online.
    "billing.index": EDITORS,
    "billing.invoices_issue": EDITORS,
    "billing.invoice": EDITORS,
    "billing.invoice_print": EDITORS | {N},
    "billing.charges": EDITORS,
    "billing.charge_withdraw": EDITORS,
    "billing.supplementary_issue": EDITORS,
    "billing.settings": {M},
    "billing.my_invoices": {N},
    "billing.payment_new": EDITORS,
    "billing.payment_detail": EDITORS | {N},
    "billing.credit_note_new": {M},
    "billing.credit_note_detail": EDITORS | {N},
    "billing.company_statement": EDITORS | {N},
    "billing.arrears": EDITORS,
    "billing.export": EDITORS,
    "billing.stripe_account": {M},
    "billing.payment_link_create": EDITORS,
    "billing.pay_online": EDITORS | {N},
}


def test_matrix_covers_every_base_route_and_matches_the_declarations(app):
    assert set(EXPECTED) == BASE_SCOPED
    for endpoint, roles in EXPECTED.items():
        assert app.view_functions[endpoint].allowed_roles == roles, endpoint


@pytest.mark.parametrize("role", [M, S, T, N])
def test_each_role_gets_exactly_its_pages(app, factory, browser, role):
    # A mentor keeps the entries they recorded (others' are refused by the entry: tests/ledger).
    base, ids = one_of_everything(factory, mentor_is_author=role == T)
    browser.login(base.users[role])
    token = browser.csrf_token("/account/password")
    # Pages first, then the actions (which may withdraw or delete the records the pages show).
    rules = sorted((rule for rule in app.url_map.iter_rules() if rule.endpoint in EXPECTED),
                   key=lambda rule: "GET" not in rule.methods)
    for rule in rules:
        path = rule.build({key: value for key, value in ids.items() if key in rule.arguments})[1]
        method = "GET" if "GET" in rule.methods else "POST"
        response = browser.client.open(path, method=method, data={"csrf_token": token})
        if role in EXPECTED[rule.endpoint]:
            # A GET shows its page (or, for "my company" and a company contact's dashboard, redirects to the
            # company's page); a POST with empty input either redirects when done or shows its form again
            # (200, or 422 when it refuses the input, 409 when the page's version is missing or stale).
            redirects = rule.endpoint == "tenants.my_company" or (rule.endpoint == "bases.dashboard" and role == N)
            assert response.status_code in ((200, 302, 409, 422) if method == "POST" else (200, 302) if redirects
                                            else (200,)), (role, path, response.status_code)
            if response.status_code == 302:
                assert "/login" not in response.headers["Location"]
        else:
            assert response.status_code == 403, (role, path, response.status_code)
            assert "无权访问" in response.get_data(as_text=True)


def test_operator_owner_manages_every_base_of_the_operator_without_membership(app, factory, browser):
    base = factory.base("alpha")
    factory.another_base_of(base, "alpha-two")
    browser.login(base.owner)
    assert browser.get("/b/alpha-two/profile").status_code == 200
    assert browser.get("/b/alpha-two/members").status_code == 200


def test_operator_pages_are_for_owners_only(factory, browser):
    base = factory.base("alpha")
    browser.login(base.users[S])
    assert browser.get("/operator/bases").status_code == 403
    assert browser.get("/operator/bases/new").status_code == 403


def test_a_tenant_contact_sees_the_base_and_its_team_but_not_other_tenants_or_internal_checks(factory, browser):
    base = factory.base("alpha")
    other_tenant = factory.member(base, "tenant", email="other.tenant@example.com")
    browser.login(base.users["tenant"])
    page = browser.get(f"/b/{base.slug}/").get_data(as_text=True)
    assert base.users["staff"].name in page and base.owner.name in page
    assert other_tenant.name not in page and "data-check=" not in page
    assert "基地提供的服务" in page
