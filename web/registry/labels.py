"""The study's names as the pages and the admin show them, in the reader's language.

``ml/`` keeps the English names of the thesis' tables (``ml.study.thesis.FAMILY_NAMES``,
``ml.study.ablation.grid.STUDY_TITLES``) for its reports; these are the same names, translatable, keyed
alike (a test checks that both have the same keys).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy

FAMILY_LABELS = {
    "logreg": gettext_lazy("Logistic regression"), "mlp": gettext_lazy("Multilayer perceptron"),
    "knn": gettext_lazy("k-nearest neighbours (k=3)"), "svm": gettext_lazy("Support vector machine"),
    "rnn": gettext_lazy("Recurrent network (LSTM)"), "cnn": gettext_lazy("Convolutional network"),
}
STUDY_LABELS = {
    "pool": gettext_lazy("Pooling after each conv block"), "layers": gettext_lazy("Second conv + pool block"),
    "channels": gettext_lazy("Channels of block 1 / block 2"),
    "linear": gettext_lazy("Width of the hidden linear layer"),
    "kernel": gettext_lazy("Kernel size (both blocks)"),
    "dropout": gettext_lazy("Dropout after each conv block"),
}
