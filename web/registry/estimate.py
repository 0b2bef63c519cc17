"""How long a retrain will take, from measured figures: what the add form shows and the run records.

Training time grows with images × epochs, so the estimate is a rate — seconds per training image per
epoch, for each recipe — times the run's images and epochs, plus the time around the fitting (loading
MNIST, cutting the corrections out of their uploads, scoring both models on the test images). The rate
comes from the last finished retrains with that recipe on this deployment when there are some (their
hardware, their load), else from the measured training shipped with the project (``MEASURED_TRAINING``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ml.training.recipes import MEASURED_TRAINING, recipe_train_config
from web.registry.selectors import experiment_runs_timed
from web.uploads.corrections import training_counts
from web.uploads.selectors import feedback_for_training

MNIST_TRAIN, MNIST_TEST = 60_000, 10_000  # ml.data.SPLITS' sizes (ml.data loads torch: not in the web)
# The shipped card's evaluation: its 10,000 test images read in 5.649 s; a retrain reads them twice
# (the new model and the active one).
EVAL_SECONDS_PER_IMAGE = 5.649 / 10_000
# Around the fitting and the scoring, before any run here measured it: starting, loading MNIST and the
# checkpoints, saving (about 15 s in the tiny retrains of tests/worker/test_retrain.py).
SETUP_SECONDS = 15.0
# Around a dry run's two batches: 4.7 to 8.0 s in all for three dry runs (served, thesis, served) on this
# 2-core machine under other tests' load (December 2026), of which 3 to 6 s "fitting" with its setup.
DRY_RUN_SETUP_SECONDS = 6.0
RUNS_AVERAGED = 3  # the last finished retrains a rate is taken from
# A retrain measures the rate only when it fitted at least this many images × epochs: in a smaller one
# the fixed costs inside the fitting (making the not-a-digit samples, the first batches) weigh enough to
# make every later estimate several times too long.
MIN_MEASURED_WORK = 20_000


@dataclass(frozen=True)
class Basis:
    """The measured figures an estimate rests on, for one recipe."""

    recipe: str
    seconds_per_image_epoch: float
    setup_seconds: float
    runs: list[int] = field(default_factory=list)  # the retrains measured here; empty: shipped figures

    def text(self) -> str:
        rate = {"rate": f"{1000 * self.seconds_per_image_epoch:.3f}"}
        if self.runs:
            return ngettext(
                "Based on the last finished retrain with this recipe here (%(runs)s): %(rate)s ms per "
                "training image per epoch.",
                "Based on the last %(count)d finished retrains with this recipe here (%(runs)s): %(rate)s ms "
                "per training image per epoch.", len(self.runs)) % {
                **rate, "count": len(self.runs), "runs": ", ".join(f"#{r}" for r in self.runs)}
        measured = MEASURED_TRAINING[self.recipe]
        figures = {**rate, "seconds": f"{measured.seconds:,.1f}", "epochs": measured.epochs,
                   "samples": f"{measured.samples:,}"}
        if measured.source == "card":
            text = _("Based on the shipped model card's measured training (no retrain has finished here "
                     "yet): %(seconds)s s for %(epochs)s epochs × %(samples)s images on the project's "
                     "2-core machine, %(rate)s ms per training image per epoch.")
        else:
            text = _("Based on the committed benchmark's CNN, which is the thesis recipe (no retrain with it "
                     "has finished here yet): %(seconds)s s for %(epochs)s epochs × %(samples)s images on "
                     "the project's 2-core machine, %(rate)s ms per training image per epoch.")
        return text % figures


@dataclass(frozen=True)
class Estimate:
    seconds: float
    train_images: int  # MNIST images and accepted corrections fitted each epoch
    epochs: int
    test_images: int
    basis: Basis

    def as_dict(self) -> dict:
        """As a run records it (``ExperimentRun.estimate``)."""
        return {"seconds": round(self.seconds, 1), "train_images": self.train_images, "epochs": self.epochs,
                "test_images": self.test_images, **asdict(self.basis)}


def retrain_basis(recipe: str) -> Basis:
    """The rate of ``recipe`` from the last finished retrains here, else from the shipped figures."""
    runs = [r for r in experiment_runs_timed(recipe=recipe, count=10 * RUNS_AVERAGED)
            if r.results["train_samples"] * r.results["epochs"] >= MIN_MEASURED_WORK][:RUNS_AVERAGED]
    if not runs:
        return Basis(recipe=recipe, seconds_per_image_epoch=MEASURED_TRAINING[recipe].seconds_per_image_epoch,
                     setup_seconds=SETUP_SECONDS)
    work = sum(r.results["train_samples"] * r.results["epochs"] for r in runs)
    setup = [r.results["seconds"] - r.results["fit_seconds"]
             - 2 * EVAL_SECONDS_PER_IMAGE * (r.results.get("test_samples") or MNIST_TEST) for r in runs]
    return Basis(recipe=recipe, seconds_per_image_epoch=sum(r.results["fit_seconds"] for r in runs) / work,
                 setup_seconds=max(0.0, sum(setup) / len(setup)), runs=[r.id for r in runs])


def accepted_corrections() -> int:
    """How many samples the accepted corrections hold (digits relabelled or confirmed, boxes that are not
    digits, missed digits boxed): the most a retrain can add to MNIST."""
    counts = [training_counts(feedback.operations) for feedback in feedback_for_training()]
    return sum(c["digits"] + c["not_a_digit"] for c in counts)


def dry_run_images(params: dict, images: int | None = None) -> int:
    """The training images a dry run fits: two batches of its recipe (fewer when there are fewer)."""
    batches = 2 * recipe_train_config(params["recipe"]).batch_size
    return batches if images is None else min(images, batches)


def retrain_estimate(*, params: dict, basis: Basis | None = None, corrections: int | None = None) -> Estimate:
    """The estimated duration of a retrain with the checked ``params`` (``params.train_params``)."""
    basis = basis or retrain_basis(params["recipe"])
    config = recipe_train_config(params["recipe"])
    images = min(params["limit"] or MNIST_TRAIN, MNIST_TRAIN)
    if params["feedback"]:
        images += accepted_corrections() if corrections is None else corrections
    epochs = params["epochs"] or config.epochs
    test = min(params["test_limit"] or (500 if params["dry_run"] else MNIST_TEST), MNIST_TEST)
    # A dry run fits two batches in one epoch.
    fitted, rounds = (dry_run_images(params, images), 1) if params["dry_run"] else (images, epochs)
    setup = DRY_RUN_SETUP_SECONDS if params["dry_run"] else basis.setup_seconds
    seconds = basis.seconds_per_image_epoch * fitted * rounds + 2 * EVAL_SECONDS_PER_IMAGE * test + setup
    return Estimate(seconds=seconds, train_images=images, epochs=rounds, test_images=test, basis=basis)


def duration_text(seconds: float | None) -> str:
    """``seconds`` for people: "45 s", "3 min 20 s", "1 h 5 min"."""
    if seconds is None:
        return "—"
    seconds = max(0, round(seconds))
    if seconds < 60:
        return _("%(s)d s") % {"s": seconds}
    if seconds < 3600:
        return _("%(m)d min %(s)d s") % {"m": seconds // 60, "s": seconds % 60}
    return _("%(h)d h %(m)d min") % {"h": seconds // 3600, "m": seconds % 3600 // 60}
