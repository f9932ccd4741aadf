"""The journeys' footing: the app in Chromium logs a manager in and shows the base's dashboard in Chinese, on a
desktop and on a phone, with no horizontal scrolling on the phone."""
from .conftest import log_in, no_horizontal_scroll, untranslated

PASSWORD = "Correct-horse-battery-9"

def test_a_manager_logs_in_and_sees_the_dashboard_in_chinese(factory, page, phone):
    base = factory.base("jinyang")
    for window in (page, phone):
        log_in(window, base.owner.email, base.owner.password)
        window.goto(f"/b/{base.slug}/")
        assert window.get_by_role("heading", name=base.name).count() >= 1 or base.name in window.inner_text("body")
        assert untranslated(window) == []
    assert no_horizontal_scroll(phone)


def test_the_untranslated_check_sees_english(factory, page):
    """The check the journeys rely on is not blind: the same dashboard in English shows the source strings."""
    base = factory.base("jinyang")
    log_in(page, base.owner.email, base.owner.password)
    page.goto("/lang/en")
    page.goto(f"/b/{base.slug}/")
    assert len(untranslated(page)) >= 3
