"""What each kind of ExperimentRun may be asked for: defaults, and checks with messages for people.

Params come from the admin's forms, the beat schedule's kwargs (JSON typed by hand) and the services'
callers, so lists may arrive as ``"logreg,cnn"`` as well as ``["logreg", "cnn"]``; they are stored in
one shape, lists, with every default filled in, so a run's row says exactly what it ran.
"""

from __future__ import annotations

from dataclasses import asdict

from django.utils.translation import gettext as _

from ml.models.config import FAMILIES
from ml.study.ablation.grid import STUDIES as _STUDIES
from ml.study.requests import AblationRequest, BenchmarkRequest
from ml.training.recipes import RECIPES, TrainRequest
from web.errors import ApplicationError

STUDIES = tuple(_STUDIES)  # pool, layers, channels, linear, kernel, dropout


def _defaults(request, *, drop: tuple[str, ...] = ()) -> dict:
    """A request dataclass of ml's as JSON-shaped defaults (tuples as lists), without ``drop``."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(request).items() if k not in drop}


# What a retrain may be asked for: ml.training.recipes.TrainRequest's fields and defaults (what they
# mean is said there; a retrain is always of the CNN), and whether the digits of accepted feedback are
# added to the training data. Anything else in params is refused.
TRAIN_DEFAULTS: dict = {**_defaults(TrainRequest(), drop=("family",)), "feedback": True}

# ml.study.requests.BenchmarkRequest's fields and defaults (the per-epoch diagnosis is the command line's).
BENCHMARK_DEFAULTS: dict = _defaults(BenchmarkRequest(), drop=("per_epoch",))

# ml.study.requests.AblationRequest's fields and defaults.
ABLATION_DEFAULTS: dict = _defaults(AblationRequest())


def train_params(params: dict | None) -> dict:
    """``params`` merged over the defaults; :class:`ApplicationError` for unknown or malformed ones."""
    params = _known(params, TRAIN_DEFAULTS, "retrain")
    if "recipe" in params and params["recipe"] not in RECIPES:
        raise ApplicationError("bad_params", f"unknown recipe {params['recipe']!r} (choose from "
                                             f"{', '.join(RECIPES)})")
    if "feedback" in params and not isinstance(params["feedback"], bool):
        raise ApplicationError("bad_params", f"feedback must be true or false, not {params['feedback']!r}")
    for key in ("epochs", "limit", "test_limit"):
        _positive_or_none(params, key)
    _integer(params, "seed")
    return {**TRAIN_DEFAULTS, **params}


def benchmark_params(params: dict | None) -> dict:
    params = _known(params, BENCHMARK_DEFAULTS, "benchmark")
    if "families" in params:
        params["families"] = _names(params["families"], FAMILIES, "families")
    for key in ("epochs", "limit"):
        _positive_or_none(params, key)
    _integer(params, "seed")
    return {**BENCHMARK_DEFAULTS, **params}


def ablation_params(params: dict | None) -> dict:
    params = _known(params, ABLATION_DEFAULTS, "ablation")
    if "studies" in params:
        params["studies"] = _names(params["studies"], STUDIES, "studies")
    for key in ("epochs", "seeds"):
        if key in params and (type(params[key]) is not int or params[key] < 1):
            raise ApplicationError("bad_params", _("%(key)s must be a positive integer, not %(value)r")
                                   % {"key": key, "value": params[key]})
    _positive_or_none(params, "limit")
    _integer(params, "seed0")
    return {**ABLATION_DEFAULTS, **params}


def _known(params: dict | None, defaults: dict, what: str) -> dict:
    params = dict(params or {})
    unknown = set(params) - set(defaults)
    if unknown:
        raise ApplicationError("bad_params", _("unknown %(what)s parameters: %(unknown)s (known: %(known)s)")
                               % {"what": what, "unknown": ", ".join(sorted(unknown)),
                                  "known": ", ".join(defaults)})
    if "dry_run" in params and not isinstance(params["dry_run"], bool):
        raise ApplicationError("bad_params", _("dry_run must be true or false, not %(value)r")
                               % {"value": params["dry_run"]})
    return params


def _positive_or_none(params: dict, key: str) -> None:
    value = params.get(key)
    # type() rather than isinstance: True is an int to Python, but "epochs: true" is a typing slip.
    if value is not None and (type(value) is not int or value < 1):
        raise ApplicationError("bad_params", _("%(key)s must be a positive integer or null, not %(value)r")
                               % {"key": key, "value": value})


def _integer(params: dict, key: str) -> None:
    if key in params and type(params[key]) is not int:
        raise ApplicationError("bad_params", _("%(key)s must be an integer, not %(value)r")
                               % {"key": key, "value": params[key]})


def _names(value, known: tuple[str, ...], what: str) -> list[str]:
    """``"a,b"`` or ``["a", "b"]`` → ``["a", "b"]``, in the order given, each once, all in ``known``."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
        raise ApplicationError("bad_params", _("%(what)s must be a list of names or a comma-separated "
                                             "string, not %(value)r") % {"what": what, "value": value})
    names = list(dict.fromkeys(x.strip() for x in items if x.strip()))
    unknown = [x for x in names if x not in known]
    if unknown or not names:
        message = (_("unknown %(what)s: %(unknown)s (choose from %(known)s)") if unknown
                   else _("no %(what)s given"))
        raise ApplicationError("bad_params", message % {"what": what, "unknown": ", ".join(unknown),
                                                        "known": ", ".join(known)})
    return names


def run_params(kind: str, params: dict | None) -> dict:
    """The checked, complete parameters of a run of ``kind`` (train, benchmark or ablate)."""
    return {"train": train_params, "benchmark": benchmark_params, "ablate": ablation_params}[kind](params)
