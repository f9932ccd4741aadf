"""Inviting a colleague by a one-time link, accepting it, and the link's misuses."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from operator_app.accounts.models import Invitation, User
from operator_app.db import unscoped
from operator_app.extensions import db
from operator_app.timeutil import utcnow

from ..conftest import make_app
from ..helpers import PASSWORD, Browser, Factory, field_errors

INVITE_LINK = r'id="invite-link" readonly value="(http[^"]+)"'


def _invite(browser, base, email="new.person@example.com", role="staff"):
    import re

    response = browser.post(f"/b/{base.slug}/members", {"email": email, "role": role})
    assert response.status_code == 200
    match = re.search(INVITE_LINK, response.get_data(as_text=True))
    assert match, "the invitation link is shown to the inviter"
    return match.group(1).replace("http://localhost", "")


def test_manager_invites_and_a_new_person_accepts_with_their_role(app, factory, browser, new_browser):
    base = factory.base("alpha")
    browser.login(base.owner)
    link = _invite(browser, base, role="mentor")
    assert "new.person@example.com" in browser.get(f"/b/{base.slug}/members").get_data(as_text=True)

    invitee = new_browser()
    page = invitee.get(link).get_data(as_text=True)
    assert "创业辅导师" in page and base.name in page
    response = invitee.post(link, {"name": "孙丽", "phone": "13800000000", "password": "Sunli-mentor-2026",
                                   "confirm": "Sunli-mentor-2026"})
    assert response.status_code == 302 and response.headers["Location"] == f"/b/{base.slug}/"
    dashboard = invitee.get(f"/b/{base.slug}/").get_data(as_text=True)
    assert "孙丽" in dashboard and "创业辅导师" in dashboard
    assert base.users["tenant"].name not in dashboard, "tenant contacts are not listed in the service team"
    assert invitee.get(f"/b/{base.slug}/profile").status_code == 403

    # The link is used up: a second use, by anyone, is refused.
    again = new_browser().get(link)
    assert again.status_code == 404 and "邀请链接无效" in again.get_data(as_text=True)
    members = browser.get(f"/b/{base.slug}/members").get_data(as_text=True)
    assert "孙丽" in members and "没有待接受的邀请" in members


def test_logged_in_user_accepts_into_a_second_base(app, factory, browser, new_browser):
    alpha = factory.base("alpha")
    bravo = factory.base("bravo")
    browser.login(bravo.owner)
    link = _invite(browser, bravo, email=alpha.users["staff"].email, role="staff")
    person = new_browser()
    response = person.get(link)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    person.login(alpha.users["staff"])
    assert person.post(link, {}).status_code == 302
    assert person.get("/b/bravo/").status_code == 200 and person.get("/b/alpha/").status_code == 200


@pytest.mark.parametrize("token", ["nonsense", "x" * 300, "%00%ff", "."])
def test_malformed_invitation_link_is_a_clear_404(browser, token):
    response = browser.get(f"/invite/{token}")
    assert response.status_code == 404
    assert "邀请链接无效" in response.get_data(as_text=True)


def test_expired_and_revoked_invitations_do_not_work(app, factory, browser, new_browser):
    base = factory.base("alpha")
    expired_id, expired_token = factory.invitation(base, email="late@example.com")
    revoked_id, revoked_token = factory.invitation(base, email="revoked@example.com")
    with app.app_context(), unscoped("test ages an invitation"):
        db.session.get(Invitation, expired_id).expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    browser.login(base.owner)
    assert browser.post(f"/b/{base.slug}/invitations/{revoked_id}/revoke", form_page=f"/b/{base.slug}/members"
                        ).status_code == 302
    for token in (expired_token, revoked_token):
        response = new_browser().post(f"/invite/{token}", {"name": "某人", "password": PASSWORD, "confirm": PASSWORD},
                                      form_page="/login")
        assert response.status_code == 404
    with app.app_context():
        assert db.session.scalar(
            select(User).where(User.email.in_(["late@example.com", "revoked@example.com"]))) is None


def test_weak_password_on_acceptance_is_refused_and_the_link_still_works(app, factory, new_browser):
    base = factory.base("alpha")
    _, token = factory.invitation(base, email="weak@example.com")
    invitee = new_browser()
    response = invitee.post(f"/invite/{token}", {"name": "王五", "password": "12345678", "confirm": "12345678"})
    assert response.status_code == 200 and "password" in field_errors(response)
    response = invitee.post(f"/invite/{token}", {"name": "王五", "password": "Wangwu-staff-2026",
                                                 "confirm": "Wangwu-staff-2026"})
    assert response.status_code == 302


def test_invitation_is_mailed_when_smtp_is_configured(databases, app, smtp_server):
    """A real SMTP server on loopback receives the invitation (no mail server mocked)."""
    mail_app = make_app(app.config["SQLALCHEMY_DATABASE_URI"], MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port,
                        MAIL_USE_TLS=False, MAIL_FROM="base@example.com")
    base = Factory(mail_app).base("mailbase")
    browser = Browser(mail_app.test_client())
    browser.login(base.owner)
    link = _invite(browser, base, email="colleague@example.com")
    assert len(smtp_server.received) == 1
    envelope = smtp_server.received[0]
    assert envelope.rcpt_tos == ["colleague@example.com"]
    body = envelope.content.decode("utf-8", "replace")
    assert link.split("/invite/")[1][:20] in body.replace("=\r\n", "")


def test_inviting_again_replaces_the_old_link_and_members_cannot_be_invited(app, factory, browser, new_browser):
    base = factory.base("alpha")
    browser.login(base.owner)
    first = _invite(browser, base, email="twice@example.com")
    second = _invite(browser, base, email="Twice@example.com", role="mentor")
    page = browser.get(f"/b/{base.slug}/members").get_data(as_text=True)
    assert page.count("twice@example.com") == 1 and "创业辅导师" in page
    assert new_browser().get(first).status_code == 404
    assert new_browser().get(second).status_code == 200
    response = browser.post(f"/b/{base.slug}/members", {"email": base.users["staff"].email, "role": "staff"})
    assert field_errors(response) == {"email": ["此人已是本基地成员。"]}
    assert 'id="invite-link"' not in response.get_data(as_text=True)


def test_an_invitation_is_personal_another_logged_in_account_cannot_use_it(app, factory, browser, new_browser):
    alpha = factory.base("alpha")
    bravo = factory.base("bravo")
    browser.login(bravo.owner)
    link = _invite(browser, bravo, email="intended@example.com", role="manager")
    intruder = new_browser()
    intruder.login(alpha.users["tenant"])
    page = intruder.get(link)
    assert page.status_code == 403 and "此邀请属于其他账号" in page.get_data(as_text=True)
    response = intruder.post(link, {}, form_page=f"/b/{alpha.slug}/")
    assert response.status_code == 403
    assert intruder.get(f"/b/{bravo.slug}/profile").status_code == 404
    assert "intended@example.com" in browser.get(f"/b/{bravo.slug}/members").get_data(as_text=True)


def test_accepting_never_changes_an_existing_role(app, factory, browser, new_browser):
    base = factory.base("alpha")
    manager = factory.member(base, "manager", email="second.manager@example.com")
    _, token = factory.invitation(base, email=manager.email, role="staff")
    person = new_browser()
    person.login(manager)
    response = person.post(f"/invite/{token}", {})
    assert response.status_code == 302
    assert "角色保持不变" in person.get(f"/b/{base.slug}/", follow_redirects=True).get_data(as_text=True)
    assert person.get(f"/b/{base.slug}/profile").status_code == 200
    assert new_browser().get(f"/invite/{token}").status_code == 404
