"""Wake-ups over Redis pub/sub: "cluster C has new commands" and "cluster C has new results".

PostgreSQL holds every command and result; Redis only shortens waits. A lost message costs a
few seconds (waiters re-check the database every `AGENT_POLL_RECHECK_SECONDS`), never a command.

Long polls use one pattern subscription per web process (`WakeHub`), so a thousand idle agents
are a thousand `asyncio.Event`s and one Redis connection, not a thousand connections or threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref

import redis
import redis.asyncio as aioredis
from django.conf import settings

from opsworker.redis_client import shared_redis

logger = logging.getLogger(__name__)


def _prefix() -> str:
    return f"{settings.REDIS_KEY_PREFIX}:agent"


def commands_channel(schema: str, cluster_id: int) -> str:
    return f"{_prefix()}:commands:{schema}:{cluster_id}"


def results_channel(schema: str, cluster_id: int) -> str:
    return f"{_prefix()}:results:{schema}:{cluster_id}"


def _publish(channel: str) -> None:
    try:
        shared_redis().publish(channel, b"1")
    except redis.RedisError as error:  # waiters fall back to re-checking the database
        logger.warning("agent.wake.publish_failed", extra={"channel": channel, "error": str(error)})


def wake_pollers(schema: str, cluster_id: int) -> None:
    _publish(commands_channel(schema, cluster_id))


def wake_clients(schema: str, cluster_id: int) -> None:
    _publish(results_channel(schema, cluster_id))


class WakeHub:
    """One pattern subscription per event loop, fanning messages out to waiting coroutines."""

    def __init__(self) -> None:
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._ready = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        # Redis unavailable: waiters still re-check the database on their own.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), timeout=2)

    def register(self, channel: str) -> asyncio.Event:
        event = asyncio.Event()
        self._waiters.setdefault(channel, set()).add(event)
        return event

    def unregister(self, channel: str, event: asyncio.Event) -> None:
        waiters = self._waiters.get(channel)
        if waiters is not None:
            waiters.discard(event)
            if not waiters:
                self._waiters.pop(channel, None)

    @property
    def waiting(self) -> int:
        return sum(len(events) for events in self._waiters.values())

    def _wake_all(self) -> None:
        for events in self._waiters.values():
            for event in events:
                event.set()

    async def _run(self) -> None:
        pattern = f"{_prefix()}:commands:*"
        while True:
            client = aioredis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2)
            pubsub = client.pubsub()
            try:
                await pubsub.psubscribe(pattern)
                async for message in pubsub.listen():
                    kind = message.get("type")
                    if kind == "psubscribe":
                        self._ready.set()
                        self._wake_all()  # anything published while we were not listening
                    elif kind == "pmessage":
                        channel = message["channel"]
                        channel = channel.decode() if isinstance(channel, bytes) else channel
                        for event in self._waiters.get(channel, ()):
                            event.set()
            except asyncio.CancelledError:
                raise
            except (redis.RedisError, OSError) as error:
                logger.warning("agent.wake.subscription_lost", extra={"error": str(error)})
                self._ready.clear()
                await asyncio.sleep(1)
            finally:
                try:
                    await pubsub.aclose()
                    await client.aclose()
                except (redis.RedisError, OSError, RuntimeError):
                    pass


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, WakeHub] = weakref.WeakKeyDictionary()


async def hub() -> WakeHub:
    """The running event loop's hub, subscribed."""
    loop = asyncio.get_running_loop()
    current = _hubs.get(loop)
    if current is None:
        current = _hubs[loop] = WakeHub()
    await current.start()
    return current


class ResultWaiter:
    """Sync side (RQ jobs): block until the cluster reports results, or `timeout` passes."""

    def __init__(self, schema: str, cluster_id: int) -> None:
        self.channel = results_channel(schema, cluster_id)
        self._pubsub = None
        try:
            self._pubsub = shared_redis().pubsub(ignore_subscribe_messages=True)
            self._pubsub.subscribe(self.channel)
        except redis.RedisError as error:
            logger.warning("agent.wake.subscribe_failed", extra={"error": str(error)})
            self._pubsub = None

    def wait(self, timeout: float) -> None:
        timeout = max(0.0, timeout)
        if self._pubsub is None:
            time.sleep(min(timeout, 0.5))
            return
        try:
            self._pubsub.get_message(timeout=timeout)
        except redis.RedisError:
            time.sleep(min(timeout, 0.5))

    def close(self) -> None:
        if self._pubsub is not None:
            with contextlib.suppress(redis.RedisError):
                self._pubsub.close()

    def __enter__(self) -> ResultWaiter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
