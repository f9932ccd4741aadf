"""Test helpers: the factory that builds operators, bases and users through the services, and a
browser wrapper that posts forms with their CSRF token like a real browser does."""
import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from io import BytesIO

from sqlalchemy import select, text
from werkzeug.datastructures import FileStorage

from operator_app.accounts import constants as c
from operator_app.accounts import services
from operator_app.accounts.models import Base, Membership, User
from operator_app.db import scoped_to
from operator_app.extensions import db
from operator_app.timeutil import as_utc, utcnow
from stdnum.cn import uscc
from ledger import services as ledger_services
from tenants import attendance_services, rent_services
from tenants import services as tenant_services
from tenants.models import TenantCompany

PASSWORD = "Correct-horse-battery-42"
INPUT_TAG = re.compile(r"<input\b([^>]*)>")
ATTRIBUTE = re.compile(r'([\w-]+)="([^"]*)"')
ERROR_PATTERN = re.compile(r'class="invalid-feedback[^"]*" data-field="([^"]+)">([^<]*)<')


@dataclass
class UserRef:
    id: int
    email: str
    name: str
    password: str = PASSWORD


@dataclass
class BaseRef:
    id: int
    slug: str
    name: str
    operator_id: int
    owner: UserRef
    users: dict  # role -> UserRef


class Factory:
    """Builds data through the services, committed, and returns plain references (no detached ORM objects)."""

    def __init__(self, app):
        self.app = app
        self.counter = 0

    def _next(self):
        self.counter += 1
        return self.counter

    def base(self, slug=None, name=None, roles=(c.ROLE_STAFF, c.ROLE_MENTOR, c.ROLE_TENANT)):
        """An operator with one base, its owner (manager) and one user per role in ``roles``."""
        n = self._next()
        slug = slug or f"base-{n}"
        with self.app.app_context():
            owner, base = services.sign_up_operator(
                operator_name=f"运营单位{n}", base_name=name or f"测试基地{n}", base_slug=slug,
                base_type="industrial", user_name=f"负责人{n}", email=f"owner{n}@example.com", password=PASSWORD)
            users = {c.ROLE_MANAGER: owner}
            for role in roles:
                user = services.create_user(f"{role}{n}@example.com", f"{role}{n}", PASSWORD)
                services.add_membership(user, base, role, by=owner)
                users[role] = user
            db.session.commit()
            refs = {role: UserRef(u.id, u.email, u.name) for role, u in users.items()}
            return BaseRef(base.id, base.slug, base.name, base.operator_id, refs[c.ROLE_MANAGER], refs)

    def another_base_of(self, base_ref, slug):
        """A second base of the same operator."""
        with self.app.app_context():
            owner = db.session.get(User, base_ref.owner.id)
            base = services.create_base(owner.operator, name=f"{base_ref.name}二号", slug=slug,
                                        base_type="university", by=owner)
            services.add_membership(owner, base, c.ROLE_MANAGER, by=owner)
            db.session.commit()
            return base.id

    def member(self, base_ref, role, email=None):
        """A new user with ``role`` in the base."""
        n = self._next()
        with self.app.app_context():
            base = db.session.get(Base, base_ref.id)
            owner = db.session.get(User, base_ref.owner.id)
            user = services.create_user(email or f"member{n}@example.com", f"成员{n}", PASSWORD)
            services.add_membership(user, base, role, by=owner)
            db.session.commit()
            return UserRef(user.id, user.email, user.name)

    def invitation(self, base_ref, email="invitee@example.com", role=c.ROLE_STAFF):
        """A pending invitation in the base; returns (invitation id, token)."""
        with self.app.app_context():
            base = db.session.get(Base, base_ref.id)
            owner = db.session.get(User, base_ref.owner.id)
            with scoped_to(base.id):
                invitation, token = services.invite(base, email=email, role=role, by=owner)
                db.session.commit()
                return invitation.id, token

    def company(self, base_ref, n=None, status="in_residence", **overrides):
        """A company in the base's files; returns its id."""
        n = n or self._next()
        with self.app.test_request_context(), scoped_to(base_ref.id):
            owner = db.session.get(User, base_ref.owner.id)
            created = tenant_services.create_company(company_values(n, **overrides), status=status, by=owner)
            db.session.commit()
            return created.id

    def milestone(self, base_ref, company_id, kind="patent", title="发明专利授权"):
        with self.app.test_request_context(), scoped_to(base_ref.id):
            owner = db.session.get(User, base_ref.owner.id)
            target = db.session.get(TenantCompany, company_id)
            created = tenant_services.add_milestone(target, occurred_on=date(2026, 5, 1), kind=kind, title=title,
                                                    amount_fen=None, by=owner)
            db.session.commit()
            return created.id

    def document(self, base_ref, company_id, kind="licence", data=None, filename="营业执照.pdf"):
        with self.app.test_request_context(), scoped_to(base_ref.id):
            owner = db.session.get(User, base_ref.owner.id)
            target = db.session.get(TenantCompany, company_id)
            upload = FileStorage(stream=BytesIO(data or PDF_BYTES), filename=filename)
            created = tenant_services.attach_document(target, kind=kind, upload=upload, by=owner)
            db.session.commit()
            return created.id

    def quote(self, base_ref, space_type="office", price_fen=5000, quoted_on=None, with_evidence=True):
        """A market quote (5,000 fen = 50 yuan per m² per month by default); returns its id."""
        with self.app.test_request_context(), scoped_to(base_ref.id):
            owner = db.session.get(User, base_ref.owner.id)
            upload = FileStorage(stream=BytesIO(PDF_BYTES), filename="询价单.pdf") if with_evidence else None
            created = rent_services.record_quote(
                {"quoted_on": quoted_on or date.today(), "source": "agency", "source_name": "太原链家",
                 "location": "晋阳街", "space_type": space_type, "price_fen": price_fen, "notes": ""},
                upload=upload, by=owner)
            db.session.commit()
            return created.id

    def policy(self, base_ref):
        """The base's preferential policy with its document; returns its id."""
        with self.app.test_request_context(), scoped_to(base_ref.id):
            owner = db.session.get(User, base_ref.owner.id)
            created = rent_services.save_policy(
                {"title": "入驻企业房租优惠办法", "document_number": "晋阳创发〔2025〕3号", "issuing_unit": "运营单位",
                 "issued_on": date(2025, 1, 10), "kinds": ["incubation_workstations"], "summary": "",
                 "is_posted": True},
                upload=FileStorage(stream=BytesIO(PDF_BYTES), filename="优惠办法.pdf"), by=owner)
            db.session.commit()
            return created.id

    def lease(self, base_ref, company_id, **overrides):
        """A lease of the company (office, 100 m², 30 yuan per m² per month by default); returns its id."""
        values = {"space_type": "office", "units": f"L-{self._next()}", "area_m2": Decimal("100.00"), "seats": None,
                  "starts_on": date(2025, 1, 1), "ends_on": date(2027, 12, 31), "list_rent_fen": 4000,
                  "actual_rent_fen": 3000, "free_months": 0, "discounted_months": 0, "discounted_rent_fen": None,
                  "deposit_fen": 0, "notes": ""}
        values.update(overrides)
        with self.app.test_request_context(), scoped_to(base_ref.id):
            owner = db.session.get(User, base_ref.owner.id)
            created = rent_services.create_lease(db.session.get(TenantCompany, company_id), values, by=owner)
            db.session.commit()
            return created.id

    def person(self, base_ref, company_id, name=None, phone=None, active_from=date(2026, 1, 1)):
        """A person at the company's workstations; returns (id, PIN)."""
        n = self._next()
        with self.app.test_request_context(), scoped_to(base_ref.id):
            owner = db.session.get(User, base_ref.owner.id)
            created, pin = attendance_services.register_person(
                db.session.get(TenantCompany, company_id), name=name or f"工位人员{n}",
                phone=phone or f"139{n:08d}", today=active_from, by=owner)
            db.session.commit()
            return created.id, pin

    def point(self, base_ref, name="一楼大厅"):
        """A check-in point; returns its id."""
        with self.app.test_request_context(), scoped_to(base_ref.id):
            created = attendance_services.create_point(name, by=db.session.get(User, base_ref.owner.id))
            db.session.commit()
            return created.id

    def link_tenant(self, base_ref, company_id, user_ref=None):
        """Make the base's tenant user (or ``user_ref``) the contact of ``company_id``."""
        user_ref = user_ref or base_ref.users["tenant"]
        with self.app.app_context():
            membership = db.session.scalar(select(Membership).where(Membership.user_id == user_ref.id,
                                                                    Membership.base_id == base_ref.id))
            membership.tenant_company_id = company_id
            db.session.commit()


    # --- The service ledger ---

    ledger_author = None  # a UserRef recording the ledger entries instead of the base's owner

    def _ledger(self, base_ref, make):
        with self.app.test_request_context(), scoped_to(base_ref.id):
            owner = db.session.get(User, (self.ledger_author or base_ref.owner).id)
            base = db.session.get(Base, base_ref.id)
            created = make(owner, base)
            db.session.commit()
            return created.id

    def service_person(self, base_ref, name=None, is_mentor=False, user_ref=None):
        n = self._next()
        values = {"name": name or f"服务专员{n}", "position": "专员", "phone": "", "is_mentor": is_mentor,
                  "certificate_issuer": "山西省小企业服务中心" if is_mentor else "",
                  "certificate_number": f"SX-{n:05d}" if is_mentor else "", "is_active": True,
                  "user_id": user_ref.id if user_ref else None}
        return self._ledger(base_ref, lambda owner, base: ledger_services.add_person(values, by=owner))

    def agency(self, base_ref, name=None, category="financing", starts_on=date(2025, 1, 1), ends_on=None):
        values = {"name": name or f"合作机构{self._next()}", "category": category, "services": "",
                  "agreement_starts_on": starts_on, "agreement_ends_on": ends_on, "contact_name": "",
                  "contact_phone": "", "is_active": True}
        return self._ledger(base_ref, lambda owner, base: ledger_services.add_agency(values, by=owner))

    def service_request(self, base_ref, company_id, category="financing", content="想了解创业担保贷款",
                        received_at=datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc), handler_id=None):
        values = {"company_id": company_id, "channel": "phone", "category": category, "content": content,
                  "received_at": received_at, "handler_id": handler_id}
        return self._ledger(base_ref, lambda owner, base: ledger_services.create_request(values, base=base,
                                                                                          by=owner))

    def visit(self, base_ref, company_id, staff_id=None, agency_id=None, category="coaching",
              occurred_on=date(2026, 3, 3)):
        values = {"company_id": company_id, "occurred_on": occurred_on, "staff_id": staff_id,
                  "agency_id": agency_id, "people": "", "purpose": "走访了解经营情况", "category": category,
                  "content": "座谈", "follow_up": ""}
        return self._ledger(base_ref, lambda owner, base: ledger_services.create_visit(values, by=owner))

    def activity(self, base_ref, organiser_id=None, starts_at=datetime(2026, 3, 5, 6, 0, tzinfo=timezone.utc),
                 hours=2, category="training", agency_id=None, title="创业培训沙龙"):
        def make(owner, base):
            values = {"title": title, "category": category, "starts_at": starts_at,
                      "ends_at": starts_at + timedelta(hours=hours), "place": "一楼路演厅",
                      "organiser_id": organiser_id, "agency_id": agency_id, "expected_companies": 10,
                      "agenda": "", "sheet_companies": None, "sheet_people": None, "signin_hours_after": 2,
                      "publicity_links": "", "results": ""}
            return ledger_services.create_activity(values, base=base, by=owner)
        return self._ledger(base_ref, make)

    def activity_file(self, base_ref, activity_id, kind="notice"):
        """A notice or sheet scan (PDF) of the activity; returns the ActivityFile id."""
        from ledger.models import Activity

        def make(owner, base):
            activity = db.session.get(Activity, activity_id)
            upload = FileStorage(stream=BytesIO(PDF_BYTES), filename="通知.pdf")
            return ledger_services.add_activity_files(activity, kind, [upload], now=utcnow(), by=owner)[0]
        return self._ledger(base_ref, make)

    def signin(self, base_ref, activity_id, phone="13800000001", name="张三", company_id=None,
               at=None):
        """A participant's sign-in (at the activity's start unless ``at`` is given); returns its id."""
        from ledger.models import Activity

        def make(owner, base):
            activity = db.session.get(Activity, activity_id)
            company = db.session.get(TenantCompany, company_id) if company_id else None
            return ledger_services.sign_in(activity, name=name, phone=phone, company_name="某公司",
                                           now=at or as_utc(activity.starts_at), company=company)[0]
        return self._ledger(base_ref, make)

    def link_agreement(self, base_ref, agency_id):
        """Upload the agency's agreement (a PDF)."""
        from ledger.models import PartnerAgency

        def make(owner, base):
            agency = db.session.get(PartnerAgency, agency_id)
            upload = FileStorage(stream=BytesIO(PDF_BYTES), filename="合作协议.pdf")
            ledger_services.update_agency(agency, {}, upload=upload, by=owner)
            return agency
        return self._ledger(base_ref, make)

    def activity_code(self, base_ref, activity_id):
        """The secret code of the activity's QR sign-in link."""
        from ledger.models import Activity

        with self.app.app_context(), scoped_to(base_ref.id):
            return db.session.get(Activity, activity_id).signin_code

    def feedback(self, base_ref, company_id, kind, entry_id, rating, comment=""):
        """The company's rating of an entry (given by the base's tenant user); returns its id."""
        def make(owner, base):
            entry = db.session.get(ledger_services.ENTRY_MODELS[kind], entry_id)
            company = db.session.get(TenantCompany, company_id)
            return ledger_services.give_feedback(company, kind, entry, rating=rating, comment=comment,
                                                 user=db.session.get(User, base_ref.users["tenant"].id))
        return self._ledger(base_ref, make)


class Browser:
    """A test client that behaves like a person's browser: reads the CSRF token from the page it came from."""

    def __init__(self, client):
        self.client = client

    def get(self, url, **kwargs):
        return self.client.get(url, **kwargs)

    def hidden_fields(self, page):
        """The hidden inputs of ``page`` (the CSRF token, a record's version), as a browser would send them."""
        html = self.client.get(page).get_data(as_text=True)
        fields = {}
        for tag in INPUT_TAG.findall(html):
            attributes = dict(ATTRIBUTE.findall(tag))
            if attributes.get("type") == "hidden" and "name" in attributes:
                fields.setdefault(attributes["name"], attributes.get("value", ""))
        return fields

    def csrf_token(self, page="/login"):
        token = self.hidden_fields(page).get("csrf_token")
        assert token, f"no CSRF token on {page}"
        return token

    def post(self, url, data=None, *, form_page=None, csrf=True, **kwargs):
        """Submit ``data`` to ``url`` with the hidden fields of ``form_page`` (default: ``url`` itself)."""
        hidden = self.hidden_fields(form_page or url)
        if not csrf:
            hidden.pop("csrf_token", None)
        return self.client.post(url, data={**hidden, **(data or {})}, **kwargs)

    def login(self, user, password=None):
        response = self.post("/login", {"email": user.email, "password": password or user.password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    def logout(self):
        return self.post("/logout", form_page="/account/password")


def field_errors(response):
    """The error messages shown under each form field: {field name: [messages]}."""
    errors = {}
    for name, message in ERROR_PATTERN.findall(response.get_data(as_text=True)):
        errors.setdefault(name, []).append(message)
    return errors


def valid_uscc(n):
    """A valid unified social credit code (check character computed by python-stdnum), distinct per ``n``."""
    body = f"91140100{n:09d}"
    return body + uscc.calc_check_digit(body)


def company_values(n=1, **overrides):
    """The values of a complete company file (the keys services.create_company takes)."""
    values = {"name": f"太原测试科技有限公司{n}", "uscc": valid_uscc(n), "is_team": False, "team_evidence": "",
              "legal_representative": "王五", "contact_name": "赵六", "contact_phone": "13900000000",
              "contact_email": f"contact{n}@example.com", "main_business": "软件开发", "industry": "I",
              "zone": "growth", "unit": f"A-{n:03d}", "is_workstation": False, "workstation_count": None,
              "area_m2": Decimal("120.00"), "moved_in_on": date(2025, 3, 1), "licence_in_base": True,
              "staff_on_site": True, "equipment_on_site": True}
    values.update(overrides)
    return values


PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@contextmanager
def raw_connection(base_id=None):
    """A raw connection as another process of the app would hold one, committed at the end: on PostgreSQL it is
    confined to ``base_id`` by row-level security as the app's sessions are (all bases when None)."""
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT set_config('app.base_id', :base, true), set_config('app.unscoped', "
                                    ":unscoped, true)"), {"base": "" if base_id is None else str(base_id),
                                                          "unscoped": "on" if base_id is None else "off"})
        yield connection
