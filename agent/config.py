"""The agent's configuration, read once from environment variables and validated.

Every problem is reported at once in one `ConfigError` so an operator fixes them in one go.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from agent.allowlist import Limits

PREFIX = "OPSWORKER_"
TRANSPORTS = ("http", "sqs")
# SQS messages are at most 256 KiB; one result per message must fit with its envelope.
SQS_MAX_RESULT_BYTES = 240_000


class ConfigError(ValueError):
    """One or more settings are missing or wrong; the message lists them all."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid agent configuration:\n  - " + "\n  - ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class KubeSettings:
    """How to reach the Kubernetes API: in-cluster by default."""

    kubeconfig: str | None = None
    api_url: str | None = None
    api_token: str | None = field(default=None, repr=False)
    request_timeout: float = 30.0


_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(:[0-9]{1,5})?$")


@dataclass(frozen=True)
class SqsSettings:
    command_queue_url: str
    result_queue_url: str
    region: str
    endpoint_url: str | None = None


@dataclass(frozen=True)
class Config:
    transport: str
    portal_url: str | None
    cluster_token: str | None = field(repr=False)
    # Host header to send instead of the URL's host: reach the portal by IP or an internal name while
    # the portal routes by the organization's domain (e.g. demo.localhost in development).
    portal_host: str | None
    poll_wait_seconds: int
    heartbeat_seconds: int
    concurrency: int
    limits: Limits
    kube: KubeSettings
    sqs: SqsSettings | None = None
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        """Read and validate OPSWORKER_* variables (os.environ by default)."""
        return _Reader(os.environ if env is None else env).read()


class _Reader:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[str] = []

    def raw(self, name: str) -> str | None:
        value = self.env.get(PREFIX + name)
        return value.strip() if value is not None and value.strip() else None

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        text = self.raw(name)
        if text is None:
            return default
        try:
            value = int(text)
        except ValueError:
            self.problems.append(f"{PREFIX}{name} must be an integer, got {text!r}")
            return default
        if not low <= value <= high:
            self.problems.append(f"{PREFIX}{name} must be between {low} and {high}, got {value}")
            return default
        return value

    def url(self, name: str, *, required: bool) -> str | None:
        text = self.raw(name)
        if text is None:
            if required:
                self.problems.append(f"{PREFIX}{name} is required")
            return None
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            self.problems.append(f"{PREFIX}{name} must be an http(s) URL, got {text!r}")
            return None
        return text.rstrip("/")

    def secret(self, name: str) -> str | None:
        """NAME, or the contents of the file named by NAME_FILE (a mounted Secret)."""
        direct, path = self.raw(name), self.raw(name + "_FILE")
        if direct and path:
            self.problems.append(f"set only one of {PREFIX}{name} and {PREFIX}{name}_FILE")
            return None
        if path:
            try:
                return Path(path).read_text(encoding="utf-8").strip() or None
            except OSError as exc:
                self.problems.append(f"{PREFIX}{name}_FILE: cannot read {path!r}: {exc.strerror}")
                return None
        return direct

    def read(self) -> Config:
        transport = (self.raw("TRANSPORT") or "http").lower()
        if transport not in TRANSPORTS:
            self.problems.append(
                f"{PREFIX}TRANSPORT must be one of {', '.join(TRANSPORTS)}, got {transport!r}"
            )
        portal_url = self.url("PORTAL_URL", required=transport == "http")
        token = self.secret("CLUSTER_TOKEN")
        if transport == "http" and not token:
            self.problems.append(f"{PREFIX}CLUSTER_TOKEN (or {PREFIX}CLUSTER_TOKEN_FILE) is required")
        insecure = portal_url and portal_url.startswith("http://") and not self._loopback(portal_url)
        if insecure and self.raw("ALLOW_INSECURE_PORTAL") != "1":
            self.problems.append(
                f"{PREFIX}PORTAL_URL uses plain http to a non-loopback host: the cluster token would "
                f"travel in clear; use https (or set {PREFIX}ALLOW_INSECURE_PORTAL=1 for a lab)"
            )
        max_result = self.integer("MAX_RESULT_BYTES", 200_000, 4_096, 8 * 1024 * 1024)
        limits = Limits(
            max_log_lines=self.integer("MAX_LOG_LINES", 2000, 1, 100_000),
            max_log_bytes=self.integer("MAX_LOG_BYTES", 512 * 1024, 1024, 8 * 1024 * 1024),
            max_list_items=self.integer("MAX_LIST_ITEMS", 500, 1, 10_000),
            max_result_bytes=max_result,
        )
        sqs = self._sqs() if transport == "sqs" else None
        if transport == "sqs" and max_result > SQS_MAX_RESULT_BYTES:
            self.problems.append(
                f"{PREFIX}MAX_RESULT_BYTES must be at most {SQS_MAX_RESULT_BYTES} with the SQS transport "
                "(SQS messages are limited to 256 KiB)"
            )
        kube = KubeSettings(
            kubeconfig=self.raw("KUBECONFIG"),
            api_url=self.url("KUBE_API_URL", required=False),
            api_token=self.secret("KUBE_API_TOKEN"),
            request_timeout=float(self.integer("KUBE_REQUEST_TIMEOUT", 30, 1, 300)),
        )
        if kube.kubeconfig and kube.api_url:
            self.problems.append(f"set only one of {PREFIX}KUBECONFIG and {PREFIX}KUBE_API_URL")
        portal_host = self.raw("PORTAL_HOST")
        if portal_host and not _HOST.match(portal_host):
            self.problems.append(
                f"{PREFIX}PORTAL_HOST must be a host name (optionally :port), got {portal_host!r}"
            )
        config = Config(
            transport=transport,
            portal_url=portal_url,
            cluster_token=token,
            portal_host=portal_host or None,
            poll_wait_seconds=self.integer("POLL_WAIT_SECONDS", 20, 1, 20 if transport == "sqs" else 120),
            heartbeat_seconds=self.integer("HEARTBEAT_SECONDS", 30, 5, 3600),
            concurrency=self.integer("CONCURRENCY", 4, 1, 32),
            limits=limits,
            kube=kube,
            sqs=sqs,
            log_level=(self.raw("LOG_LEVEL") or "INFO").upper(),
        )
        if config.log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            self.problems.append(f"{PREFIX}LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")
        if self.problems:
            raise ConfigError(self.problems)
        return config

    def _sqs(self) -> SqsSettings | None:
        commands = self.raw("SQS_COMMAND_QUEUE_URL")
        results = self.raw("SQS_RESULT_QUEUE_URL")
        region = self.raw("SQS_REGION") or self.env.get("AWS_REGION") or self.env.get("AWS_DEFAULT_REGION")
        for name, value in (("SQS_COMMAND_QUEUE_URL", commands), ("SQS_RESULT_QUEUE_URL", results)):
            if not value:
                self.problems.append(f"{PREFIX}{name} is required with {PREFIX}TRANSPORT=sqs")
        if not region:
            self.problems.append(f"{PREFIX}SQS_REGION (or AWS_REGION) is required with {PREFIX}TRANSPORT=sqs")
        endpoint = self.url("SQS_ENDPOINT_URL", required=False)
        if not (commands and results and region):
            return None
        return SqsSettings(commands, results, region, endpoint)

    @staticmethod
    def _loopback(url: str) -> bool:
        host = urlsplit(url).hostname or ""
        return host in ("localhost", "::1") or host.startswith("127.")
