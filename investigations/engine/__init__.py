"""The investigation engine: from an alert to a root cause, through read-only evidence.

extract   → Target (cluster, namespace, resource) from the signal
collect   → ClusterView: objects, events, logs, metrics read through a ClusterReader
            (the agent in production; a scenario snapshot in analyzer unit tests)
topology  → the graph around the target (owners, selectors, references)
analyze   → deterministic analyzers turn evidence into Findings (taxonomy categories)
recommend → copy-paste kubectl commands with the real names (never executed)
"""
