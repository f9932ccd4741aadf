"""Isolation by base: every route as a user of another base answers 404; the ORM hook fails closed."""
import pytest
from sqlalchemy import func, select, update

from operator_app.accounts import constants as c
from operator_app.accounts.models import Invitation, Zone
from operator_app.db import ScopeError, get_or_404, scoped_to, set_current_base, unscoped
from operator_app.extensions import db
from werkzeug.exceptions import NotFound

# Every endpoint of the app, classified. A new route that is not listed here fails test_every_route_is_classified.
PUBLIC = {"auth.home", "auth.login", "auth.signup", "auth.accept_invite", "auth.set_language",
          "static", "bootstrap.static"}
ACCOUNT = {"auth.logout", "auth.change_password", "operators.bases", "operators.base_create"}
BASE_SCOPED = {"bases.dashboard", "bases.profile", "bases.members", "bases.invitation_revoke", "bases.audit_log"}

ROLES = (c.ROLE_MANAGER, c.ROLE_STAFF, c.ROLE_MENTOR, c.ROLE_TENANT)


def test_every_route_is_classified(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    unknown = endpoints - PUBLIC - ACCOUNT - BASE_SCOPED
    assert not unknown, f"classify these routes in tests/operator_app/test_isolation.py: {sorted(unknown)}"
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if rule.endpoint in BASE_SCOPED:
            assert rule.rule.startswith("/b/<base_slug>/"), rule.rule
            assert getattr(view, "allowed_roles", None), f"{rule.endpoint} declares no roles"
        else:
            assert "<base_slug>" not in rule.rule, rule.rule


@pytest.fixture
def two_bases(factory):
    base_a = factory.base("alpha")
    base_b = factory.base("bravo")
    invitation_id, _ = factory.invitation(base_b, email="someone@bravo.example")
    return base_a, base_b, {"invitation_id": invitation_id}


def _base_urls(app, base_b, ids):
    for rule in app.url_map.iter_rules():
        if rule.endpoint not in BASE_SCOPED:
            continue
        values = {"base_slug": base_b.slug}
        for argument in rule.arguments - {"base_slug"}:
            assert argument in ids, f"no id of base B for <{argument}> in {rule.rule}"
            values[argument] = ids[argument]
        path = rule.build(values)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, path


@pytest.mark.parametrize("role", ROLES)
def test_every_base_route_of_another_base_is_404(app, two_bases, browser, role):
    base_a, base_b, ids = two_bases
    browser.login(base_a.users[role])
    token = browser.csrf_token("/account/password")
    checked = 0
    for method, path in _base_urls(app, base_b, ids):
        response = browser.client.open(path, method=method, data={"csrf_token": token, "email": "x@example.com",
                                                                  "role": "staff", "name": "改名"})
        assert response.status_code == 404, (role, method, path, response.status_code)
        checked += 1
    assert checked >= len(BASE_SCOPED)
    with app.app_context(), unscoped("test reads base B's rows directly"):
        invitation = db.session.get(Invitation, ids["invitation_id"])
        assert invitation.revoked_at is None and invitation.base_id == base_b.id


def test_anonymous_is_sent_to_login_for_every_base_route(app, two_bases, browser):
    _, base_b, ids = two_bases
    for method, path in _base_urls(app, base_b, ids):
        response = browser.client.open(path, method=method)
        if method == "POST":
            assert response.status_code in (302, 400), (method, path)  # no CSRF token: refused first
        else:
            assert response.status_code == 302 and "/login" in response.headers["Location"], path


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


def test_bulk_update_and_delete_of_another_bases_rows_change_nothing(app, two_bases):
    base_a, base_b, ids = two_bases
    with app.app_context():
        set_current_base(base_a.id)
        result = db.session.execute(update(Zone).where(Zone.base_id == base_b.id).values(description="hacked"),
                                    execution_options={"synchronize_session": False})
        assert result.rowcount == 0
        db.session.execute(update(Invitation).values(email="hacked@example.com"),
                           execution_options={"synchronize_session": False})
        db.session.commit()
    with app.app_context(), unscoped("test reads base B's rows directly"):
        assert db.session.get(Invitation, ids["invitation_id"]).email == "someone@bravo.example"
        descriptions = db.session.scalars(select(Zone.description).where(Zone.base_id == base_b.id)).all()
        assert "hacked" not in descriptions


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
