"""The thesis' figures that the study reproduces, and the families' names as its Table 3.3 gives them.

No torch: the site's pages read these.

>>> FAMILY_NAMES["cnn"], THESIS_ACCURACY["cnn"] > THESIS_ACCURACY["logreg"]
('Convolutional network', True)
"""

from __future__ import annotations

# Test accuracies (%) of the thesis' Table 3.3, as printed there. (Until 2026-12-04 these were each
# 0.30 higher: an earlier issue had called the printed figures "thesis minus 0.3", which was wrong.) The
# thesis' per-family train and test times are not available to us, so the tables show ours only.
THESIS_ACCURACY = {"logreg": 92.45, "mlp": 98.23, "knn": 97.05, "svm": 93.02, "rnn": 97.65, "cnn": 99.34}
FAMILY_NAMES = {
    "logreg": "Logistic regression", "mlp": "Multilayer perceptron", "knn": "k-nearest neighbours (k=3)",
    "svm": "Support vector machine", "rnn": "Recurrent network (LSTM)", "cnn": "Convolutional network",
}
# The study reproduces a figure when ours is no more than this many points below the thesis' (⚠ beside
# ours otherwise): about the seed-to-seed spread of the shorter families (± 0.1–0.2 points).
TOLERANCE = 0.3
