"""The analysis stage with a model: a bounded tool loop, then code validates the answer and decides.

    analysis = analyze_with_model(settings, evidence_payload=..., findings=..., reader=...)
    result = apply_to_result(result, analysis)   # after build_result(); says what came from where

The loop is ours (a few dozen lines over `ChatProvider.chat`): at most `max_rounds` tool rounds
and an overall deadline. Any ModelError (timeout, rate limit, bad key, answer outside the schema)
propagates so the caller falls back to the built-in analyzers and says why.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from investigations.engine.collect import Reader
from investigations.llm.config import LLMSettings, cost_for
from investigations.llm.prompts import NO_MORE_TOOLS, SYSTEM_PROMPT, finding_dicts, render_evidence
from investigations.llm.providers import ChatProvider, ModelError, provider_for
from investigations.llm.tools import TOOL_SPECS, Toolbox
from investigations.llm.validation import (
    check_recommendations,
    decide,
    known_resources,
    parse_answer,
    root_cause_of,
)

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class ModelAnalysis:
    root_cause: dict[str, Any] | None  # the model's conclusion when adopted or corroborating
    recommendations: list[dict[str, Any]]  # validated, each {"source": "model"}
    tool_calls: list[dict[str, Any]]
    refused_calls: list[dict[str, Any]]
    tokens_in: int
    tokens_out: int
    cost: Decimal
    provider: str
    model: str
    raw_text: str
    notes: list[str]
    decision: str = "analyzers"  # model | agreed | analyzers
    alternative: dict[str, Any] | None = None  # the model's conclusion when overruled
    dropped: list[dict[str, str]] = dataclasses.field(default_factory=list)
    tool_evidence: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    rounds: int = 0
    redactions: int = 0

    @property
    def tokens(self) -> int:
        return self.tokens_in + self.tokens_out

    def llm_summary(self) -> dict[str, Any]:
        """The result's `llm` block."""
        return {
            "provider": self.provider,
            "model": self.model,
            "tokens": self.tokens,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "cost": float(self.cost),
            "decision": self.decision,
            "rounds": self.rounds,
            "tool_calls": self.tool_calls,
            "refused_calls": self.refused_calls,
            "dropped_commands": self.dropped,
            "redactions": self.redactions,
            "notes": self.notes,
        }


def analyze_with_model(
    config: LLMSettings,
    *,
    evidence_payload: dict[str, Any],
    findings: list[Any],
    reader: Reader,
    stage_model: str | None = None,
    provider: ChatProvider | None = None,
    reader_errors: tuple[type[Exception], ...] = (),
    clock: Callable[[], float] = time.monotonic,
) -> ModelAnalysis:
    """Reason over the evidence and findings with the configured model; raises ModelError."""
    if hasattr(config, "resolved"):  # a ModelConfig row
        config = config.resolved()
    provider = provider or provider_for(config)
    model = stage_model or config.model_for("analysis")
    findings = sorted(finding_dicts(findings), key=lambda f: f.get("confidence", 0), reverse=True)
    user, redactions = render_evidence(evidence_payload, findings)
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": user},
    ]
    toolbox = Toolbox(reader, reader_errors=reader_errors)
    deadline = clock() + config.overall_timeout_seconds
    tokens_in = tokens_out = 0
    text, rounds = "", 0

    def fail(error: ModelError) -> ModelError:
        error.tokens_in, error.tokens_out = tokens_in, tokens_out
        return error

    while True:
        remaining = deadline - clock()
        if remaining <= 0:
            raise fail(
                ModelError(
                    f"timeout: the analysis took longer than {config.overall_timeout_seconds:.0f} s",
                    kind="timeout",
                )
            )
        try:
            turn = provider.chat(
                messages,
                TOOL_SPECS,
                model,
                max_tokens=config.max_tokens,
                timeout=min(config.call_timeout_seconds, remaining),
            )
        except ModelError as error:
            raise fail(error) from None
        rounds += 1
        tokens_in += turn.tokens_in
        tokens_out += turn.tokens_out
        if not turn.tool_calls:
            text = turn.text
            break
        if rounds > config.max_rounds:
            raise fail(
                ModelError(
                    f"the model kept requesting tools after {config.max_rounds} rounds without answering",
                    kind="tools",
                )
            )
        messages.append({"role": "assistant", "content": turn.text, "tool_calls": turn.tool_calls})
        for reply in toolbox.run_round(turn.tool_calls):
            messages.append(
                {
                    "role": "tool",
                    "tool_call_id": reply.call.id,
                    "name": reply.call.name,
                    "content": reply.content,
                    "is_error": reply.is_error,
                }
            )
        if rounds == config.max_rounds:
            messages.append({"role": "user", "content": NO_MORE_TOOLS})

    try:
        answer = parse_answer(text)
        model_cause = root_cause_of(answer)
    except ModelError as error:
        raise fail(error) from None
    checked = check_recommendations(answer.get("recommendations"))
    known = known_resources(evidence_payload, findings, toolbox.evidence)
    decision = decide(model_cause, checked, findings, known)
    refused = [r.as_dict() for r in toolbox.refused]
    notes = list(decision.notes)
    if refused:
        notes.append(f"{len(refused)} tool request(s) refused and not executed")
    if decision.dropped:
        notes.append(f"{len(decision.dropped)} recommended command(s) dropped by validation")
    analysis = ModelAnalysis(
        root_cause=decision.root_cause,
        recommendations=decision.recommendations,
        tool_calls=[r.as_dict() for r in toolbox.records],
        refused_calls=refused,
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        cost=cost_for(config, tokens_in, tokens_out),
        provider=config.provider,
        model=model,
        raw_text=text,
        notes=notes,
        decision=decision.decision,
        alternative=decision.alternative,
        dropped=decision.dropped,
        tool_evidence=[{k: v for k, v in e.items() if k != "data"} for e in toolbox.evidence],
        rounds=rounds,
        redactions=redactions + toolbox.redactions,
    )
    logger.info(
        "investigations.llm.analysis",
        extra={
            "provider": config.provider,
            "model": model,
            "decision": analysis.decision,
            "rounds": rounds,
            "tokens": analysis.tokens,
            "refused": len(refused),
            "dropped": len(decision.dropped),
        },
    )
    return analysis


def apply_to_result(result: dict[str, Any], analysis: ModelAnalysis) -> dict[str, Any]:
    """Merge a model analysis into `build_result()`'s output, marking every part's source."""
    cause = result.get("root_cause") or {}
    for rec in result.get("recommendations") or []:
        rec.setdefault("source", "analyzers")
    if analysis.decision == "model" and analysis.root_cause:
        previous = cause
        model_cause = analysis.root_cause
        result["root_cause"] = {
            **model_cause,
            "contributing": [],
            "analyzer": "",
            "source": "model",
        }
        if previous and previous.get("category") not in (None, "unknown"):
            result.setdefault("alternatives", []).insert(
                0,
                {
                    "category": previous["category"],
                    "resource": previous["resource"],
                    "confidence": previous.get("confidence"),
                    "summary": previous.get("summary", ""),
                    "analyzer": previous.get("analyzer", ""),
                    "source": "analyzers",
                },
            )
        # The analyzers' recommendations served their own conclusion: kept only as diagnostics
        # (unknown) or when the model recommended nothing that survived validation.
        keep = previous.get("category") == "unknown" or not analysis.recommendations
        result["recommendations"] = analysis.recommendations + (
            (result.get("recommendations") or []) if keep else []
        )
    elif analysis.decision == "agreed" and analysis.root_cause:
        cause["source"] = "analyzers+model"
        cause["model_summary"] = analysis.root_cause["summary"]
        cause["model_explanation"] = analysis.root_cause["explanation"]
        seen = {tuple(r.get("commands") or []) for r in result.get("recommendations") or []}
        extra = [r for r in analysis.recommendations if tuple(r["commands"]) not in seen]
        result["recommendations"] = (result.get("recommendations") or []) + extra
    if analysis.alternative:
        result.setdefault("alternatives", []).insert(
            0,
            {
                **{k: analysis.alternative[k] for k in ("category", "resource", "confidence", "summary")},
                "analyzer": "",
                "source": "model",
                "why_not": "disagrees with a supported analyzer finding",
            },
        )
    result.setdefault("evidence", []).extend(analysis.tool_evidence)
    result["llm"] = analysis.llm_summary()
    result["sources"] = {
        "root_cause": (result.get("root_cause") or {}).get("source", "analyzers"),
        "recommendations": sorted({r.get("source", "analyzers") for r in result["recommendations"]}),
    }
    return result


def fallback_llm_block(
    settings: LLMSettings, reason: str, *, tokens_in: int = 0, tokens_out: int = 0
) -> dict:
    """The result's `llm` block when the model was configured but not used (error or budget)."""
    return {
        "provider": "builtin",
        "configured_provider": settings.provider,
        "model": settings.model_for("analysis"),
        "tokens": tokens_in + tokens_out,
        "tokens_in": tokens_in,
        "tokens_out": tokens_out,
        "cost": float(cost_for(settings, tokens_in, tokens_out)),
        "fallback": reason,
    }
