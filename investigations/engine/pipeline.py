"""The staged investigation: extract → topology → collect → analyze → recommend.

Independent of Django models: it takes a reader (the agent, through the gateway) and the alert's
fields, reports each step as it finishes (the caller records it and publishes it live), enforces the
overall deadline between stages, and keeps what was collected when it fails.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from investigations.engine.analysis import Analysis, run_analyzers
from investigations.engine.collect import Collector, Reader
from investigations.engine.context import Context
from investigations.engine.evidence import Ref
from investigations.engine.facts import container_states
from investigations.engine.lookup import resolve_target
from investigations.engine.result import build_result
from investigations.engine.target import Target, group_size, target_candidates
from investigations.engine.topology import build_topology

STAGES = ("extract", "topology", "collect", "analyze", "recommend")
# Namespaces read for the group's other alerts when the first target does not exist.
MAX_CANDIDATE_NAMESPACES = 2


class InvestigationFailed(Exception):
    """Raised with a reason a person understands (agent offline, deadline exceeded, …)."""


@dataclasses.dataclass
class StepRecord:
    stage: str
    started_at: datetime
    finished_at: datetime | None = None
    status: str = "running"  # running | ok | failed
    summary: str = ""
    detail: dict[str, Any] = dataclasses.field(default_factory=dict)
    tokens: int = 0

    @property
    def seconds(self) -> float:
        end = self.finished_at or datetime.now(UTC)
        return (end - self.started_at).total_seconds()


@dataclasses.dataclass
class Outcome:
    result: dict[str, Any] | None
    steps: list[StepRecord]
    failure: str = ""
    partial: bool = False


class Pipeline:
    def __init__(
        self,
        read: Reader,
        fields: dict[str, Any],
        *,
        deadline_seconds: float = 120,
        on_step: Callable[[StepRecord], None] | None = None,
        now: datetime | None = None,
        reader_errors: tuple[type[Exception], ...] = (),
        model_hook: Callable[[Context, Any, float], Any] | None = None,
        extract_hook: Callable[[dict[str, Any]], Any] | None = None,
    ):
        self.collector = Collector(read, now=now)
        self.fields = fields
        self.deadline = time.monotonic() + deadline_seconds
        self.deadline_seconds = deadline_seconds
        self.on_step = on_step or (lambda step: None)
        self.reader_errors = reader_errors
        self.steps: list[StepRecord] = []
        self.timings: dict[str, float] = {}
        self.target: Target | None = None
        self.candidates: list[Target] = []
        self.ctx: Context | None = None
        # Optional model stage (investigations.llm.stage.model_stage): reasons over the evidence and
        # the analyzers' findings; code validates its answer (see the model layer's README).
        self.model_hook = model_hook
        # Optional extraction model (investigations.llm.extraction): asked only when still unsure.
        self.extract_hook = extract_hook
        self.model_outcome: Any = None

    def run(self) -> Outcome:
        started = time.perf_counter()
        result = None
        try:
            self._stage("extract", self._extract)
            self._stage("topology", self._topology)
            self._stage("collect", self._collect)
            analysis = self._stage("analyze", self._analyze)
            result = self._stage("recommend", lambda: self._recommend(analysis))
        except InvestigationFailed as failure:
            self.timings["total"] = time.perf_counter() - started
            return Outcome(self._salvage(), self.steps, str(failure), partial=True)
        self.timings["total"] = time.perf_counter() - started
        result["timings"] = {k: round(v, 3) for k, v in self.timings.items()}
        partial = result["root_cause"]["category"] == "unknown" and bool(result.get("alternatives"))
        return Outcome(result, self.steps, "", partial)

    # -- plumbing ----------------------------------------------------------------------------------

    def _target(self) -> Target:
        """The alert's target; set by the extract stage, which runs before every other."""
        if self.target is None:
            raise RuntimeError("the extract stage has not set the target")
        return self.target

    def _context(self) -> Context:
        """The cluster context; built by the topology stage, which runs before the later ones."""
        if self.ctx is None:
            raise RuntimeError("the topology stage has not built the context")
        return self.ctx

    def _stage(self, name: str, work: Callable[[], Any]) -> Any:
        if time.monotonic() > self.deadline:
            raise InvestigationFailed(
                f"deadline of {self.deadline_seconds:.0f} s exceeded before the {name} stage; "
                "what was collected so far is kept"
            )
        step = StepRecord(name, datetime.now(UTC))
        self.steps.append(step)
        self.on_step(step)
        started = time.perf_counter()
        try:
            value = work()
        except self.reader_errors as error:
            step.status, step.finished_at = "failed", datetime.now(UTC)
            step.summary = f"{error.__class__.__name__}: {error}"
            self.on_step(step)
            raise InvestigationFailed(_reason(error)) from error
        except InvestigationFailed as failure:
            step.status, step.finished_at, step.summary = "failed", datetime.now(UTC), str(failure)
            self.on_step(step)
            raise
        self.timings[name] = time.perf_counter() - started
        step.status, step.finished_at = "ok", datetime.now(UTC)
        self.on_step(step)
        return value

    def _current(self) -> StepRecord:
        return self.steps[-1]

    # -- stages ----------------------------------------------------------------------------------

    def _extract(self) -> None:
        self.candidates = target_candidates(self.fields)
        target = self.candidates[0]
        self.target = target
        step = self._current()
        alerts = group_size(self.fields)
        if not target.known and self.extract_hook is not None:
            alert = self.fields if target.alert_index == 0 else self.fields["group"][target.alert_index - 1]
            extracted = self.extract_hook(alert)
            if extracted is not None:
                target.kind, target.name, target.method = extracted.kind, extracted.name, "model"
                target.namespace = target.namespace or extracted.namespace
                step.tokens = extracted.tokens
        step.detail = {
            "target": target.as_dict(),
            "alerts": alerts,
            "candidates": [c.as_dict() | {"alert_index": c.alert_index} for c in self.candidates[:8]],
        }
        if not target.namespace and target.kind != "Node":
            raise InvestigationFailed(
                "the alert names no Kubernetes namespace or resource, so there is nothing to inspect"
                if alerts == 1
                else f"none of the {alerts} alerts of the group names a Kubernetes namespace or resource, "
                "so there is nothing to inspect"
            )
        which = ""
        if alerts > 1:
            which = f", alert {target.alertname!r}" + (
                " it started from" if target.alert_index == 0 else f" ({target.alert_index + 1} of {alerts})"
            )
        step.summary = f"target {target.describe()} (from {target.method}{which})"

    def _topology(self) -> None:
        target = self._target()
        collector = self.collector
        collector.namespace_round(target.namespace or "default", cluster_scoped=True)
        target, view = resolve_target(
            self.candidates or [target],
            collector.view(),
            listed=collector.was_listed,
            read_namespace=self._read_candidate_namespace,
        )
        self.target = target
        if target.kind == "Node" and not target.not_found:
            collector.node_pods_round(target.name)
        if not target.not_found:
            for namespace in collector.referenced_namespaces():
                collector.namespace_round(namespace, cluster_scoped=False, name=f"namespace {namespace}")
        view = collector.view()
        topology = build_topology(view, target)
        self.ctx = Context(view, target, topology)
        step = self._current()
        step.detail = {
            "rounds": [r.as_dict() for r in collector.reports],
            "topology": topology.as_dict(),
            "target": target.as_dict(),
        }
        if target.not_found:
            found = "not found: looked up " + "; ".join(target.not_found)
        else:
            found = f"{target.describe()} found" if target.known else f"namespace {target.namespace}"
            if target.note:
                found += f" ({target.note})"
        step.summary = (
            f"read {sum(r.objects for r in collector.reports)} objects in "
            f"{len(collector.namespaces_read)} namespace(s); {found}; graph of "
            f"{len(topology.nodes)} nodes and {len(topology.edges)} edges"
            + (f"; {len(topology.missing)} referenced object(s) missing" if topology.missing else "")
        )

    def _read_candidate_namespace(self, namespace: str):
        """The view with `namespace` read too (another alert's target); None past the budget."""
        collector = self.collector
        if namespace not in collector.namespaces_read:
            read_for_candidates = len(collector.namespaces_read) - 1
            if read_for_candidates >= MAX_CANDIDATE_NAMESPACES:
                return None
            collector.namespace_round(
                namespace, cluster_scoped=False, name=f"namespace {namespace} (another alert)"
            )
        return collector.view()

    def _collect(self) -> None:
        ctx = self._context()
        step = self._current()
        if ctx.target.not_found:
            step.summary = "nothing to read: the alert's resource does not exist"
            return
        pods = list(ctx.topology.pods)
        # Failing pods elsewhere in the namespace matter too (a dependency that crashes).
        for pod in ctx.view.all("Pod", ctx.namespace):
            if pod not in pods and any(s.failing or not s.ready for s in container_states(pod)):
                pods.append(pod)
        report = self.collector.logs_round(pods)
        first_extra = len(self.collector.reports)
        # What the logs point at: other namespaces' Services (policies, endpoints), the cluster DNS.
        for namespace in self.collector.log_namespaces():
            self.collector.namespace_round(namespace, cluster_scoped=False, name=f"namespace {namespace}")
        if self.collector.lookups_failed():
            self.collector.dns_round()
        extra = self.collector.reports[first_extra:]
        new_view = self.collector.view()
        ctx.view = new_view
        ctx.topology = build_topology(new_view, ctx.target)
        step.detail = {"logs": report.as_dict(), "rounds": [r.as_dict() for r in extra]}
        gaps = len(report.gaps) + sum(len(r.gaps) for r in extra)
        step.summary = (
            f"read {report.objects} log stream(s) of {len(pods)} pod(s)"
            + (f", {report.redactions} credential(s) masked by the agent" if report.redactions else "")
            + (f"; then {', '.join(r.name for r in extra)}" if extra else "")
            + (f", {gaps} unavailable" if gaps else "")
        )

    def _analyze(self):
        ctx = self._context()
        step = self._current()
        if ctx.target.not_found:
            # Nothing named exists: analyzing the rest of the namespace would be a guess about
            # something else, and so would asking a model.
            step.summary = "not found: looked up " + "; ".join(ctx.target.not_found)
            return Analysis(None, [], [], [])
        analysis = run_analyzers(ctx)
        step.detail = {
            "findings": [
                {
                    "category": f.category,
                    "resource": f.resource.as_dict(),
                    "confidence": round(f.confidence, 2),
                    "summary": f.summary,
                    "analyzer": f.analyzer,
                }
                for f in analysis.findings[:8]
            ],
            "errors": analysis.errors,
        }
        if self.model_hook is not None:
            self.model_outcome = self.model_hook(self._context(), analysis, self.deadline - time.monotonic())
            step.tokens = self.model_outcome.tokens
            if self.model_outcome.llm:
                step.detail["model"] = self.model_outcome.llm
        if analysis.best is not None:
            step.summary = (
                f"{analysis.best.category} ({analysis.best.confidence:.0%}): {analysis.best.summary}"
            )
        else:
            step.summary = "no finding is well supported: the answer is unknown" + (
                f" (weak candidates: {', '.join(f.category for f in analysis.findings[:3])})"
                if analysis.findings
                else ""
            )
        return analysis

    def _recommend(self, analysis) -> dict[str, Any]:
        result = build_result(
            self._context(), analysis, timings=self.timings, alert_start=self.fields.get("starts_at")
        )
        if self.model_outcome is not None:
            result = self.model_outcome.apply(result)
        step = self._current()
        step.summary = f"{len(result['recommendations'])} recommendation(s), none executed"
        step.detail = {"recommendations": [r["title"] for r in result["recommendations"]]}
        return result

    def _salvage(self) -> dict[str, Any] | None:
        """On failure, keep what was collected: evidence and topology so far."""
        if self.ctx is None:
            return None
        return {
            "root_cause": None,
            "evidence": [item.as_dict() for item in self.ctx.evidence.items],
            "topology": self.ctx.topology.as_dict(),
            "target": self.ctx.target.as_dict(),
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "recommendations": [],
        }


def _reason(error: Exception) -> str:
    name = error.__class__.__name__
    if name == "AgentOffline":
        return f"the cluster's agent is offline: {error}"
    if name == "CommandTimeout":
        return f"the agent did not answer in time: {error}"
    return f"reading the cluster failed: {error}"


def pod_refs(pods: list[dict]) -> list[str]:
    return [str(Ref.of(p)) for p in pods]
