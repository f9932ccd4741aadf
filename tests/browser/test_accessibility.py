"""Accessibility (issue 12, the UX bar): axe-core, from the npm registry (package.json; `npm ci` puts it in
node_modules, `make test` runs it), checks the main pages of the demo base in Chromium: no critical or serious
violation (form labels, contrast, names of buttons and links, …). axe is given to the page by the test (an init
script, not served by the app and never copied into the repository); without it the test fails: run `npm ci`."""
import json

import pytest

from operator_app.accounts import constants as c
from operator_app.config import PROJECT_ROOT

from .conftest import DESKTOP, PHONE, Screens, log_in_demo

AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("critical", "serious")


def pages(values):
    """(role, viewport, address) of the pages checked."""
    b = f"/b/{values['base_slug']}"
    return [
        (None, PHONE, "/login"),
        (c.ROLE_MANAGER, DESKTOP, f"{b}/"),
        (c.ROLE_MANAGER, DESKTOP, f"{b}/tenants/"),
        (c.ROLE_MANAGER, DESKTOP, f"{b}/tenants/{values['company_id']}"),
        (c.ROLE_MANAGER, DESKTOP, f"{b}/ledger/"),
        (c.ROLE_MANAGER, DESKTOP, f"{b}/ledger/activities/{values['activity_id']}"),
        (c.ROLE_MANAGER, DESKTOP, f"{b}/tenants/attendance"),
        (c.ROLE_MANAGER, DESKTOP, f"{b}/tenants/rent"),
        (c.ROLE_MANAGER, DESKTOP, f"{b}/filings/"),
        (c.ROLE_MANAGER, DESKTOP, f"{b}/filings/{values['filing_id']}"),
        (c.ROLE_MANAGER, DESKTOP, f"{b}/filings/compliance"),
        (c.ROLE_MANAGER, PHONE, f"{b}/"),
        (c.ROLE_TENANT, PHONE, f"{b}/tenants/portal"),
        (c.ROLE_TENANT, PHONE, f"{b}/tenants/{values['company_id']}/reports/{values['month']}"),
        (c.ROLE_TENANT, PHONE, f"{b}/ledger/mine"),
    ]


def violations(page):
    """axe's critical and serious violations on ``page``: one line each, with where."""
    found = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [f"{page.url}: {v['impact']} {v['id']} ({v['help']}): "
            + "; ".join(json.dumps(node["target"]) + " " + node["failureSummary"].replace("\n", " ")[:160]
                        for node in v["nodes"][:4])
            for v in found if v["impact"] in SERIOUS]


def test_axe_core_is_installed_from_the_npm_registry():
    assert AXE.exists(), f"{AXE} is missing: run `npm ci` (make test does)"
    lock = json.loads((PROJECT_ROOT / "package-lock.json").read_text())
    pinned = lock["packages"]["node_modules/axe-core"]
    assert pinned["integrity"].startswith("sha512-") and pinned["dev"] is True


@pytest.fixture
def windows(chromium, demo_site, request):
    """A window per (role, viewport), logged in, with axe in every page it opens."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` (make test does)")
    made, opened = Screens(chromium, demo_site.url), {}

    def window(role, viewport):
        if (role, viewport["width"]) not in opened:
            page = made.open(viewport)
            if role:
                log_in_demo(page, role)
            page.context.add_init_script(path=str(AXE))
            opened[role, viewport["width"]] = page
        return opened[role, viewport["width"]]

    yield window
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        made.keep_failure(request.node.name)
    made.close()


def test_the_main_pages_have_no_serious_accessibility_violation(demo_site, windows):
    problems = []
    for role, viewport, path in pages(demo_site.values):
        page = windows(role, viewport)
        response = page.goto(path)
        assert response.status == 200, (path, response.status)
        page.wait_for_load_state()
        problems += violations(page)
    assert problems == [], "\n".join(problems)
