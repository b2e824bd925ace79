#!/usr/bin/env python3
"""Rule-engine throughput: 10,000 signals against 200 rules, the engine the webhook runs.

Builds 200 realistic rules (regexes, lists, label and annotation conditions, any/all, a few
silences) and 10,000 varied signals, compiles once (as the per-organization cache does), then
evaluates every signal and prints signals/s. Most signals fall through to late rules or to the
default, which is the expensive case. Needs no server or database:

    .venv/bin/python bench/rules.py [--signals 10000] [--rules 200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alerts.rules.conditions import parse_condition
from alerts.rules.engine import RuleSet, RuleSpec, SilenceSpec

NAMESPACES = [f"team-{i}" for i in range(40)] + [
    "payments",
    "shop",
    "checkout",
    "search",
    "auth",
    "prod-eu",
    "prod-us",
]
ALERTNAMES = [
    "KubePodCrashLooping",
    "KubePodNotReady",
    "KubeDeploymentReplicasMismatch",
    "CPUThrottlingHigh",
    "KubeJobFailed",
    "KubeHpaMaxedOut",
    "KubeNodeNotReady",
    "TargetDown",
    "PodOOMKilled",
    "HighLatency",
]
NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


def make_rules(count: int, rng: random.Random) -> list[RuleSpec]:
    rules = []
    for index in range(count):
        kind = index % 6
        if kind == 0:
            conditions = [
                {"field": "namespace", "operator": "regex", "value": f"^team-{index % 40}(-[a-z]+)?$"},
                {"field": "severity", "operator": "severity_at_least", "value": "critical"},
            ]
        elif kind == 1:
            conditions = [
                {"field": "alertname", "operator": "in", "value": rng.sample(ALERTNAMES, 3)},
                {"field": "label:team", "operator": "equals", "value": f"squad-{index}"},
            ]
        elif kind == 2:
            conditions = [{"field": "summary", "operator": "contains", "value": f"service-{index}"}]
        elif kind == 3:
            conditions = [
                {"field": "label:env", "operator": "not_in", "value": ["prod", "staging", "dev"]},
                {"field": "cluster", "operator": "equals", "value": f"cluster-{index}"},
            ]
        elif kind == 4:
            conditions = [
                {"field": "annotation:runbook_url", "operator": "regex", "value": f"/runbooks/{index}/.*"},
                {"field": "pod", "operator": "regex", "value": "^api-[a-z0-9]+-[a-z0-9]{5}$"},
            ]
        else:
            conditions = [
                {"field": "namespace", "operator": "equals", "value": f"team-{index % 40}"},
                {"field": "label:tier", "operator": "exists"},
            ]
        rules.append(
            RuleSpec(
                index,
                f"rule {index}",
                tuple(parse_condition(c) for c in conditions),
                rng.choice(["investigate", "record", "suppress"]),
                "any" if kind == 2 else "all",
            )
        )
    return rules


def make_signals(count: int, rng: random.Random) -> list[dict]:
    signals = []
    for _ in range(count):
        namespace = rng.choice(NAMESPACES)
        signals.append(
            {
                "source": rng.choice(["alertmanager", "grafana", "datadog"]),
                "integration": "prom",
                "alertname": rng.choice(ALERTNAMES),
                "severity": rng.choice(["critical", "warning", "info", ""]),
                "status": "firing",
                "cluster": rng.choice(["prod-eu", "prod-us", "staging"]),
                "namespace": namespace,
                "pod": f"api-{rng.getrandbits(24):x}-{rng.getrandbits(20):05x}"[:30],
                "workload": "api",
                "node": "",
                "summary": f"{namespace} service-{rng.randrange(2000)} is failing "
                + "x" * rng.randrange(200),
                "description": "",
                "labels": {
                    "team": f"squad-{rng.randrange(400)}",
                    "env": rng.choice(["prod", "dev", "staging"]),
                },
                "annotations": {"runbook_url": f"https://wiki/runbooks/{rng.randrange(400)}/crash"},
            }
        )
    return signals


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--signals", type=int, default=10_000)
    parser.add_argument("--rules", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(42)
    rules = make_rules(args.rules, rng)
    silences = [
        SilenceSpec(
            i,
            (parse_condition({"field": "namespace", "operator": "equals", "value": f"team-{i}"}),),
            NOW - timedelta(hours=1),
            NOW + timedelta(hours=1),
        )
        for i in range(5)
    ]
    signals = make_signals(args.signals, rng)
    started = time.perf_counter()
    rule_set = RuleSet(rules, silences)
    compile_ms = (time.perf_counter() - started) * 1000
    rates, outcomes = [], {}
    for _ in range(args.repeat):
        started = time.perf_counter()
        outcomes = {}
        for subject in signals:
            result = rule_set.evaluate(subject, now=NOW)
            outcomes[result.action] = outcomes.get(result.action, 0) + 1
        rates.append(len(signals) / (time.perf_counter() - started))
    print(f"{args.signals} signals x {args.rules} rules (+5 silences), compile {compile_ms:.0f} ms")
    print(
        f"signals/s: median {statistics.median(rates):,.0f}  (runs: {', '.join(f'{r:,.0f}' for r in rates)})"
    )
    print(f"decisions: {outcomes}  (most fall through all rules to the default: the worst case)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
