"""Public pages in a real browser: large-text mode that sticks, and the htmx catalogue look-up."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.pages import ErrorPage, PortalHomePage, SearchPage, ServicePage

pytestmark = pytest.mark.browser

LARGE = re.compile(r"\btext-large\b")


def test_large_text_mode_persists_across_reloads_and_pages_until_switched_back(page, portal_url):
    home = PortalHomePage(page, portal_url).open()
    expect(home.html).not_to_have_class(LARGE)

    home.switch_to_large_text()
    expect(page).to_have_url(portal_url + "/")  # back on the page the switch was on
    expect(home.normal_text_button).to_be_visible()

    page.reload()
    expect(home.html).to_have_class(LARGE)

    home.result_links.filter(has_text="工伤认定申请").first.click()
    service = ServicePage(page, portal_url, "injury-recognition")
    expect(page).to_have_url(portal_url + service.path)
    expect(service.heading).to_have_text("工伤认定申请")
    expect(service.html).to_have_class(LARGE)

    service.nav_link("办事指南").click()
    expect(page).to_have_url(portal_url + "/services/search")
    expect(service.html).to_have_class(LARGE)

    search = SearchPage(page, portal_url)
    search.switch_to_normal_text()
    expect(page).to_have_url(portal_url + "/services/search")
    expect(search.large_text_button).to_be_visible()
    page.reload()
    expect(search.html).not_to_have_class(LARGE)


def test_typing_in_the_home_search_box_updates_results_in_place(page, portal_url, console_messages):
    home = PortalHomePage(page, portal_url).open()
    expect(home.results_heading).to_contain_text("全部办事事项")
    all_items = home.result_links.count()
    assert all_items > 3

    navigations = []
    page.on("framenavigated",
            lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)
    page.evaluate("window.__sameDocument = true")  # gone if the page were loaded anew

    with page.expect_response(lambda r: "/services/search?" in r.url and "q=" in r.url) as answer:
        home.search_box.press_sequentially("鉴定")
    response = answer.value
    assert response.request.headers.get("hx-request") == "true"
    assert response.request.headers.get("hx-target") == "catalogue-results"

    expect(home.results_heading).to_contain_text("查询结果：找到")
    expect(home.results_heading).to_contain_text("“鉴定”")
    expect(home.result_links.filter(has_text="劳动能力鉴定").first).to_be_visible()
    found = home.result_links.count()
    assert 0 < found < all_items, (found, all_items)
    expect(page).to_have_url(portal_url + "/")  # the home page does not push a URL
    assert page.evaluate("window.__sameDocument === true"), "the search reloaded the whole page"
    assert navigations == []
    expect(home.heading).to_have_text("工伤保险网上服务")
    expect(page.locator("#live-region")).to_have_text(re.compile(r"找到 \d+ 个与“鉴定”相关的事项"))

    home.search_box.fill("")
    home.search_box.press_sequentially("没有这个事项")
    expect(home.results).to_contain_text("没有找到与“没有这个事项”相关的办事事项")
    expect(home.result_links).to_have_count(0)
    assert page.evaluate("window.__sameDocument === true")

    errors = [m for m in console_messages if m.startswith("error")]
    assert errors == [], errors


def test_the_search_page_keeps_the_query_in_the_address_bar(page, portal_url):
    search = SearchPage(page, portal_url).open()
    page.evaluate("window.__sameDocument = true")
    search.search_box.press_sequentially("花名册")
    expect(page).to_have_url(re.compile(r"/services/search\?q=%E8%8A%B1%E5%90%8D%E5%86%8C$"))  # hx-push-url
    expect(search.results_heading).to_contain_text("“花名册”")
    assert page.evaluate("window.__sameDocument === true")

    page.reload()  # the pushed URL is a real page
    expect(search.search_box).to_have_value("花名册")
    expect(search.results_heading).to_contain_text("“花名册”")


def test_an_unknown_address_gets_the_chinese_404_page(page, portal_url):
    response = page.goto(portal_url + "/services/no-such-service")
    assert response.status == 404
    error = ErrorPage(page, portal_url)
    expect(error.heading).to_have_text("页面不存在")
    expect(error.status_code).to_have_text("404")
    error.main.get_by_role("link", name="返回首页").click()
    expect(page).to_have_url(portal_url + "/")


def test_switching_text_size_after_a_live_search_keeps_the_current_query(page, portal_url):
    search = SearchPage(page, portal_url).open_query("花名册")
    search.search_box.fill("")
    search.search_box.press_sequentially("认定")
    expect(page).to_have_url(re.compile(r"\?q=%E8%AE%A4%E5%AE%9A$"))
    search.switch_to_large_text()
    assert page.url.endswith("?q=%E8%AE%A4%E5%AE%9A"), page.url
    assert search.search_box.input_value() == "认定"
