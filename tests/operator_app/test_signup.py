"""Signing up an operator with its first base, and the owner creating more bases."""
import pytest
from sqlalchemy import func, select

from operator_app.accounts.models import Base, Membership, Operator, User, Zone
from operator_app.audit import AuditEntry
from operator_app.db import unscoped
from operator_app.extensions import db

from ..helpers import field_errors

GOOD = {"operator_name": "太原创新服务有限公司", "base_name": "龙城双创基地", "base_slug": "longcheng",
        "base_type": "university", "user_name": "刘洋", "email": "liu@example.com",
        "password": "Longcheng-base-2026!", "confirm": "Longcheng-base-2026!"}


def _counts(app):
    with app.app_context(), unscoped("test counts every table"):
        return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
                for model in (Operator, Base, User, Membership, Zone, AuditEntry)}


def test_signup_creates_operator_base_zones_and_manager_and_logs_in(app, browser):
    response = browser.post("/signup", GOOD)
    assert response.status_code == 302 and response.headers["Location"] == "/b/longcheng/profile"
    page = browser.get("/b/longcheng/profile").get_data(as_text=True)
    assert "龙城双创基地" in page and "基地负责人" in page
    with app.app_context(), unscoped("test inspects the new base"):
        user = db.session.scalar(select(User).where(User.email == "liu@example.com"))
        assert user.is_operator_owner and user.operator.name == "太原创新服务有限公司"
        base = db.session.scalar(select(Base).where(Base.slug == "longcheng"))
        assert base.base_type == "university" and base.operator_id == user.operator_id
        assert user.membership_in(base).role == "manager"
        kinds = set(db.session.scalars(select(Zone.kind).where(Zone.base_id == base.id)))
        assert kinds == {"incubation", "growth", "public_service"}
        assert user.password_hash.startswith("scrypt:") and "Longcheng" not in user.password_hash
        actions = set(db.session.scalars(select(AuditEntry.action)))
        assert {"operator.create", "base.create", "user.create", "membership.set"} <= actions


@pytest.mark.parametrize("change, field, message", [
    ({"password": "password123", "confirm": "password123"}, "password", "此密码过于常见"),
    ({"password": "short", "confirm": "short"}, "password", "至少需要 10 个字符"),
    ({"confirm": "Different-password-99"}, "confirm", "两次输入的密码不一致"),
    ({"base_slug": "-bad-"}, "base_slug", "小写字母"),
    ({"base_slug": "a"}, "base_slug", "小写字母"),
    ({"email": "not-an-email"}, "email", "有效的电子邮箱"),
    ({"operator_name": ""}, "operator_name", "必填"),
    ({"base_type": "castle"}, "base_type", ""),
])
def test_bad_signup_shows_the_problem_on_its_field_and_writes_nothing(app, browser, change, field, message):
    before = _counts(app)
    form_page = browser.get("/signup").get_data(as_text=True)
    assert 'placeholder="None"' not in form_page and 'value="None"' not in form_page
    response = browser.post("/signup", {**GOOD, **change})
    assert response.status_code == 200
    errors = field_errors(response)
    assert field in errors and message in errors[field][0], errors
    assert _counts(app) == before


def test_taken_email_and_slug_are_refused(app, factory, browser):
    base = factory.base("longcheng")
    before = _counts(app)
    response = browser.post("/signup", {**GOOD, "email": base.owner.email.upper()})
    assert field_errors(response)["email"] == ["该邮箱已注册账号，请直接登录。"]
    assert field_errors(response)["base_slug"] == ["此网址已被其他基地使用。"]
    assert _counts(app) == before


def test_owner_creates_another_base_and_switches_between_them(app, factory, browser):
    base = factory.base("alpha")
    browser.login(base.owner)
    response = browser.post("/operator/bases/new", {"base_name": "第二基地", "base_slug": "second",
                                                   "base_type": "maker_space"})
    assert response.status_code == 302 and response.headers["Location"] == "/b/second/profile"
    listing = browser.get("/operator/bases").get_data(as_text=True)
    assert "第二基地" in listing and base.name in listing
    dashboard = browser.get("/b/second/").get_data(as_text=True)
    assert "切换基地" in dashboard and f'href="/b/{base.slug}/"' in dashboard
    assert base.name in browser.get(f"/b/{base.slug}/").get_data(as_text=True)
    bad = browser.post("/operator/bases/new", {"base_name": "重复", "base_slug": "second", "base_type": "maker_space"})
    assert field_errors(bad) == {"base_slug": ["此网址已被其他基地使用。"]}


def test_member_of_two_bases_picks_and_switches(app, factory, browser):
    alpha = factory.base("alpha")
    bravo = factory.base("bravo")
    person = factory.member(alpha, "staff", email="both@example.com")
    with app.app_context():
        from operator_app.accounts import services
        services.add_membership(db.session.get(User, person.id), db.session.get(Base, bravo.id), "mentor",
                                by=db.session.get(User, bravo.owner.id))
        db.session.commit()
    browser.login(person)
    home = browser.get("/").get_data(as_text=True)
    assert alpha.name in home and bravo.name in home
    assert "服务人员" in browser.get("/b/alpha/").get_data(as_text=True)
    assert "创业辅导师" in browser.get("/b/bravo/").get_data(as_text=True)


def test_control_characters_in_signup_are_refused_and_nothing_is_written(app, browser):
    before = _counts(app)
    response = browser.post("/signup", {**GOOD, "operator_name": "太原\x00公司", "user_name": "刘\x1b洋"})
    errors = field_errors(response)
    assert response.status_code == 200 and "operator_name" in errors and "user_name" in errors
    assert _counts(app) == before


def test_a_very_long_password_and_a_nul_in_the_email_are_answered_not_crashed(app, browser, new_browser):
    long_password = "Correct-horse-battery-staple-" * 5  # 145 characters
    response = browser.post("/signup", {**GOOD, "password": long_password, "confirm": long_password})
    assert response.status_code == 302
    before = _counts(app)
    response = new_browser().post("/signup", {**GOOD, "email": "x\x00@example.com", "base_slug": "other-slug"})
    assert response.status_code == 200 and "email" in field_errors(response)
    assert _counts(app) == before
