"""health_monitor without I/O: the concurrent runner and its deadline, status rules, report text, REST outcomes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber
from mypy_boto3_kms import KMSClient
from typing_extensions import override

from pagerduty_utils.api_client.errors import (
    AuthenticationError,
    PagerDutyUnavailableError,
    RateLimitedError,
)
from pagerduty_utils.exceptions import ConfigurationError, DependencyError
from pagerduty_utils.health_monitor.checks.kms_key import PROBE_CONTEXT, KmsKeyCheck
from pagerduty_utils.health_monitor.checks.pagerduty import AbilitiesProbe, PagerDutyRestCheck
from pagerduty_utils.health_monitor.checks.secrets_access import SecretsCheck
from pagerduty_utils.health_monitor.operations import status_change_notification
from pagerduty_utils.health_monitor.report import CheckOutcome, CheckResult, HealthReport, HealthStatus
from pagerduty_utils.health_monitor.runner import HealthCheck, run_checks
from pagerduty_utils.notification_builder import render_email
from pdutils.testing.health import HangingCheck

CHECKED_AT = datetime(2026, 11, 27, 5, 0, tzinfo=UTC)


class FixedCheck(HealthCheck):
    def __init__(self, name: str, outcome: CheckOutcome) -> None:
        self.name = name
        self._outcome = outcome

    @override
    def run(self, deadline: float) -> CheckOutcome:
        return self._outcome


class RaisingCheck(HealthCheck):
    name = "broken"

    @override
    def run(self, deadline: float) -> CheckOutcome:
        raise RuntimeError("unexpected failure")


class RendezvousCheck(HealthCheck):
    """Returns only once every check of its group has started: proves the checks run at the same time."""

    def __init__(self, name: str, barrier: threading.Barrier) -> None:
        self.name = name
        self._barrier = barrier

    @override
    def run(self, deadline: float) -> CheckOutcome:
        self._barrier.wait(timeout=5)
        return CheckOutcome.healthy("met the others")


class ScriptedProbe(AbilitiesProbe):
    def __init__(self, error: Exception | None = None) -> None:
        self._error = error

    @override
    def abilities(self, deadline: float) -> list[str]:
        if self._error is not None:
            raise self._error
        return ["teams", "sso"]


@pytest.fixture
def release() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


def test_results_keep_the_order_of_the_checks() -> None:
    checks = [
        FixedCheck("first", CheckOutcome.healthy("ok")),
        FixedCheck("second", CheckOutcome.degraded("slow")),
    ]
    results = run_checks(checks, timeout=5)
    assert [(result.name, result.status) for result in results] == [
        ("first", HealthStatus.HEALTHY),
        ("second", HealthStatus.DEGRADED),
    ]
    assert all(result.latency_ms >= 0 for result in results)


def test_checks_run_concurrently() -> None:
    barrier = threading.Barrier(3)
    results = run_checks([RendezvousCheck(f"c{index}", barrier) for index in range(3)], timeout=5)
    assert {result.reason for result in results} == {"met the others"}


def test_a_hanging_check_is_reported_as_timed_out_and_the_rest_still_report(release: threading.Event) -> None:
    results = run_checks([HangingCheck(release), FixedCheck("quick", CheckOutcome.healthy("ok"))], timeout=0.2)
    hanging, quick = results
    assert hanging.status is HealthStatus.UNHEALTHY
    assert hanging.reason.startswith("timed out")
    assert quick.status is HealthStatus.HEALTHY
    assert not release.is_set()


class DeadlineRecorder(HealthCheck):
    name = "recorder"

    def __init__(self) -> None:
        self.deadlines: list[float] = []

    @override
    def run(self, deadline: float) -> CheckOutcome:
        self.deadlines.append(deadline)
        return CheckOutcome.healthy("noted")


@pytest.mark.parametrize(("timeout", "check_deadline"), [(10.0, 109.75), (1.0, 100.9)])
def test_checks_get_a_deadline_a_little_before_the_runs(timeout: float, check_deadline: float) -> None:
    recorder = DeadlineRecorder()
    run_checks([recorder], timeout=timeout, clock=lambda: 100.0)
    assert recorder.deadlines == [pytest.approx(check_deadline)]


def test_a_check_that_raises_is_unhealthy_with_the_error_as_reason() -> None:
    (result,) = run_checks([RaisingCheck()], timeout=5)
    assert result.status is HealthStatus.UNHEALTHY
    assert result.reason == "RuntimeError: unexpected failure"


@pytest.mark.parametrize(
    ("statuses", "overall"),
    [
        ([], HealthStatus.HEALTHY),
        ([HealthStatus.HEALTHY, HealthStatus.HEALTHY], HealthStatus.HEALTHY),
        ([HealthStatus.HEALTHY, HealthStatus.DEGRADED], HealthStatus.DEGRADED),
        ([HealthStatus.DEGRADED, HealthStatus.UNHEALTHY, HealthStatus.HEALTHY], HealthStatus.UNHEALTHY),
    ],
)
def test_overall_status_is_the_worst_check(statuses: list[HealthStatus], overall: HealthStatus) -> None:
    results = [
        CheckResult(name=f"c{index}", status=status, latency_ms=1.0, reason="r")
        for index, status in enumerate(statuses)
    ]
    assert HealthReport.from_results(results, CHECKED_AT).status is overall


def test_status_levels_match_the_metric_contract() -> None:
    assert [status.level for status in HealthStatus] == [0, 1, 2]


def test_report_json_round_trips_with_the_documented_fields() -> None:
    report = HealthReport.from_results(
        [CheckResult(name="kms_key", status=HealthStatus.DEGRADED, latency_ms=12.5, reason="throttled")], CHECKED_AT
    ).model_copy(update={"previous_status": HealthStatus.HEALTHY})
    document = report.model_dump(mode="json")
    assert set(document) == {"status", "checked_at", "checks", "previous_status"}
    assert document["checked_at"] == "2026-11-27T05:00:00Z"
    assert document["checks"] == [{"name": "kms_key", "status": "degraded", "latency_ms": 12.5, "reason": "throttled"}]
    assert HealthReport.model_validate_json(report.model_dump_json()) == report


def test_status_change_email_lists_the_worst_checks_first() -> None:
    report = HealthReport.from_results(
        [
            CheckResult(name="state_table", status=HealthStatus.HEALTHY, latency_ms=8.0, reason="works"),
            CheckResult(name="kms_key", status=HealthStatus.DEGRADED, latency_ms=7.0, reason="throttled"),
            CheckResult(name="dead_letter_queue", status=HealthStatus.UNHEALTHY, latency_ms=9.0, reason="3 messages"),
        ],
        CHECKED_AT,
    ).model_copy(update={"previous_status": HealthStatus.HEALTHY})
    email = render_email(status_change_notification(report))
    assert email.subject == "[UNHEALTHY] PagerDuty integration is unhealthy (was healthy)"
    assert email.text.splitlines()[2:5] == [
        "dead_letter_queue: unhealthy: 3 messages (9 ms)",
        "kms_key: degraded: throttled (7 ms)",
        "state_table: healthy: works (8 ms)",
    ]


def test_a_reason_cannot_break_the_message_layout() -> None:
    report = HealthReport.from_results(
        [CheckResult(name="secrets", status=HealthStatus.UNHEALTHY, latency_ms=1.0, reason="line one\nline two")],
        CHECKED_AT,
    )
    (fact,) = status_change_notification(report).facts
    assert fact == ("secrets", "unhealthy: line one line two (1 ms)")


@pytest.mark.parametrize(
    ("error", "status", "reason_part"),
    [
        (None, HealthStatus.HEALTHY, "2 abilities"),
        (AuthenticationError("Unauthorized", status=401), HealthStatus.UNHEALTHY, "other PagerDuty region"),
        (AuthenticationError("Forbidden", status=403), HealthStatus.UNHEALTHY, "lacks access"),
        (RateLimitedError("Too many", status=429, retry_after=12), HealthStatus.DEGRADED, "retry after 12s"),
        (PagerDutyUnavailableError("Bad gateway", status=502), HealthStatus.UNHEALTHY, "status=502"),
        (PagerDutyUnavailableError("timed out"), HealthStatus.UNHEALTHY, "timed out"),
        (ConfigurationError("secret 'pd/token' cannot be read"), HealthStatus.UNHEALTHY, "token unavailable"),
    ],
)
def test_rest_outcomes(error: Exception | None, status: HealthStatus, reason_part: str) -> None:
    check = PagerDutyRestCheck(ScriptedProbe(error), api_base_url="https://api.pagerduty.com")
    outcome = check.run(deadline=0.0)
    assert outcome.status is status
    assert reason_part in outcome.reason


def test_secrets_check_names_missing_secrets_and_degrades_on_lookup_failures() -> None:
    present = {"pd/token"}

    def confirm(reference: str) -> None:
        if reference == "pd/throttled":
            raise DependencyError(f"secret {reference!r} could not be fetched: ThrottlingException")
        if reference not in present:
            raise ConfigurationError(f"secret {reference!r} cannot be read: ResourceNotFoundException")

    healthy = SecretsCheck(["pd/token", "pd/token"], confirm).run(deadline=0.0)
    missing = SecretsCheck(["pd/token", "pd/missing", "pd/throttled"], confirm).run(deadline=0.0)
    throttled = SecretsCheck(["pd/token", "pd/throttled"], confirm).run(deadline=0.0)
    assert healthy == CheckOutcome.healthy("1 secret(s) in place")
    assert missing == CheckOutcome.unhealthy(
        "secret 'pd/missing' cannot be read: ResourceNotFoundException; "
        "secret 'pd/throttled' could not be fetched: ThrottlingException"
    )
    assert throttled == CheckOutcome.degraded("secret 'pd/throttled' could not be fetched: ThrottlingException")


@pytest.fixture
def kms_client() -> KMSClient:
    return boto3.client("kms", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture
def stubbed_kms(kms_client: KMSClient) -> Iterator[Stubber]:
    with Stubber(kms_client) as stubber:
        stubber.add_response("describe_key", {"KeyMetadata": {"KeyId": "k", "KeyState": "Enabled"}}, {"KeyId": "k"})
        yield stubber
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("code", "status"),
    [("AccessDeniedException", HealthStatus.UNHEALTHY), ("ThrottlingException", HealthStatus.DEGRADED)],
)
def test_kms_key_that_describes_but_cannot_encrypt(
    stubbed_kms: Stubber, kms_client: KMSClient, code: str, status: HealthStatus
) -> None:
    stubbed_kms.add_client_error("generate_data_key", service_error_code=code, http_status_code=400)
    outcome = KmsKeyCheck("k", kms_client).run(deadline=0.0)
    assert outcome.status is status
    assert "GenerateDataKey" in outcome.reason
    assert code in outcome.reason


DATA_KEY = bytes(range(32))
WRAPPED_DATA_KEY = b"wrapped data key"


def expect_data_key(stubbed_kms: Stubber, *, unwrapped: bytes) -> None:
    """GenerateDataKey as the envelope asks for it, then Decrypt of its blob under the same context."""
    stubbed_kms.add_response(
        "generate_data_key",
        {"KeyId": "k", "Plaintext": DATA_KEY, "CiphertextBlob": WRAPPED_DATA_KEY},
        {"KeyId": "k", "KeySpec": "AES_256", "EncryptionContext": PROBE_CONTEXT},
    )
    stubbed_kms.add_response(
        "decrypt",
        {"KeyId": "k", "Plaintext": unwrapped},
        {"CiphertextBlob": WRAPPED_DATA_KEY, "KeyId": "k", "EncryptionContext": PROBE_CONTEXT},
    )


def test_kms_key_that_unwraps_its_data_key_is_healthy(stubbed_kms: Stubber, kms_client: KMSClient) -> None:
    expect_data_key(stubbed_kms, unwrapped=DATA_KEY)
    outcome = KmsKeyCheck("k", kms_client).run(deadline=0.0)
    assert outcome == CheckOutcome.healthy("key k is Enabled; encrypt and decrypt work")


def test_kms_key_that_unwraps_another_plaintext_is_unhealthy(stubbed_kms: Stubber, kms_client: KMSClient) -> None:
    expect_data_key(stubbed_kms, unwrapped=bytes(reversed(DATA_KEY)))
    outcome = KmsKeyCheck("k", kms_client).run(deadline=0.0)
    assert outcome == CheckOutcome.unhealthy("key k: decrypt did not return the probe")


def test_kms_key_whose_decrypt_is_denied_is_unhealthy(stubbed_kms: Stubber, kms_client: KMSClient) -> None:
    stubbed_kms.add_response(
        "generate_data_key", {"KeyId": "k", "Plaintext": DATA_KEY, "CiphertextBlob": WRAPPED_DATA_KEY}
    )
    stubbed_kms.add_client_error("decrypt", service_error_code="AccessDeniedException", http_status_code=400)
    outcome = KmsKeyCheck("k", kms_client).run(deadline=0.0)
    assert outcome == CheckOutcome.unhealthy("KMS key 'k' cannot be used for Decrypt: AccessDeniedException")
