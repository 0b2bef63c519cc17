"""The line reader: a small CNN + bidirectional LSTM read a whole line crop, trained with CTC, so a
string of touching digits, or one drawn over a cheque's security pattern, is read without cutting it.

Input: a grey crop of one line → :func:`line_input` (ink high in [0, 1], ``HEIGHT`` rows, the width
scaled alike). The network looks at the crop in columns ``STRIDE`` pixels wide and gives, for each, the
log-probabilities of blank and of the ten digits; :func:`best_path` collapses them into the digits read,
each with its probability and the column where it was read (which places a box on it).

>>> import torch
>>> net = LineNet()
>>> net(torch.zeros(2, 1, HEIGHT, 96)).shape     # (columns, batch, blank + 10 digits)
torch.Size([24, 2, 11])
>>> reads = best_path(net(torch.zeros(1, 1, HEIGHT, 64)))   # untrained: some digits, or none
>>> len(reads), all(c.isdigit() for c in reads[0].text)
(1, True)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np
import torch
from torch import nn

HEIGHT = 32  # rows of the network's input: a line's digits fill about 70 % of them (see line_input)
STRIDE = 4  # input pixels per output column: CTC needs two columns per digit, digits are ≥ 12 px wide
MAX_WIDTH = 1024  # a longer crop is scaled down to this width (about 40 digits)
BLANK = 0  # CTC's blank; digit d is class d + 1


@dataclass(frozen=True)
class LineNetConfig:
    channels: tuple[int, ...] = (16, 32, 64)  # three conv blocks; 32 → 16 → 8 → 4 rows, 4 px per column
    hidden: int = 96  # LSTM units per direction
    layers: int = 1  # LSTM layers
    dropout: float = 0.2


class LineNet(nn.Module):
    """Conv blocks (3×3 conv, BatchNorm, ReLU; the first two halve height and width, the third only the
    height), then a linear projection of each column, a two-layer bidirectional LSTM and a linear layer
    to 11 classes. Input (N, 1, HEIGHT, W) ink high; output log-probabilities (W // STRIDE, N, 11)."""

    def __init__(self, config: LineNetConfig = LineNetConfig()) -> None:
        super().__init__()
        self.config = config
        c1, c2, c3 = config.channels
        self.features = nn.Sequential(
            _block(1, c1), nn.MaxPool2d(2),
            _block(c1, c2), nn.MaxPool2d(2),
            _block(c2, c3), nn.MaxPool2d((2, 1)),
        )
        rows = HEIGHT // 8
        self.project = nn.Sequential(nn.Linear(c3 * rows, config.hidden), nn.ReLU(),
                                     nn.Dropout(config.dropout))
        self.lstm = nn.LSTM(config.hidden, config.hidden, num_layers=config.layers, bidirectional=True,
                            dropout=config.dropout if config.layers > 1 else 0.0)
        self.head = nn.Linear(2 * config.hidden, 11)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.features(x)  # (N, C, rows, W / 4)
        n, c, h, w = f.shape
        f = self.project(f.permute(3, 0, 1, 2).reshape(w, n, c * h))
        out, _ = self.lstm(f)
        return self.head(out).log_softmax(-1)


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


def config_dict(config: LineNetConfig) -> dict:
    """The config as stored in a checkpoint (lists, not tuples).

    >>> config_dict(LineNetConfig())["channels"]
    [16, 32, 64]
    """
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(config).items()}


def ink_strength(gray: np.ndarray, *, light_ink: bool = False) -> np.ndarray:
    """A grey crop → float32 ink strength in [0, 1] (ink high), at the crop's own size.

    The paper level is the crop's median, the ink level its 1st percentile (99th with light ink); the
    pixels between are stretched to [0, 1], so faint pencil and a dark scan look alike.

    >>> crop = np.full((50, 100), 220, np.uint8); crop[10:40, 20:26] = 40
    >>> x = ink_strength(crop)
    >>> float(x.max()), float(x[0, 0])
    (1.0, 0.0)
    """
    g = gray.astype(np.float32)
    if light_ink:
        g = 255.0 - g
    # The levels from every pixel of a crop of up to 16,384 pixels (all the training crops but a few),
    # of an evenly spaced subset of a bigger one (a page's line: a tenth of the time, the same levels).
    step = max(1, int(np.sqrt(g.size / 16384)))
    ink, paper = (float(v) for v in np.percentile(g[::step, ::step], [1, 50]))
    return np.clip((paper - g) / max(paper - ink, 24.0), 0.0, 1.0)


def line_input(gray: np.ndarray, *, light_ink: bool = False) -> np.ndarray:
    """A grey line crop → float32 (HEIGHT, W): its :func:`ink_strength` scaled to HEIGHT rows keeping
    its aspect (a wider one than MAX_WIDTH is squeezed to it), the width a multiple of STRIDE.

    >>> crop = np.full((50, 100), 220, np.uint8); crop[10:40, 20:26] = 40
    >>> x = line_input(crop)
    >>> x.shape, float(x.max()), float(x[:, :8].max())
    ((32, 64), 1.0, 0.0)
    """
    x = ink_strength(gray, light_ink=light_ink)
    h, w = x.shape
    width = min(MAX_WIDTH, max(STRIDE * 4, round(w * HEIGHT / max(h, 1) / STRIDE) * STRIDE))
    interp = cv2.INTER_AREA if h > HEIGHT else cv2.INTER_LINEAR
    return cv2.resize(x, (width, HEIGHT), interpolation=interp)


def batch_inputs(inputs: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Line inputs padded on the right to the widest: (N, 1, HEIGHT, W) and each one's output columns.

    >>> x, columns = batch_inputs([np.ones((HEIGHT, 16), np.float32), np.ones((HEIGHT, 40), np.float32)])
    >>> tuple(x.shape), columns.tolist()
    ((2, 1, 32, 40), [4, 10])
    """
    width = max(a.shape[1] for a in inputs)
    batch = np.zeros((len(inputs), 1, HEIGHT, width), np.float32)
    for i, a in enumerate(inputs):
        batch[i, 0, :, : a.shape[1]] = a
    columns = torch.tensor([a.shape[1] // STRIDE for a in inputs], dtype=torch.long)
    return torch.from_numpy(batch), columns


@dataclass(frozen=True)
class LineRead:
    """What the line reader read in one crop: the digits, each one's probability, and the column
    (in the crop's own pixels, from its left edge) where each was read."""

    text: str
    probs: tuple[float, ...]
    centres: tuple[float, ...]

    @property
    def confidence(self) -> float:
        """The probability of the whole string: the product of its digits' (1.0 for none)."""
        return float(np.prod(self.probs)) if self.probs else 1.0


def best_path(log_probs: torch.Tensor, columns: torch.Tensor | None = None,
              scales: list[float] | None = None) -> list[LineRead]:
    """Greedy CTC decoding of (T, N, 11) log-probabilities: per column the likeliest class, repeats
    merged, blanks dropped. A digit's probability is the highest of its run of columns; its centre the
    middle of that run, in input pixels × ``scales[i]`` (crop pixels per input pixel).

    >>> lp = torch.full((6, 1, 11), -9.0)
    >>> for t, k in enumerate([2, 2, 0, 2, 0, 8]): lp[t, 0, k] = 0.0
    >>> r = best_path(lp)[0]
    >>> r.text, [round(p, 2) for p in r.probs], r.centres
    ('117', [1.0, 1.0, 1.0], (4.0, 14.0, 22.0))
    """
    probs, best = log_probs.detach().exp().max(-1)
    out = []
    for i in range(log_probs.shape[1]):
        t_end = int(columns[i]) if columns is not None else log_probs.shape[0]
        scale = scales[i] if scales is not None else 1.0
        text, ps, centres = [], [], []
        prev, start = BLANK, 0
        for t in range(t_end + 1):
            k = int(best[t, i]) if t < t_end else BLANK
            if k != prev:
                if prev != BLANK:
                    text.append(str(prev - 1))
                    ps.append(float(probs[start:t, i].max()))
                    centres.append((start + t) / 2 * STRIDE * scale)
                prev, start = k, t
        out.append(LineRead("".join(text), tuple(ps), tuple(centres)))
    return out


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance between two strings (a read string's errors against its truth).

    >>> edit_distance("1234", "1334"), edit_distance("", "12")
    (1, 2)
    """
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]
