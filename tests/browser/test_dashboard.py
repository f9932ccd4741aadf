"""The dashboard shows its frame at once and fills the readiness panel from its own address (the 14 items take
longer than the rest of the page): in Chromium the panel arrives with the score, and a failure says so."""
from .conftest import log_in, untranslated


def test_the_readiness_panel_fills_in_after_the_dashboard(factory, page):
    base = factory.base("jinyang")
    log_in(page, base.owner.email, base.owner.password)
    page.goto(f"/b/{base.slug}/")
    panel = page.locator("#compliance-panel")
    panel.wait_for()
    assert page.locator("#compliance-slot").count() == 0
    score = panel.get_attribute("data-score")
    met, total = (int(n) for n in score.split("/"))
    assert total == 14 and 0 <= met < 14  # a new base meets few items
    assert f"符合 {met} / {total} 项" in panel.inner_text()
    assert panel.locator("[data-item]").count() == 14
    assert untranslated(page) == []


def test_a_panel_that_cannot_load_says_so(factory, page):
    base = factory.base("jinyang")
    log_in(page, base.owner.email, base.owner.password)
    page.route("**/filings/compliance/panel", lambda route: route.fulfill(status=503, body="unavailable"))
    page.goto(f"/b/{base.slug}/")
    status = page.locator("#compliance-slot [data-fragment-status]")
    status.filter(has_text="未能加载").wait_for()
    assert page.locator("#compliance-slot").get_attribute("aria-busy") is None
    assert page.locator("#compliance-slot a", has_text="打开").count() == 1
