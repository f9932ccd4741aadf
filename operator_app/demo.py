"""The demo operator and base that ``make run`` loads into an empty database."""
from datetime import date, timedelta
from decimal import Decimal

from .accounts import constants as c
from .accounts import services
from .db import scoped_to
from .extensions import db

DEMO_PASSWORD = "Jinyang-demo-2026"

DEMO_USERS = (
    # email, name, role, phone
    ("manager@demo.example", "王建国", c.ROLE_MANAGER, "13803510001"),
    ("staff@demo.example", "李娜", c.ROLE_STAFF, "13803510002"),
    ("mentor@demo.example", "赵敏", c.ROLE_MENTOR, "13803510003"),
    ("tenant@demo.example", "张伟", c.ROLE_TENANT, "13903510004"),
)


def load_demo():
    """Create the demo operator 太原晋阳创业服务有限公司 with one base and its people; returns the base."""
    owner_email, owner_name, _, owner_phone = DEMO_USERS[0]
    owner, base = services.sign_up_operator(
        operator_name="太原晋阳创业服务有限公司", base_name="晋阳小微企业双创基地", base_slug="jinyang",
        base_type="producer_service", user_name=owner_name, email=owner_email, password=DEMO_PASSWORD)
    owner.phone = owner_phone
    with scoped_to(base.id):
        services.update_base_profile(base, {
            "name": base.name, "base_type": base.base_type, "is_demonstration": False,
            "address": "山西省太原市晋源区晋阳街 88 号创业大厦", "timezone": "Asia/Shanghai",
            "tenant_count_standard": 50, "total_area_m2": Decimal("12000.00"),
            "site_ownership": c.SITE_LEASED, "site_certificates": "房屋租赁合同 晋阳租字〔2021〕第 017 号",
            "site_lease_start_on": date(2021, 3, 1), "site_lease_end_on": date(2031, 2, 28),
            "site_boundaries": "创业大厦 1–6 层，东至晋阳街，西至园区内路，南北以大厦外墙为界。",
            "service_functions": ["information", "coaching", "training", "financing", "professional"],
            "has_signage": True, "operating_since_on": date(2021, 3, 1),
            "zones": {
                c.ZONE_INCUBATION: {"area_m2": Decimal("3000.00"), "description": "2–3 层，含开放工位区 120 个工位"},
                c.ZONE_GROWTH: {"area_m2": Decimal("7000.00"), "description": "4–6 层独立办公单元"},
                c.ZONE_PUBLIC_SERVICE: {"area_m2": Decimal("2000.00"),
                                        "description": "1 层服务大厅、路演厅、会议室"},
            },
        }, by=owner)
    with scoped_to(base.id):
        companies = _load_demo_tenants(base, owner)
    users = {}
    for email, name, role, phone in DEMO_USERS[1:]:
        user = users[role] = services.create_user(email, name, DEMO_PASSWORD, phone)
        services.add_membership(user, base, role, by=owner,
                                tenant_company_id=companies[0].id if role == c.ROLE_TENANT else None)
    db.session.flush()
    with scoped_to(base.id):
        from ledger.demo import load_demo_ledger

        from .timeutil import today_in

        load_demo_ledger(base, owner, companies, users, today_in(base.timezone))
        _load_demo_filings(base, owner, today_in(base.timezone))
        _load_demo_inspection_documents(owner, today_in(base.timezone))
        from billing.demo import load_demo_billing

        load_demo_billing(base, owner, companies, today_in(base.timezone))
    return base


def _load_demo_inspection_documents(owner, today):
    """The documents an inspector asks for, kept beside the compliance page (the demo's are stand-ins)."""
    from io import BytesIO

    from PIL import Image, ImageDraw
    from werkzeug.datastructures import FileStorage

    from .filings import compliance_services as documents

    sign = Image.new("RGB", (480, 160), (200, 16, 46))
    ImageDraw.Draw(sign).rectangle((12, 12, 468, 148), outline=(255, 215, 0), width=6)
    photo = BytesIO()
    sign.save(photo, "PNG")
    stand_in = b"%PDF-1.4\n% demo stand-in\n%%EOF\n"
    for kind, title, data, name, dated_on in (
            (documents.KIND_AUDIT_REPORT, "2025年度专项审计报告", stand_in, "专项审计报告.pdf", date(2026, 3, 20)),
            (documents.KIND_FINANCE_SYSTEM, "财务管理制度", stand_in, "财务管理制度.pdf", date(2024, 1, 5)),
            (documents.KIND_SITE_DOCUMENTS, "房屋租赁合同 晋阳租字〔2021〕第 017 号", stand_in, "租赁合同.pdf",
             date(2021, 3, 1)),
            (documents.KIND_SIGNAGE_PHOTO, "服务大厅“小微企业服务站”标识", photo.getvalue(), "标识.png",
             today - timedelta(days=30))):
        documents.add_document({"kind": kind, "title": title, "dated_on": dated_on},
                               upload=FileStorage(BytesIO(data), name), by=owner)


def _load_demo_filings(base, owner, today):
    """The base has run since its site lease began: last year's work summary was sent in January; its last four
    quarters are filed, the three older ones submitted by hand, the latest a draft waiting for the manager."""
    from datetime import datetime, timezone

    from .filings import services as filing_services
    from .filings.models import SUBMITTED_BY_HAND

    base.created_at = datetime(2021, 3, 1, tzinfo=timezone.utc)
    from .filings import annual

    quarters = filing_services.ended_quarters(base, today)
    last_year = today.year - 1
    summary = annual.ensure_summary(base, last_year, today=today, now=datetime.now(timezone.utc), by=owner)
    annual.mark_sent(summary, date(last_year + 1, 1, 12), owner)
    for year, quarter in quarters:
        filing = filing_services.generate(base, year, quarter, today=today)
        if (year, quarter) != quarters[-1]:
            filing_services.mark_submitted(filing, via=SUBMITTED_BY_HAND, note="已在省中小企业公共服务平台上传",
                                           by=owner)


# name, USCC body (17 characters; the check character is computed), industry, zone, unit, m², workstations, moved in
DEMO_COMPANIES = (
    ("太原智联科技有限公司", "91140100MA0K7A1B2", "I", "growth", "4-402", "180", None, date(2022, 5, 10)),
    ("山西晋数云图信息技术有限公司", "91140100MA0L3C5D6", "I", "growth", "5-501", "260", None, date(2021, 9, 1)),
    ("太原市汾河新材料有限公司", "91140100MA0M8E9F1", "C", "growth", "6-603", "420", None, date(2023, 3, 15)),
    ("晋阳文创设计工作室", None, "R", "incubation", "2-W12～2-W13", "12", 2, date(2025, 4, 1)),
    ("山西绿源农业科技有限公司", "91140100MA0N2G4H8", "M", "growth", "4-418", "150", None, date(2024, 1, 8)),
    ("太原云帆跨境电子商务有限公司", "91140100MA0P6J7K3", "F", "incubation", "3-W05", "6", 1, date(2025, 8, 20)),
    ("晋创智能装备技术有限公司", "91140100MA0Q1L2M5", "C", "growth", "6-610", "380", None, date(2022, 11, 3)),
    ("太原启明教育咨询有限公司", "91140100MA0R5N8P0", "P", "incubation", "2-W21", "6", 1, date(2025, 10, 9)),
)


def _load_demo_tenants(base, owner):
    from stdnum.cn import uscc

    from tenants import services as tenant_services
    from tenants.rules import rules_of

    rules = rules_of(base)
    rules.entry_conditions = "从事信息技术、先进制造、科技服务、文化创意等产业的小微企业和创业团队；在基地实际办公。"
    rules.procedure = "1. 提交入驻申请及营业执照；2. 基地审核（5 个工作日）；3. 签订入驻协议；4. 办理入驻。"
    rules.management_rules = "遵守基地物业、消防和安全管理制度；每月 10 日前报送上月经营数据。"
    rules.exit_conditions = "租约到期、孵化毕业、违反管理规定或自愿退出；退出时交还钥匙、结清租金、办理押金结算。"
    rules.allowed_industries = ["C", "F", "I", "M", "P", "R"]
    rules.required_documents = ["licence"]
    rules.is_published = rules.accepts_applications = True
    companies = []
    for name, code, industry, zone, unit, area, workstations, moved_in_on in DEMO_COMPANIES:
        values = {"name": name, "uscc": code + uscc.calc_check_digit(code) if code else None,
                  "is_team": code is None, "team_evidence": "" if code else "由省级工艺美术大师领衔的设计工作室",
                  "legal_representative": "", "contact_name": "", "contact_phone": "", "contact_email": "",
                  "main_business": "", "industry": industry, "zone": zone, "unit": unit,
                  "is_workstation": workstations is not None, "workstation_count": workstations,
                  "area_m2": Decimal(area), "moved_in_on": moved_in_on, "licence_in_base": code is not None,
                  "staff_on_site": True, "equipment_on_site": True}
        companies.append(tenant_services.create_company(values, status="in_residence", by=owner))
    first, second = companies[0], companies[1]
    first.legal_representative, first.contact_name, first.contact_phone = "张伟", "张伟", "13903510004"
    first.main_business = "工业物联网平台与智能网关的研发和销售"
    tenant_services.add_milestone(first, occurred_on=date(2024, 6, 18), kind="financing", title="天使轮融资",
                                  amount_fen=300_000_000, by=owner)
    tenant_services.add_milestone(first, occurred_on=date(2025, 11, 20), kind="high_tech",
                                  title="认定为高新技术企业", by=owner, amount_fen=None)
    tenant_services.add_milestone(second, occurred_on=date(2025, 3, 2), kind="patent",
                                  title="取得软件著作权 3 项", by=owner, amount_fen=None)
    graduate = tenant_services.create_company({
        "name": "山西华晟检测技术有限公司", "uscc": "91140100MA0W9Q3R7" + uscc.calc_check_digit("91140100MA0W9Q3R7"),
        "industry": "M", "zone": "growth", "unit": "5-520", "area_m2": Decimal("200"),
        "moved_in_on": date(2021, 6, 1), "licence_in_base": True, "staff_on_site": True,
        "equipment_on_site": True}, status="in_residence", by=owner)
    tenant_services.add_milestone(graduate, occurred_on=date(2024, 12, 1), kind="above_scale",
                                  title="营业收入超过 2000 万元，纳入规模以上企业统计", by=owner, amount_fen=None)
    tenant_services.record_exit(graduate, reason="graduation", exit_on=date(2025, 6, 30), today=date.today(),
                                keys_returned=True, rent_settled=True, deposit_settled=True, notes="迁入自有厂房",
                                by=owner)
    _load_demo_rent(base, owner, companies)
    _load_demo_reports(base, owner, companies)
    _load_demo_attendance(base, owner, [company for company in companies if company.is_workstation])
    tenant_services.create_company({
        "name": "太原数智财税服务有限公司", "uscc": "91140100MA0T4X6U2" + uscc.calc_check_digit("91140100MA0T4X6U2"),
        "industry": "L", "contact_name": "刘洋", "contact_phone": "13603510009",
        "main_business": "小微企业代理记账与财税咨询"}, status="applicant", by=owner)
    return companies


def _load_demo_reports(base, owner, companies):
    """A year of monthly reports growing month by month; last month only half of the companies have filed (the
    demo tenant's company among those that have not, so its banner shows)."""
    from tenants import report_services, reports

    from .timeutil import today_in

    today = today_in(base.timezone)
    last = reports.current_month_due(today)
    for index, company in enumerate(companies):
        size = 40 + 25 * index  # ten thousand yuan a month, roughly
        for back in range(13, -1, -1):
            month_on = reports.shift(last, -back)
            if not reports.expected_of(company, month_on) or (back == 0 and index % 2 == 0):
                continue
            growth = 1 + (13 - back) * 0.02
            figures = {"revenue_fen": int(size * growth * 1_000_000), "tax_fen": int(size * growth * 45_000),
                       "employees": 5 + index * 3 + (13 - back) // 4}
            report_services.save_report(company, month_on, figures, base=base, submit=True, reason="",
                                        today=reports.due_on(month_on, 8), by=owner, on_behalf=True)


def _load_demo_rent(base, owner, companies):
    """Market quotes, the preferential policy and a lease for every demo company."""
    from tenants import rent_services

    today = date.today()
    for days, source, name, space, price in ((40, "agency", "太原链家晋源门店", "office", 4800),
                                             (95, "nearby_park", "晋阳科技园", "office", 5200),
                                             (60, "listing", "58 同城挂牌", "workstation", 65000),
                                             (420, "agency", "太原我爱我家", "office", 6500)):
        rent_services.record_quote({"quoted_on": today - timedelta(days=days), "source": source,
                                    "source_name": name, "location": "晋源区", "space_type": space,
                                    "price_fen": price, "notes": ""}, by=owner)
    rent_services.save_policy({"title": "晋阳小微企业双创基地入驻企业房租优惠办法",
                               "document_number": "晋阳创发〔2025〕3号",
                               "issuing_unit": "太原晋阳创业服务有限公司", "issued_on": date(2025, 1, 10),
                               "kinds": ["time_limited", "incubation_workstations"],
                               "summary": "孵化区工位企业首年租金五折；成长区企业按挂牌价八折。",
                               "is_posted": True}, by=owner)
    for index, company in enumerate(companies):
        workstation = company.is_workstation
        start = max(company.moved_in_on, today - timedelta(days=700))
        rent_services.create_lease(company, {
            "space_type": "workstation" if workstation else "office", "units": company.unit,
            "area_m2": None if workstation else company.area_m2,
            "seats": company.workstation_count if workstation else None,
            "starts_on": start, "ends_on": start + timedelta(days=3 * 365 - 1) if index != 2
            else today + timedelta(days=45),
            "list_rent_fen": 60000 if workstation else 4200, "actual_rent_fen": 30000 if workstation else 3400,
            "free_months": 8 if index == 5 else (2 if workstation else 0), "discounted_months": 0,
            "discounted_rent_fen": None, "deposit_fen": 0 if workstation else 3400 * 3 * int(company.area_m2),
            "notes": ""}, by=owner)


def _load_demo_attendance(base, owner, companies):
    """A check-in point, two people per workstation company, and their days on site this month and last."""
    from tenants import attendance_services
    from tenants.models import WorkstationPerson

    from .timeutil import today_in
    from .workcalendar import year_rule

    today = today_in(base.timezone)
    attendance_services.create_point("一楼服务大厅", by=owner)
    names = iter(("陈晨", "刘洋", "杨帆", "黄磊", "周敏", "吴昊"))
    start = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    for index, company in enumerate(companies):
        for n in range(2):
            attendance_services.register_person(company, name=next(names), phone=f"1390351{index:02d}{n:02d}",
                                                today=start, by=owner)
    for person in db.session.scalars(db.select(WorkstationPerson)):
        day = start
        while day <= today:
            # The design studio comes in less often, so the demo shows one company below the threshold.
            if year_rule(day.year).is_workday(day) and (person.company.name != "晋阳文创设计工作室"
                                                         or day.weekday() < 3):
                attendance_services.set_presence(person, day, True, source="staff", by=owner)
            day += timedelta(days=1)
