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
    alternatives: list[dict[str, float]] = field(default_factory=list)  # top 3, best first

    def to_dict(self) -> dict[str, Any]:
        return {"digit": self.digit, "confidence": round(self.confidence, 4), "box": self.box,
                "line": self.line, "uncertain": self.uncertain, "alternatives": self.alternatives}


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
