from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pagerduty_utils.data_transformer import NormalizedAlert, normalize
from pagerduty_utils.notification_builder import (
    EMAIL_SUBJECT_LIMIT,
    LINK_TEXT_LIMIT,
    SLACK_FIELD_LIMIT,
    SLACK_SECTION_LIMIT,
    TEAMS_TEXT_LIMIT,
    IncidentNotice,
    Notification,
    notification_for_alert,
    notification_for_incident,
    render_email,
    render_slack,
    render_teams,
)
from pagerduty_utils.pagerduty_events import Link
from tests.unit.fixtures.alert_events import (
    eventbridge_event,
    every_sample_message,
    load_event,
    records_of,
    source_sample_names,
)

HOSTILE = "<!channel> & <https://evil.example|click> *bold* [x](javascript:alert(1)) <script>alert('x')</script>"
BROKEN_SLACK_ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")


def alert_from(event: Any) -> NormalizedAlert:
    (alert,) = normalize(event)
    return alert


@pytest.fixture
def hostile_alert() -> NormalizedAlert:
    event = eventbridge_event("eventbridge_custom_app_event.json", summary=HOSTILE, component=HOSTILE)
    alert = alert_from(event)
    return alert.model_copy(
        update={"links": (Link(href="javascript:alert(1)", text="bad"), *alert.links), "client_url": "javascript:x"}
    )


@pytest.fixture
def incident() -> IncidentNotice:
    return IncidentNotice(
        title="Checkout latency above SLO",
        status="triggered",
        urgency="high",
        service="Checkout API",
        url="https://example.pagerduty.com/incidents/Q1ABC",
        occurred_at=datetime(2026, 11, 27, 4, 30, tzinfo=UTC),
    )


def slack_texts(message: dict[str, Any]) -> list[str]:
    texts = [message["text"]]
    for block in message["blocks"]:
        if "text" in block:
            texts.append(block["text"]["text"])
        texts += [field["text"] for field in block.get("fields", [])]
        texts += [element["text"] for element in block.get("elements", []) if element["type"] == "mrkdwn"]
    return texts


def teams_card(message: dict[str, Any]) -> dict[str, Any]:
    card: dict[str, Any] = message["attachments"][0]["content"]
    return card


def teams_texts(message: dict[str, Any]) -> list[str]:
    texts = []
    for element in teams_card(message)["body"]:
        if element["type"] == "TextBlock":
            texts.append(element["text"])
        texts += [fact["value"] for fact in element.get("facts", [])]
    return texts


@pytest.mark.parametrize(("label", "message"), every_sample_message(), ids=lambda value: str(value)[:40])
def test_every_sample_alert_renders_in_every_channel(label: str, message: Any) -> None:
    notification = notification_for_alert(alert_from(message))
    slack, teams, email = render_slack(notification), render_teams(notification), render_email(notification)
    json.dumps([slack, teams])
    assert notification.title in email.text
    assert slack["blocks"][0]["type"] == "section"
    assert teams_card(teams)["type"] == "AdaptiveCard"
    assert [action["url"] for action in teams_card(teams)["actions"]] == [href for _, href in notification.links]
    assert "\n" not in email.subject


@pytest.mark.parametrize("name", source_sample_names())
def test_every_source_sample_alert_renders_with_its_source_label(name: str) -> None:
    for record in records_of(load_event(name)):
        for alert in normalize(record):
            notification = notification_for_alert(alert)
            assert render_slack(notification)["blocks"]
            assert render_email(notification).subject


def test_an_alarm_notification_shows_its_facts_and_console_link() -> None:
    notification = notification_for_alert(alert_from(every_sample_message()[0][1]))
    facts = dict(notification.facts)
    assert (facts["Source"], facts["Name"], facts["Severity"]) == ("CloudWatch alarm", "checkout-api-high-cpu", "error")
    assert (facts["Account"], facts["Region"]) == ("123456789012", "us-east-1")
    assert notification.links == (("View the alarm in CloudWatch", notification.url),)
    assert notification.status == "triggered"


def test_slack_escapes_user_text_so_it_cannot_mention_or_link(hostile_alert: NormalizedAlert) -> None:
    message = render_slack(notification_for_alert(hostile_alert))
    for text in slack_texts(message):
        assert "<!channel>" not in text
        assert "<https://evil" not in text
        assert "<script>" not in text
    assert "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;" in message["text"]


def slack_text_objects(message: dict[str, Any]) -> list[dict[str, Any]]:
    objects = []
    for block in message["blocks"]:
        objects += [block["text"]] if "text" in block else []
        objects += block.get("fields", [])
        objects += [element for element in block.get("elements", []) if element["type"] == "mrkdwn"]
    return objects


def test_slack_never_parses_a_mention_out_of_an_alarm_name() -> None:
    alarm = eventbridge_event("eventbridge_alarm_state_change.json", alarmName="db @here @channel <!here> lag")
    message = render_slack(notification_for_alert(alert_from(alarm)))
    objects = slack_text_objects(message)
    assert any("@here @channel &lt;!here&gt;" in text_object["text"] for text_object in objects)
    assert all(text_object["verbatim"] is True for text_object in objects if text_object["type"] == "mrkdwn")
    assert (message["parse"], message["link_names"]) == ("none", False)


def test_teams_escapes_markdown_in_user_text(hostile_alert: NormalizedAlert) -> None:
    texts = teams_texts(render_teams(notification_for_alert(hostile_alert)))
    title = next(text for text in texts if "channel" in text)
    assert r"\[x\]\(javascript:alert\(1\)\)" in title
    assert r"\*bold\*" in title
    assert "[x](" not in "".join(texts)


def test_email_html_escapes_user_text(hostile_alert: NormalizedAlert) -> None:
    email = render_email(notification_for_alert(hostile_alert))
    assert "<script>" not in email.html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in email.html
    assert HOSTILE in email.text


def test_unsafe_links_are_never_rendered(hostile_alert: NormalizedAlert) -> None:
    notification = notification_for_alert(hostile_alert)
    assert notification.url is None
    assert [text for text, _ in notification.links] == ["Payments dashboard", "Runbook"]
    rendered = json.dumps([render_slack(notification), render_teams(notification)]) + render_email(notification).html
    assert 'javascript:alert(1)"' not in rendered
    assert 'href="javascript' not in rendered


def test_channel_length_limits_hold_for_huge_text(incident: IncidentNotice) -> None:
    huge = IncidentNotice(
        title="<&>" * 20_000,
        status="triggered",
        urgency="high",
        service="&" * 5000,
        url=incident.url,
        occurred_at=incident.occurred_at,
    )
    notification = notification_for_incident(huge)
    slack = render_slack(notification)
    assert all(len(text) <= SLACK_SECTION_LIMIT for text in slack_texts(slack))
    fields = slack["blocks"][1]["fields"]
    assert all(len(field["text"]) <= SLACK_FIELD_LIMIT for field in fields)
    assert not any(BROKEN_SLACK_ENTITY.search(text) for text in slack_texts(slack))
    assert all(len(text) <= TEAMS_TEXT_LIMIT for text in teams_texts(render_teams(notification)))
    assert len(render_email(notification).subject) <= EMAIL_SUBJECT_LIMIT


def test_button_texts_and_fact_counts_are_bounded() -> None:
    many_facts = tuple((f"Fact {index}", "value") for index in range(30))
    links = tuple((f"Link {index} " + "x" * 200, f"https://example.com/{index}") for index in range(5))
    notification = Notification(
        title="t",
        status="triggered",
        level="info",
        facts=many_facts,
        url=None,
        links=links,
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    slack = render_slack(notification)
    assert len(slack["blocks"][1]["fields"]) == 10
    buttons = slack["blocks"][2]["elements"]
    assert all(len(button["text"]["text"]) <= LINK_TEXT_LIMIT for button in buttons)
    assert len(teams_card(render_teams(notification))["body"][2]["facts"]) == 10


def test_an_incident_renders_with_its_service_urgency_and_link(incident: IncidentNotice) -> None:
    notification = notification_for_incident(incident)
    assert dict(notification.facts) == {"Status": "triggered", "Urgency": "high", "Service": "Checkout API"}
    slack = render_slack(notification)
    assert slack["blocks"][0]["text"]["text"].startswith(":red_circle: *TRIGGERED* *Checkout latency above SLO*")
    assert slack["blocks"][2]["elements"][0]["url"] == incident.url
    email = render_email(notification)
    assert email.subject == "[TRIGGERED HIGH] Checkout latency above SLO"
    assert f'<a href="{incident.url}">Open in PagerDuty</a>' in email.html
    assert teams_card(render_teams(notification))["body"][0]["color"] == "Attention"


def test_a_resolved_incident_renders_calm(incident: IncidentNotice) -> None:
    resolved = IncidentNotice(
        title=incident.title,
        status="resolved",
        urgency="high",
        service=None,
        url=None,
        occurred_at=incident.occurred_at,
    )
    notification = notification_for_incident(resolved)
    assert render_slack(notification)["blocks"][0]["text"]["text"].startswith(":large_green_circle:")
    assert teams_card(render_teams(notification))["body"][0]["color"] == "Good"
    assert render_email(notification).subject == "[RESOLVED] Checkout latency above SLO"
    assert notification.links == ()


def test_an_incident_title_with_line_breaks_cannot_inject_mail_headers(incident: IncidentNotice) -> None:
    injected = IncidentNotice(
        title="Outage\r\nBcc: everyone@example.com",
        status="triggered",
        urgency=None,
        service=None,
        url=None,
        occurred_at=incident.occurred_at,
    )
    subject = render_email(notification_for_incident(injected)).subject
    assert "\r" not in subject
    assert "\n" not in subject
    assert subject == "[TRIGGERED] Outage Bcc: everyone@example.com"


def test_an_incident_status_is_escaped_in_slack(incident: IncidentNotice) -> None:
    odd = IncidentNotice(
        title="t", status="<!here>", urgency=None, service=None, url=None, occurred_at=incident.occurred_at
    )
    heading = render_slack(notification_for_incident(odd))["blocks"][0]["text"]["text"]
    assert "<!HERE>" not in heading
    assert "&lt;!HERE&gt;" in heading


@given(title=st.text(max_size=300), service=st.text(max_size=50), status=st.text(min_size=1, max_size=20))
def test_no_user_text_reaches_a_channel_unescaped(title: str, service: str, status: str) -> None:
    notice = IncidentNotice(
        title=title,
        status=status,
        urgency="high",
        service=service,
        url="https://example.pagerduty.com/incidents/Q1",
        occurred_at=datetime(2026, 11, 27, tzinfo=UTC),
    )
    notification = notification_for_incident(notice)
    for text in slack_texts(render_slack(notification)):
        assert "<" not in text
        assert ">" not in text
    html_body = render_email(notification).html
    own_tags = re.findall(r"</?(?:h2|table|tr|th|td|p|a|small)\b", html_body)
    assert html_body.count("<") == html_body.count(">") == len(own_tags), "every angle bracket is one of ours"
    assert "\n" not in render_email(notification).subject
