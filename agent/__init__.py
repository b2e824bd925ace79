"""OpsWorker's in-cluster agent: reads an allow-listed subset of the Kubernetes API, never writes.

The package imports no Django and nothing heavy at import time; `python -m agent` starts it.
"""

__version__ = "0.1.0"
