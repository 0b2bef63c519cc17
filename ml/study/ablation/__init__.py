"""The CNN ablation study: which parts of the thesis network earn their keep.

``grid`` (the studies and their variants), ``plan`` (which training runs, given what is stored),
``schedule`` (in which order, and what fits before a deadline), ``timing`` (a quiet timing pass),
``execute`` (training runs, in this process or in workers), ``store`` (results.json), ``stats`` (mean,
spread, Welch's t-test against the full network), ``report`` (tables and plots), ``run``
(``run_ablation``, which ties them together).
"""
