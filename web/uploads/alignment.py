"""Typed text → digit-by-digit corrections: the text is aligned to the reading's boxes by edit distance.

A person who types the digits an image shows is aligned, by Levenshtein, to the digits currently shown
(the model's reading as their latest correction left it): a typed digit set against a box that shows
another digit relabels that box, a box left without a typed digit is no digit, and a typed digit with no
box is a missed digit — added without a box, so the page asks where it is (it cannot be cut out for
training until then). Lines are aligned one to one when the counts agree, else as one sequence.

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
    shown = corrected_reading(digits, separators, current).lines
    confidence = {i: float(d.get("confidence", 1.0)) for i, d in enumerate(digits)}
    alternatives = {i: {a["digit"]: a["confidence"] for a in d.get("alternatives", [])}
                    for i, d in enumerate(digits)}
    if len(typed) == len(shown):
        pairs = [_align(items, line, confidence, alternatives) + [None] for items, line in zip(shown, typed)]
        steps = [step for line in pairs for step in line]
    else:
        flat = [item for line in shown for item in line]
        marks = [(t, n) for n, line in enumerate(typed) for t in line]
        steps = _align(flat, [t for t, _ in marks], confidence, alternatives, lines=[n for _, n in marks])
    kept = [op for op in current if op["op"] == NOT_A_DIGIT]  # boxes already taken out stay out
    first_new = max([line_count(digits) - 1] + [i.line for line in shown for i in line]) + 1
    return kept + _operations(steps, digits, first_new)


def _align(items: list[Item], typed: list[tuple[int, bool]], confidence: dict, alternatives: dict,
           lines: list[int] | None = None) -> list:
    """The cheapest edit script from ``items`` to ``typed`` as steps ``(item, typed_digit, typed_line)``:
    an item with None typed is removed, None with a typed digit is inserted."""
    n, m = len(items), len(typed)

    def doubt(item: Item) -> int:  # 0–100: how much cheaper changing this item is than a sure one
        sure = confidence.get(item.index, 1.0) if item.index is not None else 1.0
        return int(round(100 * sure))

    cost = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        cost[i][0] = cost[i - 1][0] + EDIT + doubt(items[i - 1])
    for j in range(1, m + 1):
        cost[0][j] = cost[0][j - 1] + EDIT + MISSED
    for i in range(1, n + 1):
        item = items[i - 1]
        for j in range(1, m + 1):
            digit = typed[j - 1][0]
            swap = 0 if item.digit == digit else EDIT + doubt(item) - int(
                100 * alternatives.get(item.index, {}).get(digit, 0.0))
            cost[i][j] = min(cost[i - 1][j - 1] + swap, cost[i - 1][j] + EDIT + doubt(item),
                             cost[i][j - 1] + EDIT + MISSED)
    steps, i, j = [], n, m
    where = lines or [0] * m
    while i or j:
        item = items[i - 1] if i else None
        # Of scripts equal in every tier, the one whose missed digits come latest (a convention: "17" typed
        # as "123" is the 7 taken for a 2 and the 3 missed, not the 2 missed and the 7 taken for a 3).
        if j and cost[i][j] == cost[i][j - 1] + EDIT + MISSED:
            steps.append((None, typed[j - 1], where[j - 1]))
            j -= 1
            continue
        if i and j:
            digit = typed[j - 1][0]
            swap = 0 if item.digit == digit else EDIT + doubt(item) - int(
                100 * alternatives.get(item.index, {}).get(digit, 0.0))
            if cost[i][j] == cost[i - 1][j - 1] + swap:
                steps.append((item, typed[j - 1], where[j - 1]))
                i, j = i - 1, j - 1
                continue
        if i and cost[i][j] == cost[i - 1][j] + EDIT + doubt(item):
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
            elif digit != item.read or (not marked and (digits[item.index].get("uncertain") or item.change)):
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
