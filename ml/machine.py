"""What machine a result was measured on, as results files and model cards record it.

>>> sorted(machine())
['cpu_threads', 'platform', 'processor', 'python', 'torch']
"""

from __future__ import annotations

import platform
from typing import Any

import torch


def machine() -> dict[str, Any]:
    """This machine as results record it: platform, processor, torch threads, Python, torch.

    >>> machine()["cpu_threads"] >= 1
    True
    """
    return {
        "platform": platform.platform(), "processor": platform.processor() or platform.machine(),
        "cpu_threads": torch.get_num_threads(), "python": platform.python_version(),
        "torch": str(torch.__version__),
    }


def machine_line(m: dict[str, Any] | None = None) -> str:
    """``machine()`` (or ``m``) in one line, e.g. ``x86_64, 2 torch threads, Linux-6…``.

    >>> machine_line({"processor": "x86_64", "cpu_threads": 2, "platform": "Linux"})
    'x86_64, 2 torch threads, Linux'
    """
    m = m or machine()
    return f"{m['processor']}, {m['cpu_threads']} torch threads, {m['platform']}"
