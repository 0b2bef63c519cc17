"""Every page fits the screen, in both languages: no sideways scroll on a 390 px phone or a 1,280 px
desktop (wide tables scroll inside their own box), and the phone's folded menu opens to show the links.

The pages hold real content: uploads read by a real worker with the shipped model (a result with digits,
a history with items), the study committed under docs/results (the Experiments page's wide tables), the
shipped model's card. Set DIGITSCAN_SCREENSHOTS=<folder> to keep a full-page screenshot of each visit.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

import ml
from tests.web.helpers import png_bytes, uploaded
from web.uploads.models import Upload

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "samples" / "digits.png"
PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1280, "height": 800}
ANONYMOUS_PAGES = ["/", "/accounts/login/", "/accounts/signup/", "/no-such-page/", "/api/docs/"]


@pytest.fixture
def signed_in_site(live_server, start_worker, django_user_model):
    """A user with three uploads and a batch of two read by a real worker; their session cookie, first
    upload's id and the batch's.

    Asked for before ``browser``: Playwright's loop would make the database calls here refuse to run."""
    start_worker(DIGITSCAN_DEFAULT_CHECKPOINT=ml.DEFAULT_CHECKPOINT)
    user = django_user_model.objects.create_user("mei", password="a-long-password-5")
    client = Client()
    client.force_login(user)
    for data in (SAMPLE.read_bytes(), png_bytes(), SAMPLE.read_bytes()):
        assert client.post("/", {"image": uploaded(data), "source": "upload"}).status_code == 302
    long_name = "a-rather-long-file-name-from-a-phone.png"
    batch = client.post("/", {"image": [uploaded(SAMPLE.read_bytes(), long_name), uploaded(png_bytes())],
                              "source": "upload"})
    assert batch.status_code == 302 and batch["Location"].startswith("/b/")
    deadline = time.monotonic() + 120
    while Upload.objects.exclude(status="done").exists():
        assert time.monotonic() < deadline, list(Upload.objects.values_list("status", "error_message"))
        time.sleep(0.3)
    first = Upload.objects.filter(batch=None).exclude(digits=[]).order_by("queued_at").first()
    assert first is not None, "the shipped model read no digit in docs/samples/digits.png"
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    cookie = {"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}
    return cookie, first.id, batch["Location"].split("/")[2]


def overflow(page) -> int:
    """How many pixels the page is wider than the window (0: no sideways scroll)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def visit(page, url: str, shot: Path | None) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    if shot is not None:
        page.screenshot(path=str(shot), full_page=True)


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_every_page_fits_a_phone_and_a_desktop(live_server, signed_in_site, browser, locale):
    cookie, upload_id, batch_id = signed_in_site
    signed_in = ["/", f"/r/{upload_id}/", f"/b/{batch_id}/", "/history/", "/experiments/", "/model/",
                 "/accounts/token/"]
    shots = os.environ.get("DIGITSCAN_SCREENSHOTS")
    too_wide = []
    for viewport in (PHONE, DESKTOP):
        for pages, cookies in ((ANONYMOUS_PAGES, []), (signed_in, [cookie])):
            context = browser.new_context(locale=locale, viewport=viewport)
            context.add_cookies(cookies)
            page = context.new_page()
            for path in pages:
                who = "in" if cookies else "out"
                name = f"{locale}-{viewport['width']}-{who}{path.replace('/', '_')}.png"
                visit(page, live_server.url + path, Path(shots) / name if shots else None)
                if path != "/api/docs/":  # Swagger UI's page is its own, in English
                    assert page.evaluate("document.documentElement.lang") == (
                        "zh-hans" if locale == "zh-CN" else "en"), path
                if overflow(page) > 0:
                    too_wide.append((path, viewport["width"], overflow(page)))
            context.close()
    assert too_wide == [], "pages wider than the window (path, window, extra px)"


def test_the_result_page_on_a_phone_shows_whole_line_numbers(live_server, signed_in_site, browser):
    cookie, upload_id, _ = signed_in_site
    context = browser.new_context(locale="zh-CN", viewport=PHONE)
    context.add_cookies([cookie])
    page = context.new_page()
    page.goto(f"{live_server.url}/r/{upload_id}/")
    page.wait_for_selector('#status[data-status="done"]')
    # Each line's number ("1.") fits between the list's left edge, itself on screen, and its text.
    room, number, left = page.evaluate("""() => {
        const ol = document.getElementById('lines'), li = ol.querySelector('li');
        const text = document.createRange(); text.selectNodeContents(li);
        const ctx = document.createElement('canvas').getContext('2d');
        ctx.font = getComputedStyle(li).font;
        const widest = ol.children.length + '.';
        return [text.getBoundingClientRect().left - ol.getBoundingClientRect().left,
                ctx.measureText(widest).width, ol.getBoundingClientRect().left]; }""")
    assert left >= 0 and room >= number, (left, room, number)
    # The annotated image is no wider than the screen.
    width = page.evaluate("document.getElementById('annotated').getBoundingClientRect().right")
    assert width <= PHONE["width"]


@pytest.mark.parametrize("locale, history", [("zh-CN", "历史记录"), ("en-US", "History")])
def test_the_phone_menu_folds_the_links_and_opens_to_show_them(live_server, browser, locale, history):
    page = browser.new_context(locale=locale, viewport=PHONE).new_page()
    page.goto(live_server.url + "/experiments/")
    link = page.locator("#site-nav a[href='/history/']")
    assert not link.is_visible()
    assert page.locator("header .language button").is_visible()  # the language stays one tap away
    toggle = page.locator(".menu-toggle")
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert link.is_visible() and link.inner_text() == history
    if os.environ.get("DIGITSCAN_SCREENSHOTS"):
        page.screenshot(path=str(Path(os.environ["DIGITSCAN_SCREENSHOTS"]) / f"{locale}-390-menu-open.png"))
    assert page.locator("#site-nav a[href='/accounts/login/']").is_visible()
    assert overflow(page) == 0
    link.click()
    page.wait_for_url("**/history/")
    assert not page.locator("#site-nav a[href='/history/']").is_visible()  # folded again on the new page

    desktop = browser.new_context(locale=locale, viewport=DESKTOP).new_page()
    desktop.goto(live_server.url + "/experiments/")
    assert not desktop.locator(".menu-toggle").is_visible()
    assert desktop.locator("#site-nav a[href='/history/']").is_visible()
