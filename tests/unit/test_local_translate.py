"""What of a translated template goes to moto's CloudFormation, and what references to the rest become."""

from __future__ import annotations

from typing import Any

from pdutils.local.translate import deployable_template, split_api_provisioned

FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:Forwarder"

TRANSLATED: dict[str, Any] = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Resources": {
        "Forwarder": {"Type": "AWS::Lambda::Function", "Properties": {}},
        "ForwarderLogs": {"Type": "AWS::Logs::LogGroup", "Properties": {}},
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {}},
        "Key": {
            "Type": "AWS::KMS::Key",
            "DependsOn": ["ForwarderLogs", "Queue"],
            "Properties": {
                "KeyPolicy": {
                    "Statement": [
                        {"Principal": {"AWS": {"Fn::GetAtt": ["Forwarder", "Arn"]}}},
                        {
                            "Condition": {
                                "StringEquals": {"name": {"Fn::Sub": "${Forwarder}-${AWS::Region}-${!Literal}"}}
                            }
                        },
                        {"Resource": {"Ref": "Queue"}},
                    ]
                }
            },
        },
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "Schedule": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "ScheduleExpression": "rate(5 minutes)",
                "Targets": [{"Id": "fn", "Arn": {"Fn::GetAtt": ["Forwarder", "Arn"]}}, {"Id": "q", "Arn": "arn:q"}],
            },
        },
        "Subscription": {"Type": "AWS::SNS::Subscription", "Properties": {"Endpoint": {"Ref": "Queue"}}},
        "Policy": {"Type": "AWS::SQS::QueuePolicy", "DependsOn": "Subscription", "Properties": {}},
        "Topic": {"Type": "AWS::SNS::Topic", "DependsOn": "Subscription", "Properties": {}},
    },
    "Outputs": {"ApiUrl": {"Value": {"Ref": "Api"}}},
}


def test_local_only_resources_and_outputs_are_dropped() -> None:
    deployable = deployable_template(TRANSLATED, region="us-east-1", account_id="123456789012")

    assert set(deployable["Resources"]) == {"Key", "Queue", "Schedule", "Subscription", "Policy", "Topic"}
    assert "Outputs" not in deployable


def test_references_to_dropped_resources_become_their_values() -> None:
    key = deployable_template(TRANSLATED, region="us-east-1", account_id="123456789012")["Resources"]["Key"]

    statements = key["Properties"]["KeyPolicy"]["Statement"]
    assert statements[0] == {"Principal": {"AWS": FUNCTION_ARN}}
    assert statements[1]["Condition"]["StringEquals"]["name"] == {"Fn::Sub": "Forwarder-${AWS::Region}-${!Literal}"}
    assert statements[2] == {"Resource": {"Ref": "Queue"}}
    assert key["DependsOn"] == ["Queue"]


def test_rules_keep_only_targets_the_embedded_aws_can_deliver_to() -> None:
    rule = deployable_template(TRANSLATED, region="us-east-1", account_id="123456789012")["Resources"]["Schedule"]

    assert rule["Properties"]["Targets"] == [{"Id": "q", "Arn": "arn:q"}]


def test_resources_moto_ignores_are_split_off_for_the_service_apis() -> None:
    deployable = deployable_template(TRANSLATED, region="us-east-1", account_id="123456789012")

    by_cloudformation, by_api = split_api_provisioned(deployable)

    assert set(by_api) == {"Subscription", "Policy"}
    assert set(by_cloudformation["Resources"]) == {"Key", "Queue", "Schedule", "Topic"}
    assert "DependsOn" not in by_cloudformation["Resources"]["Topic"]
