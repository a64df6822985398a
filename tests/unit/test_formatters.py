from __future__ import annotations

import html
import json
import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pagerduty_utils.formatters import (
    DETAIL_ITEMS_LIMIT,
    DETAILS_SIZE_LIMIT,
    clean_details,
    clean_text,
    cloudwatch_alarm_url,
    compose_summary,
    console_base_url,
    first_line,
    guardduty_finding_url,
    health_event_url,
    securityhub_finding_url,
    truncate,
    truncate_escaped,
)
from pagerduty_utils.validators import ELLIPSIS


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [("short", 10, "short"), ("exactly ten", 11, "exactly ten"), ("much too long", 8, "much to…"), ("abc", 1, "a")],
)
def test_truncate(text: str, limit: int, expected: str) -> None:
    assert truncate(text, limit) == expected


@given(st.text(alphabet="<>&ab", max_size=300), st.integers(min_value=0, max_value=120))
def test_truncate_escaped_fits_and_never_cuts_an_entity(text: str, limit: int) -> None:
    escaped = truncate_escaped(text, limit, html.escape)
    assert len(escaped) <= limit
    assert re.search(r"&(?!amp;|lt;|gt;)", escaped) is None
    assert html.unescape(escaped).removesuffix(ELLIPSIS) in text


def test_clean_text_strips_control_and_invisible_characters() -> None:
    dirty = "a\x00b\x1b[1mc\u202ed\u200be\ufefff\ud800g\x85h\tline\nnext"
    assert clean_text(dirty, 100) == "ab[1mcdefgh\tline\nnext"
    assert clean_text(dirty, 100, single_line=True) == "ab[1mcdefgh line next"
    assert clean_text("  spaced \u2028 out  ", 100, single_line=True) == "spaced out"
    assert clean_text("x" * 50, 10) == "x" * 9 + ELLIPSIS


def test_first_line_skips_blank_lines() -> None:
    assert first_line("\n  \n Title line \nRunbook: ...") == "Title line"
    assert first_line(None) == ""


def test_compose_summary_joins_present_parts_on_one_bounded_line() -> None:
    assert compose_summary("ALARM: cpu", None, "", "two\nlines") == "ALARM: cpu — two lines"
    assert len(compose_summary("x" * 2000)) == 1024


def test_clean_details_makes_values_json_safe_and_bounded() -> None:
    details = clean_details(
        {
            "nan": math.nan,
            "inf": math.inf,
            "ok": [1, 2.5, True, None],
            "many": list(range(DETAIL_ITEMS_LIMIT + 5)),
            "deep": {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": 1}}}}}}}},
            "bad\x00key": "v\x07",
        }
    )
    assert (details["nan"], details["inf"], details["ok"]) == ("nan", "inf", [1, 2.5, True, None])
    assert details["many"][-1] == f"{ELLIPSIS} 5 more"
    assert details["deep"]["a"]["b"]["c"]["d"]["e"]["f"] == {"g": ELLIPSIS}
    assert details["badkey"] == "v"


def test_clean_details_shrinks_strings_until_the_whole_fits() -> None:
    details = clean_details({f"k{index}": "x" * 5000 for index in range(40)})
    assert len(json.dumps(details)) <= DETAILS_SIZE_LIMIT


@pytest.mark.parametrize(
    ("region", "base"),
    [
        ("us-east-1", "https://us-east-1.console.aws.amazon.com"),
        ("ap-southeast-2", "https://ap-southeast-2.console.aws.amazon.com"),
        ("cn-northwest-1", "https://cn-northwest-1.console.amazonaws.cn"),
        ("us-gov-east-1", "https://console.amazonaws-us-gov.com"),
        ("evil.com/x", None),
        ("", None),
    ],
)
def test_console_base_url_is_region_correct(region: str, base: str | None) -> None:
    assert console_base_url(region) == base


def test_console_urls_encode_user_controlled_names() -> None:
    assert cloudwatch_alarm_url("eu-west-1", "a b/c#d?e") == (
        "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#alarmsV2:alarm/a%20b%2Fc%23d%3Fe"
    )
    assert guardduty_finding_url("eu-west-1", "abc") == (
        "https://eu-west-1.console.aws.amazon.com/guardduty/home?region=eu-west-1#/findings?macros=current&fId=abc"
    )
    assert securityhub_finding_url("eu-west-1", "arn:x/1") == (
        "https://eu-west-1.console.aws.amazon.com/securityhub/home?region=eu-west-1#/findings?search="
        "Id%3D%255Coperator%255C%253AEQUALS%255C%253Aarn%253Ax%252F1"
    )
    assert cloudwatch_alarm_url("bogus", "a") is None


def test_health_urls_use_the_dashboard_in_the_commercial_partition() -> None:
    assert health_event_url("us-east-1", "arn:aws:health:us-east-1::event/EC2/X/Y") == (
        "https://health.aws.amazon.com/health/home#/account/event-log?"
        "eventID=arn%3Aaws%3Ahealth%3Aus-east-1%3A%3Aevent%2FEC2%2FX%2FY&eventTab=details"
    )
    china = health_event_url("cn-north-1", "arn:aws-cn:health:cn-north-1::event/X")
    assert china is not None
    assert china.startswith("https://cn-north-1.console.amazonaws.cn/health/home?region=cn-north-1#")
