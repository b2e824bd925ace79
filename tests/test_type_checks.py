"""mypy (with django-stubs) stays clean on the modules pyproject.toml lists: CI's `make test` enforces it."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.timeout(600)
def test_type_checks_mypy_is_clean_on_the_configured_modules():
    # Given the files listed under [tool.mypy] (what `make lint` and the pre-commit hook check)
    configured = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["files"]
    assert configured, "pyproject.toml [tool.mypy] lists no files"
    # When mypy runs exactly as `make lint` runs it
    run = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, timeout=580, check=False
    )
    output = run.stdout + run.stderr
    # Then it finds no issue, and it did check the engine's and the kernel's modules
    assert run.returncode == 0, f"mypy found type errors:\n{output}"
    checked = re.search(r"no issues found in (\d+) source files", output)
    assert checked and int(checked.group(1)) >= len(configured), output
