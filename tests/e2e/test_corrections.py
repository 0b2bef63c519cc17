"""A person corrects a reading on its result page in a real browser (headless Chromium): a box relabelled
and one marked "not a digit" by clicking on the image, a missed digit boxed by dragging, with a mouse on a
desktop and with a finger on a 390 px phone; after sending, the page shows the corrected reading."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

# The rows are made before the browser starts, and read back through the API afterwards: Playwright's sync
# API runs an event loop in this thread, where Django refuses the ORM.



def signed_in(browser, live_server, session: str, **context):
    """A browser page with the session cookie ``session``."""
    ctx = browser.new_context(**context)
    ctx.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    return ctx.new_page()


def operations(page, live_server, upload) -> list[dict]:
    """The operations of the upload's latest correction, as the API answers them."""
    detail = page.request.get(f"{live_server.url}/api/v1/recognitions/{upload.id}/",
                              headers={"Accept": "application/json"}).json()
    return detail["corrected"]["operations"]


def on_image(page, box: list[int], width: int, height: int) -> tuple[float, float, float, float]:
    """``box`` (the original image's pixels) in the page's pixels, as drawn over the shown image."""
    shown = page.locator("#overlay").bounding_box()
    sx, sy = shown["width"] / width, shown["height"] / height
    return shown["x"] + box[0] * sx, shown["y"] + box[1] * sy, box[2] * sx, box[3] * sy


def test_a_person_relabels_a_box_rejects_one_and_boxes_a_missed_digit_with_the_mouse(
        live_server, misread, alices_session, browser):
    upload, _, boxes, _ = misread
    three = boxes[2]
    page = signed_in(browser, live_server, alices_session)
    page.goto(f"{live_server.url}/r/{upload.id}/")
    assert page.locator("#lines li").all_inner_texts() == ["17", "450"]
    assert page.locator("#overlay .box").count() == 5

    page.locator("#overlay .box").nth(1).click()  # the 2 read as a 7
    page.click('#picker .key[data-digit="2"]')
    page.locator("#overlay .box").nth(4).click()  # the squiggle read as a 0
    page.click("#pick-not-digit")
    assert page.input_value("#operations") == (
        '[{"op":"relabel","index":1,"digit":2},{"op":"not_a_digit","index":4}]')
    assert page.inner_text("#preview") == "12 45"

    page.click("#add-digit")  # the 3 it missed: drag a rectangle round it
    x, y, w, h = on_image(page, three, upload.width, upload.height)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + w / 2, y + h / 2, steps=4)
    page.mouse.move(x + w, y + h, steps=4)
    page.mouse.up()
    assert page.is_disabled("#send-operations")  # its digit not picked yet
    page.keyboard.press("3")  # its digit from the keyboard
    assert page.inner_text("#preview") == "123 45"
    with page.expect_navigation():  # the form posts, the server answers with the result page again
        page.click("#send-operations")

    assert "your correction is saved" in page.inner_text(".messages")
    page.reload()
    assert page.locator("#lines li").all_inner_texts() == ["123", "45"]
    assert page.input_value("#feedback-text") == "123 45"
    assert page.locator("#overlay .box.rejected").count() == 1
    assert page.locator("#overlay .box.added").count() == 1
    ops = operations(page, live_server, upload)
    added = ops[2]["box"]
    assert ops[:2] == [{"op": "relabel", "index": 1, "digit": 2, "read": 7},
                       {"op": "not_a_digit", "index": 4, "read": 0}]
    assert ops[2]["digit"] == 3 and ops[2]["line"] == 0
    assert all(abs(a - b) <= 3 for a, b in zip(added, three)), (added, three)


def test_on_a_phone_a_finger_corrects_a_box_and_marks_where_a_typed_digit_is(
        live_server, misread, alices_session, browser):
    upload, _, boxes, _ = misread
    three = boxes[2]
    page = signed_in(browser, live_server, alices_session, viewport={"width": 390, "height": 844},
                     has_touch=True, is_mobile=True, device_scale_factor=2)
    page.goto(f"{live_server.url}/r/{upload.id}/")
    # Typed text first: "123 45" against "17 450": the 7 becomes a 2, the 0 is no digit, the 3 has no box.
    page.tap("details.typed summary")
    page.fill("#feedback-text", "123 45")
    with page.expect_navigation():
        page.tap("#text-form button[type=submit]")
    assert "Mark where each added digit is" in page.inner_text(".messages")
    assert page.locator("#lines li").all_inner_texts() == ["123", "45"]
    assert page.locator("#unplaced-list li").count() == 1

    page.tap("#unplaced-list button")
    x, y, w, h = on_image(page, three, upload.width, upload.height)
    touch = page.context.new_cdp_session(page)
    drag = [("touchStart", x, y), ("touchMove", x + w / 2, y + h / 2), ("touchMove", x + w, y + h),
            ("touchEnd", None, None)]
    for kind, px, py in drag:
        points = [] if px is None else [{"x": px, "y": py}]
        touch.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})
    assert page.locator("#unplaced").is_hidden() and page.locator("#overlay .box.added").count() == 1
    page.tap("#pick-close")
    page.locator("#overlay .box").nth(0).tap()  # and the 1: confirmed
    page.tap('#picker .key[data-digit="1"]')
    with page.expect_navigation():
        page.tap("#send-operations")
    page.reload()
    assert page.locator("#lines li").all_inner_texts() == ["123", "45"]
    latest = operations(page, live_server, upload)
    assert {"op": "relabel", "index": 0, "digit": 1, "read": 1} in latest
    boxed = next(op for op in latest if op["op"] == "add")
    assert boxed["digit"] == 3 and boxed["box"] is not None
    assert all(abs(a - b) <= 3 for a, b in zip(boxed["box"], three)), (boxed["box"], three)
    # the editor fits the phone: its keys and the image inside the screen's width, nothing scrolls sideways
    assert page.evaluate("document.getElementById('picker').getBoundingClientRect().right") <= 390
    assert page.evaluate("document.getElementById('overlay').getBoundingClientRect().right") <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
