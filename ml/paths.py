"""Where the project's files are: the checkout, the shipped checkpoint. No imports beyond pathlib, so
the web process can name the default model without loading torch.

>>> DEFAULT_CHECKPOINT.name, DEFAULT_CHECKPOINT.parent == CHECKPOINT_DIR
('digitscan-cnn.pt', True)
"""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CHECKPOINT_DIR = Path(__file__).resolve().parent / "checkpoints"
DEFAULT_CHECKPOINT = CHECKPOINT_DIR / "digitscan-cnn.pt"
LINE_CHECKPOINT = CHECKPOINT_DIR / "digitscan-lines.pt"
