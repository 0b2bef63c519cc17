"""A person's correction as DigitScan's digits: any Unicode digit becomes its ASCII digit.

People type corrections on phones and in other scripts: fullwidth ``７２``, Arabic-Indic ``٧٢``,
Devanagari ``७२``, a superscript ``²`` picked by an autocorrect, or an ideographic space between lines.
Each character with a digit value 0–9 in Unicode is that digit, every kind of space separates lines,
a ``?`` (the mark shown after an uncertain digit, left in the correction box) stays with the digit before
it as "not checked" (:func:`typed_lines`; :func:`corrected_digits` drops it), and anything else is refused
with a message naming it — never a crash.

>>> corrected_digits("７２ ٣٤٥\\u3000१²")
'72 345 12'
>>> corrected_digits("4?2 17")
'42 17'
>>> typed_lines("4?2 17")
[[(4, True), (2, False)], [(1, False), (7, False)]]
>>> corrected_digits("7a")
Traceback (most recent call last):
...
web.errors.ApplicationError: the correction must be digits (lines separated by spaces): 'a' is not a digit
"""

from __future__ import annotations

import unicodedata

from django.utils.translation import gettext as _

from web.errors import ApplicationError

MAX_LENGTH = 1000


def corrected_digits(text: str) -> str:
    """``text`` as ASCII digits, its lines separated by single spaces; :class:`ApplicationError` if not."""
    return " ".join("".join(str(d) for d, _ in line) for line in typed_lines(text))


def typed_lines(text: str) -> list[list[tuple[int, bool]]]:
    """``text`` as lines of (digit, marked): marked when a ``?`` follows the digit (the person left
    DigitScan's doubt in place: that digit is not confirmed). :class:`ApplicationError` if not digits."""
    lines, length = [], 0
    for word in text.split():
        digits: list[tuple[int, bool]] = []
        for char in word:
            if char in "?？":  # the uncertain mark, left in after a digit
                if digits:
                    digits[-1] = (digits[-1][0], True)
                continue
            value = unicodedata.digit(char, None)
            if value is None:
                name = unicodedata.name(char, f"U+{ord(char):04X}")
                shown = repr(char) if char.isprintable() else name
                raise ApplicationError("bad_feedback", _("the correction must be digits (lines separated "
                                       "by spaces): %(char)s is not a digit") % {"char": shown})
            digits.append((value, False))
        if digits:
            lines.append(digits)
            length += len(digits) + 1
    if not lines:
        raise ApplicationError("bad_feedback", _("the correction is empty: type the digits the image holds"))
    if length - 1 > MAX_LENGTH:
        raise ApplicationError("bad_feedback", _("the correction is longer than %(n)d characters")
                               % {"n": MAX_LENGTH})
    return lines
