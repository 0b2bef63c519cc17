"""What reading an image returns: a :class:`Reading` of lines of :class:`Digit` s, and its JSON shape.

>>> reading = Reading([Digit(4, 0.99, [10, 5, 20, 40], 0, False), Digit(2, 0.6, [40, 6, 18, 38], 0, True)],
...                   (80, 50))
>>> reading.text, reading.to_dict()["digits"][1]["uncertain"]
('42', True)
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
class Reading:
    digits: list[Digit]
    size: tuple[int, int]  # (width, height) of the image read
    model: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)

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

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of DESIGN.md's ``read --json`` (without the file name)."""
        return {"text": self.text, "lines": self.line_texts,
                "digits": [d.to_dict() for d in self.digits]}
