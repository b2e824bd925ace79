"""Forbidden tools: refused, recorded, answered as a refusal, and never executed."""

from __future__ import annotations

import pytest

from investigations.engine.collect import Ask
from investigations.llm.providers import ToolCall
from investigations.llm.reasoning import analyze_with_model
from investigations.llm.tools import Toolbox
from tests.investigations.llm.conftest import OOM_POD, answer, openai_settings
from tests.investigations.llm.servers import openai_text, openai_tool_calls

FORBIDDEN = [
    ("c1", "get_object", {"kind": "Secret", "namespace": "search", "name": "search-indexer-credentials"}),
    ("c2", "list_objects", {"kind": "secrets", "namespace": "search"}),
    ("c3", "exec_in_pod", {"namespace": "search", "pod": OOM_POD, "command": "cat /etc/passwd"}),
    ("c4", "delete_object", {"kind": "Namespace", "name": "search"}),
    ("c5", "pod_logs", {"namespace": "search", "pod": OOM_POD, "tail_lines": 10_000_000}),
    ("c6", "get_object", {"kind": "CustomThing", "namespace": "search", "name": "x"}),
]


def test_forbidden_tool_calls_are_refused_recorded_and_never_executed(server, oom_case, oom_executor):
    # given: a model asking for Secrets, exec, delete, an unknown kind and an absurd tail, plus one fine read
    fine = ("c7", "get_object", {"kind": "Deployment", "namespace": "search", "name": "search-indexer"})
    server.add(
        openai_tool_calls(*FORBIDDEN[:5]), openai_tool_calls(FORBIDDEN[5], fine), openai_text(answer())
    )
    # when
    analysis = analyze_with_model(
        openai_settings(server.url),
        evidence_payload=oom_case.payload,
        findings=oom_case.findings,
        reader=oom_case.reader(oom_executor),
    )
    # then: the Reader only ever saw the allowed read
    assert [(a.op, a.kind, a.name) for a in oom_case.seen] == [("get", "Deployment", "search-indexer")]
    refused = {r["id"]: r["reason"] for r in analysis.refused_calls}
    assert set(refused) == {"c1", "c2", "c3", "c4", "c5", "c6"}
    assert "Secrets are never read" in refused["c1"]
    assert "Secrets are never read" in refused["c2"]
    assert "no tool 'exec_in_pod'" in refused["c3"]
    assert "no tool 'delete_object'" in refused["c4"]
    assert "tail_lines must be between 1 and 500" in refused["c5"]
    assert "not on the agent's allow-list" in refused["c6"]
    # and the model was told, as tool results
    replies = {
        m["tool_call_id"]: m["content"] for m in server.requests[1].body["messages"] if m["role"] == "tool"
    }
    assert all(replies[cid].startswith("REFUSED:") for cid in ("c1", "c2", "c3", "c4", "c5"))
    assert "Nothing was executed" in replies["c1"]
    last = {
        m["tool_call_id"]: m["content"] for m in server.requests[2].body["messages"] if m["role"] == "tool"
    }
    assert last["c6"].startswith("REFUSED:") and '"name": "search-indexer"' in last["c7"]
    assert any("refused and not executed" in note for note in analysis.notes)


@pytest.mark.parametrize(
    "arguments",
    [
        {"kind": "Pod", "namespace": "search", "name": OOM_POD, "verb": "delete"},  # unexpected argument
        {"kind": "Pod", "namespace": "search"},  # missing name
        {"kind": ["Pod"], "namespace": "search", "name": "x"},  # not a string
        {"__invalid__": "{not json"},  # unreadable arguments
        {"kind": "Pod", "namespace": "../../etc", "name": "x"},  # the agent's name rules
    ],
)
def test_toolbox_refuses_malformed_arguments_without_reading(arguments):
    seen: list[Ask] = []
    toolbox = Toolbox(lambda asks: seen.extend(asks) or [])
    [reply] = toolbox.run_round([ToolCall("x", "get_object", arguments)])
    assert reply.is_error and reply.record.status == "refused"
    assert seen == []


def test_toolbox_caps_calls_per_analysis(oom_case, oom_executor):
    toolbox = Toolbox(oom_case.reader(oom_executor), max_calls=2)
    call = ToolCall("c", "events_for", {"kind": "Pod", "namespace": "search", "name": OOM_POD})
    replies = toolbox.run_round([call, call, call])
    assert [r.record.status for r in replies] == ["ok", "ok", "refused"]
    assert "tool budget exhausted" in replies[2].content
    assert len(oom_case.seen) == 2


def test_toolbox_caps_result_size(oom_case, oom_executor):
    toolbox = Toolbox(oom_case.reader(oom_executor))
    [reply] = toolbox.run_round([ToolCall("c", "list_objects", {"kind": "Pod", "namespace": "search"})])
    assert reply.record.status == "ok"
    assert reply.record.truncated and reply.record.chars == 12_000
