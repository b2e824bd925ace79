"""`python -m agent`: read the configuration, connect to the portal, serve read-only commands."""

from __future__ import annotations

import json
import logging
import signal
import sys
from typing import Any

from agent import __version__
from agent.config import Config, ConfigError
from agent.transports.base import EXIT_CONFIG, Stopping

logger = logging.getLogger("agent")

_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, event, and the record's extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _RECORD_FIELDS})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def build_transport(config: Config) -> Any:
    """The configured transport, wired to an executor on the configured Kubernetes API."""
    # Imported here: the Kubernetes client and each transport's packages load only for the configured one.
    from agent.executor import Executor, api_client_from_settings
    from agent.transports.base import Session

    executor = Executor(
        api_client_from_settings(config.kube), config.limits, request_timeout=config.kube.request_timeout
    )
    session = Session(executor, concurrency=config.concurrency)
    if config.transport == "sqs":
        import boto3

        from agent.transports.sqs import SqsTransport  # only the SQS transport needs boto3

        assert config.sqs is not None  # guaranteed by Config validation
        client = boto3.client("sqs", region_name=config.sqs.region, endpoint_url=config.sqs.endpoint_url)
        return SqsTransport(
            client=client,
            command_queue_url=config.sqs.command_queue_url,
            result_queue_url=config.sqs.result_queue_url,
            session=session,
            poll_wait_seconds=config.poll_wait_seconds,
            heartbeat_seconds=config.heartbeat_seconds,
        )
    from agent.transports.http import HttpTransport  # only for the HTTP transport

    assert config.portal_url and config.cluster_token  # guaranteed by Config validation
    return HttpTransport(
        portal_url=config.portal_url,
        token=config.cluster_token,
        portal_host=config.portal_host,
        session=session,
        poll_wait_seconds=config.poll_wait_seconds,
        heartbeat_seconds=config.heartbeat_seconds,
    )


def main() -> int:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    # httpx logs every request at INFO: one line per long poll is noise, not information.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        config = Config.from_env()
    except ConfigError as exc:
        logger.error("agent.config.invalid", extra={"problems": exc.problems})
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    logging.getLogger().setLevel(config.log_level)
    logger.info(
        "agent.starting",
        extra={"version": __version__, "transport": config.transport, "portal_url": config.portal_url},
    )
    try:
        transport = build_transport(config)
    except Exception as exc:  # any failure to load Kubernetes credentials is fatal: report it
        logger.error("agent.kubernetes.config_failed", extra={"reason": f"{type(exc).__name__}: {exc}"})
        return EXIT_CONFIG

    stopping = False

    def _stop(signum: int, _frame: Any) -> None:
        nonlocal stopping
        logger.info("agent.stopping", extra={"signal": signum})
        transport.stop()
        if not stopping:
            stopping = True
            raise Stopping  # interrupts a blocking long poll; the transport exits cleanly

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    return transport.run()


if __name__ == "__main__":
    sys.exit(main())
