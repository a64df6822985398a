from __future__ import annotations

import pytest

from pagerduty_utils.exceptions import ConfigurationError
from pagerduty_utils.settings import CommonSettings, ForwarderSettings, load_settings


def test_missing_variable_is_named() -> None:
    with pytest.raises(ConfigurationError, match="ROUTING_KEYS_SECRET_ID: Field required"):
        load_settings(ForwarderSettings, {"STATE_TABLE_NAME": "state"})


@pytest.mark.parametrize("horizon", ["3600", "1209601"])
def test_hold_horizon_is_between_a_day_and_the_longest_queue_retention(horizon: str) -> None:
    environment = {"STATE_TABLE_NAME": "state", "ROUTING_KEYS_SECRET_ID": "keys", "HOLD_HORIZON_SECONDS": horizon}
    with pytest.raises(ConfigurationError, match="HOLD_HORIZON_SECONDS"):
        load_settings(ForwarderSettings, environment)


def test_invalid_value_is_named() -> None:
    with pytest.raises(ConfigurationError, match="PAGERDUTY_REGION"):
        load_settings(CommonSettings, {"STATE_TABLE_NAME": "state", "PAGERDUTY_REGION": "apac"})


@pytest.mark.parametrize(
    ("region", "api", "events"),
    [
        ("us", "https://api.pagerduty.com", "https://events.pagerduty.com"),
        ("eu", "https://api.eu.pagerduty.com", "https://events.eu.pagerduty.com"),
    ],
)
def test_region_selects_hosts(region: str, api: str, events: str) -> None:
    settings = load_settings(CommonSettings, {"STATE_TABLE_NAME": "state", "PAGERDUTY_REGION": region})
    assert (settings.api_base_url, settings.events_base_url) == (api, events)


def test_explicit_urls_override_region() -> None:
    settings = load_settings(
        CommonSettings,
        {"STATE_TABLE_NAME": "state", "PAGERDUTY_EVENTS_URL": "http://127.0.0.1:8080/"},
    )
    assert settings.events_base_url == "http://127.0.0.1:8080"
