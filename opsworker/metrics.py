"""Prometheus metrics: request counts and latencies here, queue depths and workers at scrape time.

Later modules register their own counters on `REGISTRY` (e.g. signals ingested per source).
"""

from __future__ import annotations

import logging
import time

import django_rq
import redis
from django.conf import settings
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from rq import Worker

from opsworker.scheduler_heartbeat import last_beat

logger = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "opsworker_http_requests",
    "HTTP requests answered, by method, route and status class.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "opsworker_http_request_duration_seconds",
    "Time to answer an HTTP request, by route.",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)


class QueueCollector:
    """Reads queue depths and worker counts from Redis at scrape time."""

    def collect(self):
        depth = GaugeMetricFamily("opsworker_queue_jobs", "Jobs waiting in an RQ queue.", labels=["queue"])
        failed = GaugeMetricFamily(
            "opsworker_queue_failed_jobs", "Jobs in an RQ queue's failed registry.", labels=["queue"]
        )
        workers = GaugeMetricFamily("opsworker_workers", "RQ workers registered, by queue.", labels=["queue"])
        up = GaugeMetricFamily("opsworker_redis_up", "1 when Redis answered this scrape.")
        # The sweeper, retention and digests run only while the scheduler does: an operator alerts
        # on `time() - opsworker_scheduler_last_beat_timestamp_seconds > 180`.
        beat = GaugeMetricFamily(
            "opsworker_scheduler_last_beat_timestamp_seconds",
            "Unix time of the scheduler's last heartbeat (every 60 s; absent after an hour without one).",
        )
        try:
            for name in settings.RQ_QUEUES:
                queue = django_rq.get_queue(name)
                depth.add_metric([name], queue.count)
                failed.add_metric([name], queue.failed_job_registry.count)
                workers.add_metric([name], Worker.count(queue=queue))
            last = last_beat()
            up.add_metric([], 1)
        except redis.RedisError as error:
            logger.warning("opsworker.metrics.redis_unavailable", extra={"error": str(error)})
            up.add_metric([], 0)
            yield up
            return
        if last is not None:
            beat.add_metric([], last)
            yield beat
        yield from (depth, failed, workers, up)


REGISTRY.register(QueueCollector())


def render_metrics() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestMetricsMiddleware:
    """Counts every request by route name (not raw path, which would explode label cardinality)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = match.view_name if match and match.view_name else "unmatched"
        # Labels are the route's name, never the path (which may carry a webhook token), and a
        # known method: a client cannot mint label values.
        method = request.method if request.method in _METHODS else "other"
        HTTP_REQUESTS.labels(method, route, f"{response.status_code // 100}xx").inc()
        HTTP_LATENCY.labels(route).observe(time.perf_counter() - started)
        return response
