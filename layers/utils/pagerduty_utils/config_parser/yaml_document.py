"""YAML configuration documents, read safely: a separate module so that JSON documents (the template's default)
never import PyYAML at cold start."""

from __future__ import annotations

from typing import Any

import yaml

from pagerduty_utils.exceptions import ConfigurationError


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader without anchors and aliases: an alias bomb would otherwise expand while validating."""

    document = "configuration"

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise ConfigurationError(f"{self.document} line {mark.line + 1}: YAML aliases are not supported")
        return super().compose_node(parent, index)


def load_yaml_document(text: str, *, document: str) -> Any:
    """What ``yaml.safe_load`` does, with aliases refused; errors are ``ConfigurationError``s naming ``document``."""
    loader = _NoAliasLoader(text)
    loader.document = document
    try:
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{document}: invalid YAML: {exc}") from None
    finally:
        loader.dispose()
