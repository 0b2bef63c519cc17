"""What each kind of ExperimentRun may be asked for: defaults, and checks with messages for people.

Params come from the admin's forms, the beat schedule's kwargs (JSON typed by hand) and the services'
callers, so lists may arrive as ``"logreg,cnn"`` as well as ``["logreg", "cnn"]``; they are stored in
one shape, lists, with every default filled in, so a run's row says exactly what it ran.
"""

from __future__ import annotations

from ml import ablation
from ml.models import FAMILIES
from web.errors import ApplicationError

STUDIES = tuple(ablation.STUDIES)  # pool, layers, channels, linear, kernel, dropout

# What a retrain may be asked for, with defaults; anything else in params is refused.
TRAIN_DEFAULTS: dict = {
    "recipe": "served",  # ml.recipes name
    "epochs": None,  # None: the recipe's
    "limit": None,  # train on a random subset of this many MNIST images (None: all 60,000)
    "test_limit": None,  # evaluate on a subset of the MNIST test set (None: all 10,000)
    "feedback": True,  # add the digits of accepted feedback to the training data
    "dry_run": False,  # two batches only: checks the pipeline in seconds
    "seed": 0,
}

# ml.experiments.benchmark's arguments.
BENCHMARK_DEFAULTS: dict = {
    "families": list(FAMILIES),
    "epochs": None,  # None: each family's own (the study's configuration)
    "limit": None,  # a random subset of this many training images, a fifth of it (at least 200) to test
    "seed": 0,
    "dry_run": False,
}

# ml.ablation.run_ablation's arguments.
ABLATION_DEFAULTS: dict = {
    "studies": list(STUDIES),
    "epochs": 10,
    "seeds": 3,  # each variant is trained with seeds seed0, seed0 + 1, ...; the tables show mean and spread
    "limit": None,
    "seed0": 0,
    "dry_run": False,
}


def train_params(params: dict | None) -> dict:
    """``params`` merged over the defaults; :class:`ApplicationError` for unknown or malformed ones."""
    params = _known(params, TRAIN_DEFAULTS, "retrain")
    for key in ("epochs", "limit", "test_limit"):
        _positive_or_none(params, key)
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
            raise ApplicationError("bad_params", f"{key} must be a positive integer, not {params[key]!r}")
    _positive_or_none(params, "limit")
    _integer(params, "seed0")
    return {**ABLATION_DEFAULTS, **params}


def _known(params: dict | None, defaults: dict, what: str) -> dict:
    params = dict(params or {})
    unknown = set(params) - set(defaults)
    if unknown:
        raise ApplicationError("bad_params", f"unknown {what} parameters: {', '.join(sorted(unknown))} "
                               f"(known: {', '.join(defaults)})")
    if "dry_run" in params and not isinstance(params["dry_run"], bool):
        raise ApplicationError("bad_params", f"dry_run must be true or false, not {params['dry_run']!r}")
    return params


def _positive_or_none(params: dict, key: str) -> None:
    value = params.get(key)
    # type() rather than isinstance: True is an int to Python, but "epochs: true" is a typing slip.
    if value is not None and (type(value) is not int or value < 1):
        raise ApplicationError("bad_params", f"{key} must be a positive integer or null, not {value!r}")


def _integer(params: dict, key: str) -> None:
    if key in params and type(params[key]) is not int:
        raise ApplicationError("bad_params", f"{key} must be an integer, not {params[key]!r}")


def _names(value, known: tuple[str, ...], what: str) -> list[str]:
    """``"a,b"`` or ``["a", "b"]`` → ``["a", "b"]``, in the order given, each once, all in ``known``."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
        raise ApplicationError("bad_params", f"{what} must be a list of names or a comma-separated "
                                             f"string, not {value!r}")
    names = list(dict.fromkeys(x.strip() for x in items if x.strip()))
    unknown = [x for x in names if x not in known]
    if unknown or not names:
        raise ApplicationError("bad_params", f"unknown {what}: {', '.join(unknown)} (choose from "
                                             f"{', '.join(known)})" if unknown else f"no {what} given")
    return names


def run_params(kind: str, params: dict | None) -> dict:
    """The checked, complete parameters of a run of ``kind`` (train, benchmark or ablate)."""
    return {"train": train_params, "benchmark": benchmark_params, "ablate": ablation_params}[kind](params)
