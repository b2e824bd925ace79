"""job-failed: Job condition Failed: DeadlineExceeded / BackoffLimitExceeded, with the CronJob's earlier
runs (how long they took) and the last "done/finished" line a run logged.
"""

from __future__ import annotations

import itertools
import json
import re

from investigations.engine import kubectl
from investigations.engine import kubectl_platform as kp
from investigations.engine.analysis import analyzer
from investigations.engine.analyzers.helpers import fmt_duration, status_condition
from investigations.engine.context import Context
from investigations.engine.evidence import ClusterView, Contributing, Finding, Ref, parse_time
from investigations.engine.facts import container_states, pod_spec, ts
from investigations.engine.kubectl import Recommendation


def _jobs_in_scope(ctx: Context) -> list[dict]:
    view = ctx.view
    jobs: list[dict] = []
    if ctx.target.kind == "Job":
        job = view.get("Job", ctx.namespace, ctx.target.name)
        if job is not None:
            jobs.append(job)
    candidates = list(ctx.in_scope_workloads())
    if ctx.target.kind == "CronJob":
        cronjob = view.get("CronJob", ctx.namespace, ctx.target.name)
        if cronjob is not None:
            candidates.insert(0, cronjob)
    for workload in candidates:
        if workload.get("kind") == "Job" and all(workload is not j for j in jobs):
            jobs.append(workload)
        if workload.get("kind") == "CronJob" and not jobs:
            owned = sorted(
                view.owned_by(workload, "Job"),
                key=lambda j: (j.get("status") or {}).get("startTime") or "",
                reverse=True,
            )
            jobs.extend(owned[:1])
    return jobs


@analyzer("job-failed")
def job_failed(ctx: Context) -> list[Finding]:
    for job in _jobs_in_scope(ctx):
        failed = status_condition(job, "Failed")
        if failed.get("status") != "True":
            continue
        return [_job_finding(ctx, job, failed)]
    return []


def _job_finding(ctx: Context, job: dict, failed: dict) -> Finding:
    view = ctx.view
    ref = Ref.of(job)
    spec, status = job.get("spec") or {}, job.get("status") or {}
    reason = failed.get("reason") or "Failed"
    message = failed.get("message") or ""
    cronjob = view.owner(job)
    cronjob = cronjob if cronjob is not None and cronjob.get("kind") == "CronJob" else None
    evidence = [ctx.cite("status", job, f"condition Failed=True reason {reason}: {message}")]
    parts = [f'Job {ref.name} failed: condition Failed, reason {reason} ("{message}") [{evidence[0]}].']
    started = status.get("startTime")
    deadline = spec.get("activeDeadlineSeconds")
    backoff = spec.get("backoffLimit", 6)
    contributing: list[Contributing] = []
    confidence = 0.8
    summary_cause = f"{reason}"
    if reason == "DeadlineExceeded" and deadline:
        ended = failed.get("lastTransitionTime")
        ran = None
        start_time, end_time = parse_time(started), parse_time(ended)
        if start_time and end_time:
            ran = (end_time - start_time).total_seconds()
        evidence.append(
            ctx.cite(
                "spec", job, f"activeDeadlineSeconds={deadline}, backoffLimit={backoff}, startTime={started}"
            )
        )
        parts.append(
            f"Its activeDeadlineSeconds is {deadline} ({fmt_duration(deadline)}, {deadline / 60:g} "
            "minutes); it started "
            f"{ts(started or '')} and was terminated when it was active longer than that deadline"
            + (f" (after {fmt_duration(ran)})" if ran else "")
            + f" [{evidence[-1]}]. The job controller killed the running pod: it was not crashing."
        )
        summary_cause = f"DeadlineExceeded — ran longer than activeDeadlineSeconds {deadline}"
        confidence = 0.9
    elif reason == "BackoffLimitExceeded":
        parts.append(f"It reached backoffLimit {backoff}: {status.get('failed', '?')} pod(s) failed.")
        summary_cause = (
            f"BackoffLimitExceeded after {status.get('failed', '?')} failed pod(s) (backoffLimit {backoff})"
        )
    pods = view.owned_by(job, "Pod")
    specific = ""
    for pod in pods:
        for state in container_states(pod):
            if state.last_reason in ("OOMKilled",) or state.terminated_reason == "OOMKilled":
                specific = "OOMKilled"
            elif state.waiting_reason in (
                "CreateContainerConfigError",
                "ImagePullBackOff",
                "ErrImagePull",
                "InvalidImageName",
            ):
                specific = state.waiting_reason
        terminated = next(
            (s for s in container_states(pod) if s.terminated_reason and s.terminated_reason != "Completed"),
            None,
        )
        if terminated and reason != "DeadlineExceeded":
            term = (
                ((pod.get("status") or {}).get("containerStatuses") or [{}])[0]
                .get("state", {})
                .get("terminated", {})
            )
            evidence.append(
                ctx.cite(
                    "status",
                    pod,
                    f"container {terminated.name} terminated {term.get('reason')} exit "
                    f"{term.get('exitCode')}",
                )
            )
            parts.append(
                f"Pod {Ref.of(pod).name}: container {terminated.name} terminated {term.get('reason')} "
                f"(exit code {term.get('exitCode')}) [{evidence[-1]}]."
            )
    if specific and reason != "DeadlineExceeded":
        # the pods fail for a more specific reason another analyzer names: the Job is only where it shows
        confidence = 0.55
        parts.append(f"Its pods fail with {specific}, which is the more specific cause.")
    refused = _refused_creations(view, job)
    if refused is not None and not pods and not any(status.get(k) for k in ("active", "succeeded", "failed")):
        # no pod ever existed: admission or a quota refused them (their analyzers name the cause)
        confidence = 0.5
        evidence.append(ctx.cite("event", job, f"FailedCreate: {refused.get('message')}"))
        parts.append(
            f'No pod of the Job was ever created: FailedCreate "{(refused.get("message") or "")[:300]}" '
            f"[{evidence[-1]}]. Why its pods are refused is the cause; the Job's failure follows from it."
        )
    if cronjob is not None:
        cron_ref = Ref.of(cronjob)
        history = _run_history(view, cronjob, job)
        if history:
            durations = ", ".join(f"{fmt_duration(d)} ({ts(s)[:10]})" for s, d in history)
            evidence.append(ctx.cite("status", cronjob, f"previous runs: {durations}"))
            growing = len(history) >= 2 and all(b[1] >= a[1] for a, b in itertools.pairwise(history))
            text = f"Previous runs of CronJob {cron_ref.name} took {durations} [{evidence[-1]}]"
            if growing:
                text += ": the runtime is growing run after run (duration increasing)" + (
                    f", the last one at {history[-1][1] / deadline:.0%} of the "
                    f"{fmt_duration(deadline)} deadline, "
                    "so this run took longer than the deadline allows"
                    if deadline and reason == "DeadlineExceeded"
                    else ""
                )
            parts.append(text + ".")
            if growing and reason == "DeadlineExceeded":
                summary_cause += (
                    f", while runtime kept growing ({', '.join(fmt_duration(d) for _s, d in history)})"
                )
            log_line = _last_done_line(view, cronjob)
            if log_line:
                evidence.append(ctx.cite("log", log_line[0], log_line[1]))
                parts.append(f'The last successful run logged "{log_line[1]}" [{evidence[-1]}].')
        template = ((cronjob.get("spec") or {}).get("jobTemplate") or {}).get("spec") or {}
        detail = (
            f"jobTemplate activeDeadlineSeconds={template.get('activeDeadlineSeconds')}, "
            f"backoffLimit={template.get('backoffLimit', 6)}, schedule "
            f"{(cronjob.get('spec') or {}).get('schedule')}"
        )
        contributing.append(Contributing(cron_ref, detail))
    recommendations = _job_recommendations(ref, cronjob, reason, deadline)
    return Finding(
        category="job-failed",
        resource=ref,
        confidence=confidence,
        summary=f"Job {ref.name} failed: {summary_cause}",
        explanation=" ".join(parts),
        evidence=evidence,
        contributing=contributing,
        facts={"reason": reason, "activeDeadlineSeconds": deadline, "backoffLimit": backoff},
        recommendations=recommendations,
    )


def _refused_creations(view: ClusterView, job: dict) -> dict | None:
    """The latest FailedCreate event of the Job (the API server refused its pods), if any."""
    refused = [e for e in view.events_for(job) if e.get("reason") == "FailedCreate"]
    return refused[-1] if refused else None


def _run_history(view: ClusterView, cronjob: dict, current: dict) -> list[tuple[str, float]]:
    runs = []
    for job in view.owned_by(cronjob, "Job"):
        if job is current:
            continue
        status = job.get("status") or {}
        start, end = parse_time(status.get("startTime")), parse_time(status.get("completionTime"))
        if start and end:
            runs.append((status["startTime"], (end - start).total_seconds()))
    runs.sort()
    return runs[-5:]


_DONE = re.compile(r"(done|finished|completed|took)\b.*", re.I)


def _last_done_line(view: ClusterView, cronjob: dict) -> tuple[dict, str] | None:
    for job in sorted(
        view.owned_by(cronjob, "Job"),
        key=lambda j: (j.get("status") or {}).get("startTime") or "",
        reverse=True,
    ):
        for pod in view.owned_by(job, "Pod"):
            for container in pod_spec(pod).get("containers") or []:
                text = view.log(pod, container.get("name", ""))
                for line in reversed(text.strip().splitlines()):
                    if _DONE.search(line):
                        return pod, line.strip()[:200]
    return None


def _job_recommendations(
    ref: Ref, cronjob: dict | None, reason: str, deadline: int | None
) -> list[Recommendation]:
    recommendations = []
    if cronjob is not None:
        cron_ref = Ref.of(cronjob)
        if reason == "DeadlineExceeded" and deadline:
            longer = int(deadline * 2)
            recommendations.append(
                Recommendation(
                    "Give the job the time it now needs, then re-run it",
                    "immediate",
                    f"Raise jobTemplate.spec.activeDeadlineSeconds (for example to {longer}) and "
                    "start a run by hand.",
                    [
                        kubectl.patch_merge(
                            cron_ref,
                            json.dumps(
                                {"spec": {"jobTemplate": {"spec": {"activeDeadlineSeconds": longer}}}}
                            ),
                        ),
                        kp.job_from_cronjob(cron_ref, f"{cron_ref.name}-manual"),
                    ],
                )
            )
        else:
            recommendations.append(
                Recommendation(
                    "Re-run once the cause is fixed",
                    "immediate",
                    "Start a run by hand from the CronJob.",
                    [kp.job_from_cronjob(cron_ref, f"{cron_ref.name}-manual")],
                )
            )
    recommendations.append(
        Recommendation(
            "Look at the run",
            "immediate",
            "The Job's conditions and events, and the history of runs.",
            [kubectl.describe(ref), kubectl.events(ref), kp.jobs_history(ref.namespace)],
        )
    )
    recommendations.append(
        Recommendation(
            "Watch job duration against its deadline",
            "preventive",
            "Alert when a run takes more than 80% of activeDeadlineSeconds, and make the job "
            "incremental or more "
            "parallel as data grows.",
            [],
        )
    )
    return recommendations
