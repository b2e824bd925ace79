"""image-pull-error: ErrImagePull / ImagePullBackOff / InvalidImageName / ErrImageNeverPull: the
kubelet's message tells whether the image or tag does not exist, the registry refuses the
credentials or rate-limits pulls, is unreachable from the node, or the reference is malformed.
"""

from __future__ import annotations

import re

from investigations.engine import kubectl
from investigations.engine import kubectl_extra as kx
from investigations.engine.analysis import analyzer
from investigations.engine.analyzers.workload_facts import (
    change_text,
    group_by_workload,
    latest_rollout,
    matching_events,
    shorten,
    spec_of,
    split_image,
)
from investigations.engine.context import Context
from investigations.engine.evidence import Contributing, Finding, Ref
from investigations.engine.facts import ContainerState, container_states
from investigations.engine.kubectl import Recommendation

_PULL_REASONS = ("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull")
_PULL_KINDS = (
    (
        re.compile(r"not found|NotFound|manifest unknown|does not exist", re.I),
        "the image or tag does not exist",
        0.9,
    ),
    (
        re.compile(r"unauthorized|authentication required|denied|403|no basic auth|pull access", re.I),
        "the registry refuses the credentials",
        0.85,
    ),
    (re.compile(r"toomanyrequests|429|rate limit", re.I), "the registry is rate-limiting pulls", 0.85),
    (
        re.compile(r"i/o timeout|no such host|connection refused|dial tcp|TLS handshake|x509", re.I),
        "the registry is unreachable from the node",
        0.8,
    ),
    (re.compile(r"InvalidImageName|invalid reference format", re.I), "the image reference is malformed", 0.9),
)


@analyzer("image-pull-error")
def image_pull_error(ctx: Context) -> list[Finding]:
    view = ctx.view
    states = [
        s for pod in ctx.in_scope_pods() for s in container_states(pod) if s.waiting_reason in _PULL_REASONS
    ]
    if not states:
        return []
    findings = []
    for workload, members in group_by_workload(view, states):
        first: ContainerState = members[0]
        pod, pod_ref = first.pod, Ref.of(first.pod)
        workload_ref = Ref.of(workload)
        spec = spec_of(view, pod, first.name)
        image = spec.get("image") or ""
        for item in (pod.get("status") or {}).get("containerStatuses") or []:
            if item.get("name") == first.name and not image:
                image = item.get("image", "")
        registry, repository, tag = split_image(image)
        evidence = [
            ctx.cite(
                "status",
                pod,
                f"containers[{first.name}] waiting {first.waiting_reason}: {first.waiting_message} "
                f"(pods: {', '.join(sorted({Ref.of(s.pod).name for s in members})[:4])})",
            )
        ]
        registry_message = ""
        for event in matching_events(view, pod, "Failed"):
            message = event.get("message") or ""
            lowered = message.lower()
            if "failed to pull" in lowered or ("pulling image" in lowered and "error" in lowered):
                registry_message = message
        if registry_message:
            evidence.append(ctx.cite("event", pod, registry_message))
        cause, confidence = "the image cannot be pulled", 0.7
        for pattern, text, level in _PULL_KINDS:
            if pattern.search(registry_message or first.waiting_message or first.waiting_reason):
                cause, confidence = text, level
                break
        parts = [
            f"Container {first.name} of {workload_ref.kind} {workload_ref.name} is stuck in "
            f"{first.waiting_reason} "
            f"(ErrImagePull/ImagePullBackOff) for image {image} [{evidence[0]}]."
        ]
        if registry_message:
            parts.append(
                f'The registry ({registry or "docker.io"}) answers: "{shorten(registry_message, 600)}" '
                f"[{evidence[-1]}]."
            )
        parts.append(f"Cause: {cause} (repository {repository}, tag {tag or 'latest'}).")
        change = latest_rollout(view, workload, pod)
        previous_image = ""
        contributing = []
        if change:
            image_changes = [d for d in change.details if " image:" in d]
            if image_changes:
                previous_image = image_changes[0].split(": ", 1)[1].split(" → ")[0]
                evidence.append(ctx.cite("change", workload, change_text(change, keep=[" image:"])))
                parts.append(
                    f"What changed: {change_text(change, keep=[' image:'])} [{evidence[-1]}]; pods of the "
                    "previous "
                    f"revision run {previous_image} and are healthy."
                )
                contributing.append(
                    Contributing(workload_ref, f"{change.what}: image {previous_image} → {image}")
                )
        summary = (
            f"{workload_ref.kind} {workload_ref.name}: image {image} cannot be pulled "
            f"({first.waiting_reason}: {cause})"
        )
        recommendations = []
        if previous_image and workload.get("kind") in ("Deployment", "StatefulSet", "DaemonSet"):
            recommendations.append(
                Recommendation(
                    "Go back to the last image that pulls",
                    "immediate",
                    f"{previous_image} is what the previous revision runs.",
                    [
                        kubectl.rollout_undo(workload_ref),
                        kx.set_image(workload_ref, first.name, previous_image),
                    ],
                )
            )
        recommendations.append(
            Recommendation(
                "Check the image in the registry",
                "immediate",
                f"Confirm that {repository}:{tag or 'latest'} exists in {registry or 'docker.io'} and that "
                "the "
                "nodes may pull it; then fix the tag or push the image.",
                [kubectl.describe(pod_ref), kubectl.events(pod_ref)],
            )
        )
        recommendations.append(
            Recommendation(
                "Deploy only images that exist",
                "preventive",
                "Make the pipeline verify the pushed tag (or deploy by digest) before updating the workload.",
                [],
            )
        )
        findings.append(
            Finding(
                category="image-pull-error",
                resource=workload_ref,
                confidence=confidence,
                summary=summary,
                explanation=" ".join(parts),
                evidence=evidence,
                contributing=contributing,
                facts={"image": image, "registry": registry, "tag": tag},
                recommendations=recommendations,
            )
        )
    return findings
