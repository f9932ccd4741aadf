"""Charts are legible where they are read (issue 12): on a phone and in a third of a desktop page, every text of
the monthly charts is drawn at 11 pixels or more, and no two names of months on an axis overlap."""
import pytest

from operator_app.accounts import constants as c

from .conftest import DESKTOP, PHONE, Screens, log_in_demo

# Each chart's texts as the screen shows them: the height of each, and the boxes of the names on its axis.
TEXTS = """() => [...document.querySelectorAll('svg.chart')].map((chart) => {
  const texts = [...chart.querySelectorAll(':scope > text')].map((text) => {
    const box = text.getBoundingClientRect();
    return {text: text.textContent, left: box.left, right: box.right, top: box.top, height: box.height};
  });
  const bottom = Math.max(...texts.map((text) => text.top));
  return {texts, axis: texts.filter((text) => text.top === bottom).sort((a, b) => a.left - b.left)};
})"""


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_monthly_charts_are_legible(chromium, demo_site, viewport):
    screens = Screens(chromium, demo_site.url)
    try:
        page = screens.open(viewport)
        log_in_demo(page, c.ROLE_MANAGER)
        page.goto(f"/b/{demo_site.values['base_slug']}/tenants/reports")
        charts = page.evaluate(TEXTS)
        assert len(charts) == 3
        for chart in charts:
            assert len(chart["axis"]) >= 4, chart["axis"]  # months are named along the axis
            small = [text["text"] for text in chart["texts"] if text["height"] < 11]
            assert small == [], f"drawn under 11 px on {viewport}: {small}"
            for before, after in zip(chart["axis"], chart["axis"][1:]):
                assert before["right"] <= after["left"], f"{before['text']} overlaps {after['text']}"
    finally:
        screens.close()
