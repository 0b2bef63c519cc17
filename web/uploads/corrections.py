"""A correction of a reading, digit by digit: the operations a person (or an API client) sends, their checks,
and the corrected reading they make.

Operations refer to the digits *as the model read them* (their index in ``Upload.digits``), so that each
correction is complete by itself: the latest one of an upload is its corrected reading, and each becomes
training data once staff accept it.

- ``{"op": "relabel", "index": 3, "digit": 7}``: box 3 holds a 7 (the digit read again: confirmed).
- ``{"op": "not_a_digit", "index": 4}``: box 4 holds no digit (a stroke, a letter, a smudge).
- ``{"op": "add", "digit": 5, "box": [x, y, w, h]}``: a digit the reading missed, boxed in the original
  image's pixels; its ``line`` (one of the reading's, or a new one after them) is found from the box
  unless given.
- ``{"op": "add", "digit": 5, "line": 1, "position": 2}``: a missed digit whose place in the image is not
  known (typed text): it corrects the text, but cannot be cut out for training until it is boxed.

>>> digits = [{"digit": 1, "box": [0, 0, 10, 20], "line": 0, "uncertain": False},
...           {"digit": 7, "box": [12, 0, 10, 20], "line": 0, "uncertain": True},
...           {"digit": 3, "box": [24, 0, 10, 20], "line": 0, "uncertain": False}]
>>> sent = [{"op": "not_a_digit", "index": 1}, {"op": "add", "digit": 4, "box": [40, 2, 9, 18]}]
>>> ops = checked_operations(sent, digits=digits, width=60, height=30)
>>> fixed = corrected_reading(digits, [], ops)
>>> fixed.text, fixed.rejected, ops[1]["line"]
('134', [1], 0)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from web.errors import ApplicationError

RELABEL, NOT_A_DIGIT, ADD = "relabel", "not_a_digit", "add"
KINDS = (RELABEL, NOT_A_DIGIT, ADD)
FIELDS = {RELABEL: {"op", "index", "digit"}, NOT_A_DIGIT: {"op", "index"},
          ADD: {"op", "digit", "box", "line", "position"}}
MIN_SIDE = 3  # pixels: a smaller box cannot hold a digit anyone could read
MAX_OPERATIONS = 3000  # the most digits a reading holds (2,000) and then some
MAX_NEW_LINES = 100


def _bad(where: str, message: str) -> ApplicationError:
    return ApplicationError("bad_correction", f"{where}: {message}" if where else message)


def line_count(digits: list[dict]) -> int:
    return max((d.get("line", 0) for d in digits), default=-1) + 1


def checked_operations(raw, *, digits: list[dict], width: int, height: int) -> list[dict]:
    """``raw`` (parsed JSON) as clean operations on ``digits`` in an image of ``width`` × ``height``
    pixels; :class:`ApplicationError` ``bad_correction`` naming the operation and what is wrong."""
    if not isinstance(raw, list) or not all(isinstance(op, dict) for op in raw):
        raise _bad("", _("operations must be a list of objects such as {\"op\": \"relabel\", \"index\": 0, "
                         "\"digit\": 7}"))
    if len(raw) > MAX_OPERATIONS:
        raise _bad("", _("a correction holds at most %(n)d operations") % {"n": MAX_OPERATIONS})
    clean, seen = [], {}
    lines = line_count(digits)
    for k, op in enumerate(raw):
        where = f"operations[{k}]"
        kind = op.get("op")
        if kind not in KINDS:
            raise _bad(where, _("op must be one of %(kinds)s, not %(op)r") % {"kinds": ", ".join(KINDS),
                                                                               "op": kind})
        unknown = sorted(set(op) - FIELDS[kind])
        if unknown:
            raise _bad(where, _("%(op)s takes no %(fields)s") % {"op": kind, "fields": ", ".join(unknown)})
        if kind == ADD:
            clean.append(_checked_add(op, where, width=width, height=height, lines=lines))
            continue
        index = _integer(op, "index", where)
        if not 0 <= index < len(digits):
            raise _bad(where, _("index %(i)d is not a box of this reading (it has %(n)d digits, numbered "
                                "from 0)") % {"i": index, "n": len(digits)})
        if index in seen:
            raise _bad(where, _("box %(i)d is already corrected by operations[%(k)d]")
                       % {"i": index, "k": seen[index]})
        seen[index] = k
        item = {"op": kind, "index": index, "read": int(digits[index]["digit"])}
        if kind == RELABEL:
            item["digit"] = _digit(op, where)
        clean.append(item)
    _place_new_boxes(clean, digits)
    return clean


def _integer(op: dict, name: str, where: str) -> int:
    value = op.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(where, _("%(name)s must be a whole number, not %(value)r")
                   % {"name": name, "value": value})
    return value


def _digit(op: dict, where: str) -> int:
    value = _integer(op, "digit", where)
    if not 0 <= value <= 9:
        raise _bad(where, _("digit must be 0–9, not %(value)d") % {"value": value})
    return value


def _checked_add(op: dict, where: str, *, width: int, height: int, lines: int) -> dict:
    item = {"op": ADD, "digit": _digit(op, where), "box": None, "line": None, "position": None}
    if op.get("box") is not None:
        item["box"] = _box(op["box"], where, width=width, height=height)
        if op.get("position") is not None:
            raise _bad(where, _("position is only for a digit without a box (a box places it by itself)"))
    elif op.get("line") is None:
        raise _bad(where, _("a digit added without a box needs its line (and may give its position)"))
    if op.get("line") is not None:
        item["line"] = _integer(op, "line", where)
        if not 0 <= item["line"] < lines + MAX_NEW_LINES:
            raise _bad(where, _("line %(line)d does not exist: the reading has %(n)d lines (numbered from "
                                "0), and a new line is numbered %(n)d or after")
                       % {"line": item["line"], "n": lines})
    if op.get("position") is not None:
        item["position"] = _integer(op, "position", where)
        if item["position"] < 0:
            raise _bad(where, _("position must be 0 or more"))
    return item


def _box(box, where: str, *, width: int, height: int) -> list[int]:
    if (not isinstance(box, list) or len(box) != 4
            or any(isinstance(v, bool) or not isinstance(v, int) for v in box)):
        raise _bad(where, _("box must be [x, y, width, height] in whole pixels of the original image, "
                            "not %(box)r") % {"box": box})
    x, y, w, h = box
    if w < MIN_SIDE or h < MIN_SIDE:
        raise _bad(where, _("box %(box)s is too small to hold a digit (at least %(n)d×%(n)d pixels)")
                   % {"box": box, "n": MIN_SIDE})
    if x < 0 or y < 0 or (width and x + w > width) or (height and y + h > height):
        raise _bad(where, _("box %(box)s goes outside the image (%(w)d×%(h)d pixels)")
                   % {"box": box, "w": width, "h": height})
    return box


def _place_new_boxes(ops: list[dict], digits: list[dict]) -> None:
    """Give each boxed digit added without a line the line it sits in: the reading's line (or a new line
    met earlier) that shares at least half of its height, else a new line after the others."""
    spans: dict[int, list[int]] = {}
    for d in digits:
        _, y, _, h = d["box"]
        top, bottom = spans.get(d["line"], [y, y + h])
        spans[d["line"]] = [min(top, y), max(bottom, y + h)]
    for op in ops:
        if op["op"] == ADD and op["line"] is not None and op["box"]:
            _grow(spans, op["line"], op["box"])
    for op in ops:
        if op["op"] != ADD or op["line"] is not None:
            continue
        _, y, _, h = op["box"]
        # The height shared with each line, as a share of the shorter of the two.
        share = {line: (min(y + h, b) - max(y, t)) / max(1, min(h, b - t)) for line, (t, b) in spans.items()}
        best = max(share, key=lambda line: (share[line], -line), default=None)
        if best is not None and share[best] >= 0.5:
            op["line"] = best
        else:
            op["line"] = max([line_count(digits) - 1, *spans]) + 1
        _grow(spans, op["line"], op["box"])


def _grow(spans: dict[int, list[int]], line: int, box: list[int]) -> None:
    top, bottom = spans.get(line, [box[1], box[1] + box[3]])
    spans[line] = [min(top, box[1]), max(bottom, box[1] + box[3])]


@dataclass
class Item:
    """One digit of a corrected reading."""

    digit: int
    box: list[int] | None  # None: added from typed text, not yet marked on the image
    line: int  # the reading's line it belongs to (a new line: the reading's count or more)
    index: int | None = None  # in the reading's digits; None for an added digit
    read: int | None = None  # what the model read there
    uncertain: bool = False  # read as uncertain and left as read
    change: str = ""  # "", "relabel", "confirm" (relabelled as read) or "add"

    def as_dict(self, shown_line: int) -> dict:
        return {"digit": self.digit, "box": self.box, "line": shown_line, "read_line": self.line,
                "index": self.index, "read": self.read, "uncertain": self.uncertain, "change": self.change}


@dataclass
class Correction:
    """A reading with a correction applied: its lines (empty ones gone), as written and marked."""

    lines: list[list[Item]]
    display: list[str]
    marked: list[str]
    rejected: list[int] = field(default_factory=list)

    @property
    def line_texts(self) -> list[str]:
        return ["".join(str(item.digit) for item in line) for line in self.lines]

    @property
    def text(self) -> str:
        return " ".join(self.line_texts)

    @property
    def marked_text(self) -> str:
        return " ".join("".join(c for c in line if c.isdigit() or c == "?") for line in self.marked)


def corrected_reading(digits: list[dict], separators: list[dict], operations: list[dict]) -> Correction:
    """The reading ``digits`` (with its ``separators``) as ``operations`` correct it: relabelled digits
    changed, boxes that are not digits gone, added ones in place (by their box's left edge, else at their
    position), ``?`` kept after each digit read as uncertain that the correction leaves alone."""
    by_index = {op["index"]: op for op in operations if op["op"] != ADD}
    lines: dict[int, list[Item]] = {}
    for i, d in enumerate(digits):
        op = by_index.get(i)
        if op is not None and op["op"] == NOT_A_DIGIT:
            continue
        item = Item(int(d["digit"]), d["box"], d.get("line", 0), i, int(d["digit"]),
                    bool(d.get("uncertain")) and op is None)
        if op is not None:
            item.digit, item.change = op["digit"], "confirm" if op["digit"] == item.read else "relabel"
        lines.setdefault(item.line, []).append(item)
    adds = [op for op in operations if op["op"] == ADD]
    for op in sorted((o for o in adds if o["box"]), key=lambda o: o["box"][0]):
        line = lines.setdefault(op["line"], [])
        at = next((k for k, it in enumerate(line) if it.box and it.box[0] > op["box"][0]), len(line))
        line.insert(at, Item(op["digit"], op["box"], op["line"], change=ADD))
    loose = [o for o in adds if not o["box"]]
    for op in sorted(loose, key=lambda o: (o["position"] is None, o["position"] or 0)):
        line = lines.setdefault(op["line"], [])
        at = len(line) if op["position"] is None else min(op["position"], len(line))
        line.insert(at, Item(op["digit"], None, op["line"], change=ADD))
    ordered = [lines[n] for n in sorted(lines) if lines[n]]
    written = [_as_written(line, [s for s in separators if s.get("line") == line[0].line])
               for line in ordered]
    rejected = sorted(i for i, op in by_index.items() if op["op"] == NOT_A_DIGIT)
    return Correction(ordered, [w for w, _ in written], [m for _, m in written], rejected)


def _as_written(line: list[Item], separators: list[dict]) -> tuple[str, str]:
    """The line with its separators in place (by their left edge among the boxed digits), and the same
    with ``?`` after each uncertain digit."""
    marks = sorted(separators, key=lambda s: s["box"][0])
    plain, marked = [], []
    for item in line:
        while item.box and marks and marks[0]["box"][0] < item.box[0]:
            char = marks.pop(0)["char"]
            plain.append(char)
            marked.append(char)
        plain.append(str(item.digit))
        marked.append(f"{item.digit}?" if item.uncertain else str(item.digit))
    rest = "".join(s["char"] for s in marks)
    return "".join(plain) + rest, "".join(marked) + rest


def training_counts(operations: list[dict]) -> dict[str, int]:
    """What a correction gives the next model: labelled digits (relabelled, confirmed or added with a
    box), not-a-digit samples, and digits added without a box (which cannot be cut out: they do not count).

    >>> training_counts([{"op": "relabel"}, {"op": "not_a_digit"}, {"op": "add", "box": None}])
    {'digits': 1, 'not_a_digit': 1, 'without_box': 1}
    """
    counts = {"digits": 0, "not_a_digit": 0, "without_box": 0}
    for op in operations:
        if op["op"] == NOT_A_DIGIT:
            counts["not_a_digit"] += 1
        elif op["op"] == ADD and not op.get("box"):
            counts["without_box"] += 1
        else:
            counts["digits"] += 1
    return counts
