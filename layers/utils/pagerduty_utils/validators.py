"""Validation and sanitization of text that crosses a trust boundary.

Everything the library passes on (to the event bus, to DynamoDB, into a notification) goes through these
helpers first: control characters removed, lengths bounded, identifiers and URLs checked, and markup escaped
for the format a notification is rendered in. The ``Annotated`` types plug the same rules into pydantic models,
so a model that parses untrusted input sanitizes it while parsing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, JsonValue

ELLIPSIS = "…"

# C0 and C1 control characters, DEL, and the Unicode line/paragraph separators and bidi overrides that can
# disguise text in a notification. Newline and tab are kept only in multi-line text.
_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS_AND_TABS = re.compile(r"[\n\t]+")
_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$")
_SLACK_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_HTML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"})
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~<])")

SHORT_TEXT_LENGTH = 1024
LONG_TEXT_LENGTH = 8192
URL_LENGTH = 2048


def clip(text: str, max_length: int) -> str:
    """``text`` cut to ``max_length`` characters, the cut marked with an ellipsis."""
    if len(text) <= max_length:
        return text
    return text[: max_length - 1] + ELLIPSIS


def clean_text(text: str, *, max_length: int = SHORT_TEXT_LENGTH, multiline: bool = False) -> str:
    """Normalize (NFC), drop control characters, collapse line breaks unless ``multiline``, trim and clip."""
    normalized = _CONTROL_CHARACTERS.sub("", unicodedata.normalize("NFC", text))
    if not multiline:
        normalized = _LINE_BREAKS_AND_TABS.sub(" ", normalized)
    return clip(normalized.strip(), max_length)


def is_identifier(value: str) -> bool:
    """Whether ``value`` looks like an identifier: PagerDuty ids, ULIDs, UUIDs."""
    return _IDENTIFIER.fullmatch(value) is not None


def safe_url(value: str | None) -> str | None:
    """The URL if it is an absolute http(s) URL without credentials or control characters, else ``None``.

    Links end up clickable in chat tools, so anything else (``javascript:``, relative paths) is dropped.
    """
    if not value or len(value) > URL_LENGTH or _CONTROL_CHARACTERS.search(value) or any(c.isspace() for c in value):
        return None
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.username or parts.password:
        return None
    return value


def escape_html(text: str) -> str:
    """Escape for HTML bodies and attributes (e-mail)."""
    return text.translate(_HTML_ESCAPES)


def escape_slack(text: str) -> str:
    """Escape for Slack ``mrkdwn``: only ``&``, ``<`` and ``>`` are special (they start links and mentions)."""
    return text.translate(_SLACK_ESCAPES)


def escape_markdown(text: str) -> str:
    """Backslash-escape Markdown punctuation (Microsoft Teams and other CommonMark renderers)."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)


def sanitize_json(
    value: JsonValue,
    *,
    max_string_length: int = LONG_TEXT_LENGTH,
    max_items: int = 100,
    max_depth: int = 8,
) -> JsonValue:
    """A copy of a JSON value safe to pass on: strings cleaned (newlines kept) and clipped, keys cleaned,
    containers cut to ``max_items`` entries and nesting to ``max_depth`` (deeper values become ``None``)."""

    def walk(item: JsonValue, depth: int) -> JsonValue:
        if isinstance(item, str):
            return clean_text(item, max_length=max_string_length, multiline=True)
        if isinstance(item, Mapping):
            if depth >= max_depth:
                return None
            entries = list(item.items())[:max_items]
            return {clean_text(str(key), max_length=128): walk(child, depth + 1) for key, child in entries}
        if isinstance(item, Sequence):
            if depth >= max_depth:
                return None
            return [walk(child, depth + 1) for child in item[:max_items]]
        return item

    return walk(value, 0)


def _coerce_scalar_to_text(value: object) -> object:
    """PagerDuty sometimes sends numbers where text is documented (conference numbers): accept them as text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _short_text(value: str) -> str:
    return clean_text(value, max_length=SHORT_TEXT_LENGTH)


def _long_text(value: str) -> str:
    return clean_text(value, max_length=LONG_TEXT_LENGTH, multiline=True)


def _identifier(value: str) -> str:
    if not is_identifier(value):
        raise ValueError("not a valid identifier")
    return value


def _url_or_none(value: str | None) -> str | None:
    return safe_url(value)


ShortText = Annotated[str, BeforeValidator(_coerce_scalar_to_text), AfterValidator(_short_text)]
"""Single-line text: control characters and line breaks removed, at most 1,024 characters."""

LongText = Annotated[str, BeforeValidator(_coerce_scalar_to_text), AfterValidator(_long_text)]
"""Multi-line text (notes, messages): control characters removed, line breaks kept, at most 8,192 characters."""

Identifier = Annotated[str, AfterValidator(_identifier)]
"""An identifier: letters, digits and ``._:-``, at most 128 characters, starting with a letter or digit."""

SafeUrl = Annotated[str | None, AfterValidator(_url_or_none)]
"""An absolute http(s) URL, or ``None`` when the value is anything else."""
