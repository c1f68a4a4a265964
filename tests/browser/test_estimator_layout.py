"""待遇测算: the results read without scrolling sideways on a desktop (1280 px) and a phone
(375 px) screen — the page is no wider than the window, also with the explanations open."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

#: a death with dependants and a grade-4 disability: the widest results the estimator shows
CASES = {
    "death": "date=2024-05-10&outcome=death&own_monthly_wage=12345.67&average_monthly_wage=8000"
             "&dependants-0-relation=spouse&dependants-1-relation=child&dependants-1-alone=y",
    "disability": "date=2024-05-10&outcome=disability&grade=4&care_level=partial&own_monthly_wage=5432.17"
                  "&average_monthly_wage=8000&paid_leave_days=180",
}


def _overflow(page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


@pytest.mark.parametrize("width", [1280, 375])
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_results_fit_the_window(page, portal_url, width, case):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{portal_url}/benefits/estimate?{CASES[case]}")
    results = page.locator("#estimate-results")
    expect(results).to_contain_text("测算结果（估算）")
    for summary in results.locator("details summary").all():
        summary.click()
    expect(results.locator("details[open]").first).to_be_visible()
    scroll_width, inner_width = _overflow(page)
    assert scroll_width <= inner_width, (case, width, scroll_width, inner_width)
    # no box inside the results scrolls sideways either (a wide table in a scrolling wrapper)
    wide = page.evaluate("""Array.from(document.querySelectorAll('#estimate-results *'))
        .filter(e => !e.closest('.visually-hidden') && e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible')
        .map(e => e.tagName + '.' + e.className + ' ' + e.scrollWidth + '>' + e.clientWidth)""")
    assert wide == [], wide
