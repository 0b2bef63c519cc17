"""Typed text → digit-by-digit corrections: the text is aligned to the reading's boxes by edit distance.

A person who types the digits an image shows is aligned, by Levenshtein, to every box there is: the
model's reading as their latest correction left it (its relabels, and its added digits with their boxes,
which are not lost), plus the boxes that correction took out as not digits, which a typed digit may put
back. A typed digit set against a box that shows another digit relabels that box, a box left without a
typed digit is no digit (one already out stays out at no cost), and a typed digit with no box is a missed
digit — added without a box, so the page asks where it is (it cannot be cut out for training until then).
Putting a box back costs one edit, less than a missed digit: typing the model's reading again after a box
was taken out restores the box rather than adding a boxless digit. Lines are aligned one to one when the
counts agree (with every line, or with the lines still shown), else as one sequence.

Text whose digits are exactly the model's reading, line by line, means "as read", whatever earlier
corrections said: no operations, except that a ``?`` left out still confirms its digit (the model's
``marked`` lines, digits only, are as read to the last mark).

Among alignments of equal edit distance, one with fewer missed digits wins (they need boxes; a swapped
pair is two relabels, not a deletion and an insertion), then the one that changes or removes the digits
the model was least sure of. A ``?`` left after a digit keeps DigitScan's doubt; a digit read as
uncertain and typed without it is confirmed.

>>> digits = [{"digit": d, "box": [12 * i, 0, 10, 20], "line": 0, "uncertain": c < 0.5, "confidence": c}
...           for i, (d, c) in enumerate([(1, 0.99), (7, 0.40), (2, 0.99), (3, 0.98)])]
>>> operations_from_text("123", digits=digits, separators=[], current=[])   # a phantom 7
[{'op': 'not_a_digit', 'index': 1, 'read': 7}]
>>> swapped = operations_from_text("17?32", digits=digits, separators=[], current=[])
>>> [(op["op"], op["digit"]) for op in swapped]
[('relabel', 3), ('relabel', 2)]
>>> operations_from_text("17?235", digits=digits, separators=[], current=[])  # a missed 5: where is it?
[{'op': 'add', 'digit': 5, 'box': None, 'line': 0, 'position': 4}]
>>> out = [{"op": "not_a_digit", "index": 3, "read": 3}]
>>> operations_from_text("17?2", digits=digits, separators=[], current=out)  # the 3 stays out
[{'op': 'not_a_digit', 'index': 3, 'read': 3}]
>>> operations_from_text("17?23", digits=digits, separators=[], current=out)  # the model's reading: as read
[]
"""

from __future__ import annotations

from web.uploads.corrections import ADD, NOT_A_DIGIT, RELABEL, Item, corrected_reading, line_count
from web.uploads.digits import typed_lines

# Costs as one integer, compared as (edits, missed digits, doubt): each tier outweighs all of the next.
EDIT, MISSED, DOUBT = 10**12, 10**7, 1


def operations_from_text(text: str, *, digits: list[dict], separators: list[dict],
                         current: list[dict]) -> list[dict]:
    """The operations (``web.uploads.corrections``) that make ``digits``, as the ``current`` operations
    correct them, read ``text``; :class:`ApplicationError` ``bad_feedback`` if ``text`` is not digits."""
    typed = typed_lines(text)
    if [[d for d, _ in line] for line in typed] == [[d for d, _ in line] for line in _as_read(digits)]:
        # The model's reading again: every box as read (a ? left out still confirms its digit).
        flags = [marked for line in typed for _, marked in line]
        order = sorted(range(len(digits)), key=lambda i: digits[i].get("line", 0))  # as _as_read lists them
        return [{"op": RELABEL, "index": i, "digit": int(digits[i]["digit"]), "read": int(digits[i]["digit"])}
                for i, marked in zip(order, flags) if digits[i].get("uncertain") and not marked]
    out = {op["index"] for op in current if op["op"] == NOT_A_DIGIT}
    # Every box: the current correction without its "not a digit"s, so that those boxes can be put back.
    every = corrected_reading(digits, separators, [op for op in current if op["op"] != NOT_A_DIGIT]).lines
    costs = _Costs(digits, out)
    shown = [line for line in every if any(item.index not in out for item in line)]
    paired = every if len(typed) == len(every) else shown if len(typed) == len(shown) else None
    if paired is not None:
        steps = [step for items, line in zip(paired, typed) for step in _align(items, line, costs) + [None]]
        # Lines wholly taken out and not paired with a typed line stay out.
        steps += [(item, None, None) for line in every if not any(line is p for p in paired) for item in line]
    else:
        flat = [item for line in every for item in line]
        marks = [(t, n) for n, line in enumerate(typed) for t in line]
        steps = _align(flat, [t for t, _ in marks], costs, lines=[n for _, n in marks])
    first_new = max([line_count(digits) - 1] + [i.line for line in every for i in line]) + 1
    return _operations(steps, digits, first_new)


def _as_read(digits: list[dict]) -> list[list[tuple[int, bool]]]:
    """The model's reading as :func:`typed_lines` would give it back: lines of (digit, uncertain)."""
    lines: dict[int, list[tuple[int, bool]]] = {}
    for d in digits:
        lines.setdefault(d.get("line", 0), []).append((int(d["digit"]), bool(d.get("uncertain"))))
    return [lines[n] for n in sorted(lines)]


class _Costs:
    """What each edit costs, as one integer compared tier by tier: edits, then missed digits, then doubt."""

    def __init__(self, digits: list[dict], out: set[int]) -> None:
        self.out = out  # boxes the current correction took out: leaving them out is free
        self.confidence = {i: float(d.get("confidence", 1.0)) for i, d in enumerate(digits)}
        self.alternatives = {i: {a["digit"]: a["confidence"] for a in d.get("alternatives", [])}
                             for i, d in enumerate(digits)}

    def doubt(self, item: Item) -> int:  # 0–100: how much cheaper changing this item is than a sure one
        sure = self.confidence.get(item.index, 1.0) if item.index is not None else 1.0
        return int(round(100 * sure))

    def remove(self, item: Item) -> int:
        return 0 if item.index in self.out else EDIT + self.doubt(item)

    def match(self, item: Item, digit: int) -> int:
        if item.index in self.out:  # put back: one edit (as another digit: still less than a missed one)
            return EDIT + (0 if digit == item.digit else MISSED // 2)
        if item.digit == digit:
            return 0
        return EDIT + self.doubt(item) - int(100 * self.alternatives.get(item.index, {}).get(digit, 0.0))

    insert = EDIT + MISSED


def _align(items: list[Item], typed: list[tuple[int, bool]], costs: _Costs,
           lines: list[int] | None = None) -> list:
    """The cheapest edit script from ``items`` to ``typed`` as steps ``(item, typed_digit, typed_line)``:
    an item with None typed is removed, None with a typed digit is inserted."""
    n, m = len(items), len(typed)
    cost = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        cost[i][0] = cost[i - 1][0] + costs.remove(items[i - 1])
    for j in range(1, m + 1):
        cost[0][j] = cost[0][j - 1] + costs.insert
    for i in range(1, n + 1):
        item = items[i - 1]
        for j in range(1, m + 1):
            cost[i][j] = min(cost[i - 1][j - 1] + costs.match(item, typed[j - 1][0]),
                             cost[i - 1][j] + costs.remove(item), cost[i][j - 1] + costs.insert)
    steps, i, j = [], n, m
    where = lines or [0] * m
    while i or j:
        item = items[i - 1] if i else None
        # Of scripts equal in every tier, the one whose missed digits come latest (a convention: "17" typed
        # as "123" is the 7 taken for a 2 and the 3 missed, not the 2 missed and the 7 taken for a 3).
        if j and cost[i][j] == cost[i][j - 1] + costs.insert:
            steps.append((None, typed[j - 1], where[j - 1]))
            j -= 1
            continue
        if i and j and cost[i][j] == cost[i - 1][j - 1] + costs.match(item, typed[j - 1][0]):
            steps.append((item, typed[j - 1], where[j - 1]))
            i, j = i - 1, j - 1
            continue
        if i and cost[i][j] == cost[i - 1][j] + costs.remove(item):
            steps.append((item, None, None))
            i -= 1
        else:
            steps.append((None, typed[j - 1], where[j - 1]))
            j -= 1
    return steps[::-1]


def _operations(steps: list, digits: list[dict], first_new: int) -> list[dict]:
    """Operations from aligned steps (a None step ends a typed line aligned one to one)."""
    ops: list[dict] = []
    filled: dict[int, int] = {}  # per line of the reading, the digits placed so far: an insertion's position
    segment: list = []
    for step in steps + [None]:
        if step is not None:
            segment.append(step)
            continue
        line_of = _lines_of(segment, first_new)
        for k, (item, typed, _) in enumerate(segment):
            if typed is None:
                if item.index is not None:
                    ops.append({"op": NOT_A_DIGIT, "index": item.index, "read": item.read})
                continue
            digit, marked = typed
            line = item.line if item is not None else line_of[k]
            position = filled.get(line, 0)
            filled[line] = position + 1
            if item is None or item.index is None:
                boxed = item is not None and item.box is not None
                ops.append({"op": ADD, "digit": digit, "box": item.box if boxed else None, "line": line,
                            "position": None if boxed else position})
            elif digit != item.read or (not marked and digits[item.index].get("uncertain")):
                ops.append({"op": RELABEL, "index": item.index, "digit": digit, "read": item.read})
        segment = []
    return ops


def _lines_of(segment: list, first_new: int) -> list[int | None]:
    """For each step, the reading's line an inserted digit joins: that of the nearest box aligned in the
    same typed line (before it, else after), or a new line for a typed line that matched no box."""
    result: list[int | None] = [None] * len(segment)
    new_lines: dict[int, int] = {}
    boxed = [k for k, (item, typed, _) in enumerate(segment) if item is not None and typed is not None]
    for k, (item, typed, typed_line) in enumerate(segment):
        if item is not None or typed is None:
            continue
        same = [b for b in boxed if segment[b][2] == typed_line]
        before, after = [b for b in same if b < k], [b for b in same if b > k]
        if before or after:
            result[k] = segment[before[-1] if before else after[0]][0].line
        else:
            result[k] = new_lines.setdefault(typed_line, first_new + len(new_lines))
    return result
