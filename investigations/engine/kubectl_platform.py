"""kubectl builders for the platform analyzers (nodes, storage, autoscaling, quotas, jobs).

Like kubectl.py: copy-paste commands with real, shell-quoted names. Shown, never executed.
"""

from __future__ import annotations

import json

from investigations.engine.evidence import Ref
from investigations.engine.kubectl import ns, q, resource


def get_nodes(*label_columns: str) -> str:
    columns = "".join(f" -L {q(label)}" for label in label_columns if label)
    return f"kubectl get nodes -o wide{columns}"


def describe_nodes_allocated() -> str:
    return "kubectl describe nodes | grep -A 8 'Allocated resources'"


def top_nodes() -> str:
    return "kubectl top nodes"


def cordon(node: str) -> str:
    return f"kubectl cordon {q(node)}"


def uncordon(node: str) -> str:
    return f"kubectl uncordon {q(node)}"


def drain(node: str) -> str:
    return f"kubectl drain {q(node)} --ignore-daemonsets --delete-emptydir-data"


def node_debug(node: str, command: str) -> str:
    """A read-only look at the host through a debug pod (kubectl debug node/...)."""
    return f"kubectl debug node/{q(node)} -it --image=busybox:1.36 -- chroot /host {command}"


def force_delete_pod(pod: Ref) -> str:
    return f"kubectl {ns(pod)}delete pod {q(pod.name)} --grace-period=0 --force"


def get_pods_on_node(node: str) -> str:
    return f"kubectl get pods -A -o wide --field-selector spec.nodeName={q(node)}"


def get_pods_pending(namespace: str) -> str:
    flag = f"-n {q(namespace)} " if namespace else "-A "
    return f"kubectl get pods {flag}--field-selector status.phase=Pending -o wide"


def get_storage() -> str:
    return "kubectl get storageclass,pv"


def get(ref: Ref, output: str = "wide") -> str:
    return f"kubectl {ns(ref)}get {resource(ref)} -o {output}"


def delete(ref: Ref, *flags: str) -> str:
    extra = "".join(f" {flag}" for flag in flags)
    return f"kubectl {ns(ref)}delete {resource(ref)}{extra}"


def patch_hpa_max(hpa: Ref, max_replicas: int) -> str:
    return f"kubectl {ns(hpa)}patch {resource(hpa)} --type merge -p " + q(
        json.dumps({"spec": {"maxReplicas": max_replicas}})
    )


def quota_usage(namespace: str) -> str:
    return f"kubectl -n {q(namespace)} describe resourcequota"


def job_from_cronjob(cronjob: Ref, job_name: str) -> str:
    return f"kubectl {ns(cronjob)}create job {q(job_name)} --from=cronjob/{q(cronjob.name)}"


def jobs_history(namespace: str) -> str:
    return (
        f"kubectl -n {q(namespace)} get jobs --sort-by=.status.startTime "
        "-o custom-columns=NAME:.metadata.name,START:.status.startTime,END:.status.completionTime,"
        "STATUS:.status.conditions[-1].type"
    )
