"""The models: the six families by name (``config``), the torch networks (``nets``), one interface to a
trained model of any family (``classifiers``), its input (``preprocess``), its size (``size``), and its
file (``checkpoint``, described by ``card``). Training is in ``ml.training``.
"""
