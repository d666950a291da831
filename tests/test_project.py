"""The project's own promises about itself: generated docs are current, and the code passes its checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ringfence.config import settings_markdown

ROOT = Path(__file__).resolve().parent.parent


def test_settings_doc_is_generated_from_the_settings() -> None:
    assert (ROOT / "docs" / "settings.md").read_text() == settings_markdown(), "run: ringfence settings --markdown"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_lint_and_format_are_clean() -> None:
    lint = _run("ruff", "check", "ringfence", "tests", "benchmarks")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = _run("ruff", "format", "--check", "ringfence", "tests", "benchmarks")
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_mypy_strict_is_clean_on_the_package() -> None:
    result = _run("mypy", "--strict", "ringfence")
    assert result.returncode == 0, result.stdout + result.stderr
