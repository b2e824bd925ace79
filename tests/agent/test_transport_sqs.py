"""The SQS transport against moto's server mode, with the simulator behind the agent."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig
from moto.server import ThreadedMotoServer

from agent.allowlist import Limits
from agent.executor import Executor
from agent.protocol import PROTOCOL_VERSION, commands_message, dumps
from agent.simulator import start_simulator
from agent.transports.base import EXIT_OK, EXIT_PROTOCOL, Backoff, Session
from agent.transports.sqs import SqsTransport
from tests.agent.agent_fixtures import OOM_POD, OOM_SCENARIO, api_client_for, cmd
from tests.agent.portal_double import wait_for

REGION = "eu-west-1"


@pytest.fixture(scope="module")
def sqs_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def sqs(sqs_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return boto3.client("sqs", region_name=REGION, endpoint_url=sqs_endpoint)


@pytest.fixture
def queues(sqs: Any, request: pytest.FixtureRequest) -> tuple[str, str]:
    name = request.node.name.replace("_", "-")[:60]
    commands = sqs.create_queue(QueueName=f"{name}-commands")["QueueUrl"]
    results = sqs.create_queue(QueueName=f"{name}-results")["QueueUrl"]
    return commands, results


@pytest.fixture(scope="module")
def sim() -> Iterator[Any]:
    with start_simulator(OOM_SCENARIO) as simulator:
        yield simulator


def drain(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
        "Messages", []
    )
    for message in messages:
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return [json.loads(m["Body"]) for m in messages]


def make_transport(sqs: Any, sim: Any, queues: tuple[str, str]) -> SqsTransport:
    session = Session(Executor(api_client_for(sim.url), Limits(max_result_bytes=200_000)), concurrency=2)
    return SqsTransport(
        client=sqs,
        command_queue_url=queues[0],
        result_queue_url=queues[1],
        session=session,
        poll_wait_seconds=1,
        heartbeat_seconds=1,
        backoff=Backoff(0.05, 0.2),
    )


def run_in_thread(transport: SqsTransport) -> tuple[threading.Thread, list[int]]:
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(transport.run()), daemon=True)
    thread.start()
    return thread, codes


def test_sqs_round_trip(sqs: Any, sim: Any, queues: tuple[str, str]) -> None:
    command_queue, result_queue = queues
    transport = make_transport(sqs, sim, queues)
    thread, codes = run_in_thread(transport)
    received: list[dict[str, Any]] = []
    try:
        # given the portal put commands on the cluster's command queue
        sqs.send_message(
            QueueUrl=command_queue,
            MessageBody=dumps(
                commands_message(
                    [
                        cmd("s-get", "get", "Pod", "search", OOM_POD),
                        cmd("s-events", "events", "Pod", "search", OOM_POD),
                        cmd("s-secret", "get", "Secret", "search", "db"),
                    ]
                )
            ),
        )

        # when the agent has answered them all
        def all_results() -> bool:
            received.extend(drain(sqs, result_queue))
            return sum(len(m.get("results", [])) for m in received) >= 3 and any(
                m["type"] == "heartbeat" for m in received
            )

        wait_for(all_results, timeout=30)
    finally:
        transport.stop()
        thread.join(timeout=20)

    # then hello, heartbeat and one results message per command arrived, in protocol shape
    types = [m["type"] for m in received]
    assert types[0] == "hello"
    assert all(m["protocol"] == PROTOCOL_VERSION for m in received)
    results = {r["command_id"]: r for m in received if m["type"] == "results" for r in m["results"]}
    assert results["s-get"]["ok"] and results["s-get"]["data"]["metadata"]["name"] == OOM_POD
    assert results["s-events"]["ok"] and results["s-events"]["data"]["items"]
    assert results["s-secret"]["error"]["code"] == "refused"
    assert all(len(m["results"]) == 1 for m in received if m["type"] == "results")
    # and the command message was deleted after processing
    attributes = sqs.get_queue_attributes(
        QueueUrl=command_queue,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert attributes == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}
    assert codes == [EXIT_OK]


def test_sqs_unsupported_protocol_message_gets_protocol_errors(
    sqs: Any, sim: Any, queues: tuple[str, str]
) -> None:
    command_queue, result_queue = queues
    transport = make_transport(sqs, sim, queues)
    thread, _ = run_in_thread(transport)
    received: list[dict[str, Any]] = []
    try:
        sqs.send_message(
            QueueUrl=command_queue,
            MessageBody=json.dumps(
                {"protocol": 99, "type": "commands", "commands": [cmd("s-1", "list", "Pod")]}
            ),
        )

        def got_result() -> bool:
            received.extend(drain(sqs, result_queue))
            return any(m["type"] == "results" for m in received)

        wait_for(got_result, timeout=30)
    finally:
        transport.stop()
        thread.join(timeout=20)

    result = next(m for m in received if m["type"] == "results")["results"][0]
    assert result["command_id"] == "s-1"
    assert result["error"]["code"] == "protocol"
    assert "protocol 99 not supported" in result["error"]["message"]


def test_sqs_portal_version_error_stops_the_agent(sqs: Any, sim: Any, queues: tuple[str, str]) -> None:
    command_queue, _ = queues
    sqs.send_message(
        QueueUrl=command_queue,
        MessageBody=json.dumps(
            {"protocol": 2, "type": "error", "error": "agent too old", "min_protocol": 2, "max_protocol": 3}
        ),
    )
    transport = make_transport(sqs, sim, queues)

    assert transport.run() == EXIT_PROTOCOL


def test_sqs_backs_off_when_the_queue_is_unreachable(sim: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client(
        "sqs",
        region_name=REGION,
        endpoint_url="http://127.0.0.1:9",
        config=BotoConfig(retries={"max_attempts": 1}, connect_timeout=1),
    )
    transport = make_transport(client, sim, ("http://127.0.0.1:9/1/c", "http://127.0.0.1:9/1/r"))
    thread, codes = run_in_thread(transport)
    try:
        wait_for(lambda: len(transport.backoff.history) >= 2)
        assert thread.is_alive()
    finally:
        transport.stop()
        thread.join(timeout=20)
    assert codes == [EXIT_OK]
