"""The README's configuration tables name every variable the settings models read, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from pagerduty_utils.api_client.rest import RestClientSettings
from pagerduty_utils.settings import ForwarderSettings, HealthSettings, ReceiverSettings

README = Path(__file__).parents[2] / "README.md"
POWERTOOLS_VARIABLES = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"}


def _aliases(*models: type[BaseModel]) -> set[str]:
    return {field.alias for model in models for field in model.model_fields.values() if field.alias}


def test_configuration_tables_match_the_settings_models() -> None:
    documented = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", README.read_text(), flags=re.MULTILINE))
    expected = _aliases(ForwarderSettings, ReceiverSettings, HealthSettings, RestClientSettings)
    assert documented - POWERTOOLS_VARIABLES == expected
