"""The portal side of the agent protocol (`agent/protocol.py`): endpoints, services, client API.

* `views`      `/agent/v1/hello|heartbeat|commands|results` on organization hosts (token auth).
* `services`   cluster tokens, hello/heartbeat bookkeeping, claiming commands, recording results.
* `wake`       Redis pub/sub that wakes long polls and waiting clients (PostgreSQL stays the truth).
* `client`     `run_commands(cluster, specs, wait_seconds)` for the investigation engine.
* `sqs`        the same over a cluster's SQS queue pair.
"""
