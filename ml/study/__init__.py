"""The study behind the product, and the measurements of the reader.

``benchmark`` / ``benchmark_report``: six classifier families compared on MNIST, beside the thesis'
figures (``thesis``). ``ablation/``: the CNN ablation study (grid, plan, schedule, execute, statistics,
report). ``score_pages``, ``gallery``, ``bench_read``: how well and how fast ``read`` reads generated
pages. ``requests``: what each study run may be asked for, with its defaults.
"""
