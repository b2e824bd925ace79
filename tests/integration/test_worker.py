"""A job enqueued for organization A runs in a real worker process, writes only into A, and its
live update reaches A's browser socket (real Channels Redis layer), never B's."""

import asyncio

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django_tenants.utils import schema_context

from investigations.models import QUEUES, PipelineCheck
from investigations.services import pipeline_check_start
from opsworker.asgi import application
from tests.sockets import CONNECT_TIMEOUT

pytestmark = pytest.mark.integration


def _cookie(user, host):
    client = Client(HTTP_HOST=host)
    client.force_login(user)
    return client.cookies["sessionid"].value


def _socket(host, cookie):
    headers = [
        (b"host", host.encode()),
        (b"origin", f"http://{host}".encode()),
        (b"cookie", f"sessionid={cookie}".encode()),
    ]
    return WebsocketCommunicator(application, "/ws/org/", headers=headers)


def test_worker_runs_tenant_job_in_its_schema_and_broadcasts_to_its_org(committed, run_worker, clean_queues):
    alpha, beta = committed["alpha"], committed["beta"]
    with schema_context(beta.schema):
        beta_before = list(PipelineCheck.objects.values_list("pk", "results"))
    alpha_cookie, beta_cookie = _cookie(alpha.owner, alpha.domain), _cookie(beta.owner, beta.domain)

    def start_check():
        with schema_context(alpha.schema):
            return pipeline_check_start(requested_by="integration@alpha.test").pk

    async def scenario():
        alpha_socket, beta_socket = _socket(alpha.domain, alpha_cookie), _socket(beta.domain, beta_cookie)
        assert (await alpha_socket.connect(timeout=CONNECT_TIMEOUT))[0]
        assert (await beta_socket.connect(timeout=CONNECT_TIMEOUT))[0]
        check_id = await sync_to_async(start_check)()
        worker = await asyncio.to_thread(run_worker)
        fragments = [await alpha_socket.receive_from(timeout=10) for _ in QUEUES]
        beta_silent = await beta_socket.receive_nothing(timeout=1)
        await alpha_socket.disconnect()
        await beta_socket.disconnect()
        return check_id, worker, fragments, beta_silent

    check_id, worker, fragments, beta_silent = async_to_sync(scenario)()
    try:
        assert worker.returncode == 0, worker.stderr[-2000:]
        with schema_context(alpha.schema):
            check = PipelineCheck.objects.get(pk=check_id)
            assert set(check.results) == set(QUEUES)
        with schema_context(beta.schema):
            assert list(PipelineCheck.objects.values_list("pk", "results")) == beta_before
        assert all(
            'id="pipeline-check"' in fragment and 'hx-swap-oob="true"' in fragment for fragment in fragments
        )
        assert "all queues answered" in fragments[-1]
        assert beta_silent
    finally:
        with schema_context(alpha.schema):
            PipelineCheck.objects.filter(pk=check_id).delete()
