"""pdutils: the project's developer tools (Docker-free local runtime, PagerDuty simulator, operations commands).

Dev-only: nothing here ships in the Lambda layer.
"""
