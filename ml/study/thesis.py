"""The thesis' figures that the study reproduces, and the families' names as its Table 3.3 gives them.

No torch: the site's pages read these.

>>> FAMILY_NAMES["cnn"], THESIS_ACCURACY["cnn"] > THESIS_ACCURACY["logreg"]
('Convolutional network', True)
"""

from __future__ import annotations

# Test accuracies (%) of the thesis' Table 3.3. The issue gives these; the thesis' train and test
# times are not available to us, so the table shows ours only.
THESIS_ACCURACY = {"logreg": 92.75, "mlp": 98.53, "knn": 97.35, "svm": 93.32, "rnn": 97.95, "cnn": 99.64}
FAMILY_NAMES = {
    "logreg": "Logistic regression", "mlp": "Multilayer perceptron", "knn": "k-nearest neighbours (k=3)",
    "svm": "Support vector machine", "rnn": "Recurrent network (LSTM)", "cnn": "Convolutional network",
}
# The issue's bar: our accuracy should reach the thesis' minus 0.3 points.
TOLERANCE = 0.3
