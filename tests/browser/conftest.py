"""Browser journeys (issue 12): the real app served on loopback with the run's real database, driven in Debian's
Chromium by Playwright for Python. Never `playwright install`: the browser is the one `apt-get install chromium`
puts at /usr/bin/chromium (`CHROMIUM` overrides). A failed journey leaves a full-page screenshot of each open
page in `test-artifacts/` (kept out of git)."""
import os
import shutil
import threading
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from operator_app.config import PROJECT_ROOT

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def chromium_path():
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="session")
def live_server(app):
    """The session's app served on a free loopback port, one thread per request, as a browser reaches it."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def chromium():
    executable = chromium_path()
    if not Path(executable).exists():
        pytest.fail(f"Chromium not found at {executable}: apt-get install -y chromium fonts-noto-cjk "
                    "(.ci/run does this on a fresh machine)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


class Screens:
    """Opens browser windows (contexts) for a test and keeps them for the screenshot of a failure."""

    def __init__(self, chromium, base_url):
        self.chromium, self.base_url, self.contexts = chromium, base_url, []

    def open(self, viewport=DESKTOP, **options):
        if viewport == PHONE:
            options = {"is_mobile": True, "has_touch": True, "device_scale_factor": 2, **options}
        context = self.chromium.new_context(base_url=self.base_url, viewport=viewport, locale="zh-CN",
                                            timezone_id="Asia/Shanghai", accept_downloads=True, **options)
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        return context.new_page()

    def keep_failure(self, name):
        ARTIFACTS.mkdir(exist_ok=True)
        for n, context in enumerate(self.contexts):
            for m, page in enumerate(context.pages):
                try:
                    page.screenshot(path=str(ARTIFACTS / f"{name}-{n}-{m}.png"), full_page=True)
                except Exception:  # noqa: BLE001  (a closed page: the other screenshots still matter)
                    pass

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture
def screens(chromium, live_server, request):
    made = Screens(chromium, live_server)
    yield made
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        made.keep_failure(request.node.name.replace("/", "_"))
    made.close()


@pytest.fixture
def page(screens):
    """A desktop browser window on the live app, in Chinese."""
    return screens.open()


@pytest.fixture
def phone(screens):
    """A phone-sized window (390 x 844, touch) on the live app."""
    return screens.open(PHONE)


def _english_messages():
    path = PROJECT_ROOT / "operator_app" / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po_file:
        catalog = read_po(po_file)
    texts = set()
    for message in catalog:
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        # Whole sentences and labels of two words or more that contain no placeholder: such a text on a page
        # in Chinese means a string that missed translation.
        if msgid and "%" not in msgid and "{" not in msgid and " " in msgid.strip() and len(msgid) >= 8:
            texts.add(msgid)
    return texts


ENGLISH = _english_messages()


def untranslated(page):
    """The app's English source strings visible on ``page`` (an empty list when it is all in Chinese)."""
    text = page.inner_text("body")
    return sorted(message for message in ENGLISH if message in text)


def no_horizontal_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def log_in(page, email, password):
    page.goto("/login")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
