"""The layering in pyproject.toml ([tool.importlinter]), checked by import-linter: retrieval and
knowledge import nothing from bot, the core names no platform, no core module imports a
command-line module."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT = (
    "import sys; from importlinter.cli import lint_imports; "
    "sys.exit(lint_imports(no_cache=True, no_logo=True))"
)


def test_the_import_contracts_are_kept() -> None:
    # A child with this checkout first on the path: its packages, not an installed copy.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", LINT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, f"import-linter found broken layers:\n{report}"
    assert "Contracts: 3 kept, 0 broken." in report, report
