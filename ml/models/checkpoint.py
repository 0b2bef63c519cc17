"""One self-describing checkpoint file per model.

The file holds everything needed to rebuild the model with nothing else: family, model config,
weights, the preprocessing settings and signature, the classes, metrics, and how it was trained (data,
command, seconds). Torch families store a ``state_dict`` and load with ``weights_only=True``;
scikit-learn families store their pickled estimator (load only files you trust, as with any pickle).

>>> from ml.paths import DEFAULT_CHECKPOINT
>>> model = load_checkpoint(DEFAULT_CHECKPOINT)
>>> model.family, model.classifier.outputs, model.meta["preprocess"]["signature"] == preprocess.SIGNATURE
('cnn', 11, True)
"""

from __future__ import annotations

import datetime as dt
import io
import pickle
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ml.paths import DEFAULT_CHECKPOINT

from . import preprocess
from .classifiers import Classifier, SklearnClassifier, TorchClassifier, rebuild_module
from .config import TrainConfig, class_names

FORMAT = "digitscan-checkpoint/1"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: unreadable, wrong format, or a preprocessing mismatch."""


@dataclass
class LoadedModel:
    """A ready-to-predict model and the description stored beside its weights."""

    classifier: Classifier
    meta: dict[str, Any] = field(default_factory=dict)
    path: str = ""

    @property
    def family(self) -> str:
        return self.classifier.family

    @property
    def name(self) -> str:
        return self.meta.get("name") or Path(self.path).stem

    def predict_proba(self, x: torch.Tensor) -> np.ndarray:
        return self.classifier.predict_proba(x)


def save_checkpoint(classifier: Classifier, path: str | Path, *, metrics: dict | None = None,
                    training: dict | None = None, name: str | None = None) -> Path:
    """Write ``classifier`` and its description to ``path`` (parent folders are created).

    >>> import tempfile
    >>> from ml.models.classifiers import build
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = save_checkpoint(build("logreg"), Path(tmp) / "lr.pt", metrics={"accuracy": 0.9})
    ...     load_checkpoint(path).meta["metrics"], load_checkpoint(path).name
    ({'accuracy': 0.9}, 'lr')
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload: dict[str, Any] = {
        "format": FORMAT,
        "name": name or path.stem,
        "family": classifier.family,
        "config": classifier.model_config,
        "preprocess": {"settings": preprocess.SETTINGS, "signature": preprocess.SIGNATURE},
        "classes": class_names(classifier.outputs),
        "metrics": metrics or {},
        "training": training or {},
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "torch_version": str(torch.__version__),
    }
    if isinstance(classifier, TorchClassifier):
        payload["train_config"] = asdict(classifier.train_config)
        # Half precision halves the file; the weights are cast back to float32 when loaded.
        payload["state_dict"] = {k: v.half() if v.is_floating_point() else v
                                 for k, v in classifier.module.state_dict().items()}
    else:
        payload["estimator_pickle"] = pickle.dumps(classifier.estimator)
    return write_payload(payload, path)


def write_payload(payload: dict[str, Any], path: Path) -> Path:
    """``torch.save`` of ``payload`` to ``path``, atomically: a reader never sees half a checkpoint.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     load_payload(write_payload({"format": "x/1"}, Path(tmp) / "a.pt"), "x/1")
    {'format': 'x/1'}
    """
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(buffer.getvalue())
    tmp.replace(path)
    return path


def read_meta(path: str | Path) -> dict[str, Any]:
    """The checkpoint's dict as stored (weights included), after format checks.

    >>> read_meta(DEFAULT_CHECKPOINT)["format"]
    'digitscan-checkpoint/1'
    >>> read_meta("no-such.pt")
    Traceback (most recent call last):
    ...
    ml.models.checkpoint.CheckpointError: checkpoint no-such.pt does not exist
    """
    return load_payload(path, FORMAT)


def load_payload(path: str | Path, fmt: str, *, error: type[CheckpointError] = CheckpointError,
                 what: str = "checkpoint") -> dict[str, Any]:
    """The dict stored at ``path`` (weights only: no pickled code runs), checked to be of format
    ``fmt``; an ``error`` naming the file and what is wrong otherwise.

    >>> load_payload("no-such.pt", FORMAT, what="line checkpoint")
    Traceback (most recent call last):
    ...
    ml.models.checkpoint.CheckpointError: line checkpoint no-such.pt does not exist
    """
    path = Path(path)
    if not path.is_file():
        raise error(f"{what} {path} does not exist")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises many types for a bad file
        raise error(f"{what} {path} is not readable: {exc}") from exc
    if not isinstance(payload, dict) or payload.get("format") != fmt:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise error(f"{what} {path} has format {found!r}, expected {fmt!r}")
    return payload


def _check_signature(payload: dict[str, Any], path: str | Path) -> None:
    stored = payload.get("preprocess", {})
    if stored.get("signature") != preprocess.SIGNATURE:
        raise CheckpointError(
            f"preprocessing signature mismatch: checkpoint {path} was trained with preprocessing "
            f"{stored.get('signature')} {stored.get('settings')}, but this code preprocesses with "
            f"{preprocess.SIGNATURE} {preprocess.SETTINGS}. Retrain the model or use the matching code."
        )


def load_checkpoint(path: str | Path = DEFAULT_CHECKPOINT) -> LoadedModel:
    """Rebuild the model stored at ``path``; raises :class:`CheckpointError` on any mismatch.

    >>> load_checkpoint().family
    'cnn'
    """
    payload = read_meta(path)
    _check_signature(payload, path)
    family = payload["family"]
    if "state_dict" in payload:
        module = rebuild_module(family, payload["config"])
        state = {k: v.float() if v.is_floating_point() else v for k, v in payload["state_dict"].items()}
        module.load_state_dict(state)
        module.eval()
        classifier: Classifier = TorchClassifier(
            family, module, TrainConfig.from_dict(payload.get("train_config", {})), payload["config"]
        )
    else:
        estimator = pickle.loads(payload["estimator_pickle"])  # noqa: S301 - trusted local file
        classifier = SklearnClassifier(family, estimator, payload["config"])
    meta = {k: v for k, v in payload.items() if k not in ("state_dict", "estimator_pickle")}
    return LoadedModel(classifier, meta, str(path))
