"""Code, not the model, decides: parse the answer, check it against the evidence, drop unsafe commands.

parse_answer()      JSON in the result schema, or ModelError("model answered outside the result schema")
check_command()     a single kubectl command, not destructive beyond the fix, or the reason it is dropped
decide()            which conclusion stands: a high-confidence analyzer finding beats a disagreeing model
"""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
from typing import Any

from investigations.engine.evidence import CLUSTER_SCOPED
from investigations.llm.providers.base import ModelError
from investigations.taxonomy import TAXONOMY

HIGH_CONFIDENCE = 0.8
SUPPORTED = 0.35  # the engine's MIN_CONFIDENCE: below it the analyzers themselves say unknown
OUTSIDE_SCHEMA = "model answered outside the result schema"

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)
_SHELL = re.compile(r"[;|&`<>\n\r]|\$\(")
# kubectl verbs a recommendation may use; anything else (exec, cp, run, apply -f …) is dropped.
_READ_VERBS = {"get", "describe", "logs", "top", "events", "explain", "api-resources", "version", "auth"}
_FIX_VERBS = {
    "rollout",
    "scale",
    "set",
    "patch",
    "edit",
    "label",
    "annotate",
    "autoscale",
    "cordon",
    "uncordon",
    "delete",
    "create",
}
_DELETABLE = {"pod", "pods", "po", "job", "jobs"}  # a controller recreates them: the usual fix
_VALUE_FLAGS = {"-n", "--namespace", "--context", "--cluster", "--user", "-c", "--container"}
_PRIVILEGE_FLAGS = ("--as", "--as-group", "--as-uid", "--token", "--kubeconfig", "--server", "-s")


def parse_answer(text: str) -> dict[str, Any]:
    """The model's JSON object (fenced or bare); ModelError when there is none."""
    candidates = [m.group(1) for m in _FENCE.finditer(text or "")]
    stripped = (text or "").strip()
    candidates.append(stripped)
    if "{" in stripped:
        candidates.append(stripped[stripped.index("{") : stripped.rindex("}") + 1])
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    raise ModelError(f"{OUTSIDE_SCHEMA}: no JSON object in the answer", kind="schema")


def root_cause_of(answer: dict[str, Any]) -> dict[str, Any]:
    """The root cause in canonical form; ModelError for anything outside the schema or taxonomy."""
    cause = answer.get("root_cause")
    if not isinstance(cause, dict):
        raise ModelError(f"{OUTSIDE_SCHEMA}: root_cause is missing", kind="schema")
    category = cause.get("category")
    if category not in TAXONOMY:
        raise ModelError(
            f"{OUTSIDE_SCHEMA}: category {str(category)[:60]!r} is not in the taxonomy", kind="schema"
        )
    resource = cause.get("resource")
    if not isinstance(resource, dict) or not all(
        isinstance(resource.get(k, ""), str) for k in ("kind", "namespace", "name")
    ):
        raise ModelError(f"{OUTSIDE_SCHEMA}: resource must be {{kind, namespace, name}}", kind="schema")
    summary, explanation = cause.get("summary"), cause.get("explanation", "")
    if not isinstance(summary, str) or not summary.strip() or not isinstance(explanation, str):
        raise ModelError(f"{OUTSIDE_SCHEMA}: summary and explanation must be text", kind="schema")
    confidence = cause.get("confidence", 0.5)
    if isinstance(confidence, bool) or not isinstance(confidence, int | float):
        raise ModelError(f"{OUTSIDE_SCHEMA}: confidence must be a number", kind="schema")
    if 1 < confidence <= 100:
        confidence = confidence / 100  # a percentage
    evidence = cause.get("evidence") or []
    kind = resource.get("kind", "")
    return {
        "category": category,
        "resource": {
            "kind": kind,
            "namespace": "" if kind in CLUSTER_SCOPED else resource.get("namespace", ""),
            "name": resource.get("name", ""),
        },
        "summary": summary.strip()[:500],
        "explanation": explanation.strip()[:4000],
        "confidence": round(max(0.0, min(1.0, float(confidence))), 2),
        "evidence": [str(e)[:10] for e in evidence if isinstance(e, str | int)][:20]
        if isinstance(evidence, list)
        else [],
    }


def check_command(command: Any) -> str:
    """'' when the command may be shown, else why it is dropped."""
    if not isinstance(command, str) or not command.strip():
        return "not a command"
    command = command.strip()
    if len(command) > 600:
        return "too long to be one reviewed command"
    if _SHELL.search(command):
        return "shell syntax (;, &&, |, redirection, substitution) is not allowed: one kubectl command only"
    try:
        tokens = shlex.split(command)
    except ValueError:
        return "unbalanced quotes"
    if not tokens or tokens[0] != "kubectl":
        return "not a kubectl command"
    args = tokens[1:]
    if any(a == flag or a.startswith(flag + "=") for a in args for flag in _PRIVILEGE_FLAGS):
        return "changes identity, credentials or cluster (--as, --token, --kubeconfig, --server)"
    words = _positional(args)
    if not words:
        return "no kubectl verb"
    verb = words[0]
    if verb in _READ_VERBS:
        return ""
    if verb not in _FIX_VERBS:
        return (
            f"kubectl {verb} is not a recommendation the system shows (exec, cp, run, apply, drain… are not)"
        )
    if any(
        a in ("-f", "--filename", "-k", "--kustomize") or a.startswith(("-f=", "--filename=")) for a in args
    ):
        return "applies a file or URL whose content cannot be shown and reviewed here"
    if any(a in ("--all", "-A", "--all-namespaces") or a.startswith("--all=") for a in args):
        return f"kubectl {verb} across every object or namespace is destructive beyond the fix"
    if verb == "delete":
        return _check_delete(words, args)
    if verb == "scale" and any(re.fullmatch(r"--replicas=0+", a) for a in args):
        return "scaling to zero takes the workload down"
    return ""


def _positional(args: list[str]) -> list[str]:
    words, skip = [], False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg.startswith("-"):
            skip = arg in _VALUE_FLAGS
            continue
        words.append(arg)
    return words


def _check_delete(words: list[str], args: list[str]) -> str:
    targets = words[1:]
    if any(
        a in ("-l", "--selector", "--field-selector") or a.startswith(("-l=", "--selector=")) for a in args
    ):
        return "delete by selector can remove more than the broken object"
    if not targets:
        return "delete without a target"
    if "/" in targets[0]:
        kinds = {t.split("/", 1)[0].lower() for t in targets}
        names_given = all("/" in t and t.split("/", 1)[1] for t in targets)
    else:
        kinds = {t.lower() for t in targets[0].split(",")}
        names_given = len(targets) > 1
    if not kinds <= _DELETABLE or not names_given:
        shown = ", ".join(sorted(kinds))
        return (
            f"delete of {shown} is destructive beyond the fix "
            "(only a named pod or job, which its controller recreates, may be deleted)"
        )
    return ""


@dataclasses.dataclass
class Checked:
    recommendations: list[dict[str, Any]]
    dropped: list[dict[str, str]]


def check_recommendations(raw: Any) -> Checked:
    """Keep well-formed recommendations; drop (and record) every unsafe command."""
    kept: list[dict[str, Any]] = []
    dropped: list[dict[str, str]] = []
    if not isinstance(raw, list):
        if raw not in (None, ""):
            dropped.append({"recommendation": "", "command": "", "reason": "recommendations is not a list"})
        return Checked(kept, dropped)
    for item in raw[:10]:
        if not isinstance(item, dict) or not isinstance(item.get("title"), str):
            dropped.append(
                {"recommendation": str(item)[:100], "command": "", "reason": "not a recommendation"}
            )
            continue
        title = item["title"].strip()[:200]
        commands = []
        for command in item.get("commands") or []:
            reason = check_command(command)
            if reason:
                dropped.append({"recommendation": title, "command": str(command)[:300], "reason": reason})
            else:
                commands.append(command.strip())
        kind = item.get("kind") if item.get("kind") in ("immediate", "preventive") else "immediate"
        rationale = item.get("rationale") if isinstance(item.get("rationale"), str) else ""
        if item.get("commands") and not commands and not rationale.strip():
            continue  # nothing left worth showing
        kept.append(
            {
                "title": title,
                "kind": kind,
                "rationale": rationale.strip()[:1000],
                "commands": commands,
                "source": "model",
            }
        )
    return Checked(kept, dropped)


# -- what is known ----------------------------------------------------------------------------------


def known_resources(
    payload: dict[str, Any], findings: list[dict[str, Any]], tool_evidence: list[dict[str, Any]]
) -> set[tuple[str, str, str]]:
    """(kind, namespace, name) of every object the investigation actually saw."""
    known: set[tuple[str, str, str]] = set()

    def add(kind: str, namespace: str, name: str) -> None:
        if kind and name:
            known.add((kind, "" if kind in CLUSTER_SCOPED else namespace or "", name))

    for text in payload.get("resources") or []:
        parts = str(text).split("/")
        if len(parts) == 3:
            add(*parts)
        elif len(parts) == 2:
            add(parts[0], "", parts[1])
    for item in [*(payload.get("evidence") or []), *findings]:
        resource = item.get("resource") or {}
        add(resource.get("kind", ""), resource.get("namespace", ""), resource.get("name", ""))
    for node in (payload.get("topology") or {}).get("nodes") or []:
        add(node.get("kind", ""), node.get("namespace", ""), node.get("name", ""))
    target = payload.get("target") or {}
    add(target.get("kind", ""), target.get("namespace", ""), target.get("name", ""))
    for item in tool_evidence:
        data = item.get("data")
        objects = (
            data.get("items") if isinstance(data, dict) and isinstance(data.get("items"), list) else [data]
        )
        for obj in objects:
            if isinstance(obj, dict) and isinstance(obj.get("metadata"), dict):
                meta = obj["metadata"]
                add(
                    obj.get("kind") or item["resource"]["kind"],
                    meta.get("namespace", ""),
                    meta.get("name", ""),
                )
    return known


def is_known(resource: dict[str, str], known: set[tuple[str, str, str]]) -> bool:
    kind = resource.get("kind", "")
    return (
        kind,
        "" if kind in CLUSTER_SCOPED else resource.get("namespace", ""),
        resource.get("name", ""),
    ) in known


# -- the decision -----------------------------------------------------------------------------------


@dataclasses.dataclass
class Decision:
    decision: str  # model | agreed | analyzers
    root_cause: dict[str, Any] | None  # the model's conclusion when adopted (or corroborating)
    alternative: dict[str, Any] | None  # the model's conclusion when overruled
    recommendations: list[dict[str, Any]]
    dropped: list[dict[str, str]]
    notes: list[str]


def decide(
    model_cause: dict[str, Any],
    checked: Checked,
    findings: list[dict[str, Any]],
    known: set[tuple[str, str, str]],
) -> Decision:
    notes: list[str] = []
    dropped = list(checked.dropped)
    best = max(findings, key=lambda f: f.get("confidence", 0), default=None)
    model_cause = {**model_cause, "source": "model"}
    grounded = model_cause["category"] == "unknown" or is_known(model_cause["resource"], known)
    if not grounded:
        r = model_cause["resource"]
        notes.append(
            f"the model named {r['kind']} {r['namespace']}/{r['name']}, which is not in the collected "
            "evidence: its conclusion is not used"
        )
    # A model's "unknown" does not erase a supported analyzer conclusion; a contrary cause needs more.
    threshold = SUPPORTED if model_cause["category"] == "unknown" else HIGH_CONFIDENCE
    strong = best is not None and best.get("confidence", 0) >= threshold
    agrees = best is not None and grounded and model_cause["category"] == best.get("category")
    if agrees:
        notes.append(f"the model agrees with the analyzers ({best['category']})")
        return Decision("agreed", model_cause, None, checked.recommendations, dropped, notes)
    if strong or not grounded:
        if strong and grounded:
            notes.append(
                f"the model disagrees with a supported analyzer finding ({best['category']}, "
                f"{best['confidence']:.0%}); the analyzers' conclusion stands and the model's is recorded "
                "as an alternative"
            )
        for rec in checked.recommendations:
            for command in rec["commands"] or [""]:
                dropped.append(
                    {
                        "recommendation": rec["title"],
                        "command": command,
                        "reason": "belongs to the model's conclusion, which was not adopted",
                    }
                )
        alternative = model_cause if grounded else None
        return Decision("analyzers", None, alternative, [], dropped, notes)
    notes.append("no analyzer finding is confident; the model's grounded conclusion is used")
    return Decision("model", model_cause, None, checked.recommendations, dropped, notes)
