"""CodePipeline, CodeBuild, CodeDeploy and CloudFormation: failures page, completed changes become change events.

A failed pipeline execution, build, deployment or stack operation triggers one alert per pipeline, project,
deployment group or stack; the next success resolves it. A successful pipeline execution, deployment or stack
operation is also a change event, so responders see what changed before an incident.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from pagerduty_utils.data_transformer.model import AlertSource, NormalizedAlert, TransformOptions
from pagerduty_utils.data_transformer.service_events import ServiceFacts, paired_alerts
from pagerduty_utils.data_transformer.sources.base import parse_source
from pagerduty_utils.data_transformer.sources.deployments import (
    BuildEvent,
    DeploymentEvent,
    PipelineExecutionEvent,
    StackStatusEvent,
)
from pagerduty_utils.formatters import compose_summary, console_url
from pagerduty_utils.pagerduty_events import Severity

PIPELINE_FAILURES = {"FAILED": Severity.ERROR}
BUILD_FAILURES = {"FAILED": Severity.ERROR, "FAULT": Severity.ERROR, "TIMED_OUT": Severity.ERROR}
DEPLOYMENT_FAILURES = {"FAILURE": Severity.ERROR}
STACK_FAILURES = {
    **dict.fromkeys(("CREATE_FAILED", "UPDATE_FAILED", "DELETE_FAILED", "IMPORT_ROLLBACK_COMPLETE"), Severity.ERROR),
    **dict.fromkeys(("ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"), Severity.ERROR),
    # A failed rollback leaves the stack stuck until someone acts on it.
    **dict.fromkeys(("ROLLBACK_FAILED", "UPDATE_ROLLBACK_FAILED", "IMPORT_ROLLBACK_FAILED"), Severity.CRITICAL),
}
STACK_SUCCESSES = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE", "IMPORT_COMPLETE"})


def codepipeline_alerts(document: Mapping[str, Any], _options: TransformOptions) -> list[NormalizedAlert]:
    event = parse_source(PipelineExecutionEvent, document, what="CodePipeline execution event")
    execution = event.detail
    return paired_alerts(
        event,
        execution.state,
        ServiceFacts(
            source=AlertSource.CODEPIPELINE,
            dedup_key=f"aws/codepipeline/{event.account}/{event.region}/{execution.pipeline}",
            name=execution.pipeline,
            summary=compose_summary(f"CodePipeline {execution.state}: {execution.pipeline}", execution.execution_id),
            component="AWS CodePipeline",
            payload_source=execution.pipeline,
            details=execution.model_dump(by_alias=True, exclude_none=True),
            link=(
                console_url(
                    event.region,
                    f"codesuite/codepipeline/pipelines/{quote(execution.pipeline, safe='')}/view?region={event.region}",
                ),
                "View the pipeline in CodePipeline",
            ),
        ),
        failures=PIPELINE_FAILURES,
        successes={"SUCCEEDED"},
        change_on_success=True,
    )


def codebuild_alerts(document: Mapping[str, Any], _options: TransformOptions) -> list[NormalizedAlert]:
    event = parse_source(BuildEvent, document, what="CodeBuild build event")
    build = event.detail
    return paired_alerts(
        event,
        build.build_status,
        ServiceFacts(
            source=AlertSource.CODEBUILD,
            dedup_key=f"aws/codebuild/{event.account}/{event.region}/{build.project_name}",
            name=build.project_name,
            summary=compose_summary(f"CodeBuild {build.build_status}: {build.project_name}", build.failure),
            component="AWS CodeBuild",
            payload_source=build.build_id or build.project_name,
            details=build.model_dump(by_alias=True, exclude_none=True, exclude={"additional_information"}),
            link=(
                console_url(
                    event.region,
                    f"codesuite/codebuild/projects/{quote(build.project_name, safe='')}/history?region={event.region}",
                ),
                "View the build history in CodeBuild",
            ),
        ),
        failures=BUILD_FAILURES,
        successes={"SUCCEEDED"},
    )


def codedeploy_alerts(document: Mapping[str, Any], _options: TransformOptions) -> list[NormalizedAlert]:
    event = parse_source(DeploymentEvent, document, what="CodeDeploy deployment event")
    deployment = event.detail
    group = f"{deployment.application}/{deployment.deployment_group}"
    return paired_alerts(
        event,
        deployment.state,
        ServiceFacts(
            source=AlertSource.CODEDEPLOY,
            dedup_key=f"aws/codedeploy/{event.account}/{event.region}/{group}",
            name=group,
            summary=compose_summary(f"CodeDeploy {deployment.state}: {group}", deployment.deployment_id),
            component="AWS CodeDeploy",
            payload_source=group,
            details=deployment.model_dump(by_alias=True, exclude_none=True),
            link=(
                console_url(
                    event.region,
                    f"codesuite/codedeploy/deployments/{quote(deployment.deployment_id, safe='')}"
                    f"?region={event.region}",
                ),
                "View the deployment in CodeDeploy",
            ),
        ),
        failures=DEPLOYMENT_FAILURES,
        successes={"SUCCESS"},
        change_on_success=True,
    )


def cloudformation_alerts(document: Mapping[str, Any], _options: TransformOptions) -> list[NormalizedAlert]:
    event = parse_source(StackStatusEvent, document, what="CloudFormation stack status event")
    stack_id = event.detail.stack_id
    status = event.detail.status_details
    stack_name = stack_id.split(":stack/", 1)[1].split("/", 1)[0]
    return paired_alerts(
        event,
        status.status,
        ServiceFacts(
            source=AlertSource.CLOUDFORMATION,
            dedup_key=f"aws/cloudformation/{stack_id}",
            name=stack_name,
            summary=compose_summary(f"CloudFormation {status.status}: {stack_name}", status.status_reason),
            component="AWS CloudFormation",
            payload_source=stack_id,
            details={"stack_id": stack_id, "status": status.status, "status_reason": status.status_reason},
            link=(
                console_url(
                    event.region,
                    f"cloudformation/home?region={event.region}#/stacks/stackinfo?stackId={quote(stack_id, safe='')}",
                ),
                "View the stack in CloudFormation",
            ),
        ),
        failures=STACK_FAILURES,
        successes=STACK_SUCCESSES,
        change_on_success=True,
    )
