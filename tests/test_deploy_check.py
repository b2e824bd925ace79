"""`manage.py check --deploy` with production settings: only the warnings the README justifies."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Justified in README.md, "Production checks".
ACCEPTED = {"security.W021"}


def test_deploy_check_with_production_settings():
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="opsworker.settings.prod",
        OPSWORKER_SECRET_KEY=secrets.token_urlsafe(64),
        OPSWORKER_ENCRYPTION_KEYS="x" * 43 + "=",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    reported = set(re.findall(r"\(([a-z_]+\.[EW]\d+)\)", output))
    assert reported <= ACCEPTED, output


def test_deploy_check_refuses_weak_secret_key():
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="opsworker.settings.prod", OPSWORKER_SECRET_KEY="short")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "OPSWORKER_SECRET_KEY must be a random string" in result.stderr
