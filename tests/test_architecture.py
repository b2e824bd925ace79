"""The import contracts (pyproject.toml [tool.importlinter]) and the absence of import cycles.

CI runs `make test` only, so the contracts `make lint` checks are also checked here.
The layers: docs/architecture.md, "Layers". No import is exempted from them.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
PRODUCT_PACKAGES = ("opsworker", "tenants", "alerts", "clusters", "investigations", "notifications", "agent")


def _contracts() -> dict[str, dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {contract["id"]: contract for contract in config["contracts"]}


def _graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PRODUCT_PACKAGES, cache_dir=None)


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, targets = work[-1]
            target = next(targets, None)
            if target is not None:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(edges.get(target, ())))))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_import_contracts_hold():
    # lint-imports exits 1 on a broken contract, and on an ignored import that no longer exists.
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_import_contracts_cover_the_layers_the_pure_cores_and_the_agent():
    contracts = _contracts()
    assert contracts["layers"]["layers"][1:6] == [
        "notifications",
        "investigations",
        "clusters",
        "alerts",
        "tenants",
    ]
    assert "ignore_imports" not in contracts["layers"]
    assert "ignore_imports" not in contracts["pure-cores"]
    assert {
        "alerts.sources",
        "alerts.rules.engine",
        "alerts.rules.conditions",
        "investigations.engine",
    } <= set(contracts["pure-cores"]["source_modules"])
    assert "django" in contracts["pure-cores"]["forbidden_modules"]
    assert contracts["agent-standalone"]["source_modules"] == ["agent"]
    assert {"django", "tenants", "alerts", "clusters", "investigations", "notifications", "opsworker"} <= set(
        contracts["agent-standalone"]["forbidden_modules"]
    )


def test_product_modules_import_no_cycle():
    # Function-local imports count: grimp records them like top-level ones.
    graph = _graph()
    edges = {module: set(graph.find_modules_directly_imported_by(module)) for module in graph.modules}
    assert _cycles(edges) == []


def _app_of(module: str, composition: set[str]) -> str:
    """Top-level package, with `opsworker` split into its kernel and its composition modules."""
    top = module.split(".")[0]
    if top != "opsworker":
        return top
    return "composition" if any(module == c or module.startswith(c + ".") for c in composition) else "kernel"


def test_apps_import_no_cycle():
    layers = _contracts()["layers"]
    composition = {name.strip() for name in layers["layers"][0].split(":")}
    graph = _graph()
    edges: dict[str, set[str]] = {}
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            source, target = _app_of(module, composition), _app_of(imported, composition)
            if source != target:
                edges.setdefault(source, set()).add(target)
    assert _cycles(edges) == []
