"""The Logger, Tracer and Metrics objects, created once and shared by every module and handler.

Service name, namespace and log level come from Powertools' own variables (POWERTOOLS_SERVICE_NAME,
POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL), which template.yaml sets per function.
Tracing goes through Powertools Tracer only (the X-Ray SDK behind it is in maintenance mode).
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
