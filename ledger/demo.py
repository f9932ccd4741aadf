"""The demo base's service ledger: its team and agencies, a season of requests, visits and activities (one
archived, one still within its three days, one overdue), sign-ins and the companies' ratings."""
import shutil
import subprocess  # nosec B404  (fc-match, Fontconfig's own lookup of an installed font)
from datetime import datetime, time, timedelta
from functools import lru_cache
from io import BytesIO

from PIL import ExifTags, Image, ImageDraw, ImageFont
from werkzeug.datastructures import FileStorage

from operator_app.timeutil import from_local

from . import services

TEAM = (  # name, position, mentor certificate number (None: not a mentor)
    ("王建国", "基地主任", None), ("李娜", "企业服务部经理", None), ("赵敏", "创业辅导师", "SXCY-2023-0112"),
    ("孙立", "创业辅导师", "SXCY-2022-0871"), ("钱芳", "创业辅导师", "SXCY-2024-0335"), ("周涛", "投融资专员", None),
    ("吴倩", "政策专员", None), ("郑凯", "培训专员", None), ("冯雪", "物业与安全", None), ("陈亮", "信息化专员", None),
    ("褚红", "财务专员", None),
)
AGENCIES = (  # name, category, services
    ("山西正大律师事务所", "professional", "合同审查、股权设计、劳动用工法律咨询"),
    ("晋财会计师事务所", "professional", "代理记账、审计、税务筹划"),
    ("太原晋商创业投资有限公司", "financing", "天使投资、融资路演、投后辅导"),
    ("山西知行知识产权代理有限公司", "innovation", "专利、商标、软件著作权申请"),
    ("太原职业技能培训学校", "training", "员工技能培训、创业培训"),
)


# Where Debian's fonts-noto-cjk puts Noto Sans CJK, and which face of the collection is Simplified Chinese.
CJK_FONT = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2)
CAPTION_SIZE = 56


def _fontconfig_cjk_font():
    """(file, face index) of the font Fontconfig picks for Simplified Chinese, or None without Fontconfig."""
    fc_match = shutil.which("fc-match")
    if not fc_match:
        return None
    try:
        found = subprocess.run([fc_match, "-f", "%{file}\t%{index}", "Noto Sans CJK SC:lang=zh-cn"],  # nosec B603
                               capture_output=True, text=True, timeout=10, check=True).stdout
        path, index = found.split("\t")
        return path, int(index or 0)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None


@lru_cache(maxsize=1)
def caption_font():
    """A font that has the Chinese of the captions: Noto Sans CJK where Debian puts it, else what Fontconfig finds
    for Chinese; without either, Pillow's own font (its Chinese shows as boxes, the picture is still made)."""
    for find in (lambda: CJK_FONT, _fontconfig_cjk_font):
        found = find()
        if found is None:
            continue
        try:
            return ImageFont.truetype(found[0], CAPTION_SIZE, index=found[1])
        except OSError:  # not there, or not a font Pillow reads
            continue
    return ImageFont.load_default(CAPTION_SIZE)


def _photo(colour, label, taken):
    """A stand-in for an on-site photo (the demo has no camera), with the capture time a phone writes and its
    title as a caption."""
    image = Image.new("RGB", (1200, 800), colour)
    draw = ImageDraw.Draw(image)
    for row in range(6):
        draw.rectangle((120 + row * 160, 420 - row * 20, 220 + row * 160, 700), fill=(240, 240, 240))
    draw.text((40, 40), label, fill=(255, 255, 255), font=caption_font())
    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = taken.strftime("%Y:%m:%d %H:%M:%S")
    output = BytesIO()
    image.save(output, "JPEG", quality=85, exif=exif.tobytes())
    return FileStorage(BytesIO(output.getvalue()), f"{label}.jpg")


def _notice():
    data = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    return FileStorage(BytesIO(data), "活动通知.pdf")


def load_demo_ledger(base, owner, companies, users, today):
    """Fill the ledger of the demo ``base`` (within its scope); ``users`` are the demo logins by role, ``today``
    is the base's date."""
    logins = {"王建国": owner, **{user.name: user for user in users.values()}}
    def local(days_ago, hour, minute=0):
        return datetime.combine(today - timedelta(days=days_ago), time(hour, minute))

    def at(days_ago, hour, minute=0):
        return from_local(local(days_ago, hour, minute), base.timezone)

    people = [services.add_person({"name": name, "position": position, "phone": "", "is_mentor": bool(number),
                                   "certificate_issuer": "山西省小企业服务中心" if number else "",
                                   "certificate_number": number or "", "is_active": True,
                                   "user_id": logins[name].id if name in logins else None}, by=owner)
              for name, position, number in TEAM]
    agencies = [services.add_agency({"name": name, "category": category, "services": offered,
                                     "agreement_starts_on": today - timedelta(days=400 + 30 * index),
                                     "agreement_ends_on": today + timedelta(days=700), "contact_name": "",
                                     "contact_phone": "", "is_active": True}, by=owner)
                for index, (name, category, offered) in enumerate(AGENCIES)]
    first = companies[0]
    requests = [
        (first, "financing", "phone", "希望对接天使轮后续融资，了解基地合作的投资机构", 30, people[5],
         "已对接晋商创投，安排路演"),
        (first, "professional", "walk_in", "新员工劳动合同模板需要律师审核", 18, people[1],
         "已由正大律所审核并反馈修改意见"),
        (companies[1], "innovation", "online", "申请两项软件著作权，需要代理机构", 12, people[3], None),
        (companies[2], "information", "phone", "咨询高新技术企业认定申报条件", 6, people[6],
         "已发送申报指南并电话讲解"),
        (companies[4], "training", "visit", "希望组织电商运营培训", 2, None, None),
    ]
    for company, category, channel, content, days_ago, handler, resolution in requests:
        entry = services.create_request({"company_id": company.id, "channel": channel, "category": category,
                                         "received_at": at(days_ago, 9, 30), "content": content,
                                         "handler_id": handler.id if handler else None}, base=base, by=owner)
        if handler is not None:
            services.set_request_status(entry, "in_progress", "", now=at(days_ago, 11), by=owner)
        if resolution:
            services.set_request_status(entry, "resolved", resolution, now=at(days_ago - 2, 16), by=owner)
    visits = [
        (first, people[2], None, "coaching", "商业计划书辅导", "梳理融资路演材料，修改商业计划书", 25),
        (companies[2], people[5], agencies[2], "financing", "融资需求走访", "了解扩产融资需求，介绍股权融资方式", 14),
        (companies[5], people[3], agencies[0], "professional", "法律体检",
         "检查对外合同与劳动用工风险，提出 6 条建议", 8),
        (first, None, agencies[3], "innovation", "专利布局", "讲解专利申请流程，初步确定 2 项发明专利", 4),
    ]
    visit_entries = []
    for company, staff, agency, category, purpose, content, days_ago in visits:
        visit_entries.append(services.create_visit({
            "company_id": company.id, "occurred_on": today - timedelta(days=days_ago),
            "staff_id": staff.id if staff else None, "agency_id": agency.id if agency else None, "people": "",
            "purpose": purpose, "category": category, "content": content, "follow_up": ""}, by=owner))

    def activity(title, category, days_ago, organiser, agency, place):
        return services.create_activity({
            "title": title, "category": category, "starts_at": at(days_ago, 14), "ends_at": at(days_ago, 16, 30),
            "place": place, "organiser_id": organiser.id, "agency_id": agency.id if agency else None,
            "expected_companies": 12, "agenda": "", "sheet_companies": None, "sheet_people": None,
            "signin_hours_after": 2, "publicity_links": "",
            "results": ""}, base=base, by=owner)

    archived = activity("小微企业融资政策宣讲会", "financing", 20, people[5], agencies[2], "一楼路演厅")
    archived.publicity_links = "https://www.example.com/news/jinyang-financing"
    archived.results = "6 家企业提出融资需求，2 家进入尽调"
    services.add_activity_files(archived, "notice", [_notice()], now=at(19, 10), by=owner)
    services.add_activity_files(archived, "photo", [
        _photo((52, 96, 150), "宣讲会现场1", local(20, 14, 12)),
        _photo((70, 120, 90), "宣讲会现场2", local(20, 15, 40))],
        now=at(19, 10), by=owner)
    for index, company in enumerate(companies[:6]):
        services.sign_in(archived, name=f"参会代表{index + 1}", phone=f"1370351{index:04d}",
                         company_name=company.name, now=at(20, 13, 50 + index), company=company)
    recent = activity("跨境电商运营培训", "training", 1, people[7], agencies[4], "三楼培训室")
    services.add_activity_files(recent, "photo", [_photo((150, 80, 60), "培训现场", local(1, 14, 30))], now=at(1, 17),
                                by=owner)
    for index, company in enumerate(companies[4:7]):
        services.sign_in(recent, name=f"学员{index + 1}", phone=f"1370352{index:04d}", company_name=company.name,
                         now=at(1, 13, 55), company=company)
    activity("知识产权保护沙龙", "innovation", 9, people[3], agencies[3], "二楼会议室")
    services.mark_overdue(base, at(0, 1, 10))

    for entry, kind, rating, comment in ((visit_entries[0], "visit", 5, "辅导很细致"),
                                         (visit_entries[3], "visit", 4, ""),
                                         (archived, "activity", 4, "希望多组织类似活动")):
        services.give_feedback(first, kind, entry, rating=rating, comment=comment, user=users["tenant"])
