"""liveness-probe-misconfigured: the liveness probe kills a container before it finishes starting
(Killing/Unhealthy events, exit 137/143): the probe's budget (initialDelaySeconds + failureThreshold
x periodSeconds) is shorter than the startup the logs show, and no startupProbe holds it off.
Confidence drops when the killed container logged an error, or when the CPU is at its limit
(throttling may be what slows the probe).
"""

from __future__ import annotations

import re

from investigations.engine import kubectl
from investigations.engine import kubectl_extra as kx
from investigations.engine.analysis import analyzer
from investigations.engine.analyzers.probes import probe_text
from investigations.engine.analyzers.workload_facts import (
    KILLED_BY_SIGNAL,
    change_text,
    cpu_saturated,
    crash_excerpt,
    diagnose_pod,
    event_count,
    first_of,
    group_by_workload,
    latest_rollout,
    line_with,
    matching_events,
    shorten,
    spec_of,
)
from investigations.engine.context import Context
from investigations.engine.evidence import Contributing, Finding, Ref, parse_time
from investigations.engine.facts import container_states
from investigations.engine.kubectl import Recommendation


def _last_terminated(pod: dict, container: str) -> dict:
    for item in (pod.get("status") or {}).get("containerStatuses") or []:
        if item.get("name") == container:
            return (item.get("lastState") or {}).get("terminated") or {}
    return {}


def _ran_seconds(pod: dict, container: str) -> float | None:
    last = _last_terminated(pod, container)
    start, end = parse_time(last.get("startedAt")), parse_time(last.get("finishedAt"))
    return (end - start).total_seconds() if start and end else None


_STARTED_IN = re.compile(
    r"(?:Started \S+|started|startup (?:complete|finished|took)|ready)\D{0,20}?"
    r"in (?P<s>\d+(?:\.\d+)?) ?(?:s\b|sec|seconds)",
    re.I,
)


@analyzer("liveness-probe-misconfigured")
# Over the C901 limit (18): detection, evidence and explanation in one function; to split.
def liveness_probe_misconfigured(ctx: Context) -> list[Finding]:  # noqa: C901
    view = ctx.view
    killed = []
    for pod in ctx.in_scope_pods():
        for state in container_states(pod):
            if state.restarts < 1 or "OOMKilled" in (state.last_reason, state.terminated_reason):
                continue
            kills = [
                e
                for e in matching_events(view, pod, "Killing")
                if "liveness" in (e.get("message") or "").lower()
            ]
            failures = matching_events(view, pod, "Unhealthy", "Liveness probe failed")
            if kills or (failures and state.last_exit_code in KILLED_BY_SIGNAL):
                killed.append((pod, state, kills, failures))
    findings = []
    for workload, members in group_by_workload(view, killed):
        pod, state, kills, failures = members[0]
        workload_ref, pod_ref = Ref.of(workload), Ref.of(pod)
        container = spec_of(view, pod, state.name)
        probe = container.get("livenessProbe") or {}
        if not probe:
            continue
        startup = container.get("startupProbe")
        budget = int(probe.get("initialDelaySeconds", 0)) + int(probe.get("periodSeconds", 10)) * int(
            probe.get("failureThreshold", 3)
        )
        evidence = []
        if kills:
            evidence.append(
                ctx.cite("event", pod, f"Killing x{event_count(kills[-1])}: {kills[-1].get('message')}")
            )
        if failures:
            evidence.append(
                ctx.cite(
                    "event", pod, f"Unhealthy x{event_count(failures[-1])}: {failures[-1].get('message')}"
                )
            )
        ran = _ran_seconds(pod, state.name)
        evidence.append(
            ctx.cite(
                "status",
                pod,
                f"restartCount {state.restarts}, lastState.terminated exitCode {state.last_exit_code}"
                + (f" after {int(ran)} s" if ran is not None else ""),
            )
        )
        code = state.last_exit_code
        signal = {143: "SIGTERM", 137: "SIGKILL"}.get(code or 0, "")
        parts = [
            f"The kubelet restarts container {state.name} of {workload_ref.kind} {workload_ref.name} "
            "because its "
            f"liveness probe fails ({'; '.join(f'[{e}]' for e in evidence[:-1])}): the container is stopped "
            "with exit code "
            f"{code}{f' ({signal})' if signal else ''}"
            + (f" after running {int(ran)} s" if ran is not None else "")
            + f", restartCount {state.restarts} [{evidence[-1]}].",
            f"livenessProbe: {probe_text(probe)} — it gives the app about {budget} s (initialDelaySeconds "
            f"{probe.get('initialDelaySeconds', 0)} + {probe.get('failureThreshold', 3)} x "
            f"{probe.get('periodSeconds', 10)} s) before the first restart, and there is "
            + ("no startupProbe." if not startup else f"a startupProbe ({probe_text(startup)})."),
        ]
        previous = view.log(pod, state.name, previous=True)
        error, _location = crash_excerpt(previous)
        confidence = 0.7 if previous and not error else 0.55
        if previous and not error:
            tail = first_of(reversed([line for line in previous.splitlines() if line.strip()]), "")
            evidence.append(
                ctx.cite("previous_log", pod, f"last line before the restart: {shorten(tail, 300)}")
            )
            parts.append(
                f"The killed container's log shows a normal startup cut off, no exception [{evidence[-1]}]: "
                "the app is "
                "healthy but still starting (slow startup) when the probe kills it."
            )
        elif error:
            parts.append(f'The killed container logged an error before the kill: "{shorten(error, 200)}".')
        startup_seconds = None
        startup_text = ""
        for other in view.pods_of(workload) or [pod]:
            for candidate in (view.log(other, state.name), view.log(other, state.name, previous=True)):
                found = _STARTED_IN.search(candidate or "")
                if found:
                    startup_text = found.group("s")
                    startup_seconds = float(startup_text)
                    evidence.append(ctx.cite("log", other, line_with(candidate, found.group(0))))
                    break
            if startup_seconds:
                break
        if startup_seconds:
            parts.append(
                f"A pod that did start needed {startup_text} seconds (~{int(startup_seconds)}s) to start "
                f"[{evidence[-1]}] — longer than the ~{budget} s the liveness probe allows."
            )
            if startup_seconds > budget and not error:
                confidence += 0.1
        contributing = []
        change = latest_rollout(view, workload, pod)
        if change:
            probe_changes = [d for d in change.details if "livenessProbe" in d or "startupProbe" in d]
            if probe_changes:
                evidence.append(ctx.cite("change", workload, change_text(change, keep=["Probe"])))
                parts.append(
                    f"What changed: {change_text(change, keep=['livenessProbe', 'startupProbe'])} "
                    f"[{evidence[-1]}]."
                )
                contributing.append(
                    Contributing(workload_ref, f"{change.what}: {'; '.join(probe_changes)[:300]}")
                )
                confidence += 0.05
        if cpu_saturated(view, pod, state.name):
            confidence = min(confidence, 0.5)
            parts.append("CPU usage is at its limit, so throttling may be what slows the probe.")
        confidence = min(confidence, 0.85)
        wanted = max(int((startup_seconds or budget) * 1.5), budget + 60)
        period = int(probe.get("periodSeconds", 10)) or 10
        startup_probe = {
            "startupProbe": {
                **{k: v for k, v in probe.items() if k in ("httpGet", "tcpSocket", "grpc", "exec")},
                "periodSeconds": period,
                "failureThreshold": -(-wanted // period),
            }
        }
        recommendations = [
            Recommendation(
                "Give the app time to start: add a startupProbe",
                "immediate",
                f"A startupProbe allowing ~{wanted} s holds off the liveness probe until the app is up.",
                [kx.container_patch(workload_ref, state.name, startup_probe)],
            ),
        ]
        if contributing and workload.get("kind") == "Deployment":
            recommendations.append(
                Recommendation(
                    "Or roll back the probe change",
                    "immediate",
                    "The previous revision's probes let the app start.",
                    [kubectl.rollout_history(workload_ref), kubectl.rollout_undo(workload_ref)],
                )
            )
        recommendations.append(diagnose_pod(pod_ref, state.name))
        recommendations.append(
            Recommendation(
                "Size probes from measured startup time",
                "preventive",
                "Use startupProbes for slow starters; keep liveness cheap and tolerant (it restarts, it "
                "does not route).",
                [],
            )
        )
        summary = (
            f"{workload_ref.kind} {workload_ref.name}: the liveness probe kills container {state.name} "
            f"(exit code {code}) before it finishes starting"
            + (f" (~{int(startup_seconds)}s startup vs ~{budget}s allowed)" if startup_seconds else "")
        )
        findings.append(
            Finding(
                category="liveness-probe-misconfigured",
                resource=workload_ref,
                confidence=confidence,
                summary=summary,
                explanation=" ".join(parts),
                evidence=evidence,
                contributing=contributing,
                facts={"budget": budget, "startup_seconds": startup_seconds, "exit_code": code},
                recommendations=recommendations,
            )
        )
    return findings
