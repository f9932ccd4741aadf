"""Login, logout, sessions, password change, throttling and redirects, as a person uses them."""
import os

from sqlalchemy import select

from operator_app.accounts import services
from operator_app.accounts.models import User, UserSession
from operator_app.extensions import db

from ..helpers import field_errors


def test_login_with_right_password_opens_the_base(factory, browser):
    base = factory.base("alpha")
    response = browser.post("/login", {"email": base.users["staff"].email.upper(),
                                       "password": base.users["staff"].password})
    assert response.status_code == 302
    page = browser.get("/", follow_redirects=True).get_data(as_text=True)
    assert base.name in page and "工作台" in page


def test_wrong_password_shows_a_message_on_the_password_field(factory, browser):
    base = factory.base("alpha")
    response = browser.post("/login", {"email": base.owner.email, "password": "wrong-password-123"})
    assert response.status_code == 200
    assert field_errors(response) == {"password": ["邮箱或密码错误。"]}
    assert browser.get(f"/b/{base.slug}/").status_code == 302


def test_repeated_failures_are_throttled_per_account(app, factory, browser, new_browser):
    base = factory.base("alpha")
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        assert browser.post("/login", {"email": base.owner.email, "password": "nope-nope-nope"}).status_code == 200
    blocked = browser.post("/login", {"email": base.owner.email, "password": base.owner.password})
    assert blocked.status_code == 429
    assert "登录失败次数过多" in blocked.get_data(as_text=True)
    # Another account from the same address is not blocked by this account's failures.
    other = new_browser()
    assert other.post("/login", {"email": base.users["staff"].email,
                                 "password": base.owner.password}).status_code == 302


def test_logout_revokes_the_session_so_a_copied_cookie_is_worthless(app, factory, browser):
    base = factory.base("alpha")
    browser.login(base.owner)
    cookie = browser.client.get_cookie("session").value
    assert browser.get(f"/b/{base.slug}/").status_code == 200
    assert browser.logout().status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", cookie)
    response = replay.get(f"/b/{base.slug}/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_password_change_ends_other_sessions_and_keeps_this_one(app, factory, browser, new_browser):
    base = factory.base("alpha")
    browser.login(base.owner)
    phone = new_browser()
    phone.login(base.owner)
    response = browser.post("/account/password", {"current": base.owner.password,
                                                  "password": "Brand-new-passphrase-77",
                                                  "confirm": "Brand-new-passphrase-77"})
    assert response.status_code == 302
    assert browser.get(f"/b/{base.slug}/").status_code == 200
    assert phone.get(f"/b/{base.slug}/").status_code == 302
    fresh = new_browser()
    assert fresh.post("/login", {"email": base.owner.email, "password": base.owner.password}).status_code == 200
    assert fresh.post("/login", {"email": base.owner.email, "password": "Brand-new-passphrase-77"}).status_code == 302


def test_password_change_refuses_wrong_current_and_weak_new(app, factory, browser):
    base = factory.base("alpha")
    browser.login(base.owner)
    response = browser.post("/account/password", {"current": "not-it-at-all", "password": "Brand-new-passphrase-77",
                                                  "confirm": "Brand-new-passphrase-77"})
    assert field_errors(response) == {"current": ["当前密码不正确。"]}
    response = browser.post("/account/password", {"current": base.owner.password, "password": "password123",
                                                  "confirm": "password123"})
    assert "password" in field_errors(response)
    with app.app_context():
        assert services.authenticate(base.owner.email, base.owner.password) is not None
        assert services.authenticate(base.owner.email, "password123") is None


def test_deactivated_user_is_logged_out_and_cannot_log_in(app, factory, browser):
    base = factory.base("alpha")
    staff = base.users["staff"]
    browser.login(staff)
    with app.app_context():
        services.deactivate_user(db.session.get(User, staff.id), by=db.session.get(User, base.owner.id))
        db.session.commit()
        assert all(row.revoked_at for row in db.session.scalars(
            select(UserSession).where(UserSession.user_id == staff.id)))
    assert browser.get(f"/b/{base.slug}/").status_code == 302
    response = browser.post("/login", {"email": staff.email, "password": staff.password})
    assert field_errors(response) == {"password": ["邮箱或密码错误。"]}


def test_next_parameter_cannot_leave_the_site(factory, browser):
    base = factory.base("alpha")
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"):
        response = browser.post(f"/login?next={target}", {"email": base.owner.email, "password": base.owner.password},
                                form_page="/login")
        assert response.status_code == 302
        assert "evil" not in response.headers["Location"] and "javascript" not in response.headers["Location"]
        browser.logout()
    response = browser.post(f"/login?next=/b/{base.slug}/profile", {"email": base.owner.email,
                                                                   "password": base.owner.password})
    assert response.headers["Location"] == f"/b/{base.slug}/profile"


def test_form_without_csrf_token_is_refused_and_writes_nothing(app, factory, browser):
    base = factory.base("alpha")
    browser.login(base.owner)
    response = browser.post(f"/b/{base.slug}/members", {"email": "x@example.com", "role": "staff"}, csrf=False)
    assert response.status_code == 400
    assert "表单已过期" in response.get_data(as_text=True)
    page = browser.get(f"/b/{base.slug}/members").get_data(as_text=True)
    assert "x@example.com" not in page


def test_login_page_is_chinese_by_default_and_english_on_request(browser):
    page = browser.get("/login").get_data(as_text=True)
    assert "登录" in page and "密码" in page and 'lang="zh-CN"' in page
    browser.get("/lang/en")
    page = browser.get("/login").get_data(as_text=True)
    assert "Log in" in page and "Password" in page and "密码" not in page
    assert browser.get("/lang/xx").status_code == 404


def test_the_chosen_language_survives_login_and_logout(factory, browser):
    base = factory.base("alpha")
    browser.get("/lang/en")
    browser.login(base.users["staff"])
    assert "Staff with a login" in browser.get(f"/b/{base.slug}/").get_data(as_text=True)
    browser.logout()
    assert "Log in" in browser.get("/login").get_data(as_text=True)


def test_failed_logins_are_counted_across_workers_through_redis(app, factory):
    """Two app instances (two workers) sharing the real Redis on loopback see one counter."""
    import uuid

    from ..conftest import make_app
    from ..helpers import Browser

    base = factory.base("alpha")
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    # A fresh secret per run keeps this run's counter keys apart from any other run on the same Redis.
    redis_url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    shared = {"REDIS_URL": redis_url, "SECRET_KEY": uuid.uuid4().hex}
    worker_one, worker_two = make_app(url, **shared), make_app(url, **shared)
    first, second = Browser(worker_one.test_client()), Browser(worker_two.test_client())
    limit = app.config["LOGIN_MAX_FAILURES"]
    for attempt in range(limit):
        browser = first if attempt % 2 else second
        assert browser.post("/login", {"email": base.owner.email, "password": "wrong-wrong-wrong"}).status_code == 200
    assert first.post("/login", {"email": base.owner.email, "password": base.owner.password}).status_code == 429
    assert second.post("/login", {"email": base.owner.email, "password": base.owner.password}).status_code == 429


def test_successful_logins_do_not_use_up_the_address_budget(databases, app, factory):
    from ..conftest import make_app
    from ..helpers import Browser

    base = factory.base("alpha")
    strict = make_app(app.config["SQLALCHEMY_DATABASE_URI"], LOGIN_MAX_FAILURES_PER_IP=3)
    for _ in range(6):
        browser = Browser(strict.test_client())
        assert browser.post("/login", {"email": base.owner.email, "password": base.owner.password}).status_code == 302


def test_sessions_end_after_idle_days_and_after_the_maximum_age(app, factory, browser, new_browser):
    from datetime import timedelta

    from sqlalchemy import update

    from operator_app.timeutil import utcnow

    base = factory.base("alpha")
    browser.login(base.owner)
    other = new_browser()
    other.login(base.users["staff"])
    assert browser.get(f"/b/{base.slug}/").status_code == 200
    with app.app_context():
        idle = utcnow() - timedelta(days=app.config["SESSION_IDLE_DAYS"], minutes=1)
        db.session.execute(update(UserSession).where(UserSession.user_id == base.owner.id).values(last_seen_at=idle))
        old = utcnow() - timedelta(days=app.config["SESSION_MAX_DAYS"], minutes=1)
        db.session.execute(update(UserSession).where(UserSession.user_id == base.users["staff"].id)
                           .values(created_at=old))
        db.session.commit()
    assert browser.get(f"/b/{base.slug}/").status_code == 302
    assert other.get(f"/b/{base.slug}/").status_code == 302


def test_recent_use_is_recorded_on_the_session(app, factory, browser):
    from datetime import timedelta

    from sqlalchemy import update

    from operator_app.timeutil import utcnow

    base = factory.base("alpha")
    browser.login(base.owner)
    earlier = utcnow() - timedelta(days=2)
    with app.app_context():
        db.session.execute(update(UserSession).values(last_seen_at=earlier))
        db.session.commit()
    assert browser.get(f"/b/{base.slug}/").status_code == 200
    with app.app_context():
        seen = db.session.scalar(select(UserSession.last_seen_at).where(UserSession.user_id == base.owner.id))
        assert seen.replace(tzinfo=None) > earlier.replace(tzinfo=None) + timedelta(days=1)


def test_wrong_current_passwords_are_throttled_too(app, factory, browser):
    base = factory.base("alpha")
    browser.login(base.owner)
    statuses = [browser.post("/account/password", {"current": "guess-guess-guess",
                                                   "password": "Brand-new-passphrase-77",
                                                   "confirm": "Brand-new-passphrase-77"}).status_code
                for _ in range(app.config["LOGIN_MAX_FAILURES"] + 1)]
    assert statuses[-1] == 429 and set(statuses[:-1]) == {200}


def test_signups_from_one_address_are_throttled(databases, app):
    from ..conftest import make_app
    from ..helpers import Browser
    from .test_signup import GOOD

    strict = make_app(app.config["SQLALCHEMY_DATABASE_URI"], SIGNUP_MAX_PER_IP=2)
    statuses = []
    for n in range(3):
        browser = Browser(strict.test_client())
        statuses.append(browser.post("/signup", {**GOOD, "email": f"s{n}@example.com",
                                                 "base_slug": f"signup-{n}"}).status_code)
    assert statuses == [302, 302, 429]


def test_behind_a_trusted_proxy_the_client_address_and_host_come_from_forwarded_headers(databases, app, factory):
    import re

    from ..conftest import make_app
    from ..helpers import Browser

    base = factory.base("alpha")
    proxied = make_app(app.config["SQLALCHEMY_DATABASE_URI"], TRUSTED_PROXIES=1)
    headers = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "base.example.cn",
               "Referer": "https://base.example.cn/"}  # over HTTPS the CSRF check also wants a same-site referrer
    browser = Browser(proxied.test_client())
    browser.client.environ_base.update({"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()})
    browser.login(base.owner)
    response = browser.post(f"/b/{base.slug}/members", {"email": "new@example.com", "role": "staff"})
    link = re.search(r'id="invite-link" readonly value="([^"]+)"', response.get_data(as_text=True)).group(1)
    assert link.startswith("https://base.example.cn/invite/")
    with proxied.app_context():
        assert db.session.scalar(select(UserSession.ip).where(UserSession.user_id == base.owner.id)) == "203.0.113.7"
