"""Step Functions executions, Glue job runs and AWS Backup jobs: a failure triggers, a success resolves.

One alert per state machine, per Glue job and per backed-up resource: the next successful run resolves what a
failed one opened.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from pagerduty_utils.data_transformer.model import AlertSource, NormalizedAlert, TransformOptions
from pagerduty_utils.data_transformer.service_events import ServiceFacts, paired_alerts
from pagerduty_utils.data_transformer.sources.base import parse_source
from pagerduty_utils.data_transformer.sources.workflows import BackupJobEvent, GlueJobEvent, StepFunctionsEvent
from pagerduty_utils.formatters import compose_summary, console_url
from pagerduty_utils.pagerduty_events import Severity

STEP_FUNCTIONS_FAILURES = {"FAILED": Severity.ERROR, "TIMED_OUT": Severity.ERROR, "ABORTED": Severity.WARNING}
GLUE_FAILURES = {"FAILED": Severity.ERROR, "TIMEOUT": Severity.ERROR, "ERROR": Severity.ERROR}
BACKUP_FAILURES = {"FAILED": Severity.ERROR, "ABORTED": Severity.WARNING, "EXPIRED": Severity.WARNING}


def step_functions_alerts(document: Mapping[str, Any], _options: TransformOptions) -> list[NormalizedAlert]:
    event = parse_source(StepFunctionsEvent, document, what="Step Functions execution event")
    execution = event.detail
    machine = execution.state_machine_arn.rsplit(":", 1)[-1]
    return paired_alerts(
        event,
        execution.status,
        ServiceFacts(
            source=AlertSource.STEP_FUNCTIONS,
            dedup_key=f"aws/states/{execution.state_machine_arn}",
            name=machine,
            summary=compose_summary(f"Step Functions {execution.status}: {machine}", execution.error, execution.cause),
            component="AWS Step Functions",
            payload_source=execution.execution_arn,
            details=execution.model_dump(by_alias=True, exclude_none=True),
            link=(
                console_url(
                    event.region,
                    f"states/home?region={event.region}#/v2/executions/details/"
                    f"{quote(execution.execution_arn, safe='')}",
                ),
                "View the execution in Step Functions",
            ),
        ),
        failures=STEP_FUNCTIONS_FAILURES,
        successes={"SUCCEEDED"},
    )


def glue_alerts(document: Mapping[str, Any], _options: TransformOptions) -> list[NormalizedAlert]:
    event = parse_source(GlueJobEvent, document, what="Glue job event")
    run = event.detail
    return paired_alerts(
        event,
        run.state,
        ServiceFacts(
            source=AlertSource.GLUE,
            dedup_key=f"aws/glue/{event.account}/{event.region}/{run.job_name}",
            name=run.job_name,
            summary=compose_summary(f"Glue job {run.state}: {run.job_name}", run.message),
            component="AWS Glue",
            payload_source=run.job_name,
            details=run.model_dump(by_alias=True, exclude_none=True),
            link=(
                console_url(
                    event.region, f"gluestudio/home?region={event.region}#/job/{quote(run.job_name, safe='')}/runs"
                ),
                "View the job runs in AWS Glue",
            ),
        ),
        failures=GLUE_FAILURES,
        successes={"SUCCEEDED"},
    )


def backup_alerts(document: Mapping[str, Any], _options: TransformOptions) -> list[NormalizedAlert]:
    event = parse_source(BackupJobEvent, document, what="AWS Backup job event")
    job = event.detail
    resource = job.resource_arn or job.backup_job_id
    return paired_alerts(
        event,
        job.state,
        ServiceFacts(
            source=AlertSource.BACKUP,
            dedup_key=f"aws/backup/{event.account}/{event.region}/{resource}",
            name=job.resource_type or "backup job",
            summary=compose_summary(f"AWS Backup job {job.state}: {resource}", job.status_message),
            component="AWS Backup",
            payload_source=resource,
            details=job.model_dump(by_alias=True, exclude_none=True),
            link=(
                console_url(
                    event.region, f"backup/home?region={event.region}#/jobs/backup/details/{job.backup_job_id}"
                ),
                "View the job in AWS Backup",
            ),
        ),
        failures=BACKUP_FAILURES,
        successes={"COMPLETED"},
    )
