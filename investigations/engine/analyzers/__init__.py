"""Deterministic analyzers, one module per taxonomy category or small family (see analysis.py).

Every module here is imported by `load_analyzers`, which registers the `@analyzer` functions.

- platform: unschedulable_resources, unschedulable_constraints (shared: scheduling), storage
  (+ storage_zones), nodes (+ node_recommendations), autoscaling, quotas, jobs; unknown supports
  the honest `unknown` answer. Each analyzer stands down when the symptom it sees is the consequence
  of a more specific cause another category explains.
- network: dependencies, service_selector, service_ports, ingress, rbac (+ rbac_rules); they start
  from generic evidence around the alert (connections: what the logs fail to reach; service_lookup:
  Services → Endpoints → pods → workload) and only then decide which mechanism broke.
- workload: crashes, missing_config (+ missing_setting_in_logs), bad_config, images,
  liveness_probe and readiness_probe (+ probes), cpu_throttling; shared: workload_facts.
- memory: oom-killed.
- the newer categories: volumes (+ volume_fixes), network_policy (+ netpol_rules, destinations,
  policy_changes), dns (+ dns_servers, dns_cluster, dns_upstream, dns_fixes), certificates
  (+ tls_facts, cert_findings, cert_sources, cert_fixes), admission (+ admission_messages,
  admission_facts, admission_fixes). Failed lookups are parsed once, in
  engine/name_resolution.py (the collector reads the cluster DNS when one shows up).
- helpers: formatting and lookups every family uses.
"""
