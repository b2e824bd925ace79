"""The gateway's SQS side against moto's server: hello, version refusal, results, bad messages."""

from __future__ import annotations

import json
from datetime import timedelta

import boto3
import pytest
from django.utils import timezone
from moto.server import ThreadedMotoServer

from agent.protocol import MAX_SUPPORTED, Result, dumps, hello_message, results_message
from clusters.gateway import sqs
from clusters.models import AgentCommand, Cluster, CommandState

pytestmark = pytest.mark.django_db

REGION = "eu-west-1"


@pytest.fixture(scope="module")
def sqs_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def queues(sqs_endpoint, monkeypatch, settings, request):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings.AGENT_SQS_ENDPOINT_URL = sqs_endpoint
    client = boto3.client("sqs", region_name=REGION, endpoint_url=sqs_endpoint)
    name = request.node.name.replace("_", "-")[:50]
    commands = client.create_queue(QueueName=f"{name}-c")["QueueUrl"]
    results = client.create_queue(QueueName=f"{name}-r")["QueueUrl"]
    return client, commands, results


@pytest.fixture
def sqs_cluster(org, make_cluster, queues):
    client, commands, results = queues
    cluster, _token = make_cluster(
        org,
        "sqs-prod",
        transport="sqs",
        sqs_command_queue_url=commands,
        sqs_result_queue_url=results,
        sqs_region=REGION,
    )
    return cluster, client, commands, results


def _received(client, queue):
    messages = client.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
        "Messages", []
    )
    return [json.loads(m["Body"]) for m in messages]


def test_sqs_hello_connects_cluster(org, other_org, sqs_cluster, in_schema):
    cluster, client, _commands, results = sqs_cluster
    hello = hello_message(agent_version="0.1.0", kubernetes_version="v1.31.0", capabilities={})
    client.send_message(QueueUrl=results, MessageBody=dumps(hello))
    with in_schema(org):
        assert sqs.drain(cluster, client=client) == 1
        cluster.refresh_from_db()
    assert (cluster.status, cluster.kubernetes_version) == ("connected", "v1.31.0")
    assert _received(client, results) == []  # deleted once recorded
    with in_schema(other_org):
        assert not Cluster.objects.exists()


def test_sqs_hello_with_unsupported_protocol_gets_error_message(org, sqs_cluster, in_schema):
    cluster, client, commands, results = sqs_cluster
    hello = dict(hello_message(agent_version="9", kubernetes_version="v1", capabilities={}))
    hello.update(protocol=MAX_SUPPORTED + 1, min_protocol=MAX_SUPPORTED + 1, max_protocol=MAX_SUPPORTED + 1)
    client.send_message(QueueUrl=results, MessageBody=dumps(hello))
    with in_schema(org):
        sqs.drain(cluster, client=client)
        cluster.refresh_from_db()
    assert cluster.status == "pending"
    [error] = _received(client, commands)
    assert (error["type"], error["max_protocol"]) == ("error", MAX_SUPPORTED)


def test_sqs_send_commands_and_record_results(org, sqs_cluster, in_schema):
    cluster, client, commands, results = sqs_cluster
    with in_schema(org):
        row = AgentCommand.objects.create(
            cluster=cluster,
            command_id="c-sqs-1",
            op="get",
            kind="Pod",
            namespace="shop",
            name="api",
            deadline=timezone.now() + timedelta(seconds=60),
        )
        sqs.send_commands(cluster, [row], client=client)
    [message] = _received(client, commands)
    assert message["type"] == "commands" and message["commands"][0]["id"] == "c-sqs-1"
    result = Result(command_id="c-sqs-1", ok=True, data={"kind": "Pod"})
    client.send_message(QueueUrl=results, MessageBody=dumps(results_message([result])))
    client.send_message(QueueUrl=results, MessageBody="{not json")
    with in_schema(org):
        assert sqs.drain(cluster, client=client) == 2
        row.refresh_from_db()
    assert (row.state, row.result) == (CommandState.DONE, {"kind": "Pod"})
    assert _received(client, results) == []
