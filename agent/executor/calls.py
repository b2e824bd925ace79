"""Every Kubernetes API call the agent can make, and how their answers are read.

`READ_CALLS` maps each allow-listed built-in kind to `read_*`/`list_*` methods of the official client;
custom resources (cert-manager, Kyverno) and metrics are read with `CustomObjectsApi`'s get/list
(`CUSTOM_CALLS`); pod logs, the version and metrics discovery are the only other calls (`LOG_CALL`,
`VERSION_CALL`, `CUSTOM_CALLS`). `KubeReader.raw()` refuses any method whose name does not
start with `read_`, `list_` or `get_`, so a write cannot be reached even by mistake. Answers
are read raw (`_preload_content=False`): objects stay exactly as the API server (and
`kubectl get -o json`) shows them, with no round trip through the client's models.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# Refuse to hold more than this of one API response in memory, whatever the caps.
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
READ_PREFIXES = ("read_", "list_", "get_")


@dataclass(frozen=True)
class ReadCall:
    """The client class and read methods for one kind."""

    api: str
    read: str
    list_namespaced: str | None  # None for cluster-scoped kinds
    list_all: str


def _ns(api: str, snake: str) -> ReadCall:
    return ReadCall(
        api, f"read_namespaced_{snake}", f"list_namespaced_{snake}", f"list_{snake}_for_all_namespaces"
    )


def _cluster(api: str, snake: str) -> ReadCall:
    return ReadCall(api, f"read_{snake}", None, f"list_{snake}")


READ_CALLS: dict[str, ReadCall] = {
    "Pod": _ns("CoreV1Api", "pod"),
    "Service": _ns("CoreV1Api", "service"),
    "Endpoints": _ns("CoreV1Api", "endpoints"),
    "ConfigMap": _ns("CoreV1Api", "config_map"),
    "PersistentVolumeClaim": _ns("CoreV1Api", "persistent_volume_claim"),
    "PersistentVolume": _cluster("CoreV1Api", "persistent_volume"),
    "Node": _cluster("CoreV1Api", "node"),
    "Namespace": _cluster("CoreV1Api", "namespace"),
    "Event": _ns("CoreV1Api", "event"),
    "ResourceQuota": _ns("CoreV1Api", "resource_quota"),
    "LimitRange": _ns("CoreV1Api", "limit_range"),
    "ServiceAccount": _ns("CoreV1Api", "service_account"),
    "Deployment": _ns("AppsV1Api", "deployment"),
    "ReplicaSet": _ns("AppsV1Api", "replica_set"),
    "StatefulSet": _ns("AppsV1Api", "stateful_set"),
    "DaemonSet": _ns("AppsV1Api", "daemon_set"),
    "Job": _ns("BatchV1Api", "job"),
    "CronJob": _ns("BatchV1Api", "cron_job"),
    "Ingress": _ns("NetworkingV1Api", "ingress"),
    "NetworkPolicy": _ns("NetworkingV1Api", "network_policy"),
    "EndpointSlice": _ns("DiscoveryV1Api", "endpoint_slice"),
    "HorizontalPodAutoscaler": _ns("AutoscalingV2Api", "horizontal_pod_autoscaler"),
    "PodDisruptionBudget": _ns("PolicyV1Api", "pod_disruption_budget"),
    "Role": _ns("RbacAuthorizationV1Api", "role"),
    "RoleBinding": _ns("RbacAuthorizationV1Api", "role_binding"),
    "ClusterRole": _cluster("RbacAuthorizationV1Api", "cluster_role"),
    "ClusterRoleBinding": _cluster("RbacAuthorizationV1Api", "cluster_role_binding"),
    "StorageClass": _cluster("StorageV1Api", "storage_class"),
    "ValidatingWebhookConfiguration": _cluster(
        "AdmissionregistrationV1Api", "validating_webhook_configuration"
    ),
    "MutatingWebhookConfiguration": _cluster("AdmissionregistrationV1Api", "mutating_webhook_configuration"),
    "ValidatingAdmissionPolicy": _cluster("AdmissionregistrationV1Api", "validating_admission_policy"),
    "ValidatingAdmissionPolicyBinding": _cluster(
        "AdmissionregistrationV1Api", "validating_admission_policy_binding"
    ),
}
LOG_CALL = ("CoreV1Api", "read_namespaced_pod_log")
EVENT_CALLS = ("CoreV1Api", "list_namespaced_event", "list_event_for_all_namespaces")
VERSION_CALL = ("VersionApi", "get_code")
CUSTOM_CALLS = (
    "CustomObjectsApi",
    "get_namespaced_custom_object",
    "list_namespaced_custom_object",
    "get_cluster_custom_object",
    "list_cluster_custom_object",
    "get_api_resources",
)


class KubeFailure(Exception):
    """A read that failed; `code` is a protocol error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class KubeReader:
    """Calls read methods on one shared `kubernetes.client.ApiClient` and returns raw answers."""

    def __init__(self, api_client: Any) -> None:
        self._client = api_client
        self._apis: dict[str, Any] = {}

    def method(self, api: str, name: str) -> Any:
        if not name.startswith(READ_PREFIXES):
            raise KubeFailure("refused", f"{name} is not a read call")
        instance = self._apis.get(api)
        if instance is None:
            import kubernetes.client  # lazy: keeps `import agent.executor` cheap for the portal

            instance = self._apis.setdefault(api, getattr(kubernetes.client, api)(self._client))
        return getattr(instance, name)

    def json(self, api: str, name: str, *args: Any, timeout: float, **kwargs: Any) -> Any:
        data = self.raw(api, name, *args, timeout=timeout, cap=MAX_RESPONSE_BYTES, **kwargs)
        if len(data) >= MAX_RESPONSE_BYTES:
            raise KubeFailure(
                "api_error", f"API response larger than {MAX_RESPONSE_BYTES} bytes; narrow the request"
            )
        try:
            return json.loads(data)
        except ValueError:
            raise KubeFailure("api_error", "the API answered with something that is not JSON") from None

    def raw(self, api: str, name: str, *args: Any, timeout: float, cap: int, **kwargs: Any) -> bytes:
        """At most `cap` bytes of the answer to one read call."""
        method = self.method(api, name)
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError
        from urllib3.exceptions import TimeoutError as Urllib3Timeout

        too_slow = f"the Kubernetes API did not answer within {timeout:.1f}s"
        try:
            response = method(*args, _preload_content=False, _request_timeout=timeout, **kwargs)
            try:
                return response.read(cap)
            finally:
                response.release_conn()
        except ApiException as exc:
            raise _api_failure(exc) from None
        except Urllib3Timeout:
            raise KubeFailure("timeout", too_slow) from None
        except HTTPError as exc:
            if isinstance(getattr(exc, "reason", None), Urllib3Timeout):  # MaxRetryError after timeouts
                raise KubeFailure("timeout", too_slow) from None
            raise KubeFailure(
                "api_error", f"could not reach the Kubernetes API: {type(exc).__name__}"
            ) from None


def _api_failure(exc: Any) -> KubeFailure:
    status = getattr(exc, "status", None)
    message = _status_message(getattr(exc, "body", None)) or str(getattr(exc, "reason", "")) or "no message"
    if status == 404:
        return KubeFailure("not_found", f"not found: {message}")
    if status == 403:
        return KubeFailure("forbidden", f"the agent's RBAC does not allow this read: {message}")
    if status == 401:
        return KubeFailure("forbidden", "the Kubernetes API rejected the agent's credentials")
    if status == 504:
        return KubeFailure("timeout", f"the Kubernetes API timed out: {message}")
    return KubeFailure("api_error", f"Kubernetes API error {status}: {message}")


def _status_message(body: Any) -> str:
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if not isinstance(body, str):
        return ""
    try:
        parsed = json.loads(body)
    except ValueError:
        return body[:300]
    if isinstance(parsed, dict) and isinstance(parsed.get("message"), str):
        return parsed["message"][:300]
    return body[:300]


def api_client_from_settings(kube: Any) -> Any:
    """A `kubernetes.client.ApiClient` from `config.KubeSettings`: in-cluster unless told otherwise."""
    import kubernetes.client
    import kubernetes.config

    configuration = kubernetes.client.Configuration()
    # One retry for a dropped connection; urllib3's default (3) would multiply a hung API's
    # timeout past the command's deadline.
    configuration.retries = 1
    if kube.api_url:
        configuration.host = kube.api_url
        if kube.api_token:
            configuration.api_key = {"authorization": kube.api_token}
            configuration.api_key_prefix = {"authorization": "Bearer"}
        return kubernetes.client.ApiClient(configuration)
    if kube.kubeconfig:
        # persist_config=False: never write refreshed credentials back into the kubeconfig file.
        return kubernetes.config.new_client_from_config(
            config_file=kube.kubeconfig, persist_config=False, client_configuration=configuration
        )
    kubernetes.config.load_incluster_config(client_configuration=configuration)
    return kubernetes.client.ApiClient(configuration)
