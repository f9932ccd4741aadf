"""Security headers on every response (issue 10 item 5): the CSP holds because no page has inline script,
event handlers or style attributes; HSTS only in production; private responses are not stored by caches."""
import re
from io import BytesIO

import pytest

from operator_app import create_app
from operator_app.accounts import constants as c
from operator_app.headers import CONTENT_SECURITY_POLICY, STRIPE_FORM_TARGETS, content_security_policy

from ..conftest import make_app
from ..helpers import Browser, Factory
from .test_csrf import _path
from .test_isolation import one_of_everything

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
ALWAYS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
          "Referrer-Policy": "same-origin",
          "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()"}
TAG = re.compile(r"<[a-zA-Z][^>]*>")
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.I)
# Pages that are the same template with another look: walked in addition to every GET rule.
EXTRA_PAGES = ("/b/{base_slug}/filings/compliance?print=1",)


@pytest.fixture
def one_base(factory):
    """A base with one of every record the routes name (as tests/operator_app/test_csrf.py builds it)."""
    base, ids = one_of_everything(factory)
    ids["filename"] = "css/app.css"
    ids["activity_code"] = ids["code"]
    return base, ids


def assert_safe_html(page, where):
    """No inline script, no event handler attribute, no style attribute or block anywhere in ``page``."""
    assert not INLINE_SCRIPT.search(page), (where, INLINE_SCRIPT.search(page).group(0))
    assert "<style" not in page.lower(), where
    for tag in TAG.findall(page):
        assert not HANDLER.search(tag), (where, tag)
        assert not STYLE_ATTRIBUTE.search(tag), (where, tag)


def _walk(app, browser, base, ids):
    """GET every route that answers GET (and the extra pages); yields (path, response)."""
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "auth.set_language":
            continue  # the language switch only redirects (its headers are checked by the anonymous test)
        path = _path(rule, ids, app, base)
        yield path, browser.client.get(path)
    for page in EXTRA_PAGES:
        path = page.format(**ids)
        yield path, browser.client.get(path)


@pytest.mark.parametrize("role", [c.ROLE_MANAGER, c.ROLE_TENANT])
def test_every_get_route_has_the_headers_and_pages_need_no_inline_code(app, one_base, browser, role):
    base, ids = one_base
    browser.login(base.users[role])
    html_pages = 0
    for path, response in _walk(app, browser, base, ids):
        for name, value in ALWAYS.items():
            assert response.headers.get(name) == value, (path, name, response.headers.get(name))
        assert "Strict-Transport-Security" not in response.headers, path
        if path.startswith(("/static/", "/bootstrap/static/")):
            assert "no-store" not in response.headers.get("Cache-Control", ""), path
        else:
            assert response.headers.get("Cache-Control") == "no-store", (path, response.status_code)
        if response.mimetype == "text/html":
            html_pages += 1
            assert_safe_html(response.get_data(as_text=True), path)
    assert html_pages > 60


def test_anonymous_pages_have_the_headers_and_a_page_with_a_form_is_not_stored(app, one_base, new_browser):
    base, ids = one_base
    browser = Browser(app.test_client())
    for path in ("/", "/login", "/signup", f"/invite/{ids['token']}", f"/p/{base.slug}/rules",
                 f"/p/{base.slug}/apply", "/no/such/page", "/lang/en?next=/login"):
        response = browser.get(path)
        for name, value in ALWAYS.items():
            assert response.headers.get(name) == value, (path, name)
        if response.mimetype == "text/html" and response.status_code == 200:
            assert_safe_html(response.get_data(as_text=True), path)
    login = Browser(app.test_client()).get("/login")  # the CSRF token goes into a new session cookie
    assert "Set-Cookie" in login.headers and login.headers["Cache-Control"] == "no-store"


def test_static_files_are_served_with_the_headers_and_may_be_cached(app, browser, factory):
    base = factory.base("alpha")
    browser.login(base.users[c.ROLE_MANAGER])
    for path in ("/static/js/app.js", "/static/js/lease.js", "/static/js/payment_new.js", "/static/css/app.css",
                 "/static/css/compliance.css", "/static/css/invoice_print.css",
                 "/bootstrap/static/css/bootstrap.min.css"):
        response = browser.get(path)
        assert response.status_code == 200, path
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "no-store" not in response.headers.get("Cache-Control", ""), path


def test_error_pages_and_a_413_carry_the_headers(databases, app):
    small = make_app(app.config["SQLALCHEMY_DATABASE_URI"], MAX_CONTENT_LENGTH=1024)
    base = Factory(small).base("alpha")
    company_id = Factory(small).company(base)
    browser = Browser(small.test_client())
    browser.login(base.users[c.ROLE_MANAGER])
    detail = f"/b/{base.slug}/tenants/{company_id}"
    response = browser.client.post(f"{detail}/documents", data={
        "csrf_token": browser.csrf_token(detail), "kind": "lease", "file": (BytesIO(b"%PDF-" + b"0" * 4096), "a.pdf")})
    assert response.status_code == 413 and "文件过大" in response.get_data(as_text=True)
    missing = browser.get(f"/b/{base.slug}/tenants/999999")
    for response in (response, missing):
        assert response.headers["Content-Security-Policy"] == CSP and response.headers["Cache-Control"] == "no-store"
        assert_safe_html(response.get_data(as_text=True), response.status_code)


def test_hsts_only_in_production(app):
    production = create_app("production", {"SECRET_KEY": "s" * 64,
                                            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    client = production.test_client()
    for path in ("/login", "/static/css/app.css", "/no/such/page"):
        response = client.get(path, base_url="https://localhost")
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains", path
        assert response.headers["Content-Security-Policy"] == CSP, path
    assert client.get("/login", base_url="https://localhost").headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in app.test_client().get("/login").headers


def test_with_billing_on_only_stripes_pages_are_added_as_form_targets():
    assert CONTENT_SECURITY_POLICY == CSP
    assert content_security_policy({}) == CSP
    with_stripe = content_security_policy({"STRIPE_SECRET_KEY": "sk_test_x"})
    assert with_stripe == CSP.replace("form-action 'self'", "form-action 'self' " + " ".join(STRIPE_FORM_TARGETS))
    assert STRIPE_FORM_TARGETS == ("https://checkout.stripe.com", "https://billing.stripe.com")
