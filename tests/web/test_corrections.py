"""Corrections that count: digit by digit (relabel, not a digit, a missed digit boxed), or typed text aligned
to the boxes by edit distance; checked with clear errors; the corrected reading shown everywhere."""

from __future__ import annotations

import pytest

from tests.web.helpers import csv_records, png_bytes, uploaded
from web.uploads.alignment import operations_from_text
from web.uploads.corrections import corrected_reading
from web.uploads.models import Feedback
from web.uploads.services import upload_finish, upload_start

API = "/api/v1/recognitions/"


def reading(lines: list[str], *, unsure: tuple[int, ...] = (), separators: list | None = None) -> dict:
    """A reading of ``lines``, each digit a 10×20 box 12 px apart, 30 px a line; ``unsure``: the indices
    read as uncertain (confidence 0.4, the rest 0.99)."""
    digits, k = [], 0
    for n, line in enumerate(lines):
        for i, char in enumerate(line):
            digits.append({"digit": int(char), "confidence": 0.4 if k in unsure else 0.99,
                           "box": [5 + 12 * i, 5 + 30 * n, 10, 20], "line": n, "uncertain": k in unsure,
                           "alternatives": []})
            k += 1
    return {"text": " ".join(lines), "lines": lines, "digits": digits, "separators": separators or [],
            "display": lines}


def aligned(typed: str, lines: list[str], *, unsure: tuple[int, ...] = (), current: list | None = None):
    read = reading(lines, unsure=unsure)
    ops = operations_from_text(typed, digits=read["digits"], separators=[], current=current or [])
    return ops, corrected_reading(read["digits"], [], ops)


# Edit-distance alignment -----------------------------------------------------------------------------

def test_a_phantom_digit_typed_away_marks_its_box_not_a_digit():
    ops, fixed = aligned("1723", ["17723"])
    assert [op["op"] for op in ops] == ["not_a_digit"] and ops[0]["index"] in (1, 2)
    assert fixed.text == "1723"


def test_the_least_sure_of_two_equal_boxes_is_the_phantom():
    ops, _ = aligned("17", ["177"], unsure=(2,))
    assert ops == [{"op": "not_a_digit", "index": 2, "read": 7}]


def test_a_missed_digit_is_added_without_a_box_at_its_place():
    ops, fixed = aligned("1234", ["134"])
    assert ops == [{"op": "add", "digit": 2, "box": None, "line": 0, "position": 1}]
    assert fixed.text == "1234" and [item.box for item in fixed.lines[0]][1] is None


def test_a_swapped_pair_is_two_relabels_not_a_deletion_and_a_missed_digit():
    ops, fixed = aligned("2135", ["1235"])
    assert ops == [{"op": "relabel", "index": 0, "digit": 2, "read": 1},
                   {"op": "relabel", "index": 1, "digit": 1, "read": 2}]
    assert fixed.text == "2135"


def test_lines_are_aligned_one_to_one_when_their_counts_agree():
    # Line by line, the extra 5 of line 2 cannot be taken for line 1's, as one sequence could.
    ops, fixed = aligned("12 3455", ["125", "345"])
    assert {"op": "not_a_digit", "index": 2, "read": 5} in ops
    assert [(op["digit"], op["line"]) for op in ops if op["op"] == "add"] == [(5, 1)]
    assert fixed.line_texts == ["12", "3455"]


def test_a_typed_line_the_reading_missed_becomes_a_new_line():
    ops, fixed = aligned("12 34 56", ["12", "34"])
    assert [(op["digit"], op["line"], op["position"]) for op in ops] == [(5, 2, 0), (6, 2, 1)]
    assert fixed.line_texts == ["12", "34", "56"]


def test_a_question_mark_left_keeps_the_doubt_and_one_deleted_confirms_the_digit():
    kept, fixed = aligned("15?00", ["1500"], unsure=(1,))
    assert kept == [] and fixed.marked == ["15?00"]
    confirmed, fixed = aligned("1500", ["1500"], unsure=(1,))
    assert confirmed == [{"op": "relabel", "index": 1, "digit": 5, "read": 5}] and fixed.marked == ["1500"]


def test_typed_text_is_aligned_to_the_reading_as_the_last_correction_left_it():
    boxed = [{"op": "add", "digit": 9, "box": [60, 5, 10, 20], "line": 0, "position": None},
             {"op": "not_a_digit", "index": 0, "read": 1}]
    ops, fixed = aligned("2349", ["1234"], current=boxed)
    # the 1 stays out, the boxed 9 stays boxed, the 4 the person changed is relabelled
    assert {"op": "not_a_digit", "index": 0, "read": 1} in ops
    assert {"op": "add", "digit": 9, "box": [60, 5, 10, 20], "line": 0, "position": None} in ops
    assert fixed.text == "2349"


def test_typed_text_keeps_the_boxes_added_before_and_can_put_back_a_box_taken_out():
    before = [{"op": "add", "digit": 9, "box": [60, 5, 10, 20], "line": 0, "position": None},
              {"op": "not_a_digit", "index": 0, "read": 1}]
    # Another digit changed: the 1 stays out, the added 9 keeps its box, the 4 is relabelled 5.
    ops, fixed = aligned("2359", ["1234"], current=before)
    assert sorted(map(str, ops)) == sorted(map(str, [before[1], before[0],
                                                     {"op": "relabel", "index": 3, "digit": 5, "read": 4}]))
    assert fixed.text == "2359"
    # The 1 typed back: box 0 is put back as read (not a boxless missed 1), the 9 keeps its box.
    ops, fixed = aligned("12349", ["1234"], current=before)
    assert ops == [before[0]] and fixed.text == "12349" and fixed.lines[0][0].box == [5, 5, 10, 20]
    # Put back as another digit: still that box, relabelled.
    ops, _ = aligned("72349", ["1234"], current=before)
    assert {"op": "relabel", "index": 0, "digit": 7, "read": 1} in ops and len(ops) == 2


def test_the_models_own_reading_typed_again_means_as_read_whatever_came_before():
    before = [{"op": "not_a_digit", "index": 3, "read": 3},
              {"op": "relabel", "index": 0, "digit": 7, "read": 1},
              {"op": "add", "digit": 5, "box": [60, 5, 10, 20], "line": 0, "position": None}]
    ops, fixed = aligned("123?4 56", ["1234", "56"], unsure=(2,), current=before)
    assert ops == [] and fixed.text == "1234 56"
    # Without its ? marks it confirms the uncertain digit, and still puts every box back as read.
    ops, _ = aligned("1234 56", ["1234", "56"], unsure=(2,), current=before)
    assert ops == [{"op": "relabel", "index": 2, "digit": 3, "read": 3}]


def test_a_boxed_digit_joins_the_line_it_sits_in_or_starts_a_new_one():
    from web.uploads.corrections import checked_operations

    digits = reading(["12", "34"])["digits"]  # lines at y 5–25 and 35–55
    ops = checked_operations([{"op": "add", "digit": 5, "box": [40, 36, 10, 18]},
                              {"op": "add", "digit": 6, "box": [5, 80, 10, 20]},
                              {"op": "add", "digit": 7, "box": [20, 82, 10, 20]}], digits=digits, width=0,
                             height=0)
    assert [op["line"] for op in ops] == [1, 2, 2]  # the second line; then one new line for both
    assert corrected_reading(digits, [], ops).line_texts == ["12", "345", "67"]


def test_separators_stay_in_place_around_the_corrected_digits():
    read = reading(["150000"], separators=[{"char": ".", "box": [15, 20, 2, 3], "line": 0},
                                           {"char": ",", "box": [51, 20, 2, 3], "line": 0}])
    ops = [{"op": "relabel", "index": 1, "digit": 6, "read": 5}]
    assert corrected_reading(read["digits"], read["separators"], ops).display == ["1.600,00"]


# Through the site -------------------------------------------------------------------------------------

@pytest.fixture
def read_upload(alice_client, png):
    def make(lines: list[str], **kwargs) -> str:
        upload_id = alice_client.post(API, {"image": uploaded(png)}).json()["id"]
        upload_start(upload_id=upload_id)
        upload_finish(upload_id=upload_id, reading=reading(lines, **kwargs), timings={}, annotated_png=png,
                      model_version=None)
        return upload_id
    return make


def correct(client, upload_id: str, body: dict):
    return client.post(f"{API}{upload_id}/feedback/", body, content_type="application/json")


@pytest.mark.django_db
def test_a_correction_digit_by_digit_is_stored_and_shown_as_the_reading(alice_client, read_upload):
    upload_id = read_upload(["1723", "45"], unsure=(4,))
    response = correct(alice_client, upload_id, {"operations": [
        {"op": "relabel", "index": 0, "digit": 7}, {"op": "not_a_digit", "index": 1},
        {"op": "add", "digit": 8, "box": [60, 6, 10, 19]}]})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["text"] == "7238 45" and body["training"] == {"digits": 2, "not_a_digit": 1, "without_box": 0}
    assert "2 labelled digits" in body["message"] and "1 not-a-digit box" in body["message"]
    stored = Feedback.objects.get().operations
    assert stored[2] == {"op": "add", "digit": 8, "box": [60, 6, 10, 19], "line": 0, "position": None}

    detail = alice_client.get(f"{API}{upload_id}/").json()
    assert detail["text"] == "1723 45" and detail["marked"] == ["1723", "4?5"]  # what the model read
    assert detail["corrected"]["text"] == "7238 45" and detail["corrected"]["marked"] == ["7238", "4?5"]
    assert detail["corrected"]["not_a_digit"] == [1]
    page = alice_client.get(f"/r/{upload_id}/").content.decode()
    assert ">7238</li>" in page and ">4?5</li>" in page and "Corrected by you" in page
    assert 'value="7238 4?5"' in page
    assert "7238 4?5" in alice_client.get("/history/").content.decode()
    exported = csv_records(alice_client.get("/history/export.csv"))
    assert exported[0]["text"] == "1723 45" and exported[0]["corrected"] == "7238 4?5"


@pytest.mark.django_db
def test_typing_back_the_models_reading_through_the_api_restores_it_as_read(alice_client, read_upload):
    """The tester's case: a box marked not a digit and a boxless digit added, then the model's own reading
    posted as text: back to the reading as the model made it, which no page calls corrected and which
    teaches the next model nothing."""
    upload_id = read_upload(["75013", "20261125", "4096"])
    first = correct(alice_client, upload_id, {"operations": [
        {"op": "not_a_digit", "index": 4}, {"op": "add", "digit": 3, "line": 0, "position": 4}]})
    assert first.status_code == 201
    response = correct(alice_client, upload_id, {"text": "75013 20261125 4096"})
    assert response.status_code == 201, response.json()
    assert response.json()["corrected"] is None and Feedback.objects.latest("created").operations == []
    detail = alice_client.get(f"{API}{upload_id}/").json()
    assert detail["corrected"] is None
    page = alice_client.get(f"/r/{upload_id}/").content.decode()
    assert "Corrected by you" not in page or 'id="corrected-note" class="note" hidden' in page
    assert ">75013</li>" in page and "back to the reading as read" in page  # in its owner's list
    assert csv_records(alice_client.get("/history/export.csv"))[0]["corrected"] == ""
    assert "corrected by you" not in alice_client.get("/history/").content.decode()
    # As read is where it stands now: sending it again changes nothing.
    again = correct(alice_client, upload_id, {"text": "75013 20261125 4096"})
    assert again.json()["error"]["code"] == "no_change"


@pytest.mark.django_db
def test_the_page_sends_the_editors_operations_and_says_what_will_not_count(alice_client, read_upload):
    upload_id = read_upload(["123"])
    sent = '[{"op": "not_a_digit", "index": 2}, {"op": "add", "digit": 5, "line": 0}]'
    page = alice_client.post(f"/r/{upload_id}/feedback/", {"operations": sent}, follow=True)
    html = page.content.decode()
    assert "your correction is saved" in html and "1 not-a-digit box" in html
    assert "1 added digit has no box and does not count" in html and "Mark where each added digit is" in html
    assert ">125</li>" in html


@pytest.mark.django_db
def test_a_typed_correction_of_another_length_still_counts_digit_by_digit(alice_client, read_upload):
    upload_id = read_upload(["17723"])
    body = correct(alice_client, upload_id, {"text": "1723"}).json()
    assert body["training"] == {"digits": 0, "not_a_digit": 1, "without_box": 0}
    assert body["corrected"]["text"] == "1723"


@pytest.mark.django_db
@pytest.mark.parametrize("operations, words", [
    ({"op": "relabel"}, "operations must be a list"),
    ([{"op": "swap", "index": 0}], "operations[0]: op must be one of relabel, not_a_digit, add"),
    ([{"op": "relabel", "index": 3, "digit": 1}], "operations[0]: index 3 is not a box of this reading"),
    ([{"op": "relabel", "index": 0, "digit": 10}], "digit must be 0–9"),
    ([{"op": "relabel", "index": 0, "digit": "7"}], "digit must be a whole number"),
    ([{"op": "not_a_digit", "index": 0}, {"op": "relabel", "index": 0, "digit": 2}],
     "operations[1]: box 0 is already corrected by operations[0]"),
    ([{"op": "not_a_digit", "index": 0, "digit": 4}], "not_a_digit takes no digit"),
    ([{"op": "add", "digit": 4, "box": [230, 5, 20, 20]}], "goes outside the image (240×220 pixels)"),
    ([{"op": "add", "digit": 4, "box": [-1, 5, 20, 20]}], "goes outside the image"),
    ([{"op": "add", "digit": 4, "box": [10, 10, 2, 20]}], "too small to hold a digit"),
    ([{"op": "add", "digit": 4, "box": [10, 10, 20]}], "box must be [x, y, width, height]"),
    ([{"op": "add", "digit": 4}], "a digit added without a box needs its line"),
    ([{"op": "add", "digit": 4, "line": 500}], "line 500 does not exist"),
    ([{"op": "add", "digit": 4, "box": [10, 10, 20, 20], "position": 1}], "position is only for a digit"),
])
def test_bad_operations_are_a_400_that_says_which_and_why(alice_client, read_upload, operations, words):
    upload_id = read_upload(["123"])
    response = correct(alice_client, upload_id, {"operations": operations})
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_correction"
    assert words in response.json()["error"]["message"]
    assert Feedback.objects.count() == 0


@pytest.mark.django_db
def test_text_and_operations_together_or_a_correction_that_changes_nothing_are_refused(alice_client,
                                                                                       read_upload):
    upload_id = read_upload(["123"])
    both = correct(alice_client, upload_id, {"text": "12", "operations": []})
    assert both.status_code == 400 and both.json()["error"]["code"] == "invalid"
    same = correct(alice_client, upload_id, {"text": "123"})
    assert same.status_code == 400 and same.json()["error"]["code"] == "no_change"
    assert correct(alice_client, upload_id, {"operations": []}).json()["error"]["code"] == "no_change"
    assert Feedback.objects.count() == 0


@pytest.mark.django_db
def test_the_schema_documents_the_corrected_reading_and_both_forms_of_feedback(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    parts = schema["components"]["schemas"]
    assert "corrected" in parts["Recognition"]["properties"]
    assert {"text", "operations", "comment"} <= set(parts["CorrectionRequest"]["properties"])
    operation = set(parts["CorrectionOperationRequest"]["properties"])
    assert {"op", "index", "digit", "box", "line", "position"} <= operation


def test_a_png_fixture_is_240_by_220():
    # The box bounds above are checked against this image's size.
    import cv2
    import numpy as np

    image = cv2.imdecode(np.frombuffer(png_bytes(), np.uint8), cv2.IMREAD_COLOR)
    assert image.shape[:2] == (220, 240)


@pytest.mark.django_db
def test_one_box_of_a_long_reading_is_corrected_whatever_the_readings_length(alice_client, read_upload):
    upload_id = read_upload(["1234567890" * 60, "7" * 500])
    last = {"op": "relabel", "index": 1099, "digit": 1}
    response = correct(alice_client, upload_id, {"operations": [last]})
    assert response.status_code == 201 and response.json()["text"].endswith("7771")
    assert len(Feedback.objects.get().text) == 1101


@pytest.mark.django_db
def test_once_corrected_every_page_and_export_shows_the_same_corrected_reading(alice_client):
    """A student number over a dotted line read as "1,23.53" (separators that were dots of the form, and a
    3 that is an 8), corrected by typing 12358: the result page, the batch page, the History, the exports
    and the API all say 12358 (the model's reading stays in the result page's note); before, the History
    said 12353 while the result page said 1,23.53."""
    sent = alice_client.post("/api/v1/batches/", {"image": [uploaded(png_bytes(), name="id-card.png"),
                                                            uploaded(png_bytes(), name="other.png")]}).json()
    upload_id = sent["items"][0]["id"]
    read = reading(["12353"], separators=[{"char": ",", "box": [15, 20, 2, 3], "line": 0},
                                          {"char": ".", "box": [39, 20, 2, 3], "line": 0}])
    read["display"] = ["1,23.53"]
    upload_start(upload_id=upload_id)
    upload_finish(upload_id=upload_id, reading=read, timings={}, annotated_png=png_bytes(),
                  model_version=None)
    # Its digits sent back as they are: nothing to correct, and the message says what the marks are.
    same = correct(alice_client, upload_id, {"text": "12353"}).json()["error"]
    assert same["code"] == "no_change" and "marks DigitScan saw on the page, never digits" in same["message"]
    # Before any correction, every page shows the reading as written.
    assert ">1,23.53</li>" in alice_client.get(f"/r/{upload_id}/").content.decode()
    assert '<span class="text">1,23.53</span>' in alice_client.get("/history/").content.decode()
    assert '<span class="text">1,23.53</span>' in alice_client.get(f"/b/{sent['id']}/").content.decode()

    assert correct(alice_client, upload_id, {"text": "12358"}).status_code == 201
    page = alice_client.get(f"/r/{upload_id}/").content.decode()
    assert ">12358</li>" in page and "1,23.58</li>" not in page and 'value="12358"' in page
    assert '<span class="text">12358</span>' in alice_client.get(f"/b/{sent['id']}/").content.decode()
    assert '<span class="text">12358</span>' in alice_client.get("/history/").content.decode()
    rows = csv_records(alice_client.get("/history/export.csv"))
    assert [r["corrected"] for r in rows if r["id"] == upload_id] == ["12358"]
    assert alice_client.get(f"{API}{upload_id}/").json()["corrected"]["text"] == "12358"
