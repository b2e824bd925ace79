"""A read-only Kubernetes API server over a scenario folder's cluster.json (imports no Django).

The real agent and the real `kubernetes` client (or kubectl) talk to it over HTTP on loopback:

    with start_simulator("path/to/scenario") as sim:   # or start_simulator(None): empty cluster
        configuration.host = sim.url
        sim.load("path/to/other-scenario")              # swap the whole cluster atomically

    python -m agent.simulator --scenario DIR [--host 127.0.0.1] [--port 0] [--token T]
        prints {"url": "http://127.0.0.1:PORT"} once listening; serves until SIGTERM/SIGINT

Control API (loopback only, same bearer rule as the rest):
    POST /_simulator/load  {"scenario": "/absolute/scenario/dir", "shift_to_now": false}  → state, or 400
                           (shift_to_now: move every timestamp so the capture happened now)
    GET  /_simulator/state → {"scenario", "path", "kubernetesVersion", "capturedAt",
                              "resourceVersion", "objects": {kind: count}, "total"}

Behaviour where the real API server leaves room (decisions):
- Auth: any or no `Authorization` is accepted unless a token is configured; then
  `Bearer <token>` is required everywhere (401 Status otherwise). kubectl does not send bearer
  tokens over plain http, so use kubectl without --token.
- Read-only: every method but GET answers 405 MethodNotAllowed (Status).
- Secrets are in discovery (every cluster has them) but every get/list answers 403 Forbidden, as
  for an agent whose RBAC denies them; scenarios never contain Secrets (any are dropped).
- metrics.k8s.io/v1beta1 is advertised only when the scenario has PodMetrics/NodeMetrics, like a
  cluster with metrics-server; otherwise /apis/metrics.k8s.io/... is 404.
- HPAs are served as autoscaling/v2 and v1 (converted), core Events also as events.k8s.io/v1
  (converted; `eventTime` filled from first/lastTimestamp because the typed client requires it).
- Namespaces: when cluster.json has no Namespace objects, one per namespace used plus default,
  kube-system, kube-public and kube-node-lease. Namespaced objects without a namespace go to
  "default". Unknown kinds (custom resources) are served under a guessed English plural.
- Lists are in (namespace, name) order with metadata.resourceVersion = the newest object's;
  `limit`/`continue` tokens are offsets bound to the loaded scenario (410 Expired after a load()).
- Watch (`?watch=true`): without resourceVersion (or "0") one ADDED event per match, then the
  stream stays quiet (the cluster is frozen) until timeoutSeconds (default 30 s, max 300 s).
- Logs: `logs` / `previous_logs` keys "ns/pod/container"; `log_errors` maps the same keys to the
  400 message the API gave when the logs were captured. A container that is waiting to start
  answers 400 "is waiting to start: <reason>"; `previous` without a terminated lastState answers
  400 'previous terminated container "c" in pod "p" not found'. sinceSeconds counts back from
  x-capture.capturedAt using each line's leading timestamp (continuation lines inherit it).
- kubectl tables (Accept ...as=Table...) use the real printers' columns for common kinds, with
  ages counted from capturedAt rather than the wall clock. No OpenAPI (/openapi/v2 is 404).
"""

from .cluster import Cluster, ScenarioError, load_cluster
from .server import Simulator, start_simulator

__all__ = ["Cluster", "ScenarioError", "Simulator", "load_cluster", "start_simulator"]
