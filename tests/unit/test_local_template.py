"""Reading functions out of a SAM template the way SAM does (Globals merged, layers, parameters)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pdutils.local.template import SamTemplate, TemplateError

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Parameters:
  Memory: {Type: Number, Default: 512}
  Token: {Type: String}
  Mode: {Type: String, AllowedValues: [fast, slow]}
Globals:
  Function:
    Timeout: 9
    Layers: [!Ref SharedLayer]
    Environment:
      Variables:
        TABLE: !Ref Table
        LEVEL: INFO
Resources:
  SharedLayer:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: layer/}
  Table:
    Type: AWS::DynamoDB::Table
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handle
      CodeUri: code/
      MemorySize: !Ref Memory
      Environment:
        Variables:
          LEVEL: DEBUG
      Events:
        Work:
          Type: SQS
          Properties: {Queue: !GetAtt Queue.Arn, BatchSize: 3}
  Remote:
    Type: AWS::Serverless::Function
    Properties: {Handler: app.handle, CodeUri: s3://bucket/code.zip}
"""


@pytest.fixture
def template(tmp_path: Path) -> SamTemplate:
    (tmp_path / "code").mkdir()
    (tmp_path / "layer" / "python").mkdir(parents=True)
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    return SamTemplate.load(path)


def test_function_merges_globals_like_sam(template: SamTemplate) -> None:
    worker = template.function("Worker")

    assert (worker.handler, worker.timeout_seconds, worker.memory_mb) == ("app.handle", 9, 512)
    assert worker.code_dir == template.directory / "code"
    assert worker.layer_dirs == (template.directory / "layer" / "python",)  # a prebuilt layer's python/ folder
    assert worker.environment == {"TABLE": {"Ref": "Table"}, "LEVEL": "DEBUG"}
    (event,) = worker.events_of_type("SQS")
    assert event.properties["BatchSize"] == 3


def test_parameter_values_use_overrides_defaults_and_local_fallbacks(template: SamTemplate) -> None:
    assert template.parameter_values({"Token": "t"}) == {"Memory": "512", "Token": "t"}
    assert template.parameter_values(local_fallbacks=True) == {"Memory": "512", "Token": "local-Token", "Mode": "fast"}
    assert template.function("Worker", {"Memory": "1024"}).memory_mb == 1024


def test_an_unknown_parameter_override_is_refused(template: SamTemplate) -> None:
    with pytest.raises(TemplateError, match="does not declare: Nope"):
        template.parameter_values({"Nope": "x"})


def test_code_that_is_not_local_cannot_run_locally(template: SamTemplate) -> None:
    with pytest.raises(TemplateError, match="CodeUri must be a local directory"):
        template.function("Remote")


def test_a_resource_that_is_not_a_function_is_named_in_the_error(template: SamTemplate) -> None:
    with pytest.raises(TemplateError, match=r"Table is not an AWS::Serverless::Function .*functions: Worker, Remote"):
        template.function("Table")
