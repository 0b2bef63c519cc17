"""What a person sees, in headless Chromium: on a phone, the Experiments table's figures scroll into view
beside their method's name (a shadow says there is more); staff at 1,280 px read the corrections' list
without a squeezed column, and see a correction's boxes drawn where they are on its image.

Set DIGITSCAN_SCREENSHOTS=<folder> to keep a screenshot of each.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests.web.helpers import png_bytes, uploaded
from web.uploads.owners import Owner
from web.uploads.services import feedback_create, upload_create, upload_finish, upload_start

pytestmark = [pytest.mark.django_db(transaction=True)]

PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1280, "height": 800}


def shot(page, name: str) -> None:
    folder = os.environ.get("DIGITSCAN_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / name), full_page=True)


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_on_a_phone_the_comparisons_figures_scroll_into_view_beside_the_methods_name(live_server, browser,
                                                                                     locale):
    page = browser.new_context(locale=locale, viewport=PHONE, has_touch=True).new_page()
    page.goto(live_server.url + "/experiments/")
    box = page.locator("#benchmark .table-scroll")
    # Wider than the screen, so it scrolls inside its box; the box draws a shadow at its edge to say so.
    assert box.evaluate("b => b.scrollWidth > b.clientWidth + 50")
    assert "radial-gradient" in box.evaluate("b => getComputedStyle(b).backgroundImage")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") == 0
    row = box.locator("tbody tr").last  # the CNN
    cells = row.locator("td")
    name = cells.nth(0)
    assert name.inner_text().strip() in ("卷积神经网络", "Convolutional network")
    for column in (4, 5, 6):  # our accuracy, the thesis', the difference: each scrolled into view in turn
        cells.nth(column).evaluate("c => c.scrollIntoView({inline: 'end', block: 'nearest'})")
        page.wait_for_timeout(100)
        figure, label = cells.nth(column).bounding_box(), name.bounding_box()
        assert box.evaluate("b => b.scrollLeft") > 0
        # On screen, right of the method's name, which stays at the left edge of the box.
        assert figure["x"] + figure["width"] <= PHONE["width"] + 1, (column, figure)
        assert label["x"] >= 0 and label["width"] > 40 and label["x"] + label["width"] <= figure["x"] + 1
    # The thesis' row: its words wrap in the sticky column instead of being cut off.
    thesis = page.locator("#thesis-times td").first
    assert thesis.evaluate("c => c.scrollWidth <= c.clientWidth + 1 && c.getBoundingClientRect().x >= 0")
    assert "4800H" in thesis.inner_text()
    shot(page, f"experiments-phone-scrolled-{locale}.png")


@pytest.fixture
def staff_with_a_correction(live_server, django_user_model):
    """A read upload of the 240×220 test picture with two corrections, and a staff session cookie.

    Asked for before ``browser``: Playwright's loop would make the database calls here refuse to run."""
    upload = upload_create(owner=Owner(session_key="visitor-token-123456"), image_file=uploaded(png_bytes()),
                           source="upload")
    upload_start(upload_id=upload.id)
    digits = [{"digit": d, "confidence": 0.9, "box": box, "line": 0, "uncertain": False}
              for d, box in ((4, [10, 20, 30, 40]), (7, [120, 110, 60, 80]))]
    upload = upload_finish(upload_id=upload.id, reading={"text": "47", "lines": ["47"], "digits": digits},
                           timings={}, annotated_png=png_bytes(), model_version=None)
    owner = Owner(session_key="visitor-token-123456")
    feedback_create(upload=upload, owner=owner, text="41")
    latest = feedback_create(upload=upload, owner=owner, operations=[
        {"op": "relabel", "index": 0, "digit": 1}, {"op": "not_a_digit", "index": 1}],
        comment="the 7 is a smudge")
    staff = Client()
    staff.force_login(django_user_model.objects.create_superuser("staff", password="x-long-password-9"))
    session = staff.cookies[settings.SESSION_COOKIE_NAME].value
    cookie = {"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}
    return cookie, latest.id


def test_staff_read_the_corrections_list_at_1280_px_and_see_the_boxes_on_the_image(
        live_server, staff_with_a_correction, browser):
    cookie, feedback_id = staff_with_a_correction
    context = browser.new_context(locale="zh-CN", viewport=DESKTOP)
    context.add_cookies([cookie])
    page = context.new_page()
    page.goto(live_server.url + "/admin/uploads/feedback/")
    shot(page, "feedback-list-desk-zh.png")
    # Every column in view (none scrolled off to the right) and none squeezed to a letter or two.
    results = page.locator("#changelist .results")
    assert results.evaluate("r => r.scrollWidth - r.clientWidth") <= 1
    widths = page.locator("#result_list thead th").evaluate_all(
        "ths => ths.map(th => [th.innerText.trim(), th.getBoundingClientRect().width,"
        "                      th.scrollWidth > th.clientWidth + 1])")
    narrow = [(label, width) for label, width, clipped in widths if label and (width < 48 or clipped)]
    assert narrow == [], widths
    # Every cell's words wrap at word or character boundaries, never one letter to a line.
    cells = page.locator("#result_list tbody td:not(.action-checkbox)").evaluate_all(
        "tds => tds.map(td => td.clientWidth)")
    assert min(cells) >= 40, cells
    assert page.locator("#result_list .ds-current").count() == 1  # the upload's current correction
    assert page.locator("#result_list .ds-older").count() == 1

    page.goto(live_server.url + f"/admin/uploads/feedback/{feedback_id}/change/")
    shot(page, "feedback-change-desk-zh.png")
    image = page.locator(".ds-frame img").bounding_box()
    boxes = page.locator(".ds-frame .ds-box")
    assert boxes.count() == 2
    relabel = page.locator(".ds-box.relabel").bounding_box()
    # Box 1 is [10, 20, 30, 40] on a 240×220 image: drawn at the same place on the image as shown.
    scale = image["width"] / 240
    assert abs(relabel["x"] - image["x"] - 10 * scale) < 2 and abs(relabel["y"] - image["y"] - 20 * scale) < 2
    assert abs(relabel["width"] - 30 * scale) < 2 and abs(relabel["height"] - 40 * scale) < 2
    assert page.locator(".ds-box.relabel b").inner_text() == "4→1"
    assert page.locator(".ds-box.reject b").inner_text() == "7→×"
    assert page.locator(".ds-changes .ds-crop").count() == 2
