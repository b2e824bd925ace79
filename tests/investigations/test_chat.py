"""Follow-up chat: builtin answers quoted from evidence, storage, live fragments, permissions, the model path.

The model path runs the llm package's real OpenAI-compatible client against a scripted local server;
its tools read through the agent's own executor against the cluster simulator (OOMKilled example).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import include, path
from django_tenants.utils import schema_context

from agent.allowlist import Limits
from agent.executor import Executor
from agent.simulator import start_simulator
from investigations.chat import builtin
from investigations.chat.services import chat_answer, chat_ask
from investigations.chat.tasks import chat_answer_job
from investigations.engine.collect import Answer, Ask
from investigations.models import ChatMessage, Investigation
from opsworker.asgi import application
from opsworker.urls import urlpatterns as organization_urlpatterns
from tenants.realtime import object_group
from tests.agent.agent_fixtures import OOM_SCENARIO, api_client_for
from tests.integration.conftest import committed  # noqa: F401 - reused fixture
from tests.investigations.llm.servers import ScriptedServer, openai_text, openai_tool_calls
from tests.sockets import CONNECT_TIMEOUT

chat_urls = path("", include("investigations.chat.urls"))
# The organization URLs plus the chat, as the lead includes them (once they do, nothing is added).
urlpatterns = [
    *organization_urlpatterns,
    *([] if any(getattr(p, "namespace", None) == "chat" for p in organization_urlpatterns) else [chat_urls]),
]
# Database access comes with the `org` fixture (a rolled-back transaction), except for the one
# socket test on committed rows.
pytestmark = [pytest.mark.urls(__name__)]

POD = "search-indexer-7f8c9d6b5-9q2kx"
PREVIOUS_LOG = "java.lang.OutOfMemoryError: Java heap space\nExiting with code 137"
CURRENT_LOG = "Started ReindexJob\nIndexed batch 3/96 (5000 docs) in 3.9s"
RESULT = {
    "root_cause": {
        "category": "oom-killed",
        "resource": {"kind": "Deployment", "namespace": "search", "name": "search-indexer"},
        "summary": "search-indexer is OOMKilled at its 384Mi memory limit",
        "explanation": "The container exited 137 (OOMKilled) [E1]; its limit is 384Mi [E2] while the "
        "JVM heap is -Xmx768m [E4]. The limit was lowered 40m before the alert [E5].",
        "confidence": 0.92,
        "evidence": ["E1", "E2"],
    },
    "recommendations": [
        {
            "title": "Restore memory headroom",
            "kind": "immediate",
            "rationale": "The heap does not fit in the limit.",
            "commands": [
                "kubectl -n search set resources deployment/search-indexer -c indexer --limits=memory=1536Mi"
            ],
        },
        {
            "title": "Size the heap from the limit",
            "kind": "preventive",
            "rationale": "Use -XX:MaxRAMPercentage instead of a fixed -Xmx.",
            "commands": [],
        },
    ],
    "evidence": [
        {
            "id": "E1",
            "kind": "status",
            "resource": {"kind": "Pod", "namespace": "search", "name": POD},
            "excerpt": "lastState.terminated: reason=OOMKilled exitCode=137 restartCount=6",
        },
        {
            "id": "E2",
            "kind": "spec",
            "resource": {"kind": "Deployment", "namespace": "search", "name": "search-indexer"},
            "excerpt": "resources:\n  limits:\n    memory: 384Mi",
        },
        {
            "id": "E3",
            "kind": "event",
            "resource": {"kind": "Pod", "namespace": "search", "name": POD},
            "excerpt": "Warning BackOff: Back-off restarting failed container indexer (x14)",
        },
        {
            "id": "E4",
            "kind": "config",
            "resource": {"kind": "ConfigMap", "namespace": "search", "name": "indexer-jvm"},
            "excerpt": "JAVA_OPTS=-Xmx768m",
        },
        {
            "id": "E5",
            "kind": "change",
            "resource": {"kind": "Deployment", "namespace": "search", "name": "search-indexer"},
            "excerpt": "revision 7 rolled out 40m ago: memory limit 1536Mi -> 384Mi",
        },
        {
            "id": "E6",
            "kind": "previous_log",
            "resource": {"kind": "Pod", "namespace": "search", "name": POD},
            "excerpt": PREVIOUS_LOG,
        },
        {
            "id": "E7",
            "kind": "log",
            "resource": {"kind": "Pod", "namespace": "search", "name": POD},
            "excerpt": CURRENT_LOG,
        },
    ],
}


@pytest.fixture
def investigation(org) -> Investigation:
    now = datetime.now(UTC)
    with schema_context(org.schema):
        return Investigation.objects.create(
            status="completed",
            cluster="prod-eu-1",
            namespace="search",
            resource_kind="Pod",
            resource_name=POD,
            started_at=now - timedelta(minutes=2),
            finished_at=now - timedelta(minutes=1),
            result=RESULT,
            root_cause_category="oom-killed",
            confidence=0.92,
        )


def ask_and_answer(org, investigation, user, question: str, **answer_kwargs) -> ChatMessage:
    with schema_context(org.schema):
        _, pending = chat_ask(investigation, user, question)
        return chat_answer(pending.pk, **answer_kwargs)


# -- builtin intents -------------------------------------------------------------------------------


def test_builtin_why_quotes_root_cause_explanation_and_key_evidence():
    reply = builtin.answer(RESULT, "Why did this pod crash?")
    assert reply.intent == "why"
    assert reply.text == (
        "Root cause: Out of memory (OOMKilled) in Deployment search/search-indexer "
        "(oom-killed, confidence 92%).\n\n"
        "search-indexer is OOMKilled at its 384Mi memory limit\n\n"
        + RESULT["root_cause"]["explanation"]
        + "\n\nKey evidence:\n"
        f"• [E1] status · Pod search/{POD}: "
        "lastState.terminated: reason=OOMKilled exitCode=137 restartCount=6\n"
        "• [E2] spec · Deployment search/search-indexer: resources:\n  limits:\n    memory: 384Mi\n"
        "• [E4] config · ConfigMap search/indexer-jvm: JAVA_OPTS=-Xmx768m\n"
        "• [E5] change · Deployment search/search-indexer: revision 7 rolled out 40m ago: "
        "memory limit 1536Mi -> 384Mi"
    )


def test_builtin_previous_container_logs_shows_only_previous_log():
    reply = builtin.answer(RESULT, "show me the logs of the previous container")
    assert reply.intent == "logs"
    assert reply.text == (
        "Logs of the previous (crashed) container, as collected:\n\n"
        f"[E6] previous_log · Pod search/{POD}\n```\n{PREVIOUS_LOG}\n```"
    )


def test_builtin_logs_shows_previous_and_current_apart():
    reply = builtin.answer(RESULT, "show me the logs")
    assert reply.text == (
        "Logs collected by the investigation.\n\n"
        f"Previous (crashed) container:\n\n[E6] previous_log · Pod search/{POD}\n```\n{PREVIOUS_LOG}\n```\n\n"
        f"Current container:\n\n[E7] log · Pod search/{POD}\n```\n{CURRENT_LOG}\n```"
    )


def test_builtin_what_changed_lists_change_evidence_with_times():
    reply = builtin.answer(RESULT, "What changed in the last hour?")
    assert reply.intent == "changes"
    assert reply.text == (
        "Changes found around the alert (times as recorded relative to the alert):\n\n"
        "• [E5] change · Deployment search/search-indexer: revision 7 rolled out 40m ago: "
        "memory limit 1536Mi -> 384Mi"
    )


def test_builtin_events():
    reply = builtin.answer(RESULT, "any events?")
    assert reply.intent == "events"
    assert reply.text == (
        "Kubernetes events in the evidence:\n\n"
        f"[E3] event · Pod search/{POD}\n```\n"
        "Warning BackOff: Back-off restarting failed container indexer (x14)\n```"
    )


def test_builtin_spec_of_named_resource():
    reply = builtin.answer(RESULT, "show me the config of indexer-jvm")
    assert reply.intent == "spec"
    assert reply.text == (
        "Spec and configuration in the evidence:\n\n"
        "[E4] config · ConfigMap search/indexer-jvm\n```\nJAVA_OPTS=-Xmx768m\n```"
    )


def test_builtin_spec_of_unknown_resource_says_it_was_not_collected():
    reply = builtin.answer(RESULT, "show me the spec of payments-api")
    assert reply.text == (
        "No spec or config of payments-api is among the evidence. Specs and config collected: "
        "ConfigMap search/indexer-jvm; Deployment search/search-indexer."
    )


def test_builtin_what_to_run_lists_recommendations_and_commands():
    reply = builtin.answer(RESULT, "What should I run?")
    assert reply.intent == "fix"
    assert reply.text == (
        "Recommended by the investigation:\n\n"
        "Restore memory headroom (immediate): The heap does not fit in the limit.\n```\n"
        "kubectl -n search set resources deployment/search-indexer -c indexer --limits=memory=1536Mi\n```\n\n"
        "Size the heap from the limit (preventive): Use -XX:MaxRAMPercentage instead of a fixed -Xmx.\n\n"
        "OpsWorker never runs anything in your cluster: review and run these yourself."
    )
    assert builtin.detect("how do I fix it?") == "fix"


def test_builtin_other_question_says_a_model_is_needed():
    reply = builtin.answer(RESULT, "Is the database healthy right now?")
    assert reply.intent == "needs_model"
    assert "needs reasoning beyond it" in reply.text
    assert "Settings → Models" in reply.text


def test_builtin_missing_evidence_kind_says_so():
    result = {**RESULT, "evidence": [e for e in RESULT["evidence"] if e["kind"] != "change"]}
    reply = builtin.answer(result, "what changed?")
    assert reply.text.startswith(
        "This investigation collected no recent changes among the evidence it cites."
    )
    assert "5m ago" not in reply.text and "E5" not in reply.text


def test_builtin_without_result_waits_for_completion():
    reply = builtin.answer(None, "why did it crash?", status="running")
    assert reply.intent == "no_result"
    assert "(status: running)" in reply.text


# -- service, storage, live fragments --------------------------------------------------------------


def test_chat_ask_stores_question_and_enqueues_after_commit(
    org, investigation, django_capture_on_commit_callbacks
):
    with schema_context(org.schema), django_capture_on_commit_callbacks(execute=False) as callbacks:
        asked, pending = chat_ask(investigation, org.owner, "  Why did this pod crash?  ")
    assert (asked.role, asked.text, asked.author_id, asked.author_email) == (
        "user",
        "Why did this pod crash?",
        org.owner.pk,
        org.owner.email,
    )
    assert (pending.role, pending.state, pending.reply_to_id) == ("assistant", "pending", asked.pk)
    assert len(callbacks) == 2  # the live conversation update and the job, both after commit


def test_chat_answer_builtin_is_stored_with_the_conversation(org, investigation):
    answer = ask_and_answer(org, investigation, org.owner, "What changed in the last hour?")
    with schema_context(org.schema):
        stored = list(
            ChatMessage.objects.filter(investigation=investigation).values_list("role", "state", "text")
        )
    assert stored == [
        ("user", "done", "What changed in the last hour?"),
        ("assistant", "done", builtin.answer(RESULT, "What changed in the last hour?").text),
    ]
    assert answer.answered_by == "builtin" and answer.tokens == 0


def test_chat_answer_job_streams_fragments_with_stable_ids(
    org, investigation, django_capture_on_commit_callbacks
):
    layer = get_channel_layer()
    group = object_group(org.schema, "investigation", investigation.pk)
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, channel)
    try:
        with schema_context(org.schema):
            _, pending = chat_ask(investigation, org.owner, "show me the logs")
        with django_capture_on_commit_callbacks(execute=True):
            chat_answer_job(org.schema, pending.pk)

        async def drain() -> list[str]:
            received = []
            while True:
                try:
                    message = await asyncio.wait_for(layer.receive(channel), timeout=1)
                except TimeoutError:
                    return received
                received.append(message["html"])

        fragments = async_to_sync(drain)()
    finally:
        async_to_sync(layer.group_discard)(group, channel)
    # every fragment replaces the same answer element out of band; the last one is the whole answer
    assert len(fragments) >= 3
    assert all(f'id="chat-msg-{pending.pk}"' in f and 'hx-swap-oob="true"' in f for f in fragments)
    assert "Thinking…" in fragments[0]
    assert "Previous (crashed) container:" in fragments[-1] and "Started ReindexJob" in fragments[-1]
    assert 'data-state="done"' in fragments[-1]
    # a retried job does not answer twice
    assert chat_answer_job(org.schema, pending.pk) == {"message": pending.pk, "state": "skipped"}


@pytest.mark.integration
@pytest.mark.usefixtures("committed")
def test_chat_answer_reaches_the_investigation_page_socket(_orgs):
    """Through the real consumer and Redis layer, on committed rows (consumers use their own
    connection handling, which a test transaction does not survive)."""
    import django_rq

    org = _orgs["alpha"]
    with schema_context(org.organization.schema_name):
        target = Investigation.objects.create(status="completed", namespace="search", result=RESULT)
    browser = Client(HTTP_HOST=org.domain)
    browser.force_login(org.owner)
    cookie = browser.cookies["sessionid"].value
    socket = WebsocketCommunicator(
        application,
        f"/ws/investigations/{target.pk}/",
        headers=[
            (b"host", org.domain.encode()),
            (b"origin", f"http://{org.domain}".encode()),
            (b"cookie", f"sessionid={cookie}".encode()),
        ],
    )

    def ask_and_run_job() -> int:
        with schema_context(org.organization.schema_name):
            _, pending = chat_ask(target, org.owner, "What should I run?")
        # run here instead of by a worker, and take the job back out of the shared test queue
        queue = django_rq.get_queue("investigations")
        for job in queue.get_jobs():
            if list(job.args) == [org.organization.schema_name, pending.pk]:
                job.delete()
        chat_answer_job(org.organization.schema_name, pending.pk)
        return pending.pk

    async def scenario() -> tuple[int, list[str]]:
        connected, _ = await socket.connect(timeout=CONNECT_TIMEOUT)
        assert connected
        while not await socket.receive_nothing(timeout=0.5):
            await socket.receive_from()  # the page's catch-up state
        message_id = await sync_to_async(ask_and_run_job)()
        received = []
        while not await socket.receive_nothing(timeout=1):
            received.append(await socket.receive_from())
        await socket.disconnect()
        return message_id, received

    try:
        message_id, fragments = async_to_sync(scenario)()
    finally:
        with schema_context(org.organization.schema_name):
            Investigation.objects.filter(pk=target.pk).delete()
        browser.logout()
    # the conversation (question + pending answer), then the answer as it streamed, ending whole
    assert f'id="chat-log-{target.pk}"' in fragments[0] and "What should I run?" in fragments[0]
    answers = [f for f in fragments if f.lstrip().startswith(f'<article id="chat-msg-{message_id}"')]
    assert len(answers) >= 3 and all('hx-swap-oob="true"' in f for f in answers)
    assert 'data-state="done"' in answers[-1] and "--limits=memory=1536Mi" in answers[-1]


def test_chat_answer_job_that_crashes_marks_the_answer_failed(org):
    # given: a stored result whose evidence is corrupt (not a list of objects)
    with schema_context(org.schema):
        broken = Investigation.objects.create(status="completed", result={"evidence": "corrupt"})
        _, pending = chat_ask(broken, org.owner, "show me the events")
    # when / then: the job fails loudly, and the conversation says so instead of waiting forever
    with pytest.raises(AttributeError):
        chat_answer_job(org.schema, pending.pk)
    with schema_context(org.schema):
        failed = ChatMessage.objects.get(pk=pending.pk)
    assert failed.state == "failed" and failed.note.startswith("Answering failed on our side")


def test_chat_answer_escapes_cluster_text(org, client_for):
    hostile = {
        **RESULT,
        "evidence": [{**RESULT["evidence"][5], "excerpt": "<script>alert(1)</script><img src=x onerror=1>"}],
    }
    with schema_context(org.schema):
        investigation = Investigation.objects.create(status="completed", result=hostile)
    ask_and_answer(org, investigation, org.owner, "previous logs")
    response = client_for(org.owner, org).get(f"/investigations/{investigation.pk}/chat/")
    body = response.content.decode()
    assert "<script>alert(1)" not in body and "<img src=x" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


# -- endpoints and permissions ---------------------------------------------------------------------


def test_chat_get_shows_conversation_to_viewer_without_form(org, investigation, make_member, client_for):
    ask_and_answer(org, investigation, org.owner, "What should I run?")
    viewer = make_member(org, "viewer")
    response = client_for(viewer, org).get(f"/investigations/{investigation.pk}/chat/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "What should I run?" in body and "Restore memory headroom (immediate)" in body
    assert "--limits=memory=1536Mi" in body
    assert 'name="question"' not in body and "Members of the organization can ask" in body


def test_chat_post_by_member_stores_question(org, investigation, make_member, client_for):
    member = make_member(org, "member")
    response = client_for(member, org).post(
        f"/investigations/{investigation.pk}/chat/",
        {"question": "Why did this pod crash?"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Why did this pod crash?" in body and "Waiting for a worker" in body
    with schema_context(org.schema):
        asked = ChatMessage.objects.get(investigation=investigation, role="user")
    assert (asked.author_id, asked.author_email) == (member.pk, member.email)


def test_chat_post_empty_question_is_400(org, investigation, client_for):
    response = client_for(org.owner, org).post(
        f"/investigations/{investigation.pk}/chat/", {"question": "   "}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert "Type a question." in response.content.decode()


def test_chat_post_by_viewer_is_403(org, investigation, make_member, client_for):
    viewer = make_member(org, "viewer")
    response = client_for(viewer, org).post(f"/investigations/{investigation.pk}/chat/", {"question": "why?"})
    assert response.status_code == 403
    with schema_context(org.schema):
        assert not ChatMessage.objects.exists()


def test_chat_endpoints_of_other_org_are_404(org, other_org, investigation, client_for):
    # beta's owner, on beta's host, asks for alpha's investigation id: it does not exist there
    client = client_for(other_org.owner, other_org)
    assert client.get(f"/investigations/{investigation.pk}/chat/").status_code == 404
    assert client.post(f"/investigations/{investigation.pk}/chat/", {"question": "why?"}).status_code == 404
    with schema_context(org.schema):
        assert not ChatMessage.objects.exists()
    with schema_context(other_org.schema):
        assert not ChatMessage.objects.exists()


def test_chat_endpoints_refuse_member_of_other_org_on_its_host(org, other_org, investigation, client_for):
    client = client_for(other_org.owner, org)  # signed in, but no member of alpha
    assert client.get(f"/investigations/{investigation.pk}/chat/").status_code == 403
    assert client.post(f"/investigations/{investigation.pk}/chat/", {"question": "why?"}).status_code == 403


# -- the model path ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def oom_executor() -> Iterator[Executor]:
    with start_simulator(OOM_SCENARIO) as sim:
        yield Executor(api_client_for(sim.url), Limits(), request_timeout=10)


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    scripted = ScriptedServer().start()
    yield scripted
    scripted.stop()


def executor_reader(executor: Executor, seen: list[Ask]):
    """A Reader executing each read with the agent's own executor (allow-list, redaction, caps)."""

    def read(asks: list[Ask]) -> list[Answer]:
        answers = []
        for index, ask in enumerate(asks):
            seen.append(ask)
            raw = {
                "id": f"chat-{len(seen)}-{index}",
                "op": ask.op,
                "kind": ask.kind,
                "namespace": ask.namespace,
                "name": ask.name,
                "params": dict(ask.params),
                "deadline": (datetime.now(UTC) + timedelta(seconds=30)).isoformat(),
            }
            result = executor.execute(raw)
            error = f"{result.error.code}: {result.error.message}" if result.error else ""
            answers.append(Answer(ask, result.ok, result.data, error, result.truncated, result.redactions))
        return answers

    return read


def configure_model(org, url: str) -> None:
    from investigations.llm.config import model_config_save

    with schema_context(org.schema):
        model_config_save(
            changes={
                "provider": "openai",
                "endpoint": f"{url}/v1",
                "model_analysis": "qwen2.5-72b-instruct",
                "model_chat": "qwen-chat",
                "price_in_per_1k": Decimal("0.001"),
                "price_out_per_1k": Decimal("0.002"),
            },
            api_key="sk-test-key-123456",
        )


def test_chat_model_tool_call_is_executed_stored_and_shown(
    org, investigation, server, oom_executor, client_for
):
    # given: a model that reads the previous container's log, asks for a Secret, then answers
    configure_model(org, server.url)
    server.add(
        openai_tool_calls(
            (
                "call_logs",
                "pod_logs",
                {"namespace": "search", "pod": POD, "previous": True, "tail_lines": 20},
            ),
            ("call_secret", "get_object", {"kind": "Secret", "namespace": "search", "name": "indexer-creds"}),
            prompt=1000,
            completion=50,
        ),
        openai_text("The previous container ended after a G1 Humongous Allocation [T1]; see [E1].", 1500, 80),
    )
    seen: list[Ask] = []
    # when
    answer = ask_and_answer(
        org,
        investigation,
        org.owner,
        "Is the heap still growing?",
        reader=executor_reader(oom_executor, seen),
    )
    # then: only the allowed read reached the agent
    assert [(a.op, a.kind, a.name, a.params) for a in seen] == [
        ("logs", "Pod", POD, {"tail_lines": 20, "previous": True})
    ]
    # the model saw the evidence as data, with the tools, and got the log and the refusal as tool results
    first = server.requests[0].body
    assert server.requests[0].path == "/v1/chat/completions" and first["model"] == "qwen-chat"
    assert {t["function"]["name"] for t in first["tools"]} == {
        "get_object",
        "list_objects",
        "pod_logs",
        "events_for",
    }
    assert '<untrusted-data source="evidence (cite ids like E1)">' in first["messages"][1]["content"]
    assert first["messages"][-1] == {"role": "user", "content": "Is the heap still growing?"}
    tool_replies = {
        m["tool_call_id"]: m["content"] for m in server.requests[1].body["messages"] if m["role"] == "tool"
    }
    assert "G1 Humongous Allocation" in tool_replies["call_logs"]
    assert tool_replies["call_secret"].startswith("REFUSED:")
    # stored: text, model, tokens, cost, both calls (one refused)
    with schema_context(org.schema):
        stored = ChatMessage.objects.get(pk=answer.pk)
    assert stored.text == "The previous container ended after a G1 Humongous Allocation [T1]; see [E1]."
    assert (stored.answered_by, stored.model, stored.tokens) == ("model", "qwen-chat", 2630)
    assert stored.cost == Decimal("0.002760")  # 2.5k in at $0.001 + 0.13k out at $0.002
    calls = {c["id"]: c for c in stored.tool_calls}
    assert calls["call_logs"]["status"] == "ok" and not calls["call_logs"]["refused"]
    assert calls["call_logs"]["read"] == f"logs Pod {POD} -n search tail_lines=20 previous=True"
    assert calls["call_secret"]["refused"] and "Secrets are never read" in calls["call_secret"]["reason"]
    # shown in the conversation
    body = client_for(org.owner, org).get(f"/investigations/{investigation.pk}/chat/").content.decode()
    # (arguments in the order PostgreSQL's jsonb keeps them: by key length, then alphabetically)
    assert f"<code>pod_logs(pod={POD}, previous=True, namespace=search, tail_lines=20)</code>" in body
    assert "(2467 characters)" in body
    assert 'data-tool="get_object" data-status="refused"' in body and ">refused</span>" in body
    assert "model qwen-chat" in body


def test_chat_model_failure_falls_back_to_evidence_and_says_why(org, investigation, server):
    configure_model(org, server.url)
    from tests.investigations.llm.servers import Reply

    server.add(Reply(401, {"error": "bad key"}))
    answer = ask_and_answer(
        org, investigation, org.owner, "What changed?", reader=lambda asks: pytest.fail("no read expected")
    )
    assert answer.answered_by == "builtin"
    assert answer.text == builtin.answer(RESULT, "What changed?").text
    assert answer.note.startswith("The model could not answer (the endpoint rejected the API key (HTTP 401)")


def test_chat_model_budget_spent_answers_from_evidence(org, investigation, server):
    from investigations.llm.config import model_config_save, usage_record

    configure_model(org, server.url)
    with schema_context(org.schema):
        model_config_save(changes={"daily_budget_usd": Decimal("1.00")})
        usage_record(day=datetime.now(UTC).date(), tokens_in=1, tokens_out=1, cost=Decimal("1.50"))
    answer = ask_and_answer(org, investigation, org.owner, "What should I run?")
    assert server.requests == []
    assert answer.answered_by == "builtin"
    assert "daily model budget of $1.00 is spent" in answer.note
