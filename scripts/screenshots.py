"""Screenshots of the main pages, taken from the demo data, for the README (docs/screenshots/*.png).

    .venv/bin/python scripts/screenshots.py                  # every screenshot, into docs/screenshots/
    .venv/bin/python scripts/screenshots.py dashboard rent   # only these
    .venv/bin/python scripts/screenshots.py --out /tmp/shots

The demo (what `flask demo load` loads) goes into a scratch SQLite database in a temporary folder, which is
thrown away afterwards; the app is served on a free loopback port and Debian's Chromium (/usr/bin/chromium, or
CHROMIUM) is driven by Playwright for Python, as the browser journeys do: never `playwright install`. The demo
manager and the demo tenant contact log in through the login page. Desktop pages are 1280 pixels wide, the whole
page down to MAX_HEIGHT; the tenant portal is one screen of a phone (390 x 844).
"""
import argparse
import logging
import os
import secrets
import shutil
import sys
import tempfile
import threading
from pathlib import Path

from flask_migrate import upgrade
from playwright.sync_api import sync_playwright
from sqlalchemy import select
from werkzeug.serving import make_server

from operator_app import create_app
from operator_app.accounts.models import Base
from operator_app.config import PROJECT_ROOT
from operator_app.db import unscoped
from operator_app.i18n import compile_catalogues
from operator_app.demo import DEMO_COMPANIES, DEMO_PASSWORD, DEMO_USERS, load_demo
from operator_app.extensions import db

# --lang: the browser's own controls (file pickers, date fields) in Chinese where Chromium has the language
# (Debian: apt-get install chromium-l10n); without it they stay in English.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--lang=zh-CN"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
MAX_HEIGHT = 1600  # a desktop screenshot stops here: the README shows the top of each page
MANAGER, TENANT = DEMO_USERS[0][0], DEMO_USERS[3][0]


def demo_app(folder):
    """The app on a new SQLite database in ``folder`` with the demo loaded; nothing from the environment that
    would reach a service (billing, mail, Redis, object storage) or start the scheduler."""
    app = create_app("development", {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'demo.db'}", "MIGRATION_DATABASE_URL": None,
        "UPLOAD_FOLDER": str(folder / "uploads"), "STORAGE_BACKEND": "local", "SECRET_KEY": secrets.token_hex(32),
        "SCHEDULER_IN_PROCESS": False, "STRIPE_SECRET_KEY": None, "MAIL_SERVER": None, "REDIS_URL": None,
        "TRUSTED_PROXIES": 0, "PUBLIC_URL": None})
    logging.disable(logging.INFO)  # the migrations' log of every step
    try:
        with app.app_context():
            upgrade()
            load_demo()
            db.session.commit()
    finally:
        logging.disable(logging.NOTSET)
    return app


def demo_ids(app):
    """What the addresses need: the base's slug, a tenant company's id, and the latest archived activity's id."""
    from ledger.models import Activity
    from tenants.models import TenantCompany

    with app.app_context(), unscoped("the screenshot script finds the demo's rows"):
        base = db.session.scalars(select(Base)).one()
        company = db.session.scalar(select(TenantCompany.id).where(TenantCompany.base_id == base.id,
                                                                   TenantCompany.name == DEMO_COMPANIES[0][0]))
        activity = db.session.scalar(select(Activity.id).where(Activity.base_id == base.id,
                                                               Activity.archived_at.is_not(None))
                                     .order_by(Activity.starts_at.desc()).limit(1))
        return base.slug, company, activity


def serve(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="screenshots", daemon=True)
    thread.start()
    return server, thread


def open_page(browser, base_url, email, viewport):
    options = {"is_mobile": True, "has_touch": True} if viewport == PHONE else {}
    context = browser.new_context(base_url=base_url, viewport=viewport, locale="zh-CN",
                                  timezone_id="Asia/Shanghai", device_scale_factor=1, **options)
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/login" not in url)
    return page


def visit(page, path):
    response = page.goto(path)
    if response is None or response.status >= 400:
        raise RuntimeError(f"{path} answered {response.status if response else 'nothing'}")
    page.wait_for_load_state("load")


def quarterly_filing(page, slug):
    """The newest quarter's filing, opened from the list of filings; generated through the page's button when
    the demo has none for that quarter."""
    visit(page, f"/b/{slug}/filings/")
    page.locator("a[href*='/filings/']").filter(has_text="打开").first.click()
    page.wait_for_load_state("load")
    if page.locator("#indicators").count() == 0:
        page.locator("form[action$='/generate'] button[type=submit]").click()
        page.wait_for_load_state("load")
    if page.locator("#indicators").count() == 0:
        raise RuntimeError(f"no quarterly filing at {page.url}")


def annual_summary(page, slug):
    """The newest annual work summary, opened from their list."""
    visit(page, f"/b/{slug}/filings/annual")
    page.locator("a[href*='/filings/annual/']").filter(has_text="打开").first.click()
    page.wait_for_load_state("load")


def settle(page):
    """Wait until nothing more arrives: requests done, fonts loaded, every image (lazy ones too) decoded."""
    page.wait_for_load_state("networkidle")
    page.evaluate("document.fonts.ready.then(() => true)")
    page.wait_for_function("[...document.images].every((image) => image.complete)")


def page_height(page):
    return min(page.evaluate("document.documentElement.scrollHeight"), MAX_HEIGHT)


def save(page, path):
    """The page from its top: on a desktop down to its end or MAX_HEIGHT, on a phone one screen. The window is made
    as tall as the picture first, so that lazily loaded images in it load and the page's height settles."""
    if page.viewport_size == PHONE:
        settle(page)
        page.screenshot(path=str(path), animations="disabled", caret="hide")
        return
    settle(page)
    for _attempt in range(3):
        height = page_height(page)
        page.set_viewport_size({"width": DESKTOP["width"], "height": height})
        settle(page)
        if page_height(page) == height:
            break
    page.screenshot(path=str(path), animations="disabled", caret="hide")
    page.set_viewport_size(DESKTOP)


def shots(slug, company, activity):
    """name -> (who logs in, viewport, the address or a function of the page that gets there)."""
    b = f"/b/{slug}"
    return {
        "dashboard": (MANAGER, DESKTOP, f"{b}/"),
        "profile": (MANAGER, DESKTOP, f"{b}/profile"),
        "tenants": (MANAGER, DESKTOP, f"{b}/tenants/"),
        "company": (MANAGER, DESKTOP, f"{b}/tenants/{company}"),
        "rent": (MANAGER, DESKTOP, f"{b}/tenants/rent"),
        "attendance": (MANAGER, DESKTOP, f"{b}/tenants/attendance"),
        "ledger": (MANAGER, DESKTOP, f"{b}/ledger/"),
        "activity": (MANAGER, DESKTOP, f"{b}/ledger/activities/{activity}"),
        "monthly-data": (MANAGER, DESKTOP, f"{b}/tenants/reports"),
        "filing": (MANAGER, DESKTOP, lambda page: quarterly_filing(page, slug)),
        "compliance": (MANAGER, DESKTOP, f"{b}/filings/compliance"),
        "annual": (MANAGER, DESKTOP, lambda page: annual_summary(page, slug)),
        "tenant-mobile": (TENANT, PHONE, f"{b}/tenants/portal"),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="only these screenshots (default: all)")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        sys.exit(f"Chromium not found at {chromium}: apt-get install -y chromium fonts-noto-cjk")
    compile_catalogues()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="screenshots-") as scratch:
        app = demo_app(Path(scratch))
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        plan = shots(*demo_ids(app))
        unknown = set(args.names) - set(plan)
        if unknown:
            sys.exit(f"No such screenshot: {', '.join(sorted(unknown))} (there are: {', '.join(plan)})")
        server, thread = serve(app)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
                pages = {}
                for name, (email, viewport, where) in plan.items():
                    if args.names and name not in args.names:
                        continue
                    key = (email, viewport["width"])
                    if key not in pages:
                        pages[key] = open_page(browser, f"http://127.0.0.1:{server.server_port}", email, viewport)
                    page = pages[key]
                    if callable(where):
                        where(page)
                    else:
                        visit(page, where)
                    path = args.out / f"{name}.png"
                    save(page, path)
                    print(f"{path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path}  "
                          f"{page.url.split(str(server.server_port), 1)[-1]}")
                browser.close()
        finally:
            server.shutdown()
            thread.join(timeout=10)
            with app.app_context():
                db.engine.dispose()


if __name__ == "__main__":
    main()
