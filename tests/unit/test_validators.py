from __future__ import annotations

import pytest

from pagerduty_utils.validators import (
    clean_text,
    clip,
    escape_html,
    escape_markdown,
    escape_slack,
    is_identifier,
    safe_url,
    sanitize_json,
)


def test_clip_marks_the_cut() -> None:
    assert clip("abcdef", 4) == "abc…"
    assert clip("abc", 4) == "abc"


def test_clean_text_removes_controls_bidi_overrides_and_line_breaks() -> None:
    assert clean_text(" a\x00b\r\nc\td\u202e\x7f ") == "ab c d"
    assert clean_text("line 1\nline 2\x1b[31m", multiline=True) == "line 1\nline 2[31m"
    assert clean_text("e\u0301") == "\u00e9"
    assert len(clean_text("x" * 5000, max_length=100)) == 100


@pytest.mark.parametrize("value", ["PGR0VU2", "01BWDWL3NYY7LUFPZCC28QUCMK", "5d1f7a3c-8e2b-4c9d-a6f0-3b7e1c2d4a95"])
def test_identifiers(value: str) -> None:
    assert is_identifier(value)


@pytest.mark.parametrize("value", ["", "-x", "a b", "a/b", "x" * 129, "id\n"])
def test_not_identifiers(value: str) -> None:
    assert not is_identifier(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://acme.pagerduty.com/incidents/P1", "https://acme.pagerduty.com/incidents/P1"),
        ("javascript:alert(1)", None),
        ("/relative", None),
        ("https://user:pw@example.com/", None),
        ("https://exa mple.com/", None),
        (None, None),
    ],
)
def test_safe_url(value: str | None, expected: str | None) -> None:
    assert safe_url(value) == expected


def test_markup_escaping() -> None:
    text = "<@here> & *bold* [link](x)"
    assert escape_slack(text) == "&lt;@here&gt; &amp; *bold* [link](x)"
    assert escape_html('<a href="x">') == "&lt;a href=&quot;x&quot;&gt;"
    assert escape_markdown(text) == r"\<@here\> & \*bold\* \[link\]\(x\)"


def test_sanitize_json_bounds_strings_items_and_depth() -> None:
    deep: dict[str, object] = {"v": "end"}
    for _ in range(10):
        deep = {"d": deep}
    value = {"text\n": "a\x00b", "list": list(range(200)), "deep": deep, "n": 1.5, "ok": True, "none": None}
    cleaned = sanitize_json(value, max_items=50, max_depth=4)  # type: ignore[arg-type]
    assert isinstance(cleaned, dict)
    assert cleaned["text"] == "ab"
    assert cleaned["list"] == list(range(50))
    assert (cleaned["n"], cleaned["ok"], cleaned["none"]) == (1.5, True, None)
    assert cleaned["deep"] == {"d": {"d": {"d": None}}}
