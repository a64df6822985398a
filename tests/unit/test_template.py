"""template.yaml keeps its promises: settings wired by their real names, least privilege, encryption, outputs.

The template is parsed as SAM itself parses it (short-form intrinsics become their long form); nothing is
deployed. cfn-lint, ``sam validate --lint`` and checkov check the rest in ``./dev test``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from samtranslator.yaml_helper import yaml_parse

from pagerduty_utils.config_parser import RoutingRules
from pagerduty_utils.settings import CommonSettings, ForwarderSettings, HealthSettings, ReceiverSettings

REPOSITORY = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPOSITORY / "template.yaml"
EVENTS = REPOSITORY / "events"

FUNCTION_SETTINGS: dict[str, type[CommonSettings]] = {
    "AlertForwarderFunction": ForwarderSettings,
    "WebhookReceiverFunction": ReceiverSettings,
    "HealthCheckerFunction": HealthSettings,
}
POWERTOOLS_VARIABLES = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"}
# Actions with no resource-level permissions: "*" is the only resource AWS accepts for them.
ACTIONS_WITHOUT_RESOURCE_TYPES = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "cloudwatch:GetMetricData",
    "ssm:DescribeParameters",
}
STACK_KEY = {"Ref": "StackKey"}
STACK_KEY_ARN = {"Fn::GetAtt": ["StackKey", "Arn"]}
PSEUDO_PARAMETERS = {
    "AWS::Partition": "aws",
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::StackName": "pagerduty",
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    document: dict[str, Any] = yaml_parse(TEMPLATE_PATH.read_text())
    return document


@pytest.fixture(scope="module")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = template["Resources"]
    return found


def resources_of_type(resources: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {name: resource for name, resource in resources.items() if resource["Type"] == resource_type}


def function_environment(template: dict[str, Any], function_id: str) -> dict[str, Any]:
    """The function's variables merged over ``Globals.Function``'s, as SAM merges maps."""
    global_variables = template["Globals"]["Function"]["Environment"]["Variables"]
    own_variables = template["Resources"][function_id]["Properties"]["Environment"]["Variables"]
    return {**global_variables, **own_variables}


def function_property(template: dict[str, Any], function_id: str, name: str) -> Any:
    own = template["Resources"][function_id]["Properties"]
    return own[name] if name in own else template["Globals"]["Function"][name]


def referenced_ids(value: Any) -> Iterator[str]:
    """Logical ids a value points at through Ref, GetAtt or Sub."""
    if isinstance(value, dict):
        for key, argument in value.items():
            if key == "Ref" and isinstance(argument, str):
                yield argument
            elif key == "Fn::GetAtt":
                yield argument[0] if isinstance(argument, list) else argument.split(".")[0]
            elif key == "Fn::Sub":
                text, variables = argument if isinstance(argument, list) else (argument, {})
                names = (part.split("}")[0].split(".")[0] for part in text.split("${")[1:])
                yield from (name for name in names if name not in variables)
                yield from referenced_ids(variables)
            else:
                yield from referenced_ids(argument)
    elif isinstance(value, list):
        for item in value:
            yield from referenced_ids(item)


def possible_strings(value: Any) -> list[str]:
    """Every string a value can take, following both branches of Fn::If."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [text for item in value for text in possible_strings(item)]
    if isinstance(value, dict) and "Fn::If" in value:
        return [text for branch in value["Fn::If"][1:] for text in possible_strings(branch)]
    return []


def iam_statements(resources: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every statement of every identity policy in the stack (inline role policies and managed policies)."""
    for name, resource in resources.items():
        properties = resource.get("Properties", {})
        documents = []
        if resource["Type"] == "AWS::IAM::Role":
            documents = [policy["PolicyDocument"] for policy in properties.get("Policies", [])]
        elif resource["Type"] in {"AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"}:
            documents = [properties["PolicyDocument"]]
        for document in documents:
            for statement in document["Statement"]:
                yield from ((name, branch) for branch in statement_branches(statement))


def statement_branches(statement: Any) -> Iterator[dict[str, Any]]:
    """A policy statement, or each statement an ``Fn::If`` (nested or not) can put in its place."""
    if isinstance(statement, dict) and "Fn::If" in statement:
        for branch in statement["Fn::If"][1:]:
            yield from statement_branches(branch)
    elif isinstance(statement, dict) and "Effect" in statement:
        yield statement


def role_statements(resources: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    """The statements a role gets: its inline policies and the stack's managed policies it attaches."""
    role = resources[role_id]["Properties"]
    attached = set(referenced_ids(role.get("ManagedPolicyArns", [])))
    return [statement for owner, statement in iam_statements(resources) if owner == role_id or owner in attached]


def role_actions(resources: dict[str, Any], role_id: str) -> set[str]:
    return {
        action for statement in role_statements(resources, role_id) for action in possible_strings(statement["Action"])
    }


@pytest.mark.parametrize(("function_id", "settings_class"), FUNCTION_SETTINGS.items())
def test_every_variable_is_a_setting_of_the_function(
    template: dict[str, Any], function_id: str, settings_class: type[CommonSettings]
) -> None:
    aliases = {field.alias for field in settings_class.model_fields.values()}
    variables = set(function_environment(template, function_id))
    assert variables - POWERTOOLS_VARIABLES <= aliases
    assert variables >= POWERTOOLS_VARIABLES


@pytest.mark.parametrize(("function_id", "settings_class"), FUNCTION_SETTINGS.items())
def test_every_required_setting_is_provided(
    template: dict[str, Any], function_id: str, settings_class: type[CommonSettings]
) -> None:
    required = {field.alias for field in settings_class.model_fields.values() if field.is_required()}
    assert required <= set(function_environment(template, function_id))


def test_functions_have_their_own_service_names(template: dict[str, Any]) -> None:
    names = [
        function_environment(template, function_id)["POWERTOOLS_SERVICE_NAME"] for function_id in FUNCTION_SETTINGS
    ]
    assert names == ["alert-forwarder", "webhook-receiver", "health-checker"]


@pytest.mark.parametrize("function_id", FUNCTION_SETTINGS)
def test_secrets_reach_functions_only_as_references(template: dict[str, Any], function_id: str) -> None:
    parameters = template["Parameters"]
    for name, value in function_environment(template, function_id).items():
        if name.endswith("_SECRET_ID"):
            (parameter,) = set(referenced_ids(value)) - {"AWS::NoValue"}
            assert parameters[parameter]["Type"] == "String"
            assert "ssm:/" in parameters[parameter]["AllowedPattern"]


def test_functions_run_python_313_with_tracing_and_the_layer(template: dict[str, Any]) -> None:
    globals_ = template["Globals"]["Function"]
    assert (globals_["Runtime"], globals_["Tracing"]) == ("python3.13", "Active")
    assert globals_["Layers"] == [{"Ref": "UtilsLayer"}]
    layer = template["Resources"]["UtilsLayer"]
    assert layer["Metadata"]["BuildMethod"] == "python3.13"
    assert layer["Properties"]["ContentUri"] == "layers/utils/"


def test_no_iam_statement_has_a_wildcard_action(resources: dict[str, Any]) -> None:
    statements = list(iam_statements(resources))
    assert statements
    for owner, statement in statements:
        for action in possible_strings(statement["Action"]):
            assert "*" not in action, f"{owner}: {action}"


def test_only_actions_without_resource_types_use_a_wildcard_resource(resources: dict[str, Any]) -> None:
    for owner, statement in iam_statements(resources):
        if "*" in possible_strings(statement["Resource"]):
            assert set(possible_strings(statement["Action"])) <= ACTIONS_WITHOUT_RESOURCE_TYPES, owner


@pytest.mark.parametrize(
    ("role_id", "needed", "forbidden"),
    [
        (
            "AlertForwarderRole",
            {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:SendMessage", "dynamodb:BatchGetItem"},
            {"events:PutEvents", "sns:Publish", "kms:Encrypt"},
        ),
        (
            "WebhookReceiverRole",
            {"events:PutEvents", "sns:Publish", "dynamodb:UpdateItem"},
            {"sqs:ReceiveMessage", "sqs:SendMessage", "cloudwatch:PutMetricData"},
        ),
        (
            "HealthCheckerRole",
            {"sqs:GetQueueAttributes", "sns:Publish", "cloudwatch:GetMetricData", "secretsmanager:DescribeSecret"},
            {"sqs:ReceiveMessage", "sqs:SendMessage", "events:PutEvents", "kms:Encrypt", "cloudwatch:PutMetricData"},
        ),
    ],
)
def test_roles_grant_what_their_function_does_and_no_more(
    resources: dict[str, Any], role_id: str, needed: set[str], forbidden: set[str]
) -> None:
    actions = role_actions(resources, role_id)
    assert needed <= actions
    assert not forbidden & actions


@pytest.mark.parametrize(
    ("role_id", "secret_parameters"),
    [
        ("AlertForwarderRole", {"RoutingKeysSecret"}),
        ("WebhookReceiverRole", {"WebhookSecretsSecret", "HealthTokenSecret"}),
        ("HealthCheckerRole", {"PagerDutyApiTokenSecret"}),
    ],
)
def test_roles_read_exactly_their_secrets(resources: dict[str, Any], role_id: str, secret_parameters: set[str]) -> None:
    secret_reads = [
        statement
        for statement in role_statements(resources, role_id)
        if "secretsmanager:GetSecretValue" in possible_strings(statement["Action"])
    ]
    read = {name for statement in secret_reads for name in referenced_ids(statement["Resource"])}
    assert read - {"AWS::Partition", "AWS::Region", "AWS::AccountId"} == secret_parameters


def test_every_data_resource_is_encrypted_with_the_stack_key(resources: dict[str, Any]) -> None:
    encryption_property = {
        "AWS::SQS::Queue": "KmsMasterKeyId",
        "AWS::SNS::Topic": "KmsMasterKeyId",
        "AWS::Logs::LogGroup": "KmsKeyId",
        "AWS::Events::EventBus": "KmsKeyIdentifier",
    }
    checked = 0
    for resource_type, key_property in encryption_property.items():
        for name, resource in resources_of_type(resources, resource_type).items():
            assert resource["Properties"].get(key_property) in (STACK_KEY, STACK_KEY_ARN), name
            checked += 1
    assert checked >= 10
    table = resources["StateTable"]["Properties"]["SSESpecification"]
    assert table == {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": STACK_KEY}
    assert resources["StackKey"]["Properties"]["EnableKeyRotation"] is True


def test_function_environments_are_encrypted_with_the_stack_key(template: dict[str, Any]) -> None:
    assert template["Globals"]["Function"]["KmsKeyArn"] == STACK_KEY_ARN


def test_state_table_layout(resources: dict[str, Any]) -> None:
    table = resources["StateTable"]["Properties"]
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "S"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_queue_visibility_is_at_least_six_forwarder_timeouts(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    timeout = function_property(template, "AlertForwarderFunction", "Timeout")
    assert resources["AlertQueue"]["Properties"]["VisibilityTimeout"] >= 6 * timeout


def test_forwarder_reports_batch_item_failures_from_the_alert_queue(resources: dict[str, Any]) -> None:
    events = resources["AlertForwarderFunction"]["Properties"]["Events"]
    (sqs_event,) = (event["Properties"] for event in events.values() if event["Type"] == "SQS")
    assert sqs_event["Queue"] == {"Fn::GetAtt": ["AlertQueue", "Arn"]}
    assert sqs_event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_forwarder_concurrency_is_bounded(resources: dict[str, Any]) -> None:
    forwarder = resources["AlertForwarderFunction"]["Properties"]
    (sqs_event,) = (event["Properties"] for event in forwarder["Events"].values() if event["Type"] == "SQS")
    assert forwarder["ReservedConcurrentExecutions"] == {"Ref": "ForwarderConcurrency"}
    assert sqs_event["ScalingConfig"]["MaximumConcurrency"] == {"Ref": "ForwarderConcurrency"}


def test_alert_queue_redrives_to_the_dead_letter_queue(resources: dict[str, Any]) -> None:
    redrive = resources["AlertQueue"]["Properties"]["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["AlertDeadLetterQueue", "Arn"]}
    dead_letter_retention = resources["AlertDeadLetterQueue"]["Properties"]["MessageRetentionPeriod"]
    assert dead_letter_retention > resources["AlertQueue"]["Properties"]["MessageRetentionPeriod"]


def test_alert_topic_delivers_sns_envelopes_to_the_queue(resources: dict[str, Any]) -> None:
    subscription = resources["AlertTopicSubscription"]["Properties"]
    assert subscription["TopicArn"] == {"Ref": "AlertTopic"}
    assert subscription["Endpoint"] == {"Fn::GetAtt": ["AlertQueue", "Arn"]}
    assert subscription["RawMessageDelivery"] is False


def test_every_rule_feeding_the_queue_may_send_to_it(resources: dict[str, Any]) -> None:
    rules = resources_of_type(resources, "AWS::Events::Rule")
    detail_types = {rule["Properties"]["EventPattern"]["detail-type"][0] for rule in rules.values()}
    assert detail_types == {
        "CloudWatch Alarm State Change",
        "GuardDuty Finding",
        "Security Hub Findings - Imported",
        "AWS Health Event",
        "Application Alert",
    }
    statements = resources["AlertQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (statement,) = (statement for statement in statements if statement["Effect"] == "Allow")
    allowed_sources = set(referenced_ids(statement["Condition"]["ArnEquals"]["aws:SourceArn"]))
    assert allowed_sources == {*rules, "AlertTopic"}
    for rule in rules.values():
        (target,) = rule["Properties"]["Targets"]
        assert target["Arn"] == {"Fn::GetAtt": ["AlertQueue", "Arn"]}
        assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["AlertDeadLetterQueue", "Arn"]}


def test_every_function_logs_to_its_own_retained_log_group(resources: dict[str, Any]) -> None:
    for function_id in FUNCTION_SETTINGS:
        (log_group_id,) = referenced_ids(resources[function_id]["Properties"]["LoggingConfig"]["LogGroup"])
        assert resources[log_group_id]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_every_function_has_error_and_throttle_alarms_to_operations(resources: dict[str, Any]) -> None:
    alarms = resources_of_type(resources, "AWS::CloudWatch::Alarm").values()
    for alarm in alarms:
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "OperationsTopic"}]
    watched = {
        (alarm["Properties"]["MetricName"], next(referenced_ids(alarm["Properties"]["Dimensions"])))
        for alarm in alarms
        if alarm["Properties"]["Namespace"] == "AWS/Lambda"
    }
    assert watched == {(metric, function) for metric in ("Errors", "Throttles") for function in FUNCTION_SETTINGS}


@pytest.mark.parametrize(
    ("metric", "namespace", "dimensions"),
    [
        ("ApproximateNumberOfMessagesVisible", "AWS/SQS", {"AlertDeadLetterQueue"}),
        ("ApproximateNumberOfMessagesVisible", "AWS/SQS", {"IncidentEventDeadLetterQueue"}),
        ("CircuitOpen", {"Ref": "MetricsNamespace"}, set()),
        ("HealthStatus", {"Ref": "MetricsNamespace"}, set()),
    ],
)
def test_operational_alarms_exist(resources: dict[str, Any], metric: str, namespace: Any, dimensions: set[str]) -> None:
    matching = [
        alarm["Properties"]
        for alarm in resources_of_type(resources, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"]["MetricName"] == metric
        and alarm["Properties"]["Namespace"] == namespace
        and set(referenced_ids(alarm["Properties"]["Dimensions"])) == dimensions
    ]
    assert len(matching) == 1


def test_dashboard_is_valid_json_showing_the_stack_metrics(resources: dict[str, Any]) -> None:
    body, _ = resources["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    dashboard = json.loads(re.sub(r"\$\{[^}]+\}", "placeholder", body))
    shown = json.dumps(dashboard["widgets"])
    for metric in (
        "Forwarded",
        "Retried",
        "DeadLettered",
        "Throttled",
        "CircuitOpen",
        "DeliveryLatency",
        "WebhookProcessed",
        "HealthStatus",
        "HealthCheck",
    ):
        assert f'"{metric}"' in shown or f'\\"{metric}\\"' in shown, metric


def test_outputs_name_every_queue_topic_bus_table_and_api(template: dict[str, Any], resources: dict[str, Any]) -> None:
    exposed = {name for output in template["Outputs"].values() for name in referenced_ids(output["Value"])}
    kinds = (
        "AWS::SQS::Queue",
        "AWS::SNS::Topic",
        "AWS::Events::EventBus",
        "AWS::DynamoDB::Table",
        "AWS::Serverless::Api",
    )
    expected = {name for kind in kinds for name in resources_of_type(resources, kind)}
    assert expected <= exposed


def test_webhook_api_serves_both_routes_with_throttling_and_access_logs(resources: dict[str, Any]) -> None:
    api = resources["WebhookApi"]["Properties"]
    assert api["AccessLogSetting"]["DestinationArn"] == {"Fn::GetAtt": ["WebhookApiAccessLogGroup", "Arn"]}
    (method_settings,) = api["MethodSettings"]
    assert {"ThrottlingRateLimit", "ThrottlingBurstLimit"} <= set(method_settings)
    routes = {
        (event["Properties"]["Method"], event["Properties"]["Path"])
        for event in resources["WebhookReceiverFunction"]["Properties"]["Events"].values()
        if event["Type"] == "Api"
    }
    assert routes == {("POST", "/webhooks/pagerduty"), ("GET", "/health")}


class ParameterResolver:
    """Resolves the intrinsics of a property as CloudFormation would, parameters at their defaults or overridden."""

    def __init__(self, template: dict[str, Any], **overrides: str) -> None:
        self._template = template
        self._values: dict[str, Any] = dict(PSEUDO_PARAMETERS)
        for name, parameter in template["Parameters"].items():
            value = overrides.get(name, parameter.get("Default"))
            is_list = parameter["Type"] == "CommaDelimitedList"
            self._values[name] = value.split(",") if is_list else value

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        functions: dict[str, Callable[[Any], Any]] = {
            "Ref": self._ref,
            "Fn::Sub": self._sub,
            "Fn::Split": self._split,
            "Fn::If": self._if,
            "Fn::Select": self._select,
        }
        if len(value) == 1 and next(iter(value)) in functions:
            ((name, argument),) = value.items()
            return functions[name](argument)
        return {key: self.resolve(item) for key, item in value.items()}

    def _ref(self, name: str) -> Any:
        return None if name == "AWS::NoValue" else self._values[name]

    def _select(self, argument: list[Any]) -> Any:
        index, items = argument
        return self.resolve(items)[int(index)]

    def _sub(self, argument: str | list[Any]) -> str:
        text, variables = argument if isinstance(argument, list) else (argument, {})
        values = {**self._values, **{name: self.resolve(value) for name, value in variables.items()}}
        return re.sub(r"\$\{([^}]+)\}", lambda match: str(values[match[1]]), text)

    def _split(self, argument: list[Any]) -> list[str]:
        delimiter, text = argument
        parts: list[str] = self.resolve(text).split(delimiter)
        return parts

    def _if(self, argument: list[Any]) -> Any:
        condition, when_true, when_false = argument
        return self.resolve(when_true if self.condition(condition) else when_false)

    def condition(self, name: str) -> bool:
        return bool(self._evaluate(self._template["Conditions"][name]))

    def _evaluate(self, expression: Any) -> Any:
        if isinstance(expression, dict) and "Fn::Not" in expression:
            return not self._evaluate(expression["Fn::Not"][0])
        if isinstance(expression, dict) and "Fn::Equals" in expression:
            left, right = (self.resolve(side) for side in expression["Fn::Equals"])
            return left == right
        return self.resolve(expression)


def pattern_matches(pattern: dict[str, Any], event: Any) -> bool:
    """EventBridge matching for the filters the template uses: values, prefix, anything-but prefix, exists.

    A field holding a list matches when any element does, including lists of objects (Security Hub findings).
    """
    if isinstance(event, list):
        return any(pattern_matches(pattern, item) for item in event)
    for field, condition in pattern.items():
        present = isinstance(event, dict) and field in event
        value = event[field] if present else None
        if isinstance(condition, dict):
            if not present or not pattern_matches(condition, value):
                return False
        elif not any(filter_matches(allowed, value, present=present) for allowed in condition):
            return False
    return True


def filter_matches(allowed: Any, value: Any, *, present: bool) -> bool:
    if isinstance(value, list):
        return any(filter_matches(allowed, item, present=present) for item in value)
    if not isinstance(allowed, dict):
        return present and value == allowed
    ((name, argument),) = allowed.items()
    if name == "exists":
        return present is argument
    if name == "prefix":
        return present and isinstance(value, str) and value.startswith(argument)
    if name == "anything-but":
        return present and not filter_matches(argument, value, present=present)
    raise AssertionError(f"filter {name!r} not understood by this test")


@pytest.fixture(scope="module")
def rule_patterns(template: dict[str, Any], resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    resolver = ParameterResolver(template)
    return {
        name: resolver.resolve(rule["Properties"]["EventPattern"])
        for name, rule in resources_of_type(resources, "AWS::Events::Rule").items()
    }


@pytest.mark.parametrize(
    ("rule_id", "event_file"),
    [
        ("CloudWatchAlarmRule", "eventbridge_alarm_state_change.json"),
        ("GuardDutyFindingRule", "eventbridge_guardduty_finding.json"),
        ("SecurityHubFindingRule", "eventbridge_securityhub_finding.json"),
        ("HealthEventRule", "eventbridge_health_event.json"),
        ("CustomAlertRule", "eventbridge_custom_app_event.json"),
    ],
)
def test_each_rule_takes_its_sample_event_and_only_that_one(
    rule_patterns: dict[str, dict[str, Any]], rule_id: str, event_file: str
) -> None:
    event = json.loads((EVENTS / event_file).read_text())
    matching_rules = {name for name, pattern in rule_patterns.items() if pattern_matches(pattern, event)}
    assert matching_rules == {rule_id}


def test_alarms_of_this_stack_are_not_forwarded_to_pagerduty(
    resources: dict[str, Any], rule_patterns: dict[str, dict[str, Any]]
) -> None:
    event = json.loads((EVENTS / "eventbridge_alarm_state_change.json").read_text())
    alarm_names = [
        alarm["Properties"]["AlarmName"]["Fn::Sub"]
        for alarm in resources_of_type(resources, "AWS::CloudWatch::Alarm").values()
    ]
    for alarm_name in alarm_names:
        name = alarm_name.replace("${AWS::StackName}", PSEUDO_PARAMETERS["AWS::StackName"])
        event["resources"] = [f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"]
        event["detail"]["alarmName"] = name
        assert not pattern_matches(rule_patterns["CloudWatchAlarmRule"], event), name


def test_security_hub_rule_skips_severities_not_chosen(rule_patterns: dict[str, dict[str, Any]]) -> None:
    event = json.loads((EVENTS / "eventbridge_securityhub_finding.json").read_text())
    for finding in event["detail"]["findings"]:
        finding["Severity"]["Label"] = "LOW"
    assert not pattern_matches(rule_patterns["SecurityHubFindingRule"], event)


def test_default_routing_rules_send_everything_to_the_default_key(template: dict[str, Any]) -> None:
    rules = RoutingRules.from_text(template["Parameters"]["RoutingRules"]["Default"], environ={})
    assert rules.routing_key_names == frozenset({"default"})


@pytest.mark.parametrize(
    ("allowlist", "allowed_sources"),
    [("", ["0.0.0.0/0", "::/0"]), ("203.0.113.0/24,2001:db8::/32", ["203.0.113.0/24", "2001:db8::/32"])],
)
def test_webhook_route_is_open_unless_an_allowlist_is_given(
    template: dict[str, Any], resources: dict[str, Any], allowlist: str, allowed_sources: list[str]
) -> None:
    policy = resources["WebhookApi"]["Properties"]["Auth"]["ResourcePolicy"]["CustomStatements"]
    resolved = ParameterResolver(template, WebhookSourceIpAllowlist=allowlist).resolve(policy)
    (allow,) = (statement for statement in resolved if statement["Effect"] == "Allow")
    (deny,) = (statement for statement in resolved if statement["Effect"] == "Deny")
    assert (allow["Resource"], "Condition" in allow) == ("execute-api:/*", False)
    assert deny["Resource"] == "execute-api:/*/POST/webhooks/pagerduty"
    assert deny["Condition"] == {"NotIpAddress": {"aws:SourceIp": allowed_sources}}


@pytest.mark.parametrize(
    ("reference", "action", "resource"),
    [
        ("", None, None),
        (
            "pd/health-keys",
            "secretsmanager:GetSecretValue",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:pd/health-keys-??????",
        ),
        ("ssm:/pd/health-keys", "ssm:GetParameter", "arn:aws:ssm:us-east-1:123456789012:parameter/pd/health-keys"),
        (
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:pd/health-keys-AbCdEf",
            "secretsmanager:GetSecretValue",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:pd/health-keys-AbCdEf",
        ),
    ],
)
def test_health_token_keys_are_optional_and_read_from_exactly_that_secret(
    template: dict[str, Any], resources: dict[str, Any], reference: str, action: str | None, resource: str | None
) -> None:
    resolver = ParameterResolver(template, HealthTokenSecret=reference)
    variable = function_environment(template, "WebhookReceiverFunction")["HEALTH_TOKEN_SECRET_ID"]
    assert resolver.resolve(variable) == (reference or None)
    policy = resources["HealthTokenSecretReadPolicy"]
    assert policy["Condition"] == "HasHealthTokenSecret"
    assert resolver.condition("HasHealthTokenSecret") == bool(reference)
    assert {
        "Fn::If": ["HasHealthTokenSecret", {"Ref": "HealthTokenSecretReadPolicy"}, {"Ref": "AWS::NoValue"}]
    } in resources["WebhookReceiverRole"]["Properties"]["ManagedPolicyArns"]
    separator, parts = function_environment(template, "HealthCheckerFunction")["HEALTH_SECRET_IDS"]["Fn::Join"]
    assert separator == ","
    assert (reference in resolver.resolve(parts)) == bool(reference)
    if reference:
        (statement,) = resolver.resolve(policy["Properties"]["PolicyDocument"]["Statement"])
        assert (statement["Action"], statement["Resource"]) == (action, resource)


def test_receiver_answers_within_pagerduty_budget_and_its_lease_outlives_it(template: dict[str, Any]) -> None:
    timeout = function_property(template, "WebhookReceiverFunction", "Timeout")
    lease = template["Parameters"]["WebhookProcessingLeaseSeconds"]
    assert 5 < timeout <= 6
    assert lease["MinValue"] > timeout
    assert ReceiverSettings.model_fields["processing_lease_seconds"].default > timeout


@pytest.mark.parametrize(
    ("variable", "parameter"),
    [
        ("WEBHOOK_MAX_BODY_BYTES", "WebhookMaxBodyBytes"),
        ("WEBHOOK_PROCESSING_LEASE_SECONDS", "WebhookProcessingLeaseSeconds"),
        ("INCIDENT_STATE_RETENTION_SECONDS", "IncidentStateRetentionSeconds"),
        ("WEBHOOK_REPLAY_WINDOW_SECONDS", "WebhookReplayWindowSeconds"),
    ],
)
def test_receiver_tuning_parameters_default_to_the_settings_defaults(
    template: dict[str, Any], variable: str, parameter: str
) -> None:
    assert function_environment(template, "WebhookReceiverFunction")[variable] == {"Ref": parameter}
    (setting,) = (field for field in ReceiverSettings.model_fields.values() if field.alias == variable)
    assert template["Parameters"][parameter]["Default"] == setting.default
