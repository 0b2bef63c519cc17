"""When a retrained model replaces the active one, and why (the rule staff read on the run's page).

The new model and the active one are scored on the same images in the same run: the MNIST test images
the run asked for, and the accepted corrections held out from its training (``worker.holdout``). It is
promoted only when it is

- better on the held-out corrections (more of them read right; a tie is not better: the active model
  has served and its errors are known) and not worse on MNIST (at least as many read right); or,
- when there are no held-out corrections to judge on, strictly better on MNIST;
- and always when there is no active model to compare with.

Counts of images read right are compared, not rounded percentages, so "better" means at least one more.
A decision is stored as figures and a rule, and its reason is written from them when shown, in the
reader's language.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Score:
    """How many of ``samples`` images a model read right."""

    correct: int
    samples: int

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.samples if self.samples else None

    def text(self) -> str:
        if not self.samples:
            return "—"
        return _("%(correct)s of %(samples)s (%(percent).2f %%)") % {
            "correct": f"{self.correct:,}", "samples": f"{self.samples:,}", "percent": 100 * self.accuracy}


# The rules a decision can end in, each a short name stored with the run.
NO_ACTIVE, BETTER, NOT_BETTER_ON_CORRECTIONS, WORSE_ON_MNIST, BOTH = (
    "no_active", "better", "not_better_on_corrections", "worse_on_mnist", "not_better_on_either")
MNIST_ONLY_BETTER, MNIST_ONLY_NOT_BETTER = "no_held_out_better_on_mnist", "no_held_out_not_better_on_mnist"


@dataclass(frozen=True)
class Decision:
    promoted: bool
    rule: str
    mnist_new: Score
    mnist_active: Score | None
    held_new: Score
    held_active: Score | None

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Decision:
        score = (lambda d: Score(**d) if d else None)
        return cls(promoted=data["promoted"], rule=data["rule"], mnist_new=score(data["mnist_new"]),
                   mnist_active=score(data.get("mnist_active")), held_new=score(data["held_new"]),
                   held_active=score(data.get("held_active")))

    def reason(self) -> str:
        """Why it was (not) promoted, with the figures, in the active language."""
        figures = {"mnist_new": self.mnist_new.text(),
                   "mnist_active": self.mnist_active.text() if self.mnist_active else "—",
                   "held_new": self.held_new.text(),
                   "held_active": self.held_active.text() if self.held_active else "—"}
        return REASONS[self.rule]() % figures


# Each rule's reason; lambdas so that the text is translated when it is shown, not when imported.
REASONS = {
    NO_ACTIVE: lambda: _("Promoted: there was no active model to compare with."),
    BETTER: lambda: _("Promoted: better on the held-out corrections (%(held_new)s read right, against "
                      "%(held_active)s) and not worse on MNIST (%(mnist_new)s, against %(mnist_active)s)."),
    NOT_BETTER_ON_CORRECTIONS: lambda: _(
        "Not promoted: not better on the held-out corrections (%(held_new)s read right, against "
        "%(held_active)s; a tie is not better), though not worse on MNIST (%(mnist_new)s, against "
        "%(mnist_active)s)."),
    WORSE_ON_MNIST: lambda: _(
        "Not promoted: worse on MNIST (%(mnist_new)s read right, against %(mnist_active)s), though better "
        "on the held-out corrections (%(held_new)s, against %(held_active)s)."),
    BOTH: lambda: _(
        "Not promoted: not better on the held-out corrections (%(held_new)s read right, against "
        "%(held_active)s) and worse on MNIST (%(mnist_new)s, against %(mnist_active)s)."),
    MNIST_ONLY_BETTER: lambda: _(
        "Promoted: there were no held-out corrections to judge on, so it had to be strictly better on "
        "MNIST, and it is (%(mnist_new)s read right, against %(mnist_active)s)."),
    MNIST_ONLY_NOT_BETTER: lambda: _(
        "Not promoted: there were no held-out corrections to judge on, so it had to be strictly better on "
        "MNIST, and it is not (%(mnist_new)s read right, against %(mnist_active)s)."),
}


def decide(*, mnist_new: Score, mnist_active: Score | None, held_new: Score,
           held_active: Score | None) -> Decision:
    """Whether the new model replaces the active one, by the rule above.

    >>> decide(mnist_new=Score(99, 100), mnist_active=Score(99, 100), held_new=Score(5, 8),
    ...        held_active=Score(5, 8)).rule
    'not_better_on_corrections'
    """
    scores = {"mnist_new": mnist_new, "mnist_active": mnist_active, "held_new": held_new,
              "held_active": held_active}
    if mnist_active is None:
        return Decision(promoted=True, rule=NO_ACTIVE, **scores)
    not_worse_on_mnist = mnist_new.correct >= mnist_active.correct
    if not held_new.samples or held_active is None:
        better = mnist_new.correct > mnist_active.correct
        rule = MNIST_ONLY_BETTER if better else MNIST_ONLY_NOT_BETTER
        return Decision(promoted=better, rule=rule, **scores)
    better_on_corrections = held_new.correct > held_active.correct
    rule = {(True, True): BETTER, (False, True): NOT_BETTER_ON_CORRECTIONS, (True, False): WORSE_ON_MNIST,
            (False, False): BOTH}[(better_on_corrections, not_worse_on_mnist)]
    return Decision(promoted=rule == BETTER, rule=rule, **scores)
