"""PagerDuty Webhooks v3: signature verification (``signature``), payload models (``models``), the normalized
bus event (``normalized``), the processing rules (``processing``) and API Gateway adaptation (``api_gateway``).

Import the submodule you need; this package imports nothing so that each stays cheap to load.
"""
