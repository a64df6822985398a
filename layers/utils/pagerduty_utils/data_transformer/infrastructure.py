"""ECS tasks and deployments, RDS events and EC2 Auto Scaling activities.

- An ECS task that stopped because it failed (it could not start, or a container exited non-zero) triggers one
  alert per service (the task's group); a task stopping normally sends nothing. A failed ECS deployment
  triggers one alert per service; a completed one resolves it and is a change event.
- RDS events pair by category: shutdown and restart, failover started and completed; failures and low storage
  trigger; a configuration change is a change event; other categories are informational triggers, one per
  database and event id.
- An unsuccessful Auto Scaling launch (or terminate) triggers one alert per group and activity kind; the next
  successful one resolves it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from pagerduty_utils.data_transformer.model import AlertSource, NormalizedAlert, TransformOptions
from pagerduty_utils.data_transformer.service_events import ServiceFacts, paired_alerts, service_alert
from pagerduty_utils.data_transformer.sources.base import parse_source
from pagerduty_utils.data_transformer.sources.infrastructure import (
    EcsDeploymentEvent,
    EcsTaskEvent,
    RdsNotification,
    ScalingActivityEvent,
)
from pagerduty_utils.data_transformer.wording import verdict_of
from pagerduty_utils.formatters import compose_summary, console_url
from pagerduty_utils.pagerduty_events import EventAction, Severity

ECS_TASK_FAILED_TO_START = "TaskFailedToStart"
ECS_DEPLOYMENT_FAILURES = {"SERVICE_DEPLOYMENT_FAILED": Severity.ERROR}

# RDS event ids that open and close an availability alert (docs: "Amazon RDS event categories and event messages").
RDS_AVAILABILITY_LOST = frozenset({"RDS-EVENT-0004", "RDS-EVENT-0022"})
RDS_AVAILABILITY_RESTORED = frozenset({"RDS-EVENT-0006"})
RDS_TRIGGER_CATEGORIES = {"failure": Severity.ERROR, "low storage": Severity.WARNING}

SCALING_SEVERITY = {"Launch": Severity.ERROR, "Terminate": Severity.WARNING}


def ecs_alerts(document: Mapping[str, Any], _options: TransformOptions) -> list[NormalizedAlert]:
    if document.get("detail-type") == "ECS Deployment State Change":
        return _ecs_deployment_alerts(document)
    event = parse_source(EcsTaskEvent, document, what="ECS task event")
    task = event.detail
    failed = task.stop_code == ECS_TASK_FAILED_TO_START or any(
        container.exit_code not in (None, 0) for container in task.containers
    )
    if task.last_status != "STOPPED" or not failed:
        return []
    cluster = task.cluster_arn.rsplit("/", 1)[-1]
    group = task.group or task.task_definition_arn or task.task_arn
    exits = {container.name: container.exit_code for container in task.containers if container.exit_code}
    return [
        service_alert(
            event,
            ServiceFacts(
                source=AlertSource.ECS,
                dedup_key=f"aws/ecs/{task.cluster_arn}/{group}",
                name=f"{cluster}/{group}",
                summary=compose_summary(f"ECS task stopped: {cluster} {group}", task.stopped_reason),
                component="Amazon ECS",
                payload_source=task.task_arn,
                details={
                    **task.model_dump(by_alias=True, exclude_none=True, exclude={"containers"}),
                    "exit_codes": exits,
                },
                link=(
                    console_url(event.region, f"ecs/v2/clusters/{quote(cluster, safe='')}/tasks?region={event.region}"),
                    "View the cluster's tasks in ECS",
                ),
            ),
            EventAction.TRIGGER,
            Severity.ERROR,
        )
    ]


def _ecs_deployment_alerts(document: Mapping[str, Any]) -> list[NormalizedAlert]:
    event = parse_source(EcsDeploymentEvent, document, what="ECS deployment event")
    deployment = event.detail
    service = event.resources[0] if event.resources else deployment.deployment_id or "service"
    service_name = service.rsplit("/", 1)[-1]
    return paired_alerts(
        event,
        deployment.event_name,
        ServiceFacts(
            source=AlertSource.ECS,
            dedup_key=f"aws/ecs/{service}/deployment",
            name=service_name,
            summary=compose_summary(f"ECS {deployment.event_name}: {service_name}", deployment.reason),
            component="Amazon ECS",
            payload_source=service,
            details=deployment.model_dump(by_alias=True, exclude_none=True),
            link=(console_url(event.region, f"ecs/v2/clusters?region={event.region}"), "View the clusters in ECS"),
        ),
        failures=ECS_DEPLOYMENT_FAILURES,
        successes={"SERVICE_DEPLOYMENT_COMPLETED"},
        change_on_success=True,
    )


def rds_alerts(document: Mapping[str, Any], _options: TransformOptions) -> list[NormalizedAlert]:
    event = parse_source(RdsNotification, document, what="RDS event")
    rds = event.detail
    database = rds.source_arn or rds.source_identifier
    categories = sorted(category.lower() for category in rds.event_categories)
    facts = ServiceFacts(
        source=AlertSource.RDS,
        dedup_key=f"aws/rds/{database}/{rds.event_id}",
        name=rds.source_identifier,
        summary=compose_summary(f"RDS {rds.source_identifier}: {rds.message}", rds.event_id),
        component="Amazon RDS",
        payload_source=database,
        occurred_at=rds.date,
        details=rds.model_dump(by_alias=True, exclude_none=True),
        link=(console_url(event.region, f"rds/home?region={event.region}#events:"), "View the events in Amazon RDS"),
    )
    if rds.event_id in RDS_AVAILABILITY_LOST | RDS_AVAILABILITY_RESTORED:
        state = "down" if rds.event_id in RDS_AVAILABILITY_LOST else "up"
        availability = replace(facts, dedup_key=f"aws/rds/{database}/availability")
        return paired_alerts(event, state, availability, failures={"down": Severity.ERROR}, successes={"up"})
    if "failover" in categories:
        state = "completed" if verdict_of([rds.message]).succeeded else "started"
        failover = replace(facts, dedup_key=f"aws/rds/{database}/failover")
        return paired_alerts(event, state, failover, failures={"started": Severity.WARNING}, successes={"completed"})
    if "configuration change" in categories:
        change = replace(facts, dedup_key=f"aws/rds/{database}/change/{event.id}")
        return [service_alert(event, change, EventAction.TRIGGER, Severity.INFO, change=True)]
    triggering = [RDS_TRIGGER_CATEGORIES[category] for category in categories if category in RDS_TRIGGER_CATEGORIES]
    if triggering:
        problem = replace(facts, dedup_key=f"aws/rds/{database}/{'/'.join(categories)}")
        return [service_alert(event, problem, EventAction.TRIGGER, triggering[0])]
    return [service_alert(event, facts, EventAction.TRIGGER, Severity.INFO)]


def autoscaling_alerts(document: Mapping[str, Any], _options: TransformOptions) -> list[NormalizedAlert]:
    event = parse_source(ScalingActivityEvent, document, what="EC2 Auto Scaling event")
    activity = event.detail
    kind = "Launch" if "Launch" in event.detail_type else "Terminate"
    state = "failed" if event.detail_type.endswith("Unsuccessful") else "succeeded"
    group = activity.auto_scaling_group_name
    return paired_alerts(
        event,
        state,
        ServiceFacts(
            source=AlertSource.AUTOSCALING,
            dedup_key=f"aws/autoscaling/{event.account}/{event.region}/{group}/{kind.lower()}",
            name=group,
            summary=compose_summary(
                f"Auto Scaling {kind.lower()} {state}: {group}", activity.status_message, activity.description
            ),
            component="Amazon EC2 Auto Scaling",
            payload_source=activity.ec2_instance_id or group,
            occurred_at=activity.end_time,
            details=activity.model_dump(by_alias=True, exclude_none=True),
            link=(
                console_url(
                    event.region, f"ec2/home?region={event.region}#AutoScalingGroupDetails:id={quote(group, safe='')}"
                ),
                "View the group in EC2 Auto Scaling",
            ),
        ),
        failures={"failed": SCALING_SEVERITY[kind]},
        successes={"succeeded"},
    )
