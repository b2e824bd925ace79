"""Stage 4, analyze: run every analyzer, keep the best-supported finding, or answer `unknown`.

Analyzers are plain functions registered per taxonomy category:

    @analyzer("oom-killed")
    def oom_killed(ctx: Context) -> list[Finding]: ...

They must not look at scenario or object names to decide: only at what the objects, events, logs
and metrics say. Each returns zero or more findings with a confidence in [0, 1] and the evidence
ids they cite (ctx.cite(...)).
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import pkgutil
from collections.abc import Callable

from investigations.engine import analyzers
from investigations.engine.context import Context
from investigations.engine.evidence import Finding
from investigations.taxonomy import TAXONOMY

logger = logging.getLogger(__name__)

Analyzer = Callable[[Context], list[Finding]]
ANALYZERS: dict[str, list[tuple[str, Analyzer]]] = {}

# Below this, we say `unknown` (with what was checked) rather than guess.
MIN_CONFIDENCE = 0.35


def analyzer(category: str) -> Callable[[Analyzer], Analyzer]:
    """Register an analyzer for `category`, which must be in the taxonomy (investigations/taxonomy.py)."""
    if category not in TAXONOMY:
        raise ValueError(f"analyzer category {category!r} is not in the taxonomy")

    def register(func: Analyzer) -> Analyzer:
        ANALYZERS.setdefault(category, []).append(
            (f"{func.__module__.rsplit('.', 1)[-1]}.{func.__name__}", func)
        )
        return func

    return register


def load_analyzers() -> None:
    # Imports every module of the package (helpers too), so a new analyzer module needs no entry here.
    # Run order is by category (run_analyzers sorts them); import order (alphabetical) only orders
    # analyzers within one category, which matters for ties at equal confidence. Today every
    # category has a single analyzer, so module names do not change which finding wins.
    for module in pkgutil.iter_modules(analyzers.__path__):
        importlib.import_module(f"{analyzers.__name__}.{module.name}")


@dataclasses.dataclass
class Analysis:
    best: Finding | None
    findings: list[Finding]  # every finding, best first
    errors: list[str]  # analyzers that crashed (recorded, never fatal)
    checked: list[str]  # categories that were examined


def run_analyzers(ctx: Context) -> Analysis:
    load_analyzers()
    findings: list[Finding] = []
    errors: list[str] = []
    for category, entries in sorted(ANALYZERS.items()):
        for name, func in entries:
            try:
                produced = func(ctx) or []
            except Exception as error:
                logger.exception("investigations.analyzer.failed", extra={"analyzer": name})
                errors.append(f"{name}: {error.__class__.__name__}: {error}")
                continue
            for finding in produced:
                finding.analyzer = finding.analyzer or name
                finding.category = finding.category or category
                findings.append(finding)
    findings.sort(key=lambda f: f.confidence, reverse=True)
    best = findings[0] if findings and findings[0].confidence >= MIN_CONFIDENCE else None
    return Analysis(best, findings, errors, sorted(ANALYZERS))
