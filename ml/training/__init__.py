"""Training and evaluating the models: ``train`` (fit any family, augmentation), ``evaluate`` (test
metrics), ``recipes`` (the thesis' and the served recipe), ``run`` (train by a recipe and write the
checkpoint with its metrics: what ``python -m ml train`` and the retrain task both call).
"""
