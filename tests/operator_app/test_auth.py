"""Login, logout, sessions, password change, throttling and redirects, as a person uses them."""
from sqlalchemy import select

from operator_app.accounts import services
from operator_app.accounts.models import User, UserSession
from operator_app.extensions import db

from ..helpers import field_errors


def test_login_with_right_password_opens_the_base(factory, browser):
    base = factory.base("alpha")
    response = browser.post("/login", {"email": base.users["staff"].email.upper(), "password": base.users["staff"].password})
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
                                                  "password": "Brand-new-passphrase-77", "confirm": "Brand-new-passphrase-77"})
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
        user = db.session.get(User, base.owner.id)
        assert services.authenticate(base.owner.email, base.owner.password) is not None
        assert user.id == base.owner.id


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


def test_failed_logins_are_counted_across_workers_through_redis(app, factory):
    """Two app instances (two workers) sharing the real Redis on loopback see one counter."""
    import uuid

    from ..conftest import make_app
    from ..helpers import Browser

    base = factory.base("alpha")
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    # A fresh secret per run keeps this run's counter keys apart from any other run on the same Redis.
    shared = {"REDIS_URL": "redis://127.0.0.1:6379/0", "SECRET_KEY": uuid.uuid4().hex}
    worker_one, worker_two = make_app(url, **shared), make_app(url, **shared)
    first, second = Browser(worker_one.test_client()), Browser(worker_two.test_client())
    limit = app.config["LOGIN_MAX_FAILURES"]
    for attempt in range(limit):
        browser = first if attempt % 2 else second
        assert browser.post("/login", {"email": base.owner.email, "password": "wrong-wrong-wrong"}).status_code == 200
    assert first.post("/login", {"email": base.owner.email, "password": base.owner.password}).status_code == 429
    assert second.post("/login", {"email": base.owner.email, "password": base.owner.password}).status_code == 429
