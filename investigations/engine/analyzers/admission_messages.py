"""What the API server says when admission refuses a pod (FailedCreate events, ReplicaFailure
conditions), parsed into who refused it and why:

- Pod Security admission: `violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false …`
- a validating/mutating webhook: `admission webhook "validate.kyverno.svc-fail" denied the request: …`,
  with Kyverno's policy/rule list or Gatekeeper's `[constraint] message` inside;
- a ValidatingAdmissionPolicy: `ValidatingAdmissionPolicy 'name' with binding 'b' denied request: …`;
- OpenShift SecurityContextConstraints / PodSecurityPolicy: `unable to validate against any …`;
- a webhook that cannot be called (`failed calling webhook "…"`: down, timing out, bad TLS) while its
  failurePolicy is Fail.

Quota and LimitRange refusals are not admission policies (quota-exceeded explains them).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

_PSA = re.compile(r'violates PodSecurity "(?P<level>[\w-]+):(?P<version>[\w.-]+)": (?P<details>[^\n]+)')
_WEBHOOK = re.compile(r'admission webhook "(?P<webhook>[^"]+)" denied the request:?\s*(?P<reason>.*)', re.S)
_VAP = re.compile(
    r"ValidatingAdmissionPolicy '(?P<policy>[^']+)' with binding '(?P<binding>[^']+)' denied request:?\s*"
    r"(?P<reason>[^\n]*)"
)
_SCC = re.compile(
    r"unable to validate against any (?P<what>security context constraint|pod security "
    r"policy):?\s*(?P<reason>[^\n]*)"
)
_CALLING = re.compile(r'failed calling webhook "(?P<webhook>[^"]+)": (?P<error>[^\n]+)')
_KYVERNO_POLICY = re.compile(r"^\s{0,2}(?P<policy>[a-z0-9][a-z0-9.-]*):\s*$")
_KYVERNO_RULE = re.compile(r"^\s+(?P<rule>[\w.-]+):\s+'?(?P<message>.+?)'?\s*$")
_GATEKEEPER = re.compile(r"\[(?P<constraint>[a-z0-9][a-z0-9.-]*)\]\s*(?P<message>[^\[]+)")
_NOT_POLICY = re.compile(r"exceeded quota|failed quota|forbidden: (?:maximum|minimum)|must specify", re.I)
# Pod Security checks, as the API server names them → the securityContext that satisfies them.
PSA_FIXES: dict[str, tuple[str, dict[str, Any]]] = {
    "allowPrivilegeEscalation != false": ("container", {"allowPrivilegeEscalation": False}),
    "unconditional capabilities": ("container", {"capabilities": {"drop": ["ALL"]}}),
    "runAsNonRoot != true": ("pod", {"runAsNonRoot": True}),
    "seccompProfile": ("pod", {"seccompProfile": {"type": "RuntimeDefault"}}),
    "privileged": ("container", {"privileged": False}),
    "runAsUser=0": ("pod", {"runAsUser": 10001}),
}


@dataclasses.dataclass
class Denial:
    """Who refused the pod and why."""

    mechanism: str  # pod-security | webhook | admission-policy | scc | webhook-unavailable
    message: str  # the whole message
    reason: str  # the part that says why
    webhook: str = ""  # the webhook's name
    policies: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)  # (policy, rule, message)
    level: str = ""  # Pod Security level (restricted, baseline) and version
    version: str = ""
    checks: list[str] = dataclasses.field(default_factory=list)  # Pod Security checks that fail
    binding: str = ""  # ValidatingAdmissionPolicyBinding
    engine: str = ""  # kyverno | gatekeeper | "" (another webhook)


def parse_denial(message: str) -> Denial | None:
    """The admission denial a FailedCreate message reports, or None (quota, other errors)."""
    if not message or _NOT_POLICY.search(message):
        return None
    psa = _PSA.search(message)
    if psa:
        details = psa.group("details")
        checks = [
            re.sub(r"\s*\(.*", "", part).strip() for part in re.split(r"\),\s*", details) if part.strip()
        ]
        return Denial(
            "pod-security",
            message,
            details,
            level=psa.group("level"),
            version=psa.group("version"),
            checks=checks,
        )
    vap = _VAP.search(message)
    if vap:
        return Denial(
            "admission-policy",
            message,
            vap.group("reason").strip(),
            policies=[(vap.group("policy"), "", vap.group("reason").strip())],
            binding=vap.group("binding"),
        )
    webhook = _WEBHOOK.search(message)
    if webhook:
        reason = webhook.group("reason").strip()
        denial = Denial("webhook", message, reason, webhook=webhook.group("webhook"))
        if "following policies" in reason or "kyverno" in denial.webhook:
            denial.engine = "kyverno"
            denial.policies = _kyverno_policies(reason)
        elif "gatekeeper" in denial.webhook or _GATEKEEPER.match(reason):
            denial.engine = "gatekeeper"
            denial.policies = [
                (m.group("constraint"), "", m.group("message").strip()) for m in _GATEKEEPER.finditer(reason)
            ]
        return denial
    scc = _SCC.search(message)
    if scc:
        return Denial("scc", message, scc.group("reason").strip() or scc.group("what"))
    calling = _CALLING.search(message)
    if calling:
        return Denial(
            "webhook-unavailable", message, calling.group("error").strip(), webhook=calling.group("webhook")
        )
    return None


def _kyverno_policies(reason: str) -> list[tuple[str, str, str]]:
    found: list[tuple[str, str, str]] = []
    policy = ""
    for line in reason.splitlines():
        head = _KYVERNO_POLICY.match(line)
        if head and not line.startswith("    "):
            policy = head.group("policy")
            continue
        rule = _KYVERNO_RULE.match(line)
        if policy and rule and not line.startswith("    "):
            found.append((policy, rule.group("rule"), rule.group("message").strip("'")))
        elif found and line.startswith("    ") and line.strip():
            name, rule_name, text = found[-1]
            found[-1] = (name, rule_name, f"{text} {line.strip().strip(chr(39))}")
    if not found:
        match = re.search(r"policy (?:[\w/.-]+ )?(?P<policy>[a-z0-9][a-z0-9.-]*)", reason)
        if match:
            found.append((match.group("policy"), "", reason[:300]))
    return found


def tls_failure(error: str) -> bool:
    """A webhook call that failed on its certificate (certificate-invalid explains it)."""
    return bool(re.search(r"x509|certificate|tls:", error, re.I))
