"""Recommendations for dns-resolution-failed on the cluster side: fix the ConfigMap key the DNS pods fail
to parse (a known plugin rename written out), restart them and check their endpoints.
"""

from __future__ import annotations

import re

from investigations.engine import kubectl
from investigations.engine import kubectl_extra as kx
from investigations.engine import kubectl_policy as kpol
from investigations.engine.analyzers.dns_servers import Nameserver
from investigations.engine.evidence import Ref
from investigations.engine.kubectl import Recommendation


def dns_recommendations(
    server: Nameserver,
    workload: Ref | None,
    configmap: dict | None,
    key: str,
    pods: list[dict],
    replacement: str = "",
    old: str = "",
) -> list[Recommendation]:
    out = []
    if configmap is not None:
        ref = Ref.of(configmap)
        commands = [kubectl.get_yaml(ref)]
        value = (configmap.get("data") or {}).get(key) or ""
        if replacement and old:
            fixed = re.sub(rf"(?m)^(\s*){old}\b", rf"\g<1>{replacement}", value)
            commands.append(kx.set_configmap_key(ref, key, fixed))
        else:
            commands.append(kubectl.edit(ref))
        out.append(
            Recommendation(
                f"Fix key {key} of ConfigMap {ref.name}",
                "immediate",
                "The DNS pods cannot start until the file parses"
                + (f" (`{old}` → `{replacement}`)." if replacement else "."),
                commands,
            )
        )
    if workload is not None:
        out.append(
            Recommendation(
                f"Restart {workload.name} and check the DNS endpoints",
                "immediate",
                "Once the pods are Ready the Service has endpoints again and lookups succeed everywhere.",
                [kubectl.rollout_restart(workload), kubectl.rollout_status(workload)]
                + ([kpol.get_endpoints(server.ref)] if server.ref.kind == "Service" else [])
                + ([kubectl.logs(Ref.of(pods[0]), tail=50)] if pods else []),
            )
        )
    out.append(
        Recommendation(
            "Make the cluster DNS harder to break",
            "preventive",
            "Run at least two DNS replicas on different nodes with a PodDisruptionBudget, review and test "
            "Corefile "
            "changes before applying them, and alert on kube-dns endpoints and DNS error rates.",
            [],
        )
    )
    return out
