"""The suggested pipeline call site, end to end: simulator → agent executor → pipeline → model → result.

`ModelPipeline` is exactly the change proposed for `Pipeline._analyze` / `_recommend` (see the
report): the model runs after the analyzers, inside the deadline, and its outcome is merged into
the result built from the analyzers.
"""

from __future__ import annotations

import json
from datetime import date

from investigations.engine.evidence import parse_time
from investigations.engine.offline import alert_fields
from investigations.engine.pipeline import Pipeline
from investigations.llm.prompts import build_evidence_payload
from investigations.llm.stage import model_stage
from tests.investigations.llm.conftest import OOM_POD, answer, openai_settings
from tests.investigations.llm.servers import openai_text, openai_tool_calls


def test_pipeline_with_model_keeps_analyzers_against_an_injected_log(
    server, injected_scenario, injected_executor, injected_case, org, in_schema
):
    server.add(
        openai_tool_calls(
            (
                "call_1",
                "pod_logs",
                {"namespace": "search", "pod": OOM_POD, "container": "indexer", "previous": True},
            ),
            ("call_2", "get_object", {"kind": "Secret", "namespace": "search", "name": "indexer-creds"}),
        ),
        openai_text(
            answer(
                category="node-problem",
                resource={
                    "kind": "Node",
                    "namespace": "",
                    "name": "ip-10-42-3-88.eu-west-1.compute.internal",
                },
                commands=["kubectl delete namespace search"],
            )
        ),
    )
    alert = json.loads((injected_scenario / "alert.json").read_text())
    cluster = json.loads((injected_scenario / "cluster.json").read_text())
    fields = alert_fields(alert)
    read = injected_case.reader(injected_executor)
    settings = openai_settings(server.url)

    def hook(ctx, analysis, remaining):
        return model_stage(
            evidence_payload=build_evidence_payload(ctx, fields),
            findings=analysis.findings,
            reader=read,
            today=date(2026, 11, 27),
            settings=settings,  # production: read from the organization (settings=None)
            deadline_seconds=remaining,
        )

    pipeline = Pipeline(read, fields, now=parse_time(cluster["x-capture"]["capturedAt"]), model_hook=hook)
    with in_schema(org):  # the model stage totals usage in the organization's schema
        outcome = pipeline.run()

    result = outcome.result
    assert outcome.failure == ""
    assert result["root_cause"]["category"] == "oom-killed"
    assert result["root_cause"]["source"] == "analyzers"
    assert not any("delete namespace" in c for r in result["recommendations"] for c in r["commands"])
    assert result["llm"]["provider"] == "openai" and result["llm"]["tokens"] == 900 + 40 + 1200 + 300
    assert [c["tool"] for c in result["llm"]["refused_calls"]] == ["get_object"]
    assert not any(a.kind == "Secret" for a in injected_case.seen)
    assert any(e["id"] == "T1" and e["kind"] == "tool" for e in result["evidence"])
    analyze_step = next(s for s in outcome.steps if s.stage == "analyze")
    assert analyze_step.tokens == 2440
