"""``pdutils demo`` (what ``./dev run`` runs): the whole story happens and the command exits 0."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
TEMPLATE = PROJECT_DIR / "template.yaml"

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not TEMPLATE.exists(), reason="no template.yaml")]


def test_demo_shows_an_alert_from_cloudwatch_to_pagerduty_and_back_a_health_run_and_the_sample_events() -> None:
    completed = subprocess.run(  # our own CLI
        [sys.executable, "-m", "pdutils.cli", "demo", "--template", str(TEMPLATE)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "[FAILED]" not in completed.stdout
    for step in (
        "[ok] PagerDuty incident triggered",
        "[ok] webhook incident.triggered accepted",
        "[ok] PagerDuty incident resolved",
        "[ok] webhook incident.resolved accepted",
        "[ok] incident event on the bus: incident.resolved",
        "[ok] health checker run: overall healthy",
        "[ok] GET /health: 200",
        "[ok] sqs_alert_batch.json -> AlertForwarderFunction: no batch item failures",
        "[ok] apigateway_webhook.json -> WebhookReceiverFunction: HTTP 200",
    ):
        assert step in completed.stdout
