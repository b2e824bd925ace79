"""Writes of the alerts app: integrations (`integrations.py`) and signal ingestion (`ingest.py`)."""
