"""The KMS key is enabled and usable: its state, then an envelope-encryption round trip of a small probe."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from typing_extensions import override

from pagerduty_utils.encryption import EnvelopeEncryptor
from pagerduty_utils.exceptions import ConfigurationError, DependencyError, ValidationError
from pagerduty_utils.health_monitor.checks.aws_errors import AWS_ERRORS, aws_failure
from pagerduty_utils.health_monitor.report import CheckOutcome
from pagerduty_utils.health_monitor.runner import HealthCheck

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

PROBE_CONTEXT = {"purpose": "pagerduty-utils-health-probe"}


class KmsKeyCheck(HealthCheck):
    """A key that is not ``Enabled`` (disabled, pending deletion or import) cannot protect secrets: unhealthy.

    The key state is read first because it names the problem precisely; the round trip then proves the
    function's role may use the key (KMS permissions live in the key policy, not only in IAM).
    """

    name = "kms_key"

    def __init__(self, key_id: str, kms: KMSClient) -> None:
        self._key_id = key_id
        self._kms = kms

    @override
    def run(self, deadline: float) -> CheckOutcome:
        try:
            state = self._kms.describe_key(KeyId=self._key_id)["KeyMetadata"].get("KeyState", "Unknown")
        except AWS_ERRORS as exc:
            return aws_failure(f"key {self._key_id}", exc)
        if state != "Enabled":
            return CheckOutcome.unhealthy(f"key {self._key_id} is {state}")
        probe = os.urandom(16)
        encryptor = EnvelopeEncryptor(self._key_id, kms_client=self._kms)
        try:
            round_trip = encryptor.decrypt(encryptor.encrypt(probe, PROBE_CONTEXT), PROBE_CONTEXT)
        except DependencyError as exc:
            return CheckOutcome.degraded(str(exc))
        except (ConfigurationError, ValidationError) as exc:
            return CheckOutcome.unhealthy(str(exc))
        if round_trip != probe:
            return CheckOutcome.unhealthy(f"key {self._key_id}: decrypt did not return the probe")
        return CheckOutcome.healthy(f"key {self._key_id} is Enabled; encrypt and decrypt work")
