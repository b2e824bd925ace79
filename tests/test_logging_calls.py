"""Every structured log call of ours uses `extra` keys the standard library accepts.

`logging` raises KeyError for an `extra` key that names a LogRecord attribute (`message`,
`args`, `name`, …) — but only when the record is built, i.e. when the level lets it through. One
such call answered 500 to every chat question while the suite, logging at WARNING, stayed green.
The suite now runs our loggers at DEBUG (settings/test.py); this test also reads the code, so a
call on a path no test executes is caught too.
"""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def _project_modules() -> list[Path]:
    return sorted(
        path
        for package in settings.PROJECT_LOGGERS
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    )


def _literal_extra_keys(tree: ast.AST):
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for keyword in node.keywords:
            if keyword.arg != "extra":
                continue
            value = keyword.value
            if isinstance(value, ast.Dict):
                for key in value.keys:
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        yield node.lineno, key.value
            elif isinstance(value, ast.Call) and getattr(value.func, "id", "") == "dict":
                for inner in value.keywords:
                    if inner.arg:
                        yield node.lineno, inner.arg


def test_logging_calls_use_no_reserved_extra_keys():
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: extra key {key!r}"
        for path in _project_modules()
        for line, key in _literal_extra_keys(ast.parse(path.read_text(), filename=str(path)))
        if key in RESERVED
    ]
    assert offenders == [], "reserved LogRecord keys in extra:\n" + "\n".join(offenders)


def test_logging_scan_sees_the_code():
    # Guard against a scan that silently reads nothing: our code has many structured log calls.
    found = sum(1 for path in _project_modules() for _ in _literal_extra_keys(ast.parse(path.read_text())))
    assert found > 50


@pytest.mark.parametrize("name", ["alerts.webhooks", "investigations.chat.services", "tenants.jobs"])
def test_logging_project_loggers_run_at_debug_in_the_suite(name):
    assert logging.getLogger(name).isEnabledFor(logging.DEBUG)
