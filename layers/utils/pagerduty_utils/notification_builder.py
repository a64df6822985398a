"""Slack, Microsoft Teams and e-mail renderings of an alert or a PagerDuty incident.

Both inputs become one channel-neutral ``Notification`` (raw text), and each renderer escapes and bounds it for
its channel: Slack mrkdwn (``&``, ``<``, ``>`` — they start links and mentions — and ``verbatim``, so a plain
``@here`` in an alarm name is not parsed into a mention), Adaptive Card Markdown
(backslash escapes), HTML (``html`` entities, quotes included). Every link passes ``validators.safe_url``, so a
``javascript:`` URL from a custom event never becomes clickable.

The webhook receiver renders incidents: it passes anything with the attributes of ``IncidentView`` (title,
status, urgency, service, url, occurred_at), for example an ``IncidentNotice``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pagerduty_utils.data_transformer import AlertSource, NormalizedAlert
from pagerduty_utils.formatters import clean_text, truncate, truncate_escaped
from pagerduty_utils.pagerduty_events import EventAction
from pagerduty_utils.validators import escape_html, escape_markdown, escape_slack, safe_url

SLACK_SECTION_LIMIT = 3000
SLACK_FIELD_LIMIT = 2000
SLACK_FIELDS_PER_SECTION = 10
LINK_TEXT_LIMIT = 75  # Slack's button text limit, also used for Teams' action titles
SLACK_FALLBACK_LIMIT = 3000
TEAMS_TEXT_LIMIT = 1000  # per TextBlock / fact value: keeps a card far below Teams' ~28 KB message limit
EMAIL_SUBJECT_LIMIT = 200
MAX_LINKS = 5
TEXT_LIMIT = 1024  # any one title, fact or link text, before a channel's own (smaller) limits
MAX_FACTS = 10

_SOURCE_LABELS = {
    AlertSource.CLOUDWATCH_ALARM: "CloudWatch alarm",
    AlertSource.GUARDDUTY: "GuardDuty finding",
    AlertSource.SECURITY_HUB: "Security Hub finding",
    AlertSource.HEALTH: "AWS Health event",
    AlertSource.CUSTOM: "Application alert",
    AlertSource.SNS: "SNS message",
    AlertSource.EVENTBRIDGE: "EventBridge event",
    AlertSource.STEP_FUNCTIONS: "Step Functions execution",
    AlertSource.GLUE: "Glue job run",
    AlertSource.BACKUP: "AWS Backup job",
    AlertSource.CODEPIPELINE: "CodePipeline execution",
    AlertSource.CODEBUILD: "CodeBuild build",
    AlertSource.CODEDEPLOY: "CodeDeploy deployment",
    AlertSource.CLOUDFORMATION: "CloudFormation stack",
    AlertSource.ECS: "ECS task or deployment",
    AlertSource.RDS: "RDS event",
    AlertSource.AUTOSCALING: "EC2 Auto Scaling activity",
    AlertSource.INSPECTOR: "Inspector finding",
    AlertSource.CONFIG: "Config compliance change",
    AlertSource.SIGNIN: "Console sign-in or root activity",
}
_SLACK_EMOJI = {
    "critical": ":red_circle:",
    "error": ":red_circle:",
    "high": ":red_circle:",
    "warning": ":large_orange_circle:",
}
_TEAMS_COLOR = {"critical": "Attention", "error": "Attention", "high": "Attention", "warning": "Warning"}
_CALM_STATUSES = frozenset({"resolved", "acknowledged"})


class IncidentView(Protocol):
    """What a notification shows of an incident (the receiver's models provide these attributes)."""

    @property
    def title(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def urgency(self) -> str | None: ...
    @property
    def service(self) -> str | None: ...
    @property
    def url(self) -> str | None: ...
    @property
    def occurred_at(self) -> datetime: ...


@dataclass(frozen=True)
class IncidentNotice:
    """A plain ``IncidentView``: ``status`` triggered/acknowledged/resolved, ``urgency`` high/low, ``service`` the
    service's name, ``url`` the incident's html_url, ``occurred_at`` when the change happened."""

    title: str
    status: str
    urgency: str | None
    service: str | None
    url: str | None
    occurred_at: datetime


@dataclass(frozen=True)
class Notification:
    """Channel-neutral content, raw (unescaped): ``level`` is a severity or an urgency, ``facts`` label/value pairs."""

    title: str
    status: str
    level: str | None
    facts: tuple[tuple[str, str], ...]
    url: str | None
    links: tuple[tuple[str, str], ...]
    occurred_at: datetime

    @property
    def is_calm(self) -> bool:
        return self.status.lower() in _CALM_STATUSES


@dataclass(frozen=True)
class EmailContent:
    subject: str
    text: str
    html: str


def notification_for_alert(alert: NormalizedAlert) -> Notification:
    payload = alert.payload
    status = "triggered" if alert.action is EventAction.TRIGGER else f"{alert.action.value}d"
    facts = (
        ("Source", _SOURCE_LABELS[alert.source]),
        ("Name", alert.name),
        ("Severity", payload.severity.value),
        ("Account", alert.account),
        ("Region", alert.region),
        ("Component", payload.component),
        ("Affected", payload.source),
    )
    return Notification(
        title=_title(payload.summary),
        status=status,
        level=payload.severity.value,
        facts=_present(facts),
        url=safe_url(alert.client_url),
        links=_safe_links((link.text or link.href, link.href) for link in alert.links),
        occurred_at=alert.occurred_at,
    )


def notification_for_incident(incident: IncidentView) -> Notification:
    url = safe_url(incident.url)
    facts = (("Status", incident.status), ("Urgency", incident.urgency), ("Service", incident.service))
    return Notification(
        title=_title(incident.title),
        status=_title(incident.status),
        level=_title(incident.urgency) if incident.urgency else None,
        facts=_present(facts),
        url=url,
        links=_safe_links([("Open in PagerDuty", url)] if url else []),
        occurred_at=incident.occurred_at,
    )


# --- Slack (Block Kit) -------------------------------------------------------------------------------------------


def render_slack(notification: Notification) -> dict[str, Any]:
    """A Slack message (``chat.postMessage`` / incoming webhook body) with a plain fallback ``text``."""
    emoji = (
        ":large_green_circle:"
        if notification.is_calm
        else _SLACK_EMOJI.get(notification.level or "", ":large_blue_circle:")
    )
    heading = f"{emoji} *{escape_slack(notification.status.upper())}* "
    title = truncate_escaped(notification.title, SLACK_SECTION_LIMIT - len(heading) - 2, escape_slack)
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": _mrkdwn(f"{heading}*{title}*")},
    ]
    fields = [
        _mrkdwn(f"*{label}*\n" + truncate_escaped(value, SLACK_FIELD_LIMIT - len(label) - 3, escape_slack))
        for label, value in notification.facts[:SLACK_FIELDS_PER_SECTION]
    ]
    if fields:
        blocks.append({"type": "section", "fields": fields})
    if notification.links:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": truncate(text, LINK_TEXT_LIMIT)},
                        "url": href,
                    }
                    for text, href in notification.links
                ],
            }
        )
    blocks.append({"type": "context", "elements": [_mrkdwn(_timestamp(notification.occurred_at))]})
    fallback = f"{notification.status.upper()}: {notification.title}"
    return {
        "text": truncate_escaped(fallback, SLACK_FALLBACK_LIMIT, escape_slack),
        "blocks": blocks,
        # The fallback text too: no automatic linking of names and mentions.
        "parse": "none",
        "link_names": False,
    }


def _mrkdwn(text: str) -> dict[str, Any]:
    """A mrkdwn text object that Slack renders as written: escaping stops ``<!channel>`` and links, ``verbatim``
    stops the automatic parsing that would turn a plain ``@here`` or ``@channel`` into a mention."""
    return {"type": "mrkdwn", "text": text, "verbatim": True}


# --- Microsoft Teams (Adaptive Card) -----------------------------------------------------------------------------


def render_teams(notification: Notification) -> dict[str, Any]:
    """A Teams message carrying one Adaptive Card (incoming webhook / Workflows body)."""
    color = "Good" if notification.is_calm else _TEAMS_COLOR.get(notification.level or "", "Accent")
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": _teams_text(notification.status.upper()), "weight": "Bolder", "color": color},
        {
            "type": "TextBlock",
            "text": _teams_text(notification.title),
            "size": "Medium",
            "weight": "Bolder",
            "wrap": True,
        },
        {
            "type": "FactSet",
            "facts": [{"title": label, "value": _teams_text(value)} for label, value in notification.facts[:MAX_FACTS]],
        },
        {"type": "TextBlock", "text": _timestamp(notification.occurred_at), "isSubtle": True, "size": "Small"},
    ]
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
        "actions": [
            {"type": "Action.OpenUrl", "title": truncate(text, LINK_TEXT_LIMIT), "url": href}
            for text, href in notification.links
        ],
    }
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def _teams_text(text: str) -> str:
    return truncate_escaped(text, TEAMS_TEXT_LIMIT, escape_markdown)


# --- e-mail ------------------------------------------------------------------------------------------------------


def render_email(notification: Notification) -> EmailContent:
    """Subject (one line: no header injection), plain text and HTML bodies."""
    level = f" {notification.level.upper()}" if notification.level and not notification.is_calm else ""
    subject = truncate(_title(f"[{notification.status.upper()}{level}] {notification.title}"), EMAIL_SUBJECT_LIMIT)
    text_lines = [notification.title, "", *(f"{label}: {value}" for label, value in notification.facts)]
    text_lines += ["", *(f"{text}: {href}" for text, href in notification.links), _timestamp(notification.occurred_at)]
    html = "".join(
        [
            f"<h2>{escape_html(notification.status.upper())}: {escape_html(notification.title)}</h2>",
            "<table>",
            *(
                f'<tr><th align="left">{escape_html(label)}</th><td>{escape_html(value)}</td></tr>'
                for label, value in notification.facts
            ),
            "</table>",
            "<p>",
            " | ".join(f'<a href="{escape_html(href)}">{escape_html(text)}</a>' for text, href in notification.links),
            "</p>",
            f"<p><small>{escape_html(_timestamp(notification.occurred_at))}</small></p>",
        ]
    )
    return EmailContent(subject=subject, text="\n".join(text_lines).strip() + "\n", html=html)


# --- helpers -----------------------------------------------------------------------------------------------------


def _present(facts: Iterable[tuple[str, str | None]]) -> tuple[tuple[str, str], ...]:
    """The facts that have a value, each value cleaned to one bounded line."""
    cleaned = ((label, clean_text(value or "", TEXT_LIMIT, single_line=True)) for label, value in facts)
    return tuple((label, value) for label, value in cleaned if value)


def _safe_links(links: Iterable[tuple[str, str | None]]) -> tuple[tuple[str, str], ...]:
    kept = []
    for text, href in links:
        url = safe_url(href)
        if url is not None:
            kept.append((clean_text(text, TEXT_LIMIT, single_line=True) or url, url))
    return tuple(kept[:MAX_LINKS])


def _title(text: str) -> str:
    return clean_text(text, TEXT_LIMIT, single_line=True)


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
