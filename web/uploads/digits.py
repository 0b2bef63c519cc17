"""A person's correction as DigitScan's digits: any Unicode digit becomes its ASCII digit.

People type corrections on phones and in other scripts: fullwidth ``７２``, Arabic-Indic ``٧٢``,
Devanagari ``७२``, a superscript ``²`` picked by an autocorrect, or an ideographic space between lines.
Each character with a digit value 0–9 in Unicode is that digit, every kind of space separates lines,
a ``?`` (the mark shown after an uncertain digit, left in the correction box) is dropped, and anything
else is refused with a message naming it — never a crash.

>>> corrected_digits("７２ ٣٤٥\\u3000१²")
'72 345 12'
>>> corrected_digits("4?2 17")
'42 17'
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
    lines = []
    for word in text.split():
        digits = []
        for char in word:
            if char in "?？":  # the uncertain mark, left in: the person confirms that digit
                continue
            value = unicodedata.digit(char, None)
            if value is None:
                name = unicodedata.name(char, f"U+{ord(char):04X}")
                shown = repr(char) if char.isprintable() else name
                raise ApplicationError("bad_feedback", _("the correction must be digits (lines separated "
                                       "by spaces): %(char)s is not a digit") % {"char": shown})
            digits.append(str(value))
        if digits:
            lines.append("".join(digits))
    cleaned = " ".join(lines)
    if not cleaned:
        raise ApplicationError("bad_feedback", _("the correction is empty: type the digits the image holds"))
    if len(cleaned) > MAX_LENGTH:
        raise ApplicationError("bad_feedback", _("the correction is longer than %(n)d characters")
                               % {"n": MAX_LENGTH})
    return cleaned
