"""Benchmark data (issue 11): fill an empty database with realistic bases at a chosen scale, in minutes.

``generate(app, scale)`` writes operators, bases and their people, tenant companies in every status, 36 months
of monthly reports, three years of the service ledger with sign-ins, a year of workstation attendance, leases,
market quotes, policies and the last months' rent bills with payments. Everything is dated relative to today
(the bases' day in Asia/Shanghai), so the app's pages show a base in the middle of its work.

How it stays fast and small:
- rows are written in bulk: ``insert(Model.__table__)`` executemany in chunks, or PostgreSQL's ``COPY`` when
  the connected role is not bound by row-level security (a superuser; COPY FROM refuses tables under RLS);
- parent rows get their ids up front (PostgreSQL: ``nextval`` of the table's sequence; SQLite: counted on
  from the table's largest id), so nothing is read back;
- one base at a time, committed per base: memory holds one base's rows, whatever the number of bases;
- one password hash (and one PIN hash) for every generated user (hashing is slow on purpose);
- stored files (licences, policies, activity notices and photos) are rows plus hard links to a sample file
  per kind in the upload folder.

Every base-owned write runs inside ``unscoped()``: the generator writes every base.

Run: ``flask --app wsgi bench generate --scale province`` (see benchmarks/README.md).
"""
import errno
import hashlib
import itertools
import json
import os
import random
import shutil
import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from functools import cache

from sqlalchemy import JSON, func, insert, select, text

from operator_app.timeutil import add_months, month_key, month_of

#: The password of every generated user (logins: ``manager_email(slug)``, ``owner_email(n)``, …).
PASSWORD = "Bench-data-2026"
#: The check-in PIN of every generated workstation person.
PIN = "246810"
EMAIL_DOMAIN = "bench.example.com"
REASON = "the benchmark generator writes every base"
CHUNK = 2000
UTC = timezone.utc
SHANGHAI_OFFSET = timedelta(hours=8)  # Asia/Shanghai has no daylight saving time
STAND_IN_START, STAND_IN_END = date(1901, 1, 1), date(1902, 2, 2)  # dates no generated record has


# --- Scales -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scale:
    """How much to generate. Densities are per base, so a larger scale is more bases of the same shape."""

    name: str
    bases: int
    companies: int  # company files per base, every status (applicants, housed, left)
    months: int = 36  # months of monthly reports, up to the month being collected now
    ledger_per_year: int = 1500  # ledger entries per base and year (45% requests, 45% visits, 10% activities)
    ledger_years: int = 3
    attendance_days: int = 365
    workstation_share: float = 0.2  # of the housed companies (the policy's quota)
    people_per_workstation: int = 3
    bases_per_operator: int = 10
    billed_months: int = 3  # rent bills for the last months, the current one included

    def with_overrides(self, *, bases=None, companies=None, months=None):
        changes = {key: value for key, value in (("bases", bases), ("companies", companies), ("months", months))
                   if value is not None}
        for key, value in changes.items():
            if value < 1:
                raise ValueError(f"{key} must be at least 1")
        return replace(self, **changes) if changes else self


SCALES = {
    "province": Scale("province", bases=200, companies=100),
    "small": Scale("small", bases=10, companies=100),
    "base300": Scale("base300", bases=1, companies=300),
}


class GeneratorRefused(RuntimeError):
    """The database is not empty: the generator only fills a new one."""


def owner_email(operator_number):
    return f"owner.op{operator_number:03d}@{EMAIL_DOMAIN}"


def manager_email(slug):
    return f"manager.{slug}@{EMAIL_DOMAIN}"


def base_slug(index):
    """The web address of the base generated ``index``-th (from 0): taiyuan-001, datong-002, …"""
    return f"{CITIES[index % len(CITIES)][1]}-{index + 1:03d}"


# --- Shared bulk helpers (benchmarks/quarterly_filing.py and attendance_month.py use them too) --------------------

def insert_rows(session, statement, rows, chunk=CHUNK):
    """Insert ``rows`` (dicts with the same keys, any iterable) with executemany, ``chunk`` rows at a time; returns
    how many were inserted."""
    inserted = 0
    rows = iter(rows)
    while batch := list(itertools.islice(rows, chunk)):
        session.execute(statement, batch)
        inserted += len(batch)
    return inserted


def random_day(rng, first, last):
    """A day from ``first`` to ``last``, both included."""
    return first + timedelta(days=rng.randrange((last - first).days + 1))


def local_time(day, hour, minute=0):
    """A base-local (Asia/Shanghai) wall-clock time on ``day`` as an aware UTC datetime (minutes may pass 59)."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=hour, minutes=minute) - SHANGHAI_OFFSET


class Writer:
    """The bulk writes of one generation: ids handed out up front, executemany or COPY, rows and seconds counted
    per table."""

    def __init__(self, session, use_copy=None):
        self.session = session
        self.dialect = session.get_bind().dialect.name
        if use_copy is None:
            use_copy = self.dialect == "postgresql" and self._bypasses_row_security()
        elif use_copy and self.dialect != "postgresql":
            raise ValueError("COPY is PostgreSQL's")
        self.use_copy = use_copy
        self.counts = Counter()
        self.seconds = Counter()
        self._next_id = {}
        self._fill = {}

    def _bypasses_row_security(self):
        return bool(self.session.execute(text(
            "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")).scalar())

    def ids(self, table, count):
        """``count`` new ids of ``table``: from its sequence on PostgreSQL, after its largest id on SQLite (the
        generator is the only writer of the database it fills)."""
        if count <= 0:
            return []
        if self.dialect == "postgresql":
            return list(self.session.execute(
                text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)"),
                {"table": table.name, "count": count}).scalars())
        start = self._next_id.get(table.name)
        if start is None:
            start = (self.session.execute(select(func.max(table.c.id))).scalar() or 0) + 1
        self._next_id[table.name] = start + count
        return list(range(start, start + count))

    def write(self, table, rows):
        """Insert ``rows`` (dicts with the same keys) into ``table``; returns how many."""
        if not rows:
            return 0
        started = time.perf_counter()
        if self.use_copy:
            self._copy(table, rows)
        else:
            insert_rows(self.session, insert(table), rows)
        self.seconds[table.name] += time.perf_counter() - started
        self.counts[table.name] += len(rows)
        return len(rows)

    def _defaults(self, table, keys):
        """The columns the rows leave out that have a Python-side default, with its value now (COPY does not run
        SQLAlchemy's defaults; the database fills its own server defaults and the ids)."""
        defaults = self._fill.get((table.name, keys))
        if defaults is None:
            defaults = [column for column in table.columns
                        if column.name not in keys and column.default is not None and not column.primary_key]
            for column in defaults:
                if not (column.default.is_callable or column.default.is_scalar):
                    raise ValueError(f"{table.name}.{column.name}: give its value (its default is SQL)")
            self._fill[(table.name, keys)] = defaults
        return {column.name: column.default.arg(None) if column.default.is_callable else column.default.arg
                for column in defaults}

    def _copy(self, table, rows):
        keys = tuple(rows[0])
        extra = self._defaults(table, keys)
        columns = keys + tuple(extra)
        json_at = [n for n, name in enumerate(columns) if isinstance(table.c[name].type, JSON)]
        tail = tuple(extra.values())
        quoted = ", ".join(f'"{name}"' for name in columns)
        cursor = self.session.connection().connection.driver_connection.cursor()
        with cursor, cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
            for row in rows:
                values = tuple(row[key] for key in keys) + tail
                if json_at:
                    values = list(values)
                    for n in json_at:
                        values[n] = None if values[n] is None else json.dumps(values[n], ensure_ascii=False)
                copy.write_row(values)


# --- Vocabulary -------------------------------------------------------------------------------------------------

# Shanxi: (city, pinyin for the base's web address, administrative division code for the USCC)
CITIES = (("太原", "taiyuan", "140100"), ("大同", "datong", "140200"), ("阳泉", "yangquan", "140300"),
          ("长治", "changzhi", "140400"), ("晋城", "jincheng", "140500"), ("朔州", "shuozhou", "140600"),
          ("晋中", "jinzhong", "140700"), ("运城", "yuncheng", "140800"), ("忻州", "xinzhou", "140900"),
          ("临汾", "linfen", "141000"), ("吕梁", "lvliang", "141100"))
PLACES = ("高新区", "经开区", "科技城", "东区", "西区", "南站", "文创园", "双创街区", "大学城", "综改区")
BASE_KINDS = (("小微企业双创基地", "industrial"), ("创新创业孵化基地", "emerging_industry"),
              ("生产性服务业双创基地", "producer_service"), ("商务秘书双创基地", "business_secretary"),
              ("文化创意双创基地", "cultural_creative"), ("大学生创业园", "university"),
              ("龙头企业双创基地", "leading_enterprise"), ("众创空间", "maker_space"))
OPERATOR_WORDS = ("创业服务有限公司", "孵化器管理有限公司", "产业园运营有限公司", "科技服务集团有限公司")
BRANDS = ("智联", "云帆", "晋数", "汾河", "华晟", "启明", "博远", "聚力", "星辰", "鼎盛", "恒通", "中科", "天行",
          "蓝海", "绿源", "金石", "卓越", "瑞丰", "宏图", "腾达", "睿思", "优选", "新锐", "远航", "同创", "合力",
          "龙城", "并州", "晋阳", "太行", "云冈", "五台", "汾阳", "晋商", "三晋", "精诚", "众邦", "融通", "凯峰",
          "安泰", "嘉禾", "信达", "海纳", "致远", "明德", "弘毅", "立方", "数科", "极光", "青禾")
# industry section (GB/T 4754): (share, name words, main business)
INDUSTRIES = (
    ("I", 30, ("信息技术", "网络科技", "软件开发", "数据科技", "智能科技"),
     ("工业物联网平台与智能网关的研发", "中小企业管理软件的开发与运维", "政务数据治理与可视化服务",
      "小程序与移动应用开发")),
    ("C", 12, ("新材料", "智能装备", "精密机械", "电子科技"),
     ("碳基新材料的研发和中试", "矿用智能巡检机器人的研制", "精密零部件加工", "传感器模组的设计与生产")),
    ("M", 12, ("检测技术", "生物科技", "环保科技", "工程技术"),
     ("第三方检测与认证服务", "功能性食品的研发", "工业固废资源化技术服务", "工程咨询与设计")),
    ("F", 10, ("电子商务", "商贸", "供应链管理"),
     ("山西特产的跨境电商销售", "农产品线上批发", "社区团购供应链服务")),
    ("R", 8, ("文化传媒", "文化创意", "设计"), ("短视频内容制作与运营", "文创产品设计与销售", "品牌视觉设计")),
    ("P", 6, ("教育科技", "教育咨询"), ("职业技能在线培训", "青少年科技教育课程研发")),
    ("L", 10, ("企业管理咨询", "财税服务", "人力资源服务"),
     ("小微企业代理记账与财税咨询", "人力资源外包与招聘服务", "企业管理咨询")),
    ("A", 5, ("农业科技", "生态农业"), ("杂粮种植技术推广与销售", "设施农业技术服务")),
    ("E", 4, ("建筑科技", "装饰工程"), ("装配式建筑技术咨询", "室内装饰设计与施工")),
    ("O", 3, ("家政服务", "社区服务"), ("家政服务与培训", "社区养老服务")),
)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红玲芬燕彬浩宇轩然欣怡涵晨阳帆鹏飞雪梅琳婷斌鑫凯"
AGENCIES = (("会计师事务所有限公司", "professional", "审计、代理记账与税务咨询"),
            ("律师事务所", "professional", "法律顾问、合同审查与知识产权维权"),
            ("知识产权代理有限公司", "innovation", "专利、商标与软件著作权代理"),
            ("人力资源服务有限公司", "training", "招聘、培训与社保代理"),
            ("融资担保有限公司", "financing", "创业担保贷款与融资对接"),
            ("管理咨询有限公司", "consulting", "战略与管理咨询"),
            ("品牌策划有限公司", "marketing", "品牌策划与市场推广"),
            ("科技信息服务中心", "information", "政策解读与科技信息服务"))
REQUESTS = {
    "information": ("想了解今年小微企业稳岗补贴的申报条件", "咨询高新技术企业认定的政策要求",
                    "了解研发费用加计扣除政策"),
    "coaching": ("希望安排创业导师辅导商业计划书", "咨询公司股权结构如何设计", "请导师帮忙梳理产品定位"),
    "innovation": ("需要对接知识产权代理机构申请发明专利", "想申请使用基地的检测设备", "咨询科技型中小企业评价入库"),
    "training": ("希望参加财务人员实务培训", "咨询员工职业技能培训补贴", "想组织新员工入职培训"),
    "marketing": ("希望推荐参加省内展会", "想在基地公众号发布产品推介", "咨询政府采购供应商入库"),
    "financing": ("想了解创业担保贷款", "希望对接天使投资机构", "咨询知识产权质押融资"),
    "consulting": ("咨询劳动合同与社保缴纳问题", "希望诊断公司财务管理制度", "咨询企业年报公示流程"),
    "professional": ("需要代理记账服务", "需要法律顾问审查合同", "咨询商标注册流程"),
}
VISITS = ("了解经营情况和发展需求", "走访了解融资需求", "上门宣讲惠企政策", "回访诉求办理情况", "协助梳理知识产权",
          "了解用工和招聘需求", "安全生产检查与服务")
ACTIVITIES = {
    "information": ("惠企政策宣讲会", "税收优惠政策解读会"), "coaching": ("创业导师面对面", "商业计划书辅导营"),
    "innovation": ("知识产权保护讲座", "科技成果转化对接会"), "training": ("财务实务培训", "新媒体运营培训班"),
    "marketing": ("产品路演日", "产销对接会"), "financing": ("银企对接会", "投融资路演沙龙"),
    "consulting": ("企业管理沙龙", "劳动用工合规讲座"), "professional": ("法律服务进基地", "代理记账公益课堂"),
}
PLACES_IN_BASE = ("一楼路演厅", "二楼会议室", "三楼培训教室", "创业咖啡")
MILESTONES = (("financing", 20, "完成{round}融资"), ("patent", 30, "取得{n}项专利或软件著作权"),
              ("high_tech", 10, "认定为高新技术企业"), ("specialised", 6, "认定为专精特新中小企业"),
              ("above_scale", 5, "营业收入纳入规模以上企业统计"), ("award", 15, "获得创新创业大赛奖项"),
              ("other", 14, "入选省级优质中小企业梯度培育库"))
ROUNDS = ("天使轮", "Pre-A轮", "A轮")
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

# Company statuses: (status, share of the files of a base)
STATUS_SHARES = (("applicant", 0.03), ("admitted", 0.01), ("rejected", 0.01), ("exited", 0.08), ("graduated", 0.07))


def uscc_of(region, number):
    """A valid unified social credit code (check character by python-stdnum), distinct for each ``number``."""
    from stdnum.cn import uscc

    spread = (number * 2654435761 + 12345678901) % (31 ** 7)  # the factor is prime to 31: numbers stay distinct
    code = ""
    for _ in range(7):
        spread, digit = divmod(spread, 31)
        code = USCC_ALPHABET[digit] + code
    body = f"92{region}MA{code}" if number % 9 == 0 else f"91{region}MA{code}"  # 92: 个体工商户
    return body + uscc.calc_check_digit(body)


def person_name(rng):
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def mobile(rng):
    return f"1{rng.choice('3578')}{rng.randrange(10)}{rng.randrange(10 ** 8):08d}"


# --- The day of the generation -------------------------------------------------------------------------------

class World:
    """What every base shares: the day, the windows of reports, ledger, attendance and bills, the hashes."""

    def __init__(self, scale, today, password_hash, pin_hash, files):
        from operator_app.workcalendar import year_rule

        self.today = today
        self.now = datetime.now(UTC)
        self.this_month = month_of(today)
        last = add_months(self.this_month, -1)  # the month being collected now
        self.months = [add_months(last, -back) for back in range(scale.months - 1, -1, -1)]
        self.report_start = self.months[0]
        self.ledger_start = today - timedelta(days=365 * scale.ledger_years - 1)
        self.attendance_start = today - timedelta(days=scale.attendance_days - 1)
        rules = {}
        self.workdays = []
        day = self.attendance_start
        while day <= today:
            rule = rules.get(day.year) or rules.setdefault(day.year, year_rule(day.year))
            if rule.is_workday(day):
                self.workdays.append(day)
            day += timedelta(days=1)
        self.billed = [add_months(self.this_month, -back) for back in range(scale.billed_months - 1, -1, -1)]
        self.password_hash = password_hash
        self.pin_hash = pin_hash
        self.files = files
        self.descriptions = {}  # the text of bill lines, by rent, size and days


class Files:
    """Stored files of generated records: a ``stored_files`` row each, and the bytes as a hard link to one sample
    per kind in the local upload folder (a copy where links are not possible; nothing on object storage)."""

    def __init__(self, writer):
        from operator_app.storage import CONTENT_TYPES, LocalStorage, storage

        backend = storage()
        self.root = backend.root if isinstance(backend, LocalStorage) else None
        self.writer = writer
        self.content_types = CONTENT_TYPES
        self.samples = {"pdf": _sample_pdf(), "jpg": _sample_jpeg()}
        self.hashes = {kind: hashlib.sha256(data).hexdigest() for kind, data in self.samples.items()}
        self.sample_paths, self.sample_count = {}, {}
        self.written = 0

    def _sample_path(self, kind, full=False):
        """The sample file the files of ``kind`` are links to; a new one when the last is ``full`` (a file system
        allows so many links to one file: ext4 65,000)."""
        if kind not in self.sample_paths or full:
            folder = self.root / "generator-samples"
            folder.mkdir(parents=True, exist_ok=True)
            self.sample_count[kind] = self.sample_count.get(kind, 0) + 1
            path = folder / f"sample-{self.sample_count[kind]}.{kind}"
            path.unlink(missing_ok=True)  # an earlier generation's sample keeps its links; this one starts afresh
            path.write_bytes(self.samples[kind])
            self.sample_paths[kind] = path
        return self.sample_paths[kind]

    def remove_samples(self):
        """Remove the sample files: the stored files are links to their bytes, and the upload folder keeps only
        files with generated names."""
        for path in self.sample_paths.values():
            path.unlink(missing_ok=True)
        if self.root is not None and (self.root / "generator-samples").is_dir():
            shutil.rmtree(self.root / "generator-samples")

    def rows(self, base_id, rng, wanted, uploaded_at):
        """``wanted``: [(kind, original name, uploader id)]. Returns (stored_files rows, their ids)."""
        table = _tables().StoredFile
        ids = self.writer.ids(table, len(wanted))
        rows = []
        for file_id, (kind, name, by) in zip(ids, wanted):
            data = self.samples[kind]
            key = f"{base_id}/{rng.getrandbits(128):032x}.{kind}"
            rows.append({"id": file_id, "base_id": base_id, "key": key, "original_name": name,
                         "content_type": self.content_types[kind], "size": len(data),
                         "sha256": self.hashes[kind], "uploaded_by_id": by,
                         "created_at": uploaded_at})
        return rows, ids

    def place(self, rows):
        """Put the bytes of ``rows`` (stored_files rows) in the upload folder."""
        if self.root is None:
            return
        folders = set()
        for row in rows:
            path = self.root / row["key"]
            if path.parent not in folders:
                path.parent.mkdir(parents=True, exist_ok=True)
                folders.add(path.parent)
            kind = row["key"].rsplit(".", 1)[1]
            path.unlink(missing_ok=True)  # left by an earlier generation into the same folder
            try:
                os.link(self._sample_path(kind), path)
            except OSError as error:
                if error.errno == errno.EMLINK:  # the sample has as many links as the file system allows
                    os.link(self._sample_path(kind, full=True), path)
                else:  # a file system without hard links
                    path.write_bytes(self.samples[kind])
            self.written += 1


def _sample_pdf():
    return (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
            b"trailer<</Root 1 0 R>>\n%%EOF\n")


def _sample_jpeg():
    from io import BytesIO

    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (320, 240), (74, 120, 168))
    draw = ImageDraw.Draw(picture)
    draw.rectangle((20, 150, 300, 220), fill=(230, 230, 230))
    draw.ellipse((130, 40, 190, 100), fill=(250, 210, 120))
    out = BytesIO()
    picture.save(out, "JPEG", quality=70)
    return out.getvalue()


@cache
def _tables():
    """The tables written, by model name (imported late: the models need the app's packages loaded)."""
    from billing.models import (Allocation, BillingSettings, InvoiceLine, InvoiceSequence, Payment,
                                RentInvoice)
    from ledger.models import (Activity, ActivityFile, Feedback, PartnerAgency, ServicePerson, ServiceRequest,
                               SignIn, Visit)
    from operator_app.accounts.models import Base, Membership, Operator, User, Zone
    from operator_app.filings.models import InspectionDocument
    from operator_app.storage import StoredFile
    from tenants.followups import GraduateFollowUp
    from tenants.models import (AdmissionDecision, Attendance, BaseRules, CheckInPoint, CompanyDocument,
                                ExitRecord, Lease, MarketQuote, Milestone, MonthlyReport, PreferentialPolicy,
                                ReportRevision, TenantCompany, WorkstationPerson)

    models = (Allocation, BillingSettings, InvoiceLine, InvoiceSequence, Payment, RentInvoice, Activity, ActivityFile,
              Feedback, PartnerAgency, ServicePerson, ServiceRequest, SignIn, Visit, Base, Membership, Operator, User,
              Zone, StoredFile, GraduateFollowUp, AdmissionDecision, Attendance, BaseRules, CheckInPoint,
              CompanyDocument, ExitRecord, Lease, MarketQuote, Milestone, MonthlyReport, PreferentialPolicy,
              ReportRevision, TenantCompany, WorkstationPerson, InspectionDocument)
    return type("Tables", (), {model.__name__: model.__table__ for model in models})


# --- The generator --------------------------------------------------------------------------------------------

def generate(app, scale, *, seed=1, progress=print, today=None, use_copy=None, filings=True):
    """Fill the empty database of ``app`` with ``scale`` (a Scale or the name of one in SCALES).

    Returns {"scale", "bases", "companies", "tables": {table: rows}, "rows", "elapsed" (seconds),
    "write_seconds" (of which in the database calls), "table_seconds" ({table: seconds}), "database", "copy",
    "files"}.
    Raises GeneratorRefused when the database already has operators, bases or users.
    ``today`` (a date) defaults to today in Asia/Shanghai; ``use_copy`` (PostgreSQL) defaults to COPY when the
    role bypasses row-level security; ``filings``: also file the last four quarters (``file_quarters``).
    """
    from operator_app.db import unscoped
    from operator_app.extensions import db
    from operator_app.security import hash_password
    from operator_app.timeutil import today_in

    scale = SCALES[scale] if isinstance(scale, str) else scale
    started = time.perf_counter()
    with app.app_context():
        session = db.session
        try:
            with unscoped(REASON):
                refuse_non_empty(session)
                writer = Writer(session, use_copy)
                world = World(scale, today or today_in("Asia/Shanghai"), hash_password(PASSWORD),
                              hash_password(PIN), Files(writer))
                progress(f"generating {scale.name}: {scale.bases} bases x {scale.companies} companies, "
                         f"{scale.months} months of reports, {scale.ledger_per_year * scale.ledger_years} ledger "
                         f"entries per base, on {writer.dialect}{' with COPY' if writer.use_copy else ''}")
                operators = _operators(writer, world, scale, random.Random(f"{seed}-operators"))
                session.commit()
                for index in range(scale.bases):
                    operator = operators[index // scale.bases_per_operator]
                    BaseBuilder(writer, world, scale, index, operator, random.Random(f"{seed}-base-{index}")).build()
                    session.commit()
                    if index % 10 == 9 or index == scale.bases - 1:
                        progress(f"  {index + 1}/{scale.bases} bases, {sum(writer.counts.values()):,} rows, "
                                 f"{time.perf_counter() - started:.0f} s")
            # Bulk-loaded tables have no planner statistics until autovacuum reaches them (PostgreSQL) or until
            # someone runs ANALYZE (SQLite): without them the planner expects a dozen rows where there are thousands.
            progress("ANALYZE")
            session.execute(text("ANALYZE"))
            session.commit()
            world.files.remove_samples()
        finally:
            session.remove()
    counts = dict(sorted(writer.counts.items()))
    if filings:
        file_quarters(app, today=today, progress=progress)
        # the filings wrote their files and audit entries too: count what is stored now
        counts.update(count_rows(app, ["quarterly_filings"] + [name for name in ("stored_files", "audit_entries")
                                                                if name in counts]))
    return {"scale": scale.name, "bases": scale.bases, "companies": counts.get("tenant_companies", 0),
            "tables": counts, "rows": sum(counts.values()), "elapsed": time.perf_counter() - started,
            "write_seconds": sum(writer.seconds.values()), "table_seconds": dict(writer.seconds),
            "database": writer.dialect, "copy": writer.use_copy,
            "files": world.files.written}


def refuse_non_empty(session):
    tables = _tables()
    for table in (tables.Operator, tables.Base, tables.User):
        if session.execute(select(func.count()).select_from(table)).scalar():
            raise GeneratorRefused(f"The database already has {table.name}: the generator fills an empty database "
                                   "(create one and run `flask db upgrade` first).")


def _operators(writer, world, scale, rng):
    """One operator per ``bases_per_operator`` bases, each with its owner. Returns [(operator id, owner id, name)]."""
    tables = _tables()
    count = -(-scale.bases // scale.bases_per_operator)
    operator_ids = writer.ids(tables.Operator, count)
    owner_ids = writer.ids(tables.User, count)
    created = datetime.combine(world.today - timedelta(days=365 * 6), datetime.min.time(), UTC)
    operators, users = [], []
    for n, (operator_id, owner_id) in enumerate(zip(operator_ids, owner_ids), start=1):
        city = CITIES[(n - 1) % len(CITIES)][0]
        name = f"{city}{rng.choice(BRANDS)}{rng.choice(OPERATOR_WORDS)}"
        operators.append({"id": operator_id, "name": name, "created_at": created})
        users.append(_user(world, owner_id, owner_email(n), person_name(rng), mobile(rng), created,
                           operator_id=operator_id, owner=True))
    writer.write(tables.Operator, operators)
    writer.write(tables.User, users)
    return [(row["id"], owner_id, row["name"]) for row, owner_id in zip(operators, owner_ids)]


def _user(world, user_id, email, name, phone, created, operator_id=None, owner=False):
    return {"id": user_id, "email": email, "name": name, "phone": phone, "password_hash": world.password_hash,
            "is_active": True, "is_platform_admin": False, "operator_id": operator_id, "is_operator_owner": owner,
            "created_at": created, "last_login_at": None}


class Company:
    """What the builder keeps of a company while it makes the company's records."""

    __slots__ = ("id", "name", "is_team", "status", "moved_in_on", "moved_out_on", "is_workstation", "seats", "area",
                 "unit", "industry", "zone", "contact_id", "revenue", "employees", "reliability", "late_payer",
                 "diligence", "applied_on")

    def __init__(self, **values):
        for key in self.__slots__:
            setattr(self, key, values.get(key))

    def present_on(self, day):
        return (self.moved_in_on is not None and self.moved_in_on <= day
                and (self.moved_out_on is None or day <= self.moved_out_on))


class BaseBuilder:
    """One base and everything in it, written table by table (one base's rows in memory at a time)."""

    def __init__(self, writer, world, scale, index, operator, rng):
        self.w, self.world, self.scale, self.index, self.rng = writer, world, scale, index, rng
        self.operator_id, self.owner_id, self.operator_name = operator
        self.t = _tables()
        self.today = world.today

    # -- helpers --
    def _ids(self, table, count):
        return self.w.ids(table, count)

    def _owned(self, rows):
        for row in rows:
            row["base_id"] = self.base_id
        return rows

    def _company_on(self, day, tries=6):
        """A company housed on ``day`` (or, failing that, any company that arrived)."""
        for _ in range(tries):
            company = self.rng.choice(self.arrived)
            if company.present_on(day):
                return company
        return self.rng.choice(self.arrived)

    def build(self):
        self._base()
        self._people()
        self._companies()
        self._memberships()
        self._team()
        self._company_records()
        self._inspection_documents()
        self._reports()
        self._rent()
        self._billing()
        self._attendance()
        self._ledger()

    # -- the base, its zones, rules and settings --
    def _base(self):
        rng, t = self.rng, self.t
        city, _, region = CITIES[self.index % len(CITIES)]
        kind, base_type = BASE_KINDS[self.index % len(BASE_KINDS)]
        self.region = region
        self.slug = base_slug(self.index)
        self.base_id = self._ids(t.Base, 1)[0]
        self.operating_since = min(self.world.report_start, self.world.ledger_start) - timedelta(
            days=rng.randrange(365, 4 * 365))
        housed_share = 1 - sum(share for _, share in STATUS_SHARES)
        standard = max(5, round(self.scale.companies * housed_share * rng.uniform(0.9, 1.15) / 5) * 5)
        self.standard = standard
        functions = rng.sample(list(REQUESTS), rng.randrange(4, 7))
        self.functions = functions
        lease_start = self.operating_since - timedelta(days=rng.randrange(30, 200))
        self.created_at = local_time(self.operating_since, 9)
        self.w.write(t.Base, [{
            "id": self.base_id, "operator_id": self.operator_id,
            "name": f"{city}{PLACES[(self.index // len(CITIES)) % len(PLACES)]}{kind}"
                    + (f"（{self.index // (len(CITIES) * len(PLACES)) + 1}号）"
                       if self.index >= len(CITIES) * len(PLACES) else ""),
            "slug": self.slug, "base_type": base_type, "is_demonstration": rng.random() < 0.15,
            "address": f"山西省{city}市{rng.choice(PLACES)}{rng.choice(BRANDS)}路{rng.randrange(1, 300)}号",
            "timezone": "Asia/Shanghai", "tenant_count_standard": standard,
            "total_area_m2": Decimal(rng.randrange(60, 300) * 100), "site_ownership": "leased",
            "site_certificates": f"房屋租赁合同 {city}租字〔{lease_start.year}〕第 {rng.randrange(1, 400):03d} 号",
            "site_lease_start_on": lease_start, "site_lease_end_on": add_months(lease_start, 120),
            "site_boundaries": "创业大厦 1–6 层，东至园区主路，西至园区内路，南北以大厦外墙为界。",
            "service_functions": functions, "has_signage": rng.random() < 0.9,
            "operating_since_on": self.operating_since, "created_at": self.created_at}])
        self.w.write(t.Zone, self._owned([
            {"kind": "incubation", "area_m2": Decimal(rng.randrange(20, 60) * 100),
             "description": "2–3 层，含开放工位区"},
            {"kind": "growth", "area_m2": Decimal(rng.randrange(40, 150) * 100), "description": "4–6 层独立办公单元"},
            {"kind": "public_service", "area_m2": Decimal(rng.randrange(10, 30) * 100),
             "description": "1 层服务大厅、路演厅、会议室"}]))
        self.allowed = [code for code, *_ in INDUSTRIES]
        self.w.write(t.BaseRules, self._owned([{
            "entry_conditions": "从事信息技术、先进制造、科技服务、文化创意等产业的小微企业和创业团队；"
                                "在基地实际办公。",
            "procedure": "1. 提交入驻申请及营业执照；2. 基地审核（5 个工作日）；3. 签订入驻协议；4. 办理入驻。",
            "management_rules": "遵守基地物业、消防和安全管理制度；每月 10 日前报送上月经营数据。",
            "exit_conditions": "租约到期、孵化毕业、违反管理规定或自愿退出；退出时交还钥匙、结清租金、办理押金结算。",
            "allowed_industries": self.allowed, "required_documents": ["licence"], "is_published": True,
            "accepts_applications": True, "updated_at": self.created_at}]))
        self.point_ids = self._ids(t.CheckInPoint, 2)
        self.w.write(t.CheckInPoint, self._owned([
            {"id": point_id, "name": name, "secret": f"{rng.getrandbits(256):064x}", "is_active": True,
             "created_at": self.created_at} for point_id, name in zip(self.point_ids, ("一楼大厅", "二楼工位区"))]))

    # -- the base's users: manager, staff, a mentor (tenant contacts come with the companies) --
    def _people(self):
        rng, t = self.rng, self.t
        ids = self._ids(t.User, 4)
        self.manager_id, self.staff_ids, self.mentor_user_id = ids[0], ids[1:3], ids[3]
        self.staff_users = [ids[0]] + self.staff_ids
        self.user_names = {}
        rows = []
        for user_id, email in zip(ids, (manager_email(self.slug), f"staff1.{self.slug}@{EMAIL_DOMAIN}",
                                        f"staff2.{self.slug}@{EMAIL_DOMAIN}", f"mentor.{self.slug}@{EMAIL_DOMAIN}")):
            name = person_name(rng)
            self.user_names[user_id] = name
            rows.append(_user(self.world, user_id, email, name, mobile(rng), self.created_at))
        self.w.write(t.User, rows)
        self.roles = [(ids[0], "manager"), (ids[1], "staff"), (ids[2], "staff"), (ids[3], "mentor")]

    # -- companies in every status --
    def _plan(self):
        count = self.scale.companies
        statuses = []
        for status, share in STATUS_SHARES:
            n = int(count * share)
            if n == 0 and count >= 8 and status in ("applicant", "exited", "graduated"):
                n = 1
            statuses += [status] * n
        statuses += ["in_residence"] * (count - len(statuses))
        self.rng.shuffle(statuses)
        return statuses

    def _companies(self):
        rng, world, today, t = self.rng, self.world, self.today, self.t
        statuses = self._plan()
        housed = [n for n, status in enumerate(statuses) if status == "in_residence"]
        quota = self.standard * 20 // 100  # 001 §8: workstation companies at most 20% of the standard
        workstations = min(round(len(housed) * self.scale.workstation_share), quota) if len(housed) >= 3 else 0
        workstation_at = set(rng.sample(housed, workstations))
        ids = self._ids(t.TenantCompany, len(statuses))
        start, since = world.report_start, self.operating_since
        weights = [share for _, share, *_ in INDUSTRIES]
        rows, companies = [], []
        for n, (company_id, status) in enumerate(zip(ids, statuses)):
            moved_in = moved_out = None
            if status == "in_residence":
                if rng.random() < 0.8 or start >= today - timedelta(days=30):  # most arrived before the window
                    moved_in = random_day(rng, since, max(since, start - timedelta(days=1)))
                else:
                    moved_in = random_day(rng, start, today - timedelta(days=10))
            elif status == "exited":
                moved_out = random_day(rng, max(start, since + timedelta(days=120)), today - timedelta(days=10))
                moved_in = random_day(rng, since, moved_out - timedelta(days=90))
            elif status == "graduated":
                tracked = rng.random() < 0.8
                first = today - timedelta(days=3 * 365 - 30) if tracked else today - timedelta(days=4 * 365)
                last = today - timedelta(days=20) if tracked else today - timedelta(days=3 * 365 + 10)
                moved_out = random_day(rng, max(first, since + timedelta(days=400)), max(last, since + timedelta(
                    days=400)))
                moved_in = random_day(rng, since, moved_out - timedelta(days=365))
            workstation = n in workstation_at
            industry, _, words, businesses = rng.choices(INDUSTRIES, weights)[0]
            is_team = workstation and rng.random() < 0.3
            city = CITIES[self.index % len(CITIES)][0]
            brand = rng.choice(BRANDS)
            name = (f"{brand}{rng.choice(words)}创业团队" if is_team
                    else f"{city}{brand}{rng.choice(words)}有限公司")
            seats = self.scale.people_per_workstation if workstation else None
            area = None if workstation else Decimal(rng.randrange(4, 40) * 10)
            unit = (",".join(f"2-W{n * 3 + k + 1:03d}" for k in range(seats)) if workstation
                    else f"{3 + n // 20}-{n % 20 + 1:02d}")
            zone = "incubation" if workstation or rng.random() < 0.35 else "growth"
            applied_on = (random_day(rng, today - timedelta(days=60), today - timedelta(days=1))
                          if moved_in is None else moved_in - timedelta(days=rng.randrange(7, 45)))
            company = Company(
                id=company_id, name=name, is_team=is_team, status=status, moved_in_on=moved_in,
                moved_out_on=moved_out,
                is_workstation=workstation, seats=seats, area=area, unit=unit, industry=industry, zone=zone,
                revenue=int(rng.lognormvariate(12.6, 0.9)) * 100, employees=rng.randrange(3, 40),
                reliability=0.99 if rng.random() < 0.8 else 0.85, late_payer=rng.random() < 0.06,
                diligence=rng.uniform(0.86, 0.98) if rng.random() < 0.85 else rng.uniform(0.55, 0.75),
                applied_on=applied_on)
            companies.append(company)
            contact = person_name(rng)
            rows.append({
                "id": company_id, "name": name, "uscc": None if is_team else uscc_of(self.region, company_id),
                "is_team": is_team, "team_evidence": "由高校毕业生组成的创业团队，已签订合伙协议" if is_team else "",
                "legal_representative": "" if is_team else person_name(rng), "contact_name": contact,
                "contact_phone": mobile(rng), "contact_email": "", "main_business": rng.choice(businesses),
                "industry": industry, "zone": zone, "unit": unit, "is_workstation": workstation,
                "workstation_count": seats, "area_m2": area if area is not None else Decimal(seats * 6),
                "moved_in_on": moved_in, "moved_out_on": moved_out, "licence_in_base": not is_team,
                "staff_on_site": rng.random() < 0.97, "equipment_on_site": rng.random() < 0.95, "status": status,
                "applied_via_link": rng.random() < 0.35, "created_at": local_time(applied_on, 10),
                "updated_at": local_time(moved_out or moved_in or applied_on, 10), "deleted_at": None})
        self.companies = companies
        self.arrived = [c for c in companies if c.moved_in_on is not None] or companies
        self.housed = [c for c in companies if c.status == "in_residence"]
        # Tenant contacts: a login for one housed company in five.
        contacts = [c for c in self.housed if rng.random() < 0.2]
        user_ids = self._ids(t.User, len(contacts))
        users = []
        by_id = {row["id"]: row for row in rows}
        for user_id, company in zip(user_ids, contacts):
            company.contact_id = user_id
            row = by_id[company.id]
            email = f"tenant{company.id}.{self.slug}@{EMAIL_DOMAIN}"
            row["contact_email"] = email
            users.append(_user(self.world, user_id, email, row["contact_name"], row["contact_phone"],
                               local_time(company.moved_in_on, 11)))
            self.roles.append((user_id, "tenant", company.id))
        self.w.write(t.User, users)
        self.w.write(t.TenantCompany, self._owned(rows))

    def _memberships(self):
        rows = []
        for role in self.roles:
            user_id, name = role[0], role[1]
            rows.append({"user_id": user_id, "base_id": self.base_id, "role": name,
                         "tenant_company_id": role[2] if len(role) > 2 else None, "is_active": True,
                         "created_at": self.created_at})
        self.w.write(self.t.Membership, rows)

    # -- service team and partner agencies (有人员) --
    def _team(self):
        rng, t = self.rng, self.t
        size = rng.randrange(10, 15)
        mentors = rng.randrange(3, 6)
        ids = self._ids(t.ServicePerson, size)
        linked = {0: self.manager_id, 1: self.staff_ids[0], 2: self.staff_ids[1], 3: self.mentor_user_id}
        rows = []
        for n, person_id in enumerate(ids):
            is_mentor = n >= 3 and n < 3 + mentors
            user_id = linked.get(n)
            rows.append({
                "id": person_id, "name": self.user_names.get(user_id) or person_name(rng),
                "position": "基地负责人" if n == 0 else ("创业辅导师" if is_mentor else rng.choice(
                    ("服务专员", "运营主管", "政策专员", "财务专员"))), "phone": mobile(rng), "is_mentor": is_mentor,
                "certificate_issuer": "山西省小企业发展促进中心" if is_mentor else "",
                "certificate_number": f"SX-CYFD-{rng.randrange(2018, 2026)}-{rng.randrange(1, 9999):04d}"
                if is_mentor else "", "is_active": rng.random() < 0.95 or n < 3 + mentors,
                "user_id": user_id, "created_at": self.created_at})
        self.w.write(t.ServicePerson, self._owned(rows))
        self.team_ids = ids
        agencies = rng.sample(AGENCIES, rng.randrange(5, 8))
        agency_ids = self._ids(t.PartnerAgency, len(agencies))
        city = CITIES[self.index % len(CITIES)][0]
        self.agencies = []
        rows = []
        for agency_id, (suffix, category, services) in zip(agency_ids, agencies):
            starts = random_day(rng, self.operating_since, self.today - timedelta(days=200))
            rows.append({"id": agency_id, "name": f"山西{rng.choice(BRANDS)}{suffix}" if rng.random() < 0.5
                         else f"{city}{rng.choice(BRANDS)}{suffix}", "category": category, "services": services,
                         "agreement_starts_on": starts, "agreement_ends_on": None if rng.random() < 0.7
                         else add_months(starts, 60), "contact_name": person_name(rng),
                         "contact_phone": mobile(rng), "agreement_file_id": None, "is_active": True,
                         "created_at": local_time(starts, 10)})
            self.agencies.append((agency_id, category))
        self.w.write(t.PartnerAgency, self._owned(rows))

    # -- milestones, admission decisions, exits, graduate follow-ups, licences --
    def _company_records(self):
        from tenants.followups import closing_date, due_dates, tracking_end

        rng, t, today = self.rng, self.t, self.today
        milestones, decisions, exits, followups, documents = [], [], [], [], []
        kinds = [kind for kind, _, _ in MILESTONES]
        weights = [weight for _, weight, _ in MILESTONES]
        for company in self.companies:
            if company.moved_in_on is not None and rng.random() < 0.3:
                last = min(today, company.moved_out_on + timedelta(days=700) if company.status == "graduated"
                           else company.moved_out_on or today)
                for _ in range(rng.choice((1, 1, 2, 3))):
                    kind = rng.choices(kinds, weights)[0]
                    day = random_day(rng, company.moved_in_on, max(company.moved_in_on, last))
                    title = dict((k, title) for k, _, title in MILESTONES)[kind].format(
                        round=rng.choice(ROUNDS), n=rng.randrange(1, 6))
                    milestones.append({"company_id": company.id, "occurred_on": day, "kind": kind, "title": title,
                                       "amount_fen": rng.randrange(50, 3000) * 1_000_000 if kind == "financing"
                                       else None, "created_by_id": rng.choice(self.staff_users),
                                       "created_at": local_time(min(day + timedelta(days=3), today), 10),
                                       "deleted_at": None})
            if company.status in ("admitted", "rejected") or (company.moved_in_on is not None and rng.random() < 0.35):
                admit = company.status != "rejected"
                decisions.append({
                    "company_id": company.id, "decision": "admit" if admit else "reject",
                    "checks": [{"key": "industry", "label": "行业符合", "passed": True,
                                "detail": "该行业在允许范围内。", "overridable": True},
                               {"key": "documents", "label": "所需材料", "passed": True,
                                "detail": "所需材料已齐全。", "overridable": True}],
                    "override_reason": "", "reason": "" if admit else "经营场所需求与基地现有空间不符",
                    "decided_by_id": self.manager_id,
                    "decided_at": local_time(min(today, company.applied_on + timedelta(days=5)), 15)})
            if company.status in ("exited", "graduated"):
                graduate = company.status == "graduated"
                exits.append({"company_id": company.id,
                              "reason": "graduation" if graduate else rng.choice(
                                  ("lease_expiry", "voluntary", "voluntary", "violation", "other")),
                              "exit_on": company.moved_out_on, "keys_returned": True, "rent_settled": True,
                              "deposit_settled": rng.random() < 0.95,
                              "notes": "迁入自有厂房" if graduate else "", "recorded_by_id": self.manager_id,
                              "recorded_at": local_time(company.moved_out_on, 16)})
                if graduate:
                    until = tracking_end(company.moved_out_on, 3)
                    for sequence, due in enumerate(due_dates(company.moved_out_on, 6, 3), start=1):
                        answered = due <= today + timedelta(days=20) and rng.random() < 0.85
                        answered_on = min(today, due + timedelta(days=rng.randrange(-20, 20)))
                        company.revenue = int(company.revenue * rng.uniform(1.0, 1.3))
                        followups.append({
                            "company_id": company.id, "sequence": sequence, "due_on": due,
                            "closes_on": closing_date(company.moved_out_on, due, 6, until),
                            "answered_at": local_time(answered_on, 15) if answered else None,
                            "answered_by_id": rng.choice(self.staff_users) if answered else None,
                            "by_phone": answered, "operating_status": rng.choice(
                                ("operating", "operating", "growing", "moved")) if answered else None,
                            "revenue_fen": company.revenue * 12 if answered else None,
                            "tax_fen": company.revenue * 12 // 20 if answered else None,
                            "employees": company.employees + sequence if answered else None,
                            "milestones": "", "notes": "", "overdue_at": None,
                            "created_at": local_time(company.moved_out_on, 16)})
        self.w.write(t.Milestone, self._owned(milestones))
        self.w.write(t.AdmissionDecision, self._owned(decisions))
        self.w.write(t.ExitRecord, self._owned(exits))
        self.w.write(t.GraduateFollowUp, self._owned(followups))
        # Business licences of most companies that have a code.
        licensed = [c for c in self.companies if c.moved_in_on is not None and not c.is_team and rng.random() < 0.7]
        files, file_ids = self.world.files.rows(self.base_id, rng, [
            ("pdf", f"{c.name}营业执照.pdf", self.manager_id) for c in licensed], local_time(self.today, 9))
        for company, file_id, file in zip(licensed, file_ids, files):
            file["created_at"] = local_time(company.moved_in_on, 10)
            documents.append({"company_id": company.id, "kind": "licence", "file_id": file_id,
                              "uploaded_by_id": self.manager_id, "uploaded_at": file["created_at"],
                              "deleted_at": None})
        self.w.write(t.StoredFile, files)
        self.world.files.place(files)
        self.w.write(t.CompanyDocument, self._owned(documents))

    # -- the documents an inspector asks to see (audit report, finance system, site lease, signage photo) --
    def _inspection_documents(self):
        rng, today = self.rng, self.today
        audit_day = date(today.year if today.month > 3 else today.year - 1, 3, rng.randrange(10, 28))
        documents = (("audit_report", f"{audit_day.year - 1}年度专项审计报告", "pdf", audit_day),
                     ("finance_system", "财务管理制度", "pdf", self.operating_since),
                     ("site_documents", "房屋租赁合同", "pdf", self.operating_since - timedelta(days=60)),
                     ("signage_photo", "服务大厅“小微企业服务站”标识", "jpg",
                      today - timedelta(days=rng.randrange(30, 300))))
        files, file_ids = self.world.files.rows(self.base_id, rng, [
            (kind, f"{title}.{kind}", self.manager_id) for _, title, kind, _ in documents], local_time(today, 9))
        rows = []
        for file, file_id, (kind, title, _, dated_on) in zip(files, file_ids, documents):
            file["created_at"] = local_time(max(dated_on, self.operating_since), 10)
            rows.append({"kind": kind, "title": title, "dated_on": dated_on, "file_id": file_id,
                         "uploaded_by_id": self.manager_id, "uploaded_at": file["created_at"], "deleted_at": None})
        self.w.write(self.t.StoredFile, files)
        self.world.files.place(files)
        self.w.write(self.t.InspectionDocument, self._owned(rows))

    # -- monthly reports (revenue growing, a Spring Festival dip, mostly on time) and their revisions --
    def _reports(self):
        from tenants.reports import due_on, expected_of, may_report, plausibility

        rng, t, world, today = self.rng, self.t, self.world, self.today
        reports, plans = [], []
        last = world.months[-1]
        for company in self.arrived:
            if company.moved_in_on is None:
                continue
            previous = None
            revenue, employees = company.revenue, company.employees
            for month in world.months:
                if expected_of(company, month):
                    collecting = month == last and today <= due_on(month, 10)
                    roll = rng.random()
                    if collecting:
                        status = "submitted" if roll < 0.55 else ("draft" if roll < 0.62 else None)
                    else:
                        status = ("submitted" if roll < company.reliability
                                  else ("draft" if roll < company.reliability + 0.01 else None))
                elif may_report(company, month) and company.moved_out_on is not None and rng.random() < 0.5:
                    status = "submitted"
                else:
                    continue
                revenue = max(1000_00, int(revenue * rng.uniform(0.96, 1.07)))
                employees = max(1, employees + rng.choice((-1, 0, 0, 0, 0, 1, 1)))
                month_revenue = int(revenue * (0.7 if month.month == 2 else 1.0))
                if status is None:
                    previous = None
                    continue
                figures = {"revenue_fen": month_revenue, "tax_fen": month_revenue * rng.randrange(3, 9) // 100,
                           "employees": employees}
                due = due_on(month, 10)
                submitted = status == "submitted"
                if submitted:
                    late = rng.random() < 0.06
                    filed_on = due + timedelta(days=rng.randrange(1, 12)) if late else due - timedelta(
                        days=rng.randrange(0, 10))
                    filed_on = min(filed_on, today)
                    by = company.contact_id or rng.choice(self.staff_users)
                    revisions = 2 if rng.random() < 0.02 else 1
                else:
                    filed_on, by, revisions = None, None, 0
                reports.append({
                    "company_id": company.id, "month_on": month, "status": status, **figures,
                    "rd_spending_fen": month_revenue // 10 if company.industry in ("I", "M") and submitted
                    else None, "new_ip": None, "financing_fen": None, "exports_fen": None, "revision": revisions,
                    "submitted_at": local_time(filed_on, 16) if submitted else None, "first_submitted_on": filed_on,
                    "due_on": due if submitted else None, "submitted_by_id": by,
                    "on_behalf": submitted and company.contact_id is None,
                    "warnings": plausibility(figures, previous, 3) if submitted else [],
                    "updated_at": local_time(filed_on or due - timedelta(days=3), 16)})
                plans.append(revisions)
                previous = figures if submitted else None
        ids = self._ids(t.MonthlyReport, len(reports))
        revision_rows = []
        for report_id, report, revisions in zip(ids, reports, plans):
            report["id"] = report_id
            figures = {"revenue_fen": report["revenue_fen"], "tax_fen": report["tax_fen"],
                       "employees": report["employees"]}
            if report["rd_spending_fen"] is not None:
                figures["rd_spending_fen"] = report["rd_spending_fen"]
            for revision in range(1, revisions + 1):
                submitted_at = min(world.now, report["submitted_at"] + timedelta(days=revision - 1))
                revision_rows.append({"report_id": report_id, "revision": revision, "figures": figures,
                                      "reason": "" if revision == 1 else "更正：上月营业收入少报一笔回款",
                                      "on_behalf": report["on_behalf"], "submitted_by_id": report["submitted_by_id"],
                                      "submitted_at": submitted_at})
                report["submitted_at"] = report["updated_at"] = submitted_at
        self.w.write(t.MonthlyReport, self._owned(reports))
        self.w.write(t.ReportRevision, self._owned(revision_rows))

    # -- market quotes, the preferential policy, leases (renewed until the company leaves) --
    def _rent(self):
        rng, t, today = self.rng, self.t, self.today
        office_market = rng.randrange(45, 70) * 100  # fen per m² per month
        seat_market = rng.randrange(55, 80) * 1000  # fen per seat per month
        quotes = []
        day = today - timedelta(days=rng.randrange(10, 60))
        while day >= max(self.operating_since, today - timedelta(days=3 * 365)):
            for space, price in (("office", office_market), ("workstation", seat_market)):
                source = rng.choice(("agency", "listing", "nearby_park"))
                quotes.append({"quoted_on": day, "source": source,
                               "source_name": {"agency": "链家", "listing": "58同城挂牌",
                                               "nearby_park": "邻近科技园"}[source],
                               "location": "基地周边 3 公里", "space_type": space,
                               "price_fen": int(price * rng.uniform(0.92, 1.08)) // 100 * 100, "file_id": None,
                               "notes": "", "created_by_id": rng.choice(self.staff_users),
                               "created_at": local_time(day, 11), "deleted_at": None})
            day -= timedelta(days=rng.randrange(90, 150))
        self.w.write(t.MarketQuote, self._owned(quotes))
        issued = self.operating_since + timedelta(days=rng.randrange(10, 90))
        files, (file_id,) = self.world.files.rows(self.base_id, rng, [("pdf", "房租优惠办法.pdf", self.manager_id)],
                                                  local_time(issued, 10))
        self.w.write(t.StoredFile, files)
        self.world.files.place(files)
        self.w.write(t.PreferentialPolicy, self._owned([{
            "title": "入驻企业房租优惠办法", "document_number": f"{self.slug[:2].upper()}创发〔{issued.year}〕"
                                                         f"{rng.randrange(1, 20)}号",
            "issuing_unit": self.operator_name, "issued_on": issued,
            "kinds": ["time_limited", "incubation_workstations"],
            "summary": "孵化区工位企业首年租金五折；成长区企业按挂牌价七五折。", "is_posted": True, "file_id": file_id,
            "created_at": local_time(issued, 10), "deleted_at": None}]))
        leases = []
        self.leases = []  # (id, company, row)
        for company in self.arrived:
            if company.moved_in_on is None:
                continue
            workstation = company.is_workstation
            start, first = company.moved_in_on, True
            end_of_stay = company.moved_out_on or date.max
            while start <= min(today, end_of_stay):
                months = rng.choice((12, 24, 36))
                ends = add_months(start, months) - timedelta(days=1)
                if workstation:
                    list_rent = seat_market // 1000 * 1000
                    actual = int(list_rent * rng.uniform(0.45, 0.7)) // 1000 * 1000
                else:
                    list_rent = office_market // 100 * 100
                    actual = int(list_rent * rng.uniform(0.6, 0.85)) // 100 * 100
                free = (rng.choice((0, 1, 2, 3)) if not workstation else rng.choice((1, 2, 3))) if first else 0
                if first and rng.random() < 0.05:
                    free = rng.choice((7, 8, 9))  # flagged: long free rent
                discounted = 6 if first and rng.random() < 0.2 else 0
                quantity = company.area if not workstation else company.seats
                leases.append({"company_id": company.id, "space_type": "workstation" if workstation else "office",
                               "units": company.unit, "area_m2": None if workstation else company.area,
                               "seats": company.seats if workstation else None, "starts_on": start, "ends_on": ends,
                               "list_rent_fen": list_rent, "actual_rent_fen": actual, "free_months": free,
                               "discounted_months": discounted,
                               "discounted_rent_fen": actual // 2 if discounted else None,
                               "deposit_fen": int(actual * quantity) * (1 if workstation else 3),
                               "notes": "", "created_at": local_time(start, 10), "deleted_at": None})
                start, first = ends + timedelta(days=1), False
        ids = self._ids(t.Lease, len(leases))
        companies = {c.id: c for c in self.companies}
        for lease_id, row in zip(ids, leases):
            row["id"] = lease_id
            self.leases.append((lease_id, companies[row["company_id"]], row))
        self.w.write(t.Lease, self._owned(leases))

    # -- the last months' rent bills, their lines, and payments of most of them --
    def _billing(self):
        from billing import proration
        from billing.invoicing import describe_rent_line

        rng, t, world, today = self.rng, self.t, self.world, self.today
        self.w.write(t.BillingSettings, self._owned([{
            "invoicing_enabled": True, "first_month": world.billed[0], "due_days": 15,
            "number_prefix": "ZD", "payee_name": self.operator_name, "bank_name": "中国工商银行山西省分行营业部",
            "bank_account": f"0502 {rng.randrange(10 ** 4):04d} 0920 {rng.randrange(10 ** 4):04d} 123",
            "payment_notes": "请在转账附言中注明账单编号。", "stripe_account_id": None}]))
        due = []
        for lease_id, company, row in self.leases:
            terms = proration.Terms(
                starts_on=row["starts_on"], ends_on=min(row["ends_on"], company.moved_out_on or date.max),
                actual_rent_fen=row["actual_rent_fen"], quantity=Decimal(row["area_m2"] or row["seats"] or 0),
                per_seat=row["space_type"] == "workstation", free_months=row["free_months"],
                discounted_months=row["discounted_months"], discounted_rent_fen=row["discounted_rent_fen"] or 0)
            for month in proration.months_running(terms, world.billed[0], world.billed[-1]):
                due.append((month, lease_id, company, terms))
        due.sort(key=lambda item: (item[0], item[1]))
        ids = self._ids(t.RentInvoice, len(due))
        invoices, lines, payments, paid = [], [], [], []
        descriptions = world.descriptions

        def describe(line, per_seat):
            """The app's text of the line (describe_rent_line switches the locale on every call, which is slow):
            made once per rent, size and days with stand-in dates, then given the line's dates."""
            key = (line.kind, line.rate_fen, line.quantity, line.days, line.month_days, per_seat)
            if key not in descriptions:
                descriptions[key] = describe_rent_line(
                    replace(line, starts_on=STAND_IN_START, ends_on=STAND_IN_END), per_seat)
            return descriptions[key].replace(STAND_IN_START.isoformat(), line.starts_on.isoformat()).replace(
                STAND_IN_END.isoformat(), line.ends_on.isoformat())[:300]
        for number, (invoice_id, (month, lease_id, company, terms)) in enumerate(zip(ids, due), start=1):
            rent_lines = proration.month_lines(terms, month)
            total = sum(line.amount_fen for line in rent_lines)
            due_on = month + timedelta(days=15)
            invoices.append({"id": invoice_id, "number": number, "kind": "rent", "company_id": company.id,
                             "lease_id": lease_id, "period": month_key(month),
                             "period_start": rent_lines[0].starts_on, "period_end": rent_lines[-1].ends_on,
                             "issued_on": month, "due_on": due_on, "total_fen": total, "notes": "",
                             "issued_at": local_time(month, 1), "issued_by_id": None})
            for position, line in enumerate(rent_lines, start=1):
                lines.append({"invoice_id": invoice_id, "position": position, "kind": line.kind,
                              "description": describe(line, terms.per_seat),
                              "starts_on": line.starts_on, "ends_on": line.ends_on, "amount_fen": line.amount_fen,
                              "extra_charge_id": None})
            if total <= 0:
                continue
            pays = (not company.late_payer and rng.random() < 0.97) if due_on < today else rng.random() < 0.4
            received = max(month, due_on - timedelta(days=rng.randrange(0, 14)))
            if pays and received <= today:
                method = rng.choices(("bank_transfer", "wechat", "alipay", "cash"), (60, 25, 10, 5))[0]
                payments.append({"company_id": company.id, "amount_fen": total, "received_on": received,
                                 "method": method, "reference": f"{received:%Y%m%d}{number:06d}", "notes": "",
                                 "recorded_at": local_time(received, 15),
                                 "recorded_by_id": rng.choice(self.staff_users)})
                paid.append(invoice_id)
        payment_ids = self._ids(t.Payment, len(payments))
        allocations = []
        for payment_id, payment, invoice_id in zip(payment_ids, payments, paid):
            payment["id"] = payment_id
            allocations.append({"invoice_id": invoice_id, "payment_id": payment_id, "credit_note_id": None,
                                "amount_fen": payment["amount_fen"], "created_at": payment["recorded_at"]})
        self.w.write(t.RentInvoice, self._owned(invoices))
        self.w.write(t.InvoiceLine, self._owned(lines))
        self.w.write(t.Payment, self._owned(payments))
        self.w.write(t.Allocation, self._owned(allocations))
        if invoices:
            self.w.write(t.InvoiceSequence, self._owned([{"kind": "invoice", "last_number": len(invoices)}]))

    # -- workstation people and a year of attendance (most on site 4+ days a week, some not) --
    def _attendance(self):
        rng, t, world = self.rng, self.t, self.world
        stations = [c for c in self.housed if c.is_workstation]
        people = []
        for company in stations:
            for _ in range(self.scale.people_per_workstation):
                active_from = max(company.moved_in_on, world.attendance_start)
                people.append((company, active_from, {
                    "company_id": company.id, "name": person_name(rng), "phone": mobile(rng),
                    "pin_hash": world.pin_hash, "pin_version": 1, "active_from": active_from,
                    "deactivated_on": None, "created_at": local_time(active_from, 9)}))
        ids = self._ids(t.WorkstationPerson, len(people))
        for person_id, (_, _, row) in zip(ids, people):
            row["id"] = person_id
        self.w.write(t.WorkstationPerson, self._owned([row for _, _, row in people]))
        rows = []
        for person_id, (company, active_from, _) in zip(ids, people):
            diligence = min(0.99, company.diligence * rng.uniform(0.95, 1.05))
            for day in world.workdays:
                if day < active_from or rng.random() >= diligence:
                    continue
                by_qr = rng.random() < 0.85
                rows.append({"person_id": person_id, "company_id": company.id, "present_on": day,
                             "is_present": True, "source": "qr" if by_qr else "staff",
                             "checked_in_at": local_time(day, 8, rng.randrange(20, 100)) if by_qr else None,
                             "point_id": rng.choice(self.point_ids) if by_qr else None,
                             "updated_by_id": None if by_qr else rng.choice(self.staff_users),
                             "updated_at": local_time(day, 9 if by_qr else 17)})
        self.w.write(t.Attendance, self._owned(rows))

    # -- the service ledger: requests, visits, activities with sign-ins, archives and feedback --
    def _ledger(self):
        rng, t, world, today = self.rng, self.t, self.world, self.today
        total = self.scale.ledger_per_year * self.scale.ledger_years
        activities_count = max(1, total // 10)
        requests_count = (total - activities_count) // 2
        visits_count = total - activities_count - requests_count
        first = max(world.ledger_start, self.operating_since)
        functions = self.functions
        staff = self.staff_users
        contacts = {c.id: c.contact_id for c in self.arrived if c.contact_id}

        def weekday(first_day=first, last_day=today):
            day = random_day(rng, first_day, last_day)
            return day if day.weekday() < 5 or rng.random() < 0.1 else day - timedelta(days=day.weekday() - 4)

        def gone():  # ~1% recorded by mistake and removed
            return datetime.combine(today, datetime.min.time(), UTC) if rng.random() < 0.01 else None

        requests, visits, feedback = [], [], []
        for _ in range(requests_count):
            day = weekday()
            company = self._company_on(day)
            category = rng.choice(functions)
            received = local_time(day, rng.randrange(8, 18), rng.randrange(60))
            age = (today - day).days
            status = ("resolved" if rng.random() < 0.9 else "closed") if age > 14 else rng.choice(
                ("open", "in_progress", "resolved"))
            responded = received + timedelta(hours=rng.randrange(1, 48)) if status != "open" else None
            resolved = (responded + timedelta(days=rng.randrange(1, 10))
                        if status in ("resolved", "closed") else None)
            online = rng.random() < 0.15
            requests.append({"company_id": company.id, "channel": "online" if online else rng.choice(
                ("phone", "walk_in", "visit")), "content": rng.choice(REQUESTS[category]), "received_at": received,
                "handler_id": rng.choice(self.team_ids), "status": status, "responded_at": responded,
                "resolved_at": resolved, "resolution": "已对接相关机构并办结" if resolved else "",
                "filed_by_tenant": online, "category": category, "occurred_on": day,
                "created_by_id": contacts.get(company.id) if online and company.id in contacts
                else rng.choice(staff), "created_at": received, "deleted_at": gone()})
        for _ in range(visits_count):
            day = weekday()
            company = self._company_on(day)
            agency = rng.choice(self.agencies) if rng.random() < 0.2 else None
            visits.append({"company_id": company.id, "staff_id": None if agency else rng.choice(self.team_ids),
                           "agency_id": agency[0] if agency else None,
                           "people": person_name(rng) + "、" + person_name(rng),
                           "purpose": rng.choice(VISITS), "content": "座谈交流，了解企业经营情况和诉求，宣讲相关政策。",
                           "follow_up": "" if rng.random() < 0.7 else "下月回访落实情况",
                           "category": agency[1] if agency else rng.choice(functions), "occurred_on": day,
                           "created_by_id": rng.choice(staff), "created_at": local_time(day, 17),
                           "deleted_at": gone()})
        request_ids = self._ids(t.ServiceRequest, len(requests))
        visit_ids = self._ids(t.Visit, len(visits))
        for kind, ids, rows in (("request", request_ids, requests), ("visit", visit_ids, visits)):
            for entry_id, row in zip(ids, rows):
                row["id"] = entry_id
                if row["company_id"] in contacts and row["deleted_at"] is None and rng.random() < 0.4 and (
                        kind == "visit" or row["status"] == "resolved"):
                    feedback.append(self._feedback(row["company_id"], kind, entry_id, row["category"],
                                                   row.get("agency_id"), contacts[row["company_id"]],
                                                   row["occurred_on"]))
        self.w.write(t.ServiceRequest, self._owned(requests))
        self.w.write(t.Visit, self._owned(visits))
        del requests, visits

        activities, plans = [], []
        upcoming_count = max(1, activities_count // 50)  # a few announced for the next two weeks
        days = sorted([weekday(last_day=today) for _ in range(activities_count - upcoming_count)]
                      + [today + timedelta(days=rng.randrange(1, 15)) for _ in range(upcoming_count)])
        for n, day in enumerate(days):
            upcoming = day > today
            category = rng.choice(functions)
            hour = rng.choice((9, 14, 14, 15))
            starts = local_time(day, hour, rng.choice((0, 30)))
            ends = starts + timedelta(hours=rng.choice((2, 2, 3)))
            agency = next((a for a in self.agencies if a[1] == category), None) if rng.random() < 0.3 else None
            ended_days = (today - day).days
            # archived within three days as a rule; a few recent ones are still missing an item
            archived = (ended_days > 90 and rng.random() < 0.995 or 3 < ended_days <= 90 and rng.random() < 0.9
                        or 0 <= ended_days <= 3 and rng.random() < 0.5)
            archive_day = day + timedelta(days=rng.choice((0, 1, 1, 2, 3) if rng.random() < 0.95 else (5, 6, 9)))
            archived_at = (min(world.now, local_time(min(archive_day, today), 18)) if archived and not upcoming
                           else None)
            overdue = (None if archived_at or upcoming or ended_days <= 3
                       else local_time(day + timedelta(days=4), 1))
            activities.append({
                "title": f"{rng.choice(ACTIVITIES[category])}（第{n + 1}期）", "starts_at": starts, "ends_at": ends,
                "ends_on": day, "place": rng.choice(PLACES_IN_BASE), "organiser_id": rng.choice(self.team_ids),
                "agency_id": agency[0] if agency else None, "expected_companies": rng.randrange(10, 40),
                "agenda": "1. 主题分享；2. 案例交流；3. 互动答疑", "sheet_companies": None, "sheet_people": None,
                "publicity_links": "", "results": "" if upcoming else "活动顺利开展，参会企业反馈良好。",
                "signin_code": f"{rng.getrandbits(128):032x}", "signin_hours_after": 2, "archived_at": archived_at,
                "first_archived_at": archived_at, "overdue_at": overdue, "category": category, "occurred_on": day,
                "created_by_id": rng.choice(staff), "created_at": starts - timedelta(days=rng.randrange(3, 15)),
                "deleted_at": None if upcoming else gone()})
            plans.append((upcoming, archived_at is not None, agency))
        ids = self._ids(t.Activity, len(activities))
        wanted, owners = [], []
        for activity_id, row, (_, archived, _) in zip(ids, activities, plans):
            row["id"] = activity_id
            if archived:
                by = row["created_by_id"]
                wanted.append(("pdf", f"关于举办{row['title']}的通知.pdf", by))
                owners.append((activity_id, "notice", row["archived_at"]))
                for k in range(rng.randrange(1, 4)):
                    wanted.append(("jpg", f"现场照片{k + 1}.jpg", by))
                    owners.append((activity_id, "photo", row["archived_at"]))
        self.w.write(t.Activity, self._owned(activities))
        files, file_ids = world.files.rows(self.base_id, rng, wanted, world.now)
        activity_files = []
        for file, file_id, (activity_id, kind, at) in zip(files, file_ids, owners):
            file["created_at"] = at
            activity_files.append({"activity_id": activity_id, "kind": kind, "file_id": file_id, "thumbnail_id": None,
                                   "captured_at": (at - timedelta(hours=30)).replace(tzinfo=None)
                                   if kind == "photo" else None, "uploaded_by_id": file["uploaded_by_id"],
                                   "uploaded_at": at, "deleted_at": None})
        self.w.write(t.StoredFile, files)
        world.files.place(files)
        self.w.write(t.ActivityFile, self._owned(activity_files))
        signins = []
        names = {c.id: c.name for c in self.companies}
        for activity_id, row, (upcoming, _, agency) in zip(ids, activities, plans):
            if upcoming:
                continue
            phones, rated = set(), set()
            for _ in range(rng.randrange(5, 41)):
                phone = mobile(rng)
                if phone in phones:
                    continue
                phones.add(phone)
                company = self._company_on(row["ends_on"]) if rng.random() < 0.7 else None
                signins.append({"activity_id": activity_id, "name": person_name(rng), "phone": phone,
                                "company_name": names[company.id] if company else rng.choice(
                                    ("山西大学", "太原理工大学", "个人创业者", "区人社局", "合作银行")),
                                "company_id": company.id if company else None,
                                "user_id": None, "signed_at": row["starts_at"] + timedelta(
                                    minutes=rng.randrange(-30, 40))})
                if (company and company.id in contacts and company.id not in rated and row["deleted_at"] is None
                        and rng.random() < 0.3):
                    rated.add(company.id)
                    feedback.append(self._feedback(company.id, "activity", activity_id, row["category"],
                                                   agency[0] if agency else None, contacts[company.id], row["ends_on"]))
        self.w.write(t.SignIn, self._owned(signins))
        self.w.write(t.Feedback, self._owned(feedback))

    def _feedback(self, company_id, kind, entry_id, category, agency_id, user_id, day):
        rating = self.rng.choices((5, 4, 3, 2, 1), (60, 28, 8, 3, 1))[0]
        return {"company_id": company_id, "request_id": entry_id if kind == "request" else None,
                "visit_id": entry_id if kind == "visit" else None,
                "activity_id": entry_id if kind == "activity" else None, "category": category,
                "agency_id": agency_id, "rating": rating,
                "comment": "" if rating >= 4 else "希望后续跟进更及时", "user_id": user_id,
                "created_at": local_time(min(self.today, day + timedelta(days=self.rng.randrange(1, 10))), 20)}


def count_rows(app, tables):
    """{table: rows stored} for ``tables`` (names), across every base."""
    from operator_app.db import unscoped
    from operator_app.extensions import db

    with app.app_context():
        with unscoped("the benchmark generator counts every base's rows"):
            metadata = db.metadata.tables
            counts = {name: db.session.execute(select(func.count()).select_from(metadata[name])).scalar()
                      for name in tables}
        db.session.remove()
    return counts


def file_quarters(app, *, count=4, today=None, progress=print):
    """Give every base its quarterly filings of the last ``count`` ended quarters, made by the product's own
    ``filings.services.generate`` (figures, workbook, CSV and JSON), each but the newest marked submitted by hand:
    a base that files on time. Bases that already have filings are left alone, so this also completes a database
    generated before it existed. Returns the number of filings made.

    Slower per row than the bulk writes (about a tenth of a second per filing), so it runs once per base."""
    from operator_app.accounts.models import Base
    from operator_app.db import scoped_to, unscoped
    from operator_app.extensions import db
    from operator_app.filings import services
    from operator_app.filings.models import SUBMITTED_BY_HAND, QuarterlyFiling
    from operator_app.timeutil import today_in

    made, started = 0, time.perf_counter()
    with app.test_request_context():
        with unscoped("the benchmark generator files every base's quarters"):
            ids = db.session.scalars(select(Base.id).order_by(Base.id)).all()
            filed = set(db.session.scalars(select(QuarterlyFiling.base_id).distinct()))
        waiting = [base_id for base_id in ids if base_id not in filed]
        for n, base_id in enumerate(waiting, start=1):
            with scoped_to(base_id):
                base = db.session.get(Base, base_id)
                day = today or today_in(base.timezone)
                quarters = services.ended_quarters(base, day, count)  # oldest first
                for index, (year, quarter) in enumerate(quarters):
                    filing = services.generate(base, year, quarter, today=day)
                    if filing is not None:
                        made += 1
                        if index < len(quarters) - 1:
                            services.mark_submitted(filing, via=SUBMITTED_BY_HAND, note="省平台手工上传", by=None)
                db.session.commit()
            if n % 20 == 0 or n == len(waiting):
                progress(f"  filings: {n}/{len(waiting)} bases, {made} filings, {time.perf_counter() - started:.0f} s")
        db.session.remove()
    return made
