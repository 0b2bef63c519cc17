"""A model version's configuration (``ModelVersion.config``, the checkpoint's CNN settings) as a table of
named settings for the admin, instead of raw JSON."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# The settings ml.models.config.CNNConfig records, in the order a reader follows the network.
CONFIG_LABELS = {
    "blocks": gettext_lazy("convolution blocks"),
    "convs_per_block": gettext_lazy("convolutions per block"),
    "channels": gettext_lazy("channels per block"),
    "kernel": gettext_lazy("kernel size per block"),
    "pool": gettext_lazy("pooling after each block"),
    "batchnorm": gettext_lazy("batch normalisation"),
    "dropout": gettext_lazy("dropout after each block"),
    "linear": gettext_lazy("hidden linear layer width"),
    "head_dropout": gettext_lazy("dropout before the output"),
    "reject": gettext_lazy("“not a digit” output"),
}
POOLING = {"max": gettext_lazy("max pooling"), "avg": gettext_lazy("average pooling"),
           "none": gettext_lazy("no pooling")}


def config_value(key: str, value) -> str:
    """One setting's value in words: lists as "32, 64", switches as yes/no, pooling by name.

    >>> config_value("channels", [32, 64])
    '32, 64'
    """
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if key == "pool" and value in POOLING:
        return str(POOLING[value])
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return "—" if value is None else str(value)


def model_config_table(config: dict | None) -> str:
    """The configuration as rows (label, value, key): the known settings first, then any others."""
    config = config or {}
    if not config:
        return "—"
    keys = [k for k in CONFIG_LABELS if k in config] + [k for k in config if k not in CONFIG_LABELS]
    rows = [(str(CONFIG_LABELS.get(k, k)), config_value(k, config[k]), k) for k in keys]
    return render_to_string("admin/registry/_config.html", {"rows": rows})
