"""`manage.py normalize_alert`: the adapter alone, JSON out, exit 2 with an error for bad payloads."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "alerts" / "sources" / "fixtures"
KEYS = {
    "source",
    "fingerprint",
    "native_fingerprint",
    "status",
    "alertname",
    "severity",
    "severity_raw",
    "summary",
    "description",
    "labels",
    "annotations",
    "cluster",
    "namespace",
    "pod",
    "container",
    "workload",
    "node",
    "starts_at",
    "ends_at",
    "links",
}


def _run(*args, stdin: bytes | None = None):
    return subprocess.run(
        [sys.executable, "manage.py", "normalize_alert", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        timeout=60,
        env={"DJANGO_SETTINGS_MODULE": "opsworker.settings.test", "PATH": "/usr/bin:/bin"},
    )


def test_normalize_alert_prints_normalized_alerts_from_file():
    result = _run("--source", "alertmanager", str(FIXTURES / "alertmanager" / "single_crashloop.json"))
    assert result.returncode == 0, result.stderr
    alerts = json.loads(result.stdout)["alerts"]
    assert len(alerts) == 1 and set(alerts[0]) == KEYS
    assert (alerts[0]["namespace"], alerts[0]["status"]) == ("payments", "firing")
    assert alerts[0]["starts_at"].endswith("Z")


def test_normalize_alert_reads_stdin():
    body = json.dumps({"alertname": "DiskFull", "namespace": "db", "severity": "P1"}).encode()
    result = _run("--source", "generic", "-", stdin=body)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["alerts"][0]["severity"] == "critical"


def test_normalize_alert_rejected_payload_exits_2_with_error_on_stderr():
    result = _run("--source", "alertmanager", "-", stdin=b'{"alerts": "nope"}')
    assert result.returncode == 2
    assert result.stdout == b""
    assert "alerts" in json.loads(result.stderr)["error"]


def test_normalize_alert_truncated_json_exits_2():
    result = _run("--source", "grafana", "-", stdin=b'{"alerts": [')
    assert result.returncode == 2
    assert "not valid JSON" in json.loads(result.stderr)["error"]
