"""What every analyzer receives: the view, the target, the topology, and the evidence log."""

from __future__ import annotations

import dataclasses

from investigations.engine.evidence import ClusterView, EvidenceLog, Ref
from investigations.engine.target import Target
from investigations.engine.topology import Topology


@dataclasses.dataclass
class Context:
    view: ClusterView
    target: Target
    topology: Topology
    evidence: EvidenceLog = dataclasses.field(default_factory=EvidenceLog)

    @property
    def namespace(self) -> str:
        return self.target.namespace

    def cite(self, kind: str, resource: Ref | dict, excerpt: str) -> str:
        ref = resource if isinstance(resource, Ref) else Ref.of(resource)
        return self.evidence.cite(kind, ref, excerpt)

    def in_scope_pods(self) -> list[dict]:
        """Pods of the topology; if the target was not found, every pod of the namespace."""
        if self.topology.pods:
            return self.topology.pods
        return self.view.all("Pod", self.namespace) if self.namespace else []

    def in_scope_workloads(self) -> list[dict]:
        if self.topology.workloads:
            return self.topology.workloads
        seen, result = set(), []
        for pod in self.in_scope_pods():
            owner = self.view.top_owner(pod)
            if id(owner) not in seen:
                seen.add(id(owner))
                result.append(owner)
        return result
