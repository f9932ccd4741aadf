"""Activities: created and corrected, photos re-encoded without location, QR sign-in once per phone within its
window, and the three-day archive rule with a fixed clock and the daily job."""
from datetime import date, datetime, timedelta, timezone
from io import BytesIO

from PIL import Image
from sqlalchemy import func, select

from ledger import services
from ledger.jobs import ARCHIVE_JOB
from ledger.models import Activity, ActivityFile, SignIn
from operator_app.audit import AuditEntry
from operator_app.db import scoped_to, unscoped
from operator_app.extensions import db
from operator_app.scheduler import run_job
from operator_app.storage import StoredFile, storage
from operator_app.timeutil import to_local, utcnow

from ..helpers import PDF_BYTES, field_errors

GPS_IFD, EXIF_IFD, ORIENTATION, DATETIME_ORIGINAL = 0x8825, 0x8769, 0x0112, 0x9003


def photo(kind="JPEG", size=(64, 48), taken="2026:03:05 14:30:00", gps=True):
    """A photo as a phone makes it: EXIF capture time, orientation and GPS position."""
    image = Image.new("RGBA" if kind == "PNG" else "RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[ORIENTATION] = 1
    exif.get_ifd(EXIF_IFD)[DATETIME_ORIGINAL] = taken
    if gps:
        exif.get_ifd(GPS_IFD).update({1: "N", 2: (37.0, 52.0, 30.0), 3: "E", 4: (112.0, 33.0, 10.0)})
    output = BytesIO()
    image.save(output, kind, exif=exif.tobytes())
    return output.getvalue()


def _form_values(**overrides):
    values = {"title": "知识产权沙龙", "category": "professional", "starts_at": "2026-03-05T14:00",
              "ends_at": "2026-03-05T16:30", "place": "路演厅", "organiser_id": "", "agency_id": "",
              "expected_companies": "20", "agenda": "专利申请实务", "signin_hours_after": "2",
              "publicity_links": "", "results": ""}
    return values | overrides


def _count(app, model):
    with app.app_context(), unscoped("test counts rows"):
        return db.session.scalar(select(func.count(model.id)))


def test_an_activity_is_created_and_corrected_and_bad_input_writes_nothing(app, factory, browser):
    base = factory.base("alpha")
    organiser = factory.service_person(base, name="孙主任")
    browser.login(base.users["staff"])
    url = f"/b/{base.slug}/ledger/activities/new"
    refused = browser.post(url, _form_values(organiser_id=organiser, ends_at="2026-03-05T13:00",
                                             expected_companies="-1", signin_hours_after="100",
                                             publicity_links="javascript:alert(1)"))
    errors = field_errors(refused)
    assert errors["ends_at"] == ["活动结束时间必须晚于开始时间。"]
    assert set(errors) == {"ends_at", "expected_companies", "signin_hours_after", "publicity_links"}
    assert "title" not in errors and 'value="知识产权沙龙"' in refused.get_data(as_text=True)  # typed text kept
    assert _count(app, Activity) == 0

    response = browser.post(url, _form_values(organiser_id=organiser))
    assert response.status_code == 302
    detail = response.headers["Location"]
    with app.app_context(), scoped_to(base.id):
        activity = db.session.scalar(select(Activity))
        # Typed in Beijing time, stored in UTC; the day is the base's.
        assert to_local(activity.starts_at, "UTC").replace(tzinfo=None) == datetime(2026, 3, 5, 6, 0)
        assert activity.occurred_on == activity.ends_on == date(2026, 3, 5)
    page = browser.get(detail).get_data(as_text=True)
    assert "2026-03-05 14:00" in page and "孙主任" in page and 'data-archive="overdue"' in page

    browser.post(f"{detail}/edit", _form_values(organiser_id=organiser, publicity_links="https://news.example/1",
                                                results="达成合作意向 3 项"))
    with app.app_context(), scoped_to(base.id):
        change = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "activity.update"))
        assert change.after == {"publicity_links": "https://news.example/1", "results": "达成合作意向 3 项"}
    assert 'href="https://news.example/1"' in browser.get(detail).get_data(as_text=True)


def _upload(browser, base, activity, kind, files):
    detail = f"/b/{base.slug}/ledger/activities/{activity}"
    return browser.client.post(f"{detail}/files", data={
        "csrf_token": browser.csrf_token(detail), "kind": kind,
        "files": [(BytesIO(data), name) for data, name in files]}, content_type="multipart/form-data")


def test_photos_are_re_encoded_without_location_and_keep_their_capture_time(app, factory, browser):
    base = factory.base("alpha")
    activity = factory.activity(base, organiser_id=factory.service_person(base))
    browser.login(base.users["staff"])
    response = _upload(browser, base, activity, "photo", [
        (photo("JPEG"), "现场1.jpg"), (photo("PNG", taken="2026:03:05 15:00:00"), "现场2.png"),
        (photo("WEBP", gps=False), "现场3.webp")])
    assert response.status_code == 302
    with app.app_context(), scoped_to(base.id):
        files = db.session.scalars(select(ActivityFile).order_by(ActivityFile.id)).all()
        assert [file.kind for file in files] == ["photo"] * 3
        assert files[0].captured_at == datetime(2026, 3, 5, 14, 30)
        assert files[1].captured_at == datetime(2026, 3, 5, 15, 0)
        for file, kind in zip(files, ("JPEG", "PNG", "WEBP")):
            stored = db.session.get(StoredFile, file.file_id)
            data = storage().read(stored.key)
            reopened = Image.open(BytesIO(data))
            assert reopened.format == kind
            exif = reopened.getexif()
            assert not exif.get_ifd(GPS_IFD) and GPS_IFD not in exif
            assert b"GPS" not in data and b"Exif" not in data  # no metadata written at all
            thumbnail = Image.open(BytesIO(storage().read(db.session.get(StoredFile, file.thumbnail_id).key)))
            assert thumbnail.format == "JPEG" and max(thumbnail.size) <= 400
    page = browser.get(f"/b/{base.slug}/ledger/activities/{activity}").get_data(as_text=True)
    assert "拍摄于 2026-03-05 14:30" in page
    thumb = browser.get(f"/b/{base.slug}/ledger/activities/{activity}/files/{files[0].id}?thumb=1")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"


def test_a_non_photo_named_jpg_is_refused_and_no_file_of_the_batch_is_kept(app, factory, browser):
    base = factory.base("alpha")
    activity = factory.activity(base, organiser_id=factory.service_person(base))
    browser.login(base.users["staff"])
    files_before = _files_on_disk(app)
    response = _upload(browser, base, activity, "photo", [(photo(), "好的.jpg"), (PDF_BYTES, "其实是PDF.jpg")])
    assert response.status_code == 200
    assert field_errors(response)["files"] == ["其实是PDF.jpg：该文件不是照片。支持：JPG、PNG、WEBP。"]
    assert _count(app, ActivityFile) == 0 and _count(app, StoredFile) == 0
    assert _files_on_disk(app) == files_before  # the good photo written first was removed with the rollback
    empty = _upload(browser, base, activity, "photo", [])
    assert field_errors(empty)["files"] == ["请至少选择一个文件。"]


def _files_on_disk(app):
    with app.app_context():
        return {path for path in storage().root.rglob("*") if path.is_file()}


def test_a_50_mb_photo_is_answered_413_and_nothing_is_written(app, factory, browser):
    base = factory.base("alpha")
    activity = factory.activity(base, organiser_id=factory.service_person(base))
    browser.login(base.users["staff"])
    huge = b"\xff\xd8\xff" + b"\0" * (50 * 1024 * 1024)
    response = _upload(browser, base, activity, "photo", [(huge, "大照片.jpg")])
    assert response.status_code == 413 and "文件过大" in response.get_data(as_text=True)
    assert _count(app, ActivityFile) == 0


def _open_activity(factory, base, hours_ago=1, length=2):
    """An activity that started ``hours_ago`` hours ago (so sign-in is open now)."""
    start = utcnow().replace(microsecond=0) - timedelta(hours=hours_ago)
    return factory.activity(base, organiser_id=factory.service_person(base), starts_at=start, hours=length)


def test_qr_sign_in_once_per_phone_and_a_tenant_contact_signs_in_for_its_company(app, factory, browser,
                                                                              new_browser):
    base = factory.base("alpha")
    tenant_company = factory.company(base, name="晋阳软件")
    factory.link_tenant(base, tenant_company)
    activity = _open_activity(factory, base)
    url = f"/p/{base.slug}/ledger/signin/{activity}/{factory.activity_code(base, activity)}"
    phone = new_browser()
    assert "签到" in phone.get(url).get_data(as_text=True)
    refused = phone.post(url, {"name": "", "phone": "12345", "company_name": ""})
    assert set(field_errors(refused)) == {"name", "phone", "company_name"}
    done = phone.post(url, {"name": "刘一", "phone": "139 1111 2222", "company_name": "外部公司"})
    assert "签到成功" in done.get_data(as_text=True)
    again = new_browser().post(url, {"name": "刘一（另一台手机）", "phone": "13911112222", "company_name": "外部公司"})
    assert "您已签到过" in again.get_data(as_text=True)
    # A tenant contact logged in on the phone is recognised: its company comes from the account.
    browser.login(base.users["tenant"])
    page = browser.get(url).get_data(as_text=True)
    assert "您将代表 晋阳软件 签到" in page and base.users["tenant"].name in page
    browser.post(url, {"name": base.users["tenant"].name, "phone": "13922223333", "company_name": "冒名公司"})
    with app.app_context(), scoped_to(base.id):
        signins = db.session.scalars(select(SignIn).order_by(SignIn.id)).all()
        assert [(s.name, s.phone, s.company_id) for s in signins] == [
            ("刘一", "13911112222", None), (base.users["tenant"].name, "13922223333", tenant_company)]
        assert signins[1].company_name == "晋阳软件" and signins[1].user_id == base.users["tenant"].id
    staff = new_browser()
    staff.login(base.users["staff"])
    detail = staff.get(f"/b/{base.slug}/ledger/activities/{activity}").get_data(as_text=True)
    assert "2 家企业，2 人" in detail
    qr = staff.get(f"/b/{base.slug}/ledger/activities/{activity}/qr").get_data(as_text=True)
    assert "<svg" in qr and url in qr


def test_sign_in_outside_its_window_or_with_a_wrong_code_is_refused(app, factory, new_browser):
    base = factory.base("alpha")
    other = factory.base("bravo")
    ended = _open_activity(factory, base, hours_ago=6, length=2)        # ended 4 hours ago; window 2 hours
    later = _open_activity(factory, base, hours_ago=-5)                 # starts in 5 hours; opens 2 hours before
    phone = new_browser()
    values = {"name": "刘一", "phone": "13911112222", "company_name": "外部公司"}
    closed_url = f"/p/{base.slug}/ledger/signin/{ended}/{factory.activity_code(base, ended)}"
    assert "本次活动签到已结束" in phone.get(closed_url).get_data(as_text=True)
    response = phone.post(closed_url, values, form_page="/login")  # (the closed page shows no form)
    assert response.status_code == 403 and "本次活动签到已结束" in response.get_data(as_text=True)
    early_url = f"/p/{base.slug}/ledger/signin/{later}/{factory.activity_code(base, later)}"
    assert "签到在活动开始前两小时开放" in phone.get(early_url).get_data(as_text=True)
    assert phone.get(f"/p/{base.slug}/ledger/signin/{ended}/wrong-code").status_code == 404
    # Another base's activity under this base's address is not found, even with its right code.
    foreign = _open_activity(factory, other)
    assert phone.get(f"/p/{base.slug}/ledger/signin/{foreign}/{factory.activity_code(other, foreign)}"
                     ).status_code == 404
    assert phone.get(f"/p/{base.slug}/ledger/signin/99999999999/x").status_code == 404
    assert _count(app, SignIn) == 0


def test_the_three_day_archive_rule_with_a_fixed_clock_and_the_daily_job(app, factory, browser):
    base = factory.base("alpha")
    organiser = factory.service_person(base)
    # Ends Thursday 5 March 2026 at 16:00 in Taiyuan: archive due by Sunday 8 March.
    late = factory.activity(base, organiser_id=organiser, title="逾期的活动",
                            starts_at=datetime(2026, 3, 5, 6, 0, tzinfo=timezone.utc))
    on_time = factory.activity(base, organiser_id=organiser, title="按时归档的活动",
                               starts_at=datetime(2026, 3, 5, 6, 0, tzinfo=timezone.utc))

    def state(activity_id, day):
        with app.app_context(), scoped_to(base.id):
            return services.archive_state(db.session.get(Activity, activity_id), day, "Asia/Shanghai")

    assert state(late, date(2026, 3, 6)).status == "pending"
    assert state(late, date(2026, 3, 6)).missing == ("notice", "photos", "signins")
    assert state(late, date(2026, 3, 8)).status == "pending"      # the third day still counts
    assert state(late, date(2026, 3, 9)).status == "overdue"

    # The on-time one gets its notice, a photo and the sheet scan on 7 March.
    with app.test_request_context(), scoped_to(base.id):
        from operator_app.accounts.models import User
        from werkzeug.datastructures import FileStorage

        owner = db.session.get(User, base.owner.id)
        activity = db.session.get(Activity, on_time)
        seventh = datetime(2026, 3, 7, 2, 0, tzinfo=timezone.utc)
        for kind, data, name in (("notice", PDF_BYTES, "通知.pdf"), ("photo", photo(), "现场.jpg"),
                                 ("sheet", PDF_BYTES, "签到表.pdf")):
            services.add_activity_files(activity, kind, [FileStorage(BytesIO(data), name)], now=seventh, by=owner)
        db.session.commit()
    assert state(on_time, date(2026, 3, 9)).status == "complete"

    # The daily job on 9 March (01:10 in Taiyuan) marks only the late one, once.
    ninth = datetime(2026, 3, 8, 17, 10, tzinfo=timezone.utc)
    with app.app_context():
        assert run_job(ARCHIVE_JOB, now=ninth).done == [base.id]
        assert run_job(ARCHIVE_JOB, now=ninth).skipped == [base.id]
    with app.app_context(), scoped_to(base.id):
        assert db.session.get(Activity, late).overdue_at is not None
        assert db.session.get(Activity, on_time).overdue_at is None
        assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "activity.overdue")) == 1
    browser.login(base.users["staff"])
    dashboard = browser.get(f"/b/{base.slug}/").get_data(as_text=True)
    assert f'data-overdue="{late}"' in dashboard and f'data-overdue="{on_time}"' not in dashboard

    # Completed afterwards it reads "archived late" and leaves the dashboard.
    factory.activity_file(base, late, kind="notice")
    factory.activity_file(base, late, kind="sheet")
    with app.test_request_context(), scoped_to(base.id):
        from operator_app.accounts.models import User
        from werkzeug.datastructures import FileStorage

        services.add_activity_files(db.session.get(Activity, late), "photo", [FileStorage(BytesIO(photo()), "p.jpg")],
                                    now=utcnow(), by=db.session.get(User, base.owner.id))
        db.session.commit()
    assert state(late, date(2026, 11, 23)).status == "late"
    assert f'data-overdue="{late}"' not in browser.get(f"/b/{base.slug}/").get_data(as_text=True)
    # Withdrawing the notice makes it incomplete again.
    with app.app_context(), scoped_to(base.id):
        notice = db.session.scalar(select(ActivityFile).where(ActivityFile.activity_id == on_time,
                                                              ActivityFile.kind == "notice"))
    detail = f"/b/{base.slug}/ledger/activities/{on_time}"
    browser.post(f"{detail}/files/{notice.id}/delete", {}, form_page=detail)
    assert state(on_time, date(2026, 3, 9)).missing == ("notice",)


def test_sign_ins_alone_satisfy_the_sign_in_item(app, factory):
    base = factory.base("alpha")
    activity = factory.activity(base, organiser_id=factory.service_person(base))
    factory.signin(base, activity)
    with app.app_context(), scoped_to(base.id):
        assert services.missing_items(db.session.get(Activity, activity)) == ("notice", "photos")


def test_the_job_does_not_mark_on_the_last_day_and_the_dashboard_needs_no_job(app, factory, browser):
    base = factory.base("alpha")
    organiser = factory.service_person(base)
    ended = utcnow() - timedelta(days=5)
    activity = factory.activity(base, organiser_id=organiser, title="没有人跑任务也逾期", starts_at=ended)
    browser.login(base.users["staff"])
    # No job has run: the dashboard already lists it from its dates.
    assert f'data-overdue="{activity}"' in browser.get(f"/b/{base.slug}/").get_data(as_text=True)
    # A run on the deadline day (8 March, the third day after 5 March) marks nothing.
    march = factory.activity(base, organiser_id=organiser, starts_at=datetime(2026, 3, 5, 6, 0, tzinfo=timezone.utc))
    with app.app_context():
        run_job(ARCHIVE_JOB, now=datetime(2026, 3, 7, 17, 10, tzinfo=timezone.utc))  # 8 March, 01:10 local
    with app.app_context(), scoped_to(base.id):
        assert db.session.get(Activity, march).overdue_at is None
    # Corrected to December, the first one leaves the overdue list.
    organiser_values = _form_values(organiser_id=organiser, starts_at="2026-12-20T14:00", ends_at="2026-12-20T16:00")
    detail = f"/b/{base.slug}/ledger/activities/{activity}"
    assert browser.post(f"{detail}/edit", organiser_values).status_code == 302
    assert f'data-overdue="{activity}"' not in browser.get(f"/b/{base.slug}/").get_data(as_text=True)


def test_a_file_replaced_after_the_deadline_keeps_a_timely_archive_timely(app, factory, browser):
    base = factory.base("alpha")
    activity = factory.activity(base, organiser_id=factory.service_person(base),
                                starts_at=datetime(2026, 3, 5, 6, 0, tzinfo=timezone.utc))
    with app.test_request_context(), scoped_to(base.id):
        from operator_app.accounts.models import User
        from werkzeug.datastructures import FileStorage

        owner, entry = db.session.get(User, base.owner.id), db.session.get(Activity, activity)
        seventh = datetime(2026, 3, 7, 2, 0, tzinfo=timezone.utc)
        for kind, data, name in (("notice", PDF_BYTES, "错的通知.pdf"), ("photo", photo(), "现场.jpg")):
            services.add_activity_files(entry, kind, [FileStorage(BytesIO(data), name)], now=seventh, by=owner)
        db.session.commit()
    factory.signin(base, activity)
    browser.login(base.users["staff"])
    detail = f"/b/{base.slug}/ledger/activities/{activity}"
    assert 'data-archive="complete"' in browser.get(detail).get_data(as_text=True)
    with app.app_context(), scoped_to(base.id):
        wrong = db.session.scalar(select(ActivityFile).where(ActivityFile.kind == "notice"))
    browser.post(f"{detail}/files/{wrong.id}/delete", {}, form_page=detail)
    assert 'data-archive="overdue"' in browser.get(detail).get_data(as_text=True)
    _upload(browser, base, activity, "notice", [(PDF_BYTES, "对的通知.pdf")])
    assert 'data-archive="complete"' in browser.get(detail).get_data(as_text=True)


def test_a_photographed_sheet_or_notice_loses_its_location_too(app, factory, browser):
    base = factory.base("alpha")
    activity = factory.activity(base, organiser_id=factory.service_person(base))
    browser.login(base.users["staff"])
    assert _upload(browser, base, activity, "sheet", [(photo(), "签到表.jpg")]).status_code == 302
    with app.app_context(), scoped_to(base.id):
        sheet = db.session.scalar(select(ActivityFile).where(ActivityFile.kind == "sheet"))
        data = storage().read(db.session.get(StoredFile, sheet.file_id).key)
    assert Image.open(BytesIO(data)).format == "JPEG" and b"Exif" not in data and b"GPS" not in data


def test_a_typed_company_name_is_text_and_paper_sheet_counts_add_to_the_participants(app, factory, browser,
                                                                                  new_browser):
    base = factory.base("alpha")
    tenant = factory.company(base, name="晋阳软件")
    activity = _open_activity(factory, base)
    url = f"/p/{base.slug}/ledger/signin/{activity}/{factory.activity_code(base, activity)}"
    new_browser().post(url, {"name": "冒名者", "phone": "13911112222", "company_name": "晋阳软件"})
    with app.app_context(), scoped_to(base.id):
        signin = db.session.scalar(select(SignIn))
        assert signin.company_name == "晋阳软件" and signin.company_id is None
    browser.login(base.users["staff"])
    assert f'data-service="activity-{activity}"' not in browser.get(
        f"/b/{base.slug}/tenants/{tenant}").get_data(as_text=True)
    detail = f"/b/{base.slug}/ledger/activities/{activity}"
    with app.app_context(), scoped_to(base.id):
        entry = db.session.get(Activity, activity)
        start = to_local(entry.starts_at, "Asia/Shanghai").strftime("%Y-%m-%dT%H:%M")
        end = to_local(entry.ends_at, "Asia/Shanghai").strftime("%Y-%m-%dT%H:%M")
    browser.post(f"{detail}/edit", _form_values(organiser_id=entry.organiser_id, starts_at=start, ends_at=end,
                                                sheet_companies="4", sheet_people="9"))
    assert "5 家企业，10 人" in browser.get(detail).get_data(as_text=True)


def test_an_unreadable_publicity_link_is_a_field_error_not_a_crash(app, factory, browser):
    base = factory.base("alpha")
    organiser = factory.service_person(base)
    browser.login(base.users["staff"])
    response = browser.post(f"/b/{base.slug}/ledger/activities/new",
                            _form_values(organiser_id=organiser, publicity_links="http://[::1"))
    assert response.status_code == 200 and field_errors(response)["publicity_links"]
    assert _count(app, Activity) == 0
