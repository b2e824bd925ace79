"""app-crash: the container keeps exiting with an error of its own (not SIGKILL/SIGTERM from outside,
not OOMKilled): the crash and its code location in the log. Confidence drops when the log points at
a dependency or configuration instead, which the more specific analyzers explain.
"""

from __future__ import annotations

import re

from investigations.engine import kubectl
from investigations.engine.analysis import analyzer
from investigations.engine.analyzers.workload_facts import (
    DEPENDENCY_SIGNAL,
    KILLED_BY_SIGNAL,
    change_text,
    crash_excerpt,
    crashing_containers,
    diagnose_pod,
    first_of,
    group_by_workload,
    latest_rollout,
    matching_events,
    shorten,
    spec_of,
    split_image,
)
from investigations.engine.context import Context
from investigations.engine.evidence import Contributing, Finding, Ref
from investigations.engine.kubectl import Recommendation
from investigations.engine.log_facts import CONFIG_UNREADABLE, classify_log, first_of_kind

_ERROR_LINE = re.compile(r"\b(?:ERROR|FATAL|FTL|CRITICAL|panic)\b", re.I)


@analyzer("app-crash")
def app_crash(ctx: Context) -> list[Finding]:
    view = ctx.view
    findings = []
    for workload, members in group_by_workload(view, crashing_containers(ctx)):
        workload_ref = Ref.of(workload)
        codes = [s.last_exit_code for s in members if s.last_exit_code is not None]
        if codes and all(code in KILLED_BY_SIGNAL for code in codes):
            continue  # killed from outside (SIGKILL/SIGTERM): not the program failing on its own
        if any(matching_events(view, s.pod, "Killing", "liveness") for s in members):
            continue
        crashing = [s for s in members if s.last_exit_code not in KILLED_BY_SIGNAL]
        first = crashing[0]
        pod, pod_ref = first.pod, Ref.of(first.pod)
        logs = {
            Ref.of(s.pod).name: view.log(s.pod, s.name, previous=True) or view.log(s.pod, s.name)
            for s in crashing
        }
        text = "\n".join(logs.values())
        error, location = crash_excerpt(text)
        dependency = DEPENDENCY_SIGNAL.search(text)
        if error and not dependency:
            confidence = 0.6
        elif _ERROR_LINE.search(text) and not dependency:
            confidence = 0.4
            error = (
                error
                or first_of(line.strip() for line in text.splitlines() if _ERROR_LINE.search(line))
                or ""
            )
        else:
            confidence = 0.3
        if first_of_kind(classify_log(text), CONFIG_UNREADABLE):
            confidence = min(confidence, 0.3)  # the program says its configuration is unreadable
        code = first.last_exit_code
        spec = spec_of(view, pod, first.name)
        image = spec.get("image", "")
        _registry, _repository, tag = split_image(image)
        pods_text = ", ".join(f"{Ref.of(s.pod).name} (restarts {s.restarts})" for s in crashing[:4])
        evidence = [
            ctx.cite(
                "status",
                pod,
                f"containers[{first.name}] {first.waiting_reason or 'restarting'}; lastState.terminated "
                f"reason={first.last_reason or 'Error'} exitCode={code} on {pods_text}",
            )
        ]
        parts = [
            f"Container {first.name} of {workload_ref.kind} {workload_ref.name} keeps crashing: it exits "
            "with exit "
            f"code {code} (reason {first.last_reason or 'Error'}, not OOMKilled, not killed by a probe) and "
            "is "
            f"restarted in CrashLoopBackOff [{evidence[0]}]."
        ]
        if error:
            excerpt = error + (f" — {location}" if location else "")
            evidence.append(ctx.cite("previous_log", pod, excerpt))
            parts.append(
                f'The previous container\'s log ends with the crash: "{shorten(excerpt, 500)}" '
                f"[{evidence[-1]}]."
            )
        if dependency:
            parts.append(
                f'The log also mentions "{dependency.group(0)}", which points at a dependency or '
                "configuration "
                "problem rather than a code bug."
            )
        elif error:
            parts.append(
                "Before the crash the log shows a normal start (no connection or configuration errors): the "
                "program "
                "itself fails, a bug in the code running on valid config."
            )
        contributing = []
        change = latest_rollout(view, workload, pod)
        if change and change.details:
            evidence.append(ctx.cite("change", workload, change_text(change)))
            parts.append(
                f"What changed: {change_text(change)} [{evidence[-1]}]; the crashes start with this "
                "revision "
                f"(image {tag or image})."
            )
            contributing.append(Contributing(workload_ref, f"{change.what} ({change.age} ago)"))
        elif tag:
            parts.append(f"Image: {image}.")
        summary = (
            f"{workload_ref.kind} {workload_ref.name}: {first.name} {tag or ''} crashes with exit code {code}"
            + (f": {shorten(error, 160)}" if error else "")
        )
        recommendations = []
        if change and workload.get("kind") == "Deployment":
            recommendations.append(
                Recommendation(
                    "Roll back to the last working revision",
                    "immediate",
                    f"The crashes begin with {change.what}; revision {change.previous_revision} ran without "
                    "them.",
                    [
                        kubectl.rollout_history(workload_ref),
                        kubectl.rollout_undo(workload_ref, change.previous_revision),
                        kubectl.rollout_status(workload_ref),
                    ],
                )
            )
        recommendations.append(diagnose_pod(pod_ref, first.name))
        recommendations.append(
            Recommendation(
                "Fix the bug and guard the release",
                "preventive",
                "Reproduce with the crashing input, add a test, and use a canary/progressive rollout that "
                "stops on restarts.",
                [],
            )
        )
        findings.append(
            Finding(
                category="app-crash",
                resource=workload_ref,
                confidence=confidence,
                summary=summary,
                explanation=" ".join(parts),
                evidence=evidence,
                contributing=contributing,
                facts={"exit_code": code, "error": error, "location": location},
                recommendations=recommendations,
            )
        )
    return findings
