"""Sessions and login hardened (issue 10 item 3): production cookies, replayed cookies after a session ends,
open redirects through ``next``, throttling per address, common passwords."""
import os
import uuid
from urllib.parse import quote, urljoin, urlsplit

import pytest
from sqlalchemy import select

from operator_app import create_app
from operator_app.accounts import services
from operator_app.accounts.models import User
from operator_app.extensions import db

from ..conftest import make_app
from ..helpers import Browser, field_errors


def _client_from(app, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _set_cookies(response):
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


def test_production_cookies_are_host_only_secure_httponly_and_lax(databases, app, factory, tmp_path):
    base = factory.base("alpha")
    production = create_app("production", {"SECRET_KEY": uuid.uuid4().hex,
                                           "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                                           "UPLOAD_FOLDER": str(tmp_path), "REDIS_URL": None})
    client = production.test_client()
    # Over HTTPS Flask-WTF also wants a same-site Referer on a form post.
    client.environ_base.update({"wsgi.url_scheme": "https", "HTTP_REFERER": "https://localhost/login"})
    browser = Browser(client)
    response = browser.post("/login", {"email": base.owner.email, "password": base.owner.password, "remember": "y"})
    assert response.status_code == 302
    cookies = _set_cookies(response)
    assert set(cookies) == {"__Host-session", "__Host-remember"}
    for header in cookies.values():
        attributes = [part.strip().lower() for part in header.split(";")[1:]]
        assert "secure" in attributes and "httponly" in attributes and "samesite=lax" in attributes, header
        # The __Host- prefix is only honoured for a cookie with Path=/ and no Domain.
        assert "path=/" in attributes and not any(part.startswith("domain=") for part in attributes), header
    assert browser.get(f"/b/{base.slug}/", base_url="https://localhost").status_code == 200


def _end_by_logout(app, base, browser, new_browser):
    assert browser.logout().status_code == 302


def _end_by_password_change(app, base, browser, new_browser):
    laptop = new_browser()
    laptop.login(base.owner)
    response = laptop.post("/account/password", {"current": base.owner.password,
                                                 "password": "Brand-new-passphrase-77",
                                                 "confirm": "Brand-new-passphrase-77"})
    assert response.status_code == 302


def _end_by_deactivation(app, base, browser, new_browser):
    with app.app_context():
        services.deactivate_user(db.session.get(User, base.owner.id), by=db.session.get(User, base.owner.id))
        db.session.commit()


@pytest.mark.parametrize("end", [_end_by_logout, _end_by_password_change, _end_by_deactivation],
                         ids=["logout", "password-change", "deactivation"])
@pytest.mark.parametrize("cookie_name", ["session", "remember_token"])
def test_a_replayed_cookie_of_an_ended_session_opens_the_login_page(app, factory, browser, new_browser, end,
                                                                    cookie_name):
    base = factory.base("alpha")
    browser.post("/login", {"email": base.owner.email, "password": base.owner.password, "remember": "y"})
    copied = browser.client.get_cookie(cookie_name).value
    assert browser.get(f"/b/{base.slug}/").status_code == 200
    end(app, base, browser, new_browser)
    replay = app.test_client()
    replay.set_cookie(cookie_name, copied)
    response = replay.get(f"/b/{base.slug}/")
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"
    assert replay.get("/operator/bases").status_code == 302


OFF_SITE = [
    "https://evil.example/", "http://evil.example", "//evil.example/", "///evil.example", "/\\evil.example",
    "\\\\evil.example", "/\\/evil.example", "javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x",
    "https:evil.example", "/\t/evil.example", "/\n/evil.example", " //evil.example", "\x00//evil.example",
    "/\x0b/evil.example", "/\u3000/evil.example", "evil.example",
]
# The same targets as a query string carries them: encoded once (the usual form) and twice.
ENCODED = [quote(target, safe="") for target in OFF_SITE] + [quote(quote(target, safe=""), safe="")
                                                              for target in OFF_SITE]


def _stays_on_site(location):
    resolved = urlsplit(urljoin("https://base.example.cn/login", location))
    return resolved.scheme == "https" and resolved.netloc == "base.example.cn"


@pytest.mark.parametrize("encoded_next", ENCODED)
def test_next_parameter_cannot_leave_the_site_in_any_spelling(factory, browser, encoded_next):
    base = factory.base("alpha")
    response = browser.post(f"/login?next={encoded_next}", {"email": base.owner.email,
                                                             "password": base.owner.password}, form_page="/login")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert _stays_on_site(location) and "evil" not in urlsplit(location).netloc, location
    assert not location.lower().startswith(("javascript:", "data:")), location
    # Already logged in, the login page and the language switch redirect through ``next`` as well.
    for path in ("/login", "/lang/zh_CN"):
        again = browser.get(f"{path}?next={encoded_next}")
        assert again.status_code == 302 and _stays_on_site(again.headers["Location"]), (path, again.headers)


def test_next_parameter_keeps_a_path_of_this_site(factory, browser):
    base = factory.base("alpha")
    target = f"/b/{base.slug}/companies?q=%E5%85%AC%E5%8F%B8&page=2"
    response = browser.post(f"/login?next={quote(target, safe='')}", {"email": base.owner.email,
                                                                     "password": base.owner.password},
                            form_page="/login")
    assert response.headers["Location"] == target


@pytest.mark.parametrize("counter", ["memory", "redis"])
def test_the_nth_failure_from_one_address_is_429_across_accounts_and_workers(databases, app, factory, counter):
    """Failures against many accounts from one address add up; with Redis two workers share the count."""
    base = factory.base("alpha")
    settings = {"LOGIN_MAX_FAILURES_PER_IP": 3, "SECRET_KEY": uuid.uuid4().hex}
    if counter == "redis":
        settings["REDIS_URL"] = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    workers = [make_app(url, **settings) for _ in range(2 if counter == "redis" else 1)]
    browsers = [Browser(worker.test_client()) for worker in workers]
    for n in range(3):
        response = browsers[n % len(browsers)].post("/login", {"email": f"nobody{n}@example.com",
                                                               "password": "wrong-wrong-wrong"})
        assert response.status_code == 200
    for browser in browsers:
        blocked = browser.post("/login", {"email": base.owner.email, "password": base.owner.password})
        assert blocked.status_code == 429 and "登录失败次数过多" in blocked.get_data(as_text=True)
    # Another address is not blocked by this one's failures.
    elsewhere = Browser(_client_from(workers[-1], "198.51.100.9"))
    assert elsewhere.post("/login", {"email": base.owner.email, "password": base.owner.password}).status_code == 302


def test_the_nth_failure_for_an_account_is_429_from_any_address(app, factory):
    base = factory.base("alpha")
    limit = app.config["LOGIN_MAX_FAILURES"]
    for n in range(limit):
        browser = Browser(_client_from(app, f"198.51.100.{n + 1}"))
        assert browser.post("/login", {"email": base.owner.email, "password": "nope-nope-nope"}).status_code == 200
    browser = Browser(_client_from(app, "203.0.113.200"))
    assert browser.post("/login", {"email": base.owner.email, "password": base.owner.password}).status_code == 429


COMMON = ["password1234", "qwertyuiop", "1234567890", "1qaz2wsx3edc", "Password123!", "P@ssw0rd2024",
          "iloveyou123", "admin123456", "qq1234567890", "88888888888",
          # Leaked Chinese lists' favourites, which zxcvbn's English dictionaries alone let through.
          "woaini1314520", "Woaini1314520", "5201314woaini", "aini1314520", "woshishui123", "wodemima123",
          "caonima123456", "zhangwei123", "wangjing123"]


@pytest.mark.parametrize("password", COMMON)
def test_common_passwords_are_refused(app, factory, browser, password):
    base = factory.base("alpha")
    browser.login(base.owner)
    response = browser.post("/account/password", {"current": base.owner.password, "password": password,
                                                  "confirm": password})
    assert response.status_code == 200
    assert field_errors(response)["password"] == [
        "此密码过于常见或容易被猜中；请组合与您个人信息无关的字词、数字和符号。"]
    with app.app_context():
        user = db.session.scalar(select(User).where(User.id == base.owner.id))
        assert services.authenticate(user.email, password) is None
