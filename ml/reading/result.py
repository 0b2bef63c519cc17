"""What reading an image returns: a :class:`Reading` of lines of :class:`Digit` s, the
:class:`Separator` s between them, and its JSON shape.

>>> reading = Reading([Digit(4, 0.99, [10, 5, 20, 40], 0, False), Digit(2, 0.6, [40, 6, 18, 38], 0, True)],
...                   (80, 50), separators=[Separator(",", [32, 40, 4, 8], 0)])
>>> reading.text, reading.display_lines, reading.to_dict()["digits"][1]["uncertain"]
('42', ['4,2'], True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Digit:
    digit: int
    confidence: float
    box: list[int]  # x, y, w, h in the upright image's pixels
    line: int
    uncertain: bool
    # The top 3, best first: the digit read and its confidence, then the next likeliest (:func:`agreeing`).
    alternatives: list[dict[str, float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"digit": self.digit, "confidence": round(self.confidence, 4), "box": self.box,
                "line": self.line, "uncertain": self.uncertain, "alternatives": self.alternatives}


def agreeing(digit: int, confidence: float, alternatives: list[dict[str, float]]) -> list[dict[str, float]]:
    """The top three alternatives of a digit read as ``digit`` at ``confidence`` after a second reader
    confirmed or overruled the first one's ``alternatives``: the digit read first with its own
    confidence, the others in their order, scaled down where needed so that all add up to at most 1.

    >>> agreeing(7, 0.9996, [{"digit": 7, "confidence": 0.9648}, {"digit": 0, "confidence": 0.0047}])
    [{'digit': 7, 'confidence': 0.9996}, {'digit': 0, 'confidence': 0.0004}]
    >>> agreeing(3, 0.9, [{"digit": 8, "confidence": 0.6}, {"digit": 3, "confidence": 0.3}])
    [{'digit': 3, 'confidence': 0.9}, {'digit': 8, 'confidence': 0.1}]
    """
    others = [a for a in alternatives if a["digit"] != digit]
    room, total = max(0.0, 1.0 - confidence), sum(a["confidence"] for a in others)
    scale = min(1.0, room / total) if total > 0 else 1.0
    return ([{"digit": digit, "confidence": round(confidence, 4)}]
            + [{"digit": a["digit"], "confidence": round(a["confidence"] * scale, 4)} for a in others])[:3]


@dataclass
class Separator:
    char: str  # ".", "," or "-": never a digit, never in ``text`` or ``lines``
    box: list[int]  # x, y, w, h in the upright image's pixels
    line: int

    def to_dict(self) -> dict[str, Any]:
        return {"char": self.char, "box": self.box, "line": self.line}


@dataclass
class Reading:
    digits: list[Digit]
    size: tuple[int, int]  # (width, height) of the image read
    model: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)
    separators: list[Separator] = field(default_factory=list)

    @property
    def lines(self) -> list[list[Digit]]:
        count = max((d.line for d in self.digits), default=-1) + 1
        return [[d for d in self.digits if d.line == i] for i in range(count)]

    @property
    def line_texts(self) -> list[str]:
        return ["".join(str(d.digit) for d in line) for line in self.lines]

    @property
    def text(self) -> str:
        return " ".join(self.line_texts)

    @property
    def display_lines(self) -> list[str]:
        """Each line as written, its separators in place between the digits (``1.500,00``)."""
        marks = [(d.box[0], str(d.digit), d.line) for d in self.digits]
        marks += [(s.box[0], s.char, s.line) for s in self.separators]
        return ["".join(c for _, c, line in sorted(marks) if line == i) for i in range(len(self.lines))]

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of DESIGN.md's ``read --json`` (without the file name), with each line as
        written (``display``) and the separators found (``separators``)."""
        return {"text": self.text, "lines": self.line_texts, "display": self.display_lines,
                "digits": [d.to_dict() for d in self.digits],
                "separators": [s.to_dict() for s in self.separators]}
