"""Writes of the capture app: ingest keys (``ingest_keys``) and logs (``logs``)."""
