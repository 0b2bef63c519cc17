"""Synthetic data with known truth, all made from MNIST digits: ``compose`` (pages that write given
numbers, for tests and samples), ``photo`` (the photo and clean tiers of the evaluation sets),
``scenes`` (six real-world situations), ``evalset`` (a folder of pages with ground truth),
``negatives`` (the "not a digit" class and digits redrawn as the reader crops them, for training),
``ink`` (what the generators share).
"""
