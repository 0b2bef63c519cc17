"""The serving path: an image → a Reading (decode, segment, cut and choose, annotate).

Where things are: ``decode`` (bytes → pixels), ``params`` (every tuning number and step switch),
``ink`` (paper, rules, threshold), ``components`` (boxes, broken digits, specks), ``lines``,
``split`` (touching digits: cuts, candidate runs, the most probable partition), ``boxes`` (the crop of
each digit), ``separators`` (``.`` ``,`` ``-`` between digits), ``operators`` (a sum's slashes and
brackets, read as 1s), ``segment`` (the pipeline), ``reader`` (``read``), ``result`` (``Reading``, ``Digit``),
``annotate``; ``recrop`` (boxes a person corrected cut out again, for retraining). Only ``reader`` needs
torch; the web process imports ``decode`` alone.
"""
