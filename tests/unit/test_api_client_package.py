"""The ``pagerduty_utils.api_client`` package exports its names lazily, from the submodule that defines them."""

from __future__ import annotations

import subprocess
import sys
from importlib import import_module

import pytest

from pagerduty_utils import api_client


@pytest.mark.parametrize("name", api_client.__all__)
def test_every_exported_name_is_the_submodules_object(name: str) -> None:
    submodule = import_module(f"pagerduty_utils.api_client.{api_client._SUBMODULE_OF[name]}")

    assert getattr(api_client, name) is getattr(submodule, name)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchClient"):
        api_client.NoSuchClient  # noqa: B018  # the attribute access is what is tested


def test_the_events_client_does_not_load_the_rest_client() -> None:
    program = (
        "import sys\n"
        "from pagerduty_utils.api_client import AsyncEventsClient, EventsClient\n"
        "print('pagerduty_utils.api_client.rest' in sys.modules)"
    )
    completed = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)

    assert completed.stdout.strip() == "False"
