"""The KMS key is enabled and usable: its state, then the two KMS operations of envelope encryption on a probe."""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from typing_extensions import override

from pagerduty_utils.encryption import DATA_KEY_SPEC, kms_errors
from pagerduty_utils.exceptions import ConfigurationError, DependencyError, ValidationError
from pagerduty_utils.health_monitor.checks.aws_errors import AWS_ERRORS, aws_failure
from pagerduty_utils.health_monitor.report import CheckOutcome
from pagerduty_utils.health_monitor.runner import HealthCheck

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

PROBE_CONTEXT = {"purpose": "pagerduty-utils-health-probe"}


class KmsKeyCheck(HealthCheck):
    """A key that is not ``Enabled`` (disabled, pending deletion or import) cannot protect secrets: unhealthy.

    The key state is read first because it names the problem precisely. Then the probe: a data key from
    ``GenerateDataKey`` (the envelope's key spec, under this check's encryption context), unwrapped by ``Decrypt``
    under the same context, must come back as KMS generated it. That proves the function's role may use the key
    for both operations of ``EnvelopeEncryptor`` (KMS permissions live in the key policy, not only in IAM) with
    KMS alone: no local cipher, so the health checker needs no ``cryptography``.
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
        try:
            with kms_errors("GenerateDataKey", self._key_id):
                probe = self._kms.generate_data_key(
                    KeyId=self._key_id, KeySpec=DATA_KEY_SPEC, EncryptionContext=PROBE_CONTEXT
                )
            with kms_errors("Decrypt", self._key_id):
                unwrapped = self._kms.decrypt(
                    CiphertextBlob=probe["CiphertextBlob"], KeyId=self._key_id, EncryptionContext=PROBE_CONTEXT
                )
        except DependencyError as exc:
            return CheckOutcome.degraded(str(exc))
        except (ConfigurationError, ValidationError) as exc:
            return CheckOutcome.unhealthy(str(exc))
        if not hmac.compare_digest(unwrapped["Plaintext"], probe["Plaintext"]):
            return CheckOutcome.unhealthy(f"key {self._key_id}: decrypt did not return the probe")
        return CheckOutcome.healthy(f"key {self._key_id} is Enabled; encrypt and decrypt work")
