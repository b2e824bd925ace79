"""The facts layer's log classification: one reading of a log line for every analyzer."""

from __future__ import annotations

import pytest

from investigations.engine.log_facts import classify_log


@pytest.mark.parametrize(
    ("line", "kind", "about"),
    [
        (
            "FormatError: (/app/config/partners.yml): mapping values are not allowed in this context",
            "config-unreadable",
            "partners.yml",
        ),
        ("yaml: line 12: did not find expected key", "config-unreadable", ""),
        (
            "failed to load configuration from /etc/app/app.toml: expected '='",
            "config-unreadable",
            "app.toml",
        ),
        ("json.decoder.JSONDecodeError: Expecting ',' delimiter: line 3 column 5", "config-unreadable", ""),
        ('required setting is missing key="influx_bucket"', "missing-setting", ""),
        ("Error: invalid configuration: required setting is missing", "missing-setting", ""),
        ("environment variable DATABASE_URL is not set", "missing-setting", ""),
        ("KeyError: 'PAYMENTS_URL'", "missing-setting", ""),
        ("dial tcp: lookup orders-db on 10.96.0.10:53: no such host", "name-not-resolved", ""),
        ("connect ECONNREFUSED 10.43.88.150:6379", "connection-refused", ""),
        ("dial tcp 10.0.3.4:5432: i/o timeout", "connection-timeout", ""),
        ('pods is forbidden: User "system:serviceaccount:a:b" cannot list resource', "permission-denied", ""),
        ('PANIC: could not write to file "pg_wal/xlogtemp.31": No space left on device', "disk-full", ""),
        ("x509: certificate signed by unknown authority", "certificate", ""),
        ("java.lang.OutOfMemoryError: Java heap space", "out-of-memory", ""),
        ("panic: runtime error: invalid memory address or nil pointer dereference", "panic", ""),
    ],
)
def test_a_line_is_classified_by_the_mechanism_it_reports(line, kind, about):
    (fact,) = classify_log(f"2025-06-03T12:00:00Z INFO started\n{line}\n")
    assert (fact.kind, fact.about) == (kind, about)
    assert fact.line == line


def test_ordinary_lines_are_not_failures():
    text = "listening on :8080\nGET /healthz 200 1ms\nconfig loaded from /etc/app/app.yaml\nWARN slow query"
    assert classify_log(text) == []


def test_java_host_slash_address_lines_name_the_service_and_port():
    from investigations.engine.analyzers.connections import _NAME_SLASH_ADDRESS

    line = "AnnotatedConnectException: Connection refused: cache-main.data.svc.cluster.local/10.12.7.201:6379"
    assert _NAME_SLASH_ADDRESS.findall(line) == [("cache-main.data.svc.cluster.local", "6379")]
    assert _NAME_SLASH_ADDRESS.findall("Unable to connect to cache-main.data/<unresolved>:6380") == [
        ("cache-main.data", "6380")
    ]
