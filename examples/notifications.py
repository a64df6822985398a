"""Render one AWS alert for Slack, Microsoft Teams and e-mail.

Shows ``data_transformer.normalize`` (any alert the stack understands: here a CloudWatch Alarm State Change from
EventBridge) and ``notification_builder``: one channel-neutral ``Notification`` per alert, rendered as a Slack
Block Kit message, a Teams Adaptive Card message and an e-mail (subject, text and HTML). Each renderer escapes
for its channel (the alarm description's ``<payments & orders>`` stays text) and keeps only safe links. Post
the Slack body to an incoming webhook or ``chat.postMessage``, the Teams body to a Workflows webhook, and the
e-mail through SES.

Environment: none; the function makes no network calls.
Event: events/alarm_state_change.json.
Run: ``pytest tests/integration/test_examples.py -k notifications`` renders it and checks every channel.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from pagerduty_utils.data_transformer import normalize
from pagerduty_utils.notification_builder import notification_for_alert, render_email, render_slack, render_teams


def lambda_handler(event: dict[str, Any], _context: LambdaContext) -> list[dict[str, Any]]:
    renderings = []
    for alert in normalize(event):
        notification = notification_for_alert(alert)
        renderings.append(
            {
                "slack": render_slack(notification),
                "teams": render_teams(notification),
                "email": asdict(render_email(notification)),
            }
        )
    return renderings
