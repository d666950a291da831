"""The machine line every benchmark prints first: CPU model and count, OS, Python, numpy and SQLite versions."""

from __future__ import annotations

import os
import platform
import sqlite3
from pathlib import Path

import numpy as np

__all__ = ["machine_line"]


def machine_line() -> str:
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} CPUs ({model}), {platform.system()} {platform.release()}; Python "
        f"{platform.python_version()}; numpy {np.__version__}; SQLite {sqlite3.sqlite_version}"
    )
