"""The site's language in a real browser (headless Chromium): a zh-CN browser reads Chinese, an en-US one
English, and the header's switch changes it and is remembered on the next page and after a reload."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def lang(page) -> str:
    return page.evaluate("document.documentElement.lang")


def test_a_chinese_browser_reads_chinese_and_an_english_one_english(live_server, browser):
    chinese = browser.new_context(locale="zh-CN").new_page()
    chinese.goto(live_server.url + "/history/")
    assert lang(chinese) == "zh-hans"
    assert chinese.inner_text("h1") == "我的上传"
    assert chinese.locator("#site-nav").inner_text().split()[:4] == ["识别数字", "历史记录", "实验", "模型"]
    chinese.goto(live_server.url + "/experiments/")
    assert chinese.inner_text("#benchmark h2") == "六类分类器在 MNIST 上的对比"
    assert chinese.title() == "实验 · DigitScan"

    english = browser.new_context(locale="en-US").new_page()
    english.goto(live_server.url + "/history/")
    assert lang(english) == "en" and english.inner_text("h1") == "Your uploads"
    english.goto(live_server.url + "/experiments/")
    assert english.inner_text("#benchmark h2") == "Six classifier families on MNIST"


def test_the_switch_changes_the_language_and_it_is_remembered(live_server, browser):
    page = browser.new_context(locale="en-US").new_page()
    page.goto(live_server.url + "/model/")
    assert lang(page) == "en" and page.inner_text("h1") == "The model"

    with page.expect_navigation():
        page.click("header .language button[value=zh-hans]")
    assert page.url == live_server.url + "/model/"  # back on the same page, now in Chinese
    assert lang(page) == "zh-hans" and page.inner_text("h1") == "模型"

    page.click("#site-nav a[href='/experiments/']")  # the next page
    page.wait_for_url("**/experiments/")
    assert lang(page) == "zh-hans" and page.inner_text("h1") == "实验"
    page.reload()
    assert lang(page) == "zh-hans"

    with page.expect_navigation():
        page.click("header .language button[value=en]")
    assert lang(page) == "en" and page.inner_text("h1") == "Experiments"
    page.goto(live_server.url + "/accounts/login/")
    assert lang(page) == "en" and page.inner_text("h1") == "Log in"


def test_a_chinese_browser_that_chose_english_keeps_it(live_server, browser):
    page = browser.new_context(locale="zh-CN").new_page()
    page.goto(live_server.url + "/accounts/login/")
    assert page.inner_text("h1") == "登录"
    assert page.inner_text("header .language button") == "English"
    with page.expect_navigation():
        page.click("header .language button[value=en]")
    page.goto(live_server.url + "/accounts/signup/")
    assert lang(page) == "en" and page.inner_text("h1") == "Sign up"
