"""health_monitor: is the path from AWS to PagerDuty (and back) working right now?

``checks`` probe one dependency each; ``runner`` runs them concurrently under one deadline; ``report`` is the
result; ``snapshot`` stores it for ``GET /health``; ``operations`` tells people when the status changes;
``monitor`` ties one run together and ``wiring`` builds it all from ``HealthSettings``.
"""
