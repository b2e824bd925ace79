"""What the pipeline calls at the analyze stage: budget check, the model, fallback, usage totals.

    outcome = model_stage(evidence_payload=..., findings=..., reader=..., today=date)
    result = outcome.apply(result)      # after build_result(); sets result["llm"] either way

Must run inside the organization's schema (it reads its ModelConfig and adds to its ModelUsage).
Never raises for a model problem: a ModelError or an exhausted budget becomes a fallback to the
built-in analyzers, with the reason in `result["llm"]["fallback"]`.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import date
from typing import Any

from investigations.engine.collect import Reader
from investigations.llm.config import LLMSettings, budget_allows, cost_for, settings_for_org, usage_record
from investigations.llm.providers import ModelError
from investigations.llm.reasoning import (
    ModelAnalysis,
    analyze_with_model,
    apply_to_result,
    fallback_llm_block,
)
from tenants.secret_box import SecretUnreadable

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class StageOutcome:
    analysis: ModelAnalysis | None
    llm: dict[str, Any] | None  # None: builtin configured, nothing to say
    fallback: str = ""

    @property
    def tokens(self) -> int:
        return int((self.llm or {}).get("tokens") or 0)

    def apply(self, result: dict[str, Any]) -> dict[str, Any]:
        if self.analysis is not None:
            return apply_to_result(result, self.analysis)
        if self.llm is not None:
            result["llm"] = self.llm
        return result


def model_stage(
    *,
    evidence_payload: dict[str, Any],
    findings: list[Any],
    reader: Reader,
    today: date,
    settings: LLMSettings | None = None,
    reader_errors: tuple[type[Exception], ...] = (),
    deadline_seconds: float | None = None,
) -> StageOutcome:
    """Run the model if configured and affordable; `deadline_seconds` caps it to the pipeline's time."""
    if settings is None:
        try:
            settings = settings_for_org()
        except SecretUnreadable:
            return StageOutcome(
                None,
                {"provider": "builtin", "model": "", "tokens": 0, "cost": 0.0, "fallback": "key unreadable"},
                "the model key cannot be decrypted with the configured encryption keys",
            )
    if not settings.uses_model:
        return StageOutcome(None, None)
    if deadline_seconds is not None:
        settings = dataclasses.replace(
            settings,
            overall_timeout_seconds=max(1.0, min(settings.overall_timeout_seconds, deadline_seconds)),
        )
    if not budget_allows(settings, today):
        reason = f"daily model budget of ${settings.daily_budget_usd} reached: built-in analyzers used"
        logger.info("investigations.llm.budget_exhausted", extra={"provider": settings.provider})
        return StageOutcome(None, fallback_llm_block(settings, reason), reason)
    try:
        analysis = analyze_with_model(
            settings,
            evidence_payload=evidence_payload,
            findings=findings,
            reader=reader,
            reader_errors=reader_errors,
        )
    except ModelError as error:
        reason = f"model not used ({error}): built-in analyzers used"
        logger.warning(
            "investigations.llm.fallback",
            extra={"provider": settings.provider, "kind": error.kind, "reason": str(error)},
        )
        if error.tokens_in or error.tokens_out:
            usage_record(
                day=today,
                tokens_in=error.tokens_in,
                tokens_out=error.tokens_out,
                cost=cost_for(settings, error.tokens_in, error.tokens_out),
            )
        block = fallback_llm_block(settings, reason, tokens_in=error.tokens_in, tokens_out=error.tokens_out)
        return StageOutcome(None, block, reason)
    usage_record(day=today, tokens_in=analysis.tokens_in, tokens_out=analysis.tokens_out, cost=analysis.cost)
    return StageOutcome(analysis, analysis.llm_summary())
