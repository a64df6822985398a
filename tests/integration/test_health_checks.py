"""Each health check against real endpoints: the embedded AWS (moto server) and loopback sockets."""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from aws_lambda_powertools.utilities.circuit_breaker.persistence import CircuitBreakerDynamoDBPersistence
from botocore.config import Config
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from mypy_boto3_dynamodb import DynamoDBClient

from pagerduty_utils import secrets
from pagerduty_utils.health_monitor.checks.circuits import CircuitsCheck
from pagerduty_utils.health_monitor.checks.kms_key import KmsKeyCheck
from pagerduty_utils.health_monitor.checks.pagerduty import EventsReachabilityCheck
from pagerduty_utils.health_monitor.checks.queues import QueueCheck, QueueThresholds
from pagerduty_utils.health_monitor.checks.secrets_access import SecretsCheck
from pagerduty_utils.health_monitor.checks.state_table import PROBE_KEY, StateTableCheck
from pagerduty_utils.health_monitor.report import CheckOutcome, HealthStatus
from pagerduty_utils.state_table import circuit_key_for_url
from pdutils.moto_server import MotoEndpoint
from pdutils.testing.forwarder import create_state_table

pytestmark = pytest.mark.integration

TABLE = "pd-utils-state"
NO_DEADLINE = float("inf")


@pytest.fixture
def dynamodb(aws: MotoEndpoint) -> DynamoDBClient:
    client = boto3.client("dynamodb")
    create_state_table(client, TABLE)
    return client


@dataclass(frozen=True)
class TlsServer:
    port: int
    certificate: Path


def write_self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certificate_path, key_path = directory / "cert.pem", directory / "key.pem"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return certificate_path, key_path


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[TlsServer]:
    """A loopback TLS server with a self-signed certificate for ``localhost`` that completes handshakes."""
    certificate_path, key_path = write_self_signed_certificate(tmp_path)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(certificate_path, key_path)
    stopping = threading.Event()
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(0.1)

        def serve() -> None:
            while not stopping.is_set():
                try:
                    connection, _ = listener.accept()
                except TimeoutError:
                    continue
                with connection, contextlib.suppress(ssl.SSLError, OSError):
                    connection.settimeout(2)
                    server_context.wrap_socket(connection, server_side=True).close()

        worker = threading.Thread(target=serve, daemon=True)
        worker.start()
        yield TlsServer(port=listener.getsockname()[1], certificate=certificate_path)
        stopping.set()
        worker.join(timeout=5)


@pytest.fixture(autouse=True)
def fresh_secret_cache() -> Iterator[None]:
    secrets.clear_cache()
    yield
    secrets.clear_cache()


class TestStateTable:
    def test_writes_and_reads_the_probe(self, dynamodb: DynamoDBClient) -> None:
        outcome = StateTableCheck(TABLE, dynamodb).run(NO_DEADLINE)
        item = dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": PROBE_KEY}})["Item"]
        assert outcome.status is HealthStatus.HEALTHY
        assert int(item["expiration"]["N"]) > time.time()

    def test_missing_table_is_unhealthy(self, aws: MotoEndpoint) -> None:
        outcome = StateTableCheck("no-such-table", boto3.client("dynamodb")).run(NO_DEADLINE)
        assert outcome.status is HealthStatus.UNHEALTHY
        assert "ResourceNotFoundException" in outcome.reason


EVENTS_CIRCUIT = circuit_key_for_url("https://events.pagerduty.com")
API_CIRCUIT = circuit_key_for_url("https://api.pagerduty.com")


class TestCircuits:
    """Circuit items written the way the forwarder writes them: Powertools' DynamoDB persistence on the table."""

    @pytest.fixture
    def circuits(self, dynamodb: DynamoDBClient) -> CircuitBreakerDynamoDBPersistence:
        return CircuitBreakerDynamoDBPersistence(
            table_name=TABLE, key_attr="pk", expiry_attr="expiration", boto3_client=dynamodb
        )

    def test_closed_circuits_are_healthy_and_other_items_are_not_circuits(
        self, dynamodb: DynamoDBClient, circuits: CircuitBreakerDynamoDBPersistence
    ) -> None:
        circuits.save_open("circuit#events.pagerduty.com", failure_count=5, opened_at=int(time.time()))
        circuits.save_closed("circuit#events.pagerduty.com")
        dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "alert#x"}, "state": {"S": "OPEN"}})
        outcome = CircuitsCheck(TABLE, dynamodb, [EVENTS_CIRCUIT, "circuit#never-opened.example.com"]).run(NO_DEADLINE)
        assert outcome.status is HealthStatus.HEALTHY
        assert outcome.reason == "closed: events.pagerduty.com, never-opened.example.com"

    def test_open_circuit_is_unhealthy_and_named(
        self, dynamodb: DynamoDBClient, circuits: CircuitBreakerDynamoDBPersistence
    ) -> None:
        opened_at = int(time.time()) - 30
        circuits.save_open("circuit#events.pagerduty.com", failure_count=5, opened_at=opened_at)
        circuits.save_open("circuit#api.pagerduty.com", failure_count=5, opened_at=opened_at)
        assert circuits.try_acquire_half_open("circuit#api.pagerduty.com", owner="probe", opened_at=opened_at)
        outcome = CircuitsCheck(TABLE, dynamodb, [EVENTS_CIRCUIT, API_CIRCUIT]).run(NO_DEADLINE)
        assert outcome.status is HealthStatus.UNHEALTHY
        assert outcome.reason.startswith("open: events.pagerduty.com (for ")
        assert "api.pagerduty.com" in outcome.reason

    def test_half_open_circuit_is_degraded(
        self, dynamodb: DynamoDBClient, circuits: CircuitBreakerDynamoDBPersistence
    ) -> None:
        opened_at = int(time.time()) - 60
        circuits.save_open("circuit#events.pagerduty.com", failure_count=5, opened_at=opened_at)
        assert circuits.try_acquire_half_open("circuit#events.pagerduty.com", owner="probe", opened_at=opened_at)
        outcome = CircuitsCheck(TABLE, dynamodb, [EVENTS_CIRCUIT]).run(NO_DEADLINE)
        assert outcome.status is HealthStatus.DEGRADED
        assert outcome.reason.startswith("half-open (probing recovery): events.pagerduty.com")

    def test_expired_open_circuit_is_ignored(self, dynamodb: DynamoDBClient) -> None:
        expired = int(time.time()) - 10
        dynamodb.put_item(
            TableName=TABLE,
            Item={
                "pk": {"S": "circuit#events.pagerduty.com"},
                "state": {"S": "OPEN"},
                "opened_at": {"N": str(expired - 3600)},
                "expiration": {"N": str(expired)},
            },
        )
        assert CircuitsCheck(TABLE, dynamodb, [EVENTS_CIRCUIT]).run(NO_DEADLINE).status is HealthStatus.HEALTHY


class TestKmsKey:
    def test_enabled_key_generates_and_unwraps_a_data_key(self, aws: MotoEndpoint) -> None:
        kms = boto3.client("kms")
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        outcome = KmsKeyCheck(key_id, kms).run(NO_DEADLINE)
        assert outcome.status is HealthStatus.HEALTHY
        assert "encrypt and decrypt work" in outcome.reason

    def test_disabled_key_is_unhealthy(self, aws: MotoEndpoint) -> None:
        kms = boto3.client("kms")
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        kms.disable_key(KeyId=key_id)
        outcome = KmsKeyCheck(key_id, kms).run(NO_DEADLINE)
        assert outcome.status is HealthStatus.UNHEALTHY
        assert outcome.reason == f"key {key_id} is Disabled"

    def test_key_whose_policy_denies_the_caller_is_unhealthy(self, aws: MotoEndpoint) -> None:
        kms = boto3.client("kms")
        deny_everyone = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*"}],
        }
        key_id = kms.create_key(Policy=json.dumps(deny_everyone))["KeyMetadata"]["KeyId"]
        outcome = KmsKeyCheck(key_id, kms).run(NO_DEADLINE)
        assert outcome.status is HealthStatus.UNHEALTHY
        assert "AccessDeniedException" in outcome.reason

    def test_unknown_key_is_unhealthy(self, aws: MotoEndpoint) -> None:
        outcome = KmsKeyCheck("alias/missing", boto3.client("kms")).run(NO_DEADLINE)
        assert outcome.status is HealthStatus.UNHEALTHY
        assert "NotFoundException" in outcome.reason


class TestSecrets:
    def test_secrets_are_confirmed_from_their_metadata_without_reading_a_value(self, aws: MotoEndpoint) -> None:
        boto3.client("secretsmanager").create_secret(Name="pd/token", SecretString="token-value")
        boto3.client("ssm").put_parameter(Name="/pd/keys", Value='{"ops": "k"}', Type="SecureString")
        session = boto3.session.Session()
        value_reads: list[str] = []
        for event in ("before-call.secrets-manager.GetSecretValue", "before-call.ssm.GetParameter"):
            session.events.register(event, lambda event_name, **_: value_reads.append(event_name))
        secrets.prepare(["pd/token", "ssm:/pd/keys"], session=session)
        outcome = SecretsCheck(["pd/token", "ssm:/pd/keys"]).run(NO_DEADLINE)
        assert outcome == CheckOutcome.healthy("2 secret(s) in place")
        assert value_reads == []

    def test_missing_ssm_parameter_is_unhealthy(self, aws: MotoEndpoint) -> None:
        boto3.client("ssm").put_parameter(Name="/pd/keys-old", Value="k", Type="SecureString")
        outcome = SecretsCheck(["ssm:/pd/keys"]).run(NO_DEADLINE)
        assert outcome == CheckOutcome.unhealthy("secret 'ssm:/pd/keys' cannot be read: ParameterNotFound")

    def test_secret_scheduled_for_deletion_is_unhealthy(self, aws: MotoEndpoint) -> None:
        client = boto3.client("secretsmanager")
        client.create_secret(Name="pd/keys", SecretString="k")
        client.delete_secret(SecretId="pd/keys", RecoveryWindowInDays=7)
        outcome = SecretsCheck(["pd/keys"]).run(NO_DEADLINE)
        assert outcome == CheckOutcome.unhealthy("secret 'pd/keys' is scheduled for deletion")

    def test_missing_secret_is_unhealthy_and_is_not_hidden_by_the_cache(self, aws: MotoEndpoint) -> None:
        client = boto3.client("secretsmanager")
        client.create_secret(Name="pd/token", SecretString="token-value")
        check = SecretsCheck(["pd/token"])
        assert check.run(NO_DEADLINE).status is HealthStatus.HEALTHY
        client.delete_secret(SecretId="pd/token", ForceDeleteWithoutRecovery=True)
        outcome = check.run(NO_DEADLINE)
        assert outcome.status is HealthStatus.UNHEALTHY
        assert "'pd/token'" in outcome.reason
        assert "token-value" not in outcome.reason


class TestQueues:
    @pytest.fixture
    def queue_url(self, aws: MotoEndpoint) -> str:
        return boto3.client("sqs").create_queue(QueueName="pd-utils-dlq")["QueueUrl"]

    def dlq_check(self, queue_url: str) -> QueueCheck:
        return QueueCheck(
            "dead_letter_queue",
            queue_url,
            QueueThresholds(max_depth=0, max_age_seconds=None, breach_status=HealthStatus.UNHEALTHY),
            sqs=boto3.client("sqs"),
            cloudwatch=boto3.client("cloudwatch"),
        )

    def test_empty_queue_is_healthy_with_unknown_age(self, queue_url: str) -> None:
        outcome = self.dlq_check(queue_url).run(NO_DEADLINE)
        assert outcome.status is HealthStatus.HEALTHY
        assert outcome.reason == "queue pd-utils-dlq: 0 message(s), age unknown (no CloudWatch datapoint)"

    def test_deep_dead_letter_queue_is_unhealthy(self, queue_url: str) -> None:
        sqs = boto3.client("sqs")
        for index in range(3):
            sqs.send_message(QueueUrl=queue_url, MessageBody=f"undelivered alert {index}")
        outcome = self.dlq_check(queue_url).run(NO_DEADLINE)
        assert outcome.status is HealthStatus.UNHEALTHY
        assert "3 message(s)" in outcome.reason
        assert outcome.reason.endswith("; depth over the threshold of 0")

    def test_old_messages_degrade_the_alert_queue(self, aws: MotoEndpoint) -> None:
        queue_url = boto3.client("sqs").create_queue(QueueName="pd-utils-alerts")["QueueUrl"]
        boto3.client("cloudwatch").put_metric_data(
            Namespace="AWS/SQS",
            MetricData=[
                {
                    "MetricName": "ApproximateAgeOfOldestMessage",
                    "Dimensions": [{"Name": "QueueName", "Value": "pd-utils-alerts"}],
                    "Timestamp": datetime.now(UTC) - timedelta(minutes=1),
                    "Value": 900,
                    "Unit": "Seconds",
                }
            ],
        )
        check = QueueCheck(
            "alert_queue",
            queue_url,
            QueueThresholds(max_depth=100, max_age_seconds=300, breach_status=HealthStatus.DEGRADED),
            sqs=boto3.client("sqs"),
            cloudwatch=boto3.client("cloudwatch"),
        )
        outcome = check.run(NO_DEADLINE)
        assert outcome.status is HealthStatus.DEGRADED
        assert "oldest 900s" in outcome.reason
        assert "oldest message over the threshold of 300s" in outcome.reason

    def test_unreadable_age_degrades_but_the_depth_is_still_judged(self, queue_url: str) -> None:
        with socket.create_server(("127.0.0.1", 0)) as server:
            closed_port = server.getsockname()[1]
        unreachable_cloudwatch = boto3.client(
            "cloudwatch",
            endpoint_url=f"http://127.0.0.1:{closed_port}",
            config=Config(retries={"total_max_attempts": 1}, connect_timeout=1),
        )
        thresholds = QueueThresholds(max_depth=0, max_age_seconds=None, breach_status=HealthStatus.UNHEALTHY)
        check = QueueCheck(
            "dead_letter_queue", queue_url, thresholds, sqs=boto3.client("sqs"), cloudwatch=unreachable_cloudwatch
        )

        quiet = check.run(NO_DEADLINE)
        boto3.client("sqs").send_message(QueueUrl=queue_url, MessageBody="undelivered alert")
        deep = check.run(NO_DEADLINE)

        assert quiet.status is HealthStatus.DEGRADED
        assert quiet.reason == (
            "queue pd-utils-dlq: 0 message(s), reading the oldest message's age failed: EndpointConnectionError"
        )
        assert deep.status is HealthStatus.UNHEALTHY

    def test_missing_queue_is_unhealthy(self, queue_url: str) -> None:
        outcome = self.dlq_check(queue_url + "-gone").run(NO_DEADLINE)
        assert outcome.status is HealthStatus.UNHEALTHY
        assert "NonExistentQueue" in outcome.reason


class TestEventsReachability:
    @pytest.fixture
    def listening_port(self) -> Iterator[int]:
        with socket.create_server(("127.0.0.1", 0)) as server:
            yield server.getsockname()[1]

    @pytest.fixture
    def closed_port(self) -> int:
        with socket.create_server(("127.0.0.1", 0)) as server:
            port: int = server.getsockname()[1]
        return port

    def test_plain_http_host_is_reached_with_tcp(self, listening_port: int) -> None:
        check = EventsReachabilityCheck(f"http://127.0.0.1:{listening_port}", connect_timeout=2)
        outcome = check.run(time.monotonic() + 5)
        assert outcome.status is HealthStatus.HEALTHY
        assert outcome.reason.startswith(f"TCP connection to 127.0.0.1:{listening_port}")

    def test_refused_connection_is_unhealthy(self, closed_port: int) -> None:
        outcome = EventsReachabilityCheck(f"http://127.0.0.1:{closed_port}", connect_timeout=2).run(
            time.monotonic() + 5
        )
        assert outcome.status is HealthStatus.UNHEALTHY
        assert outcome.reason.startswith(f"cannot connect to 127.0.0.1:{closed_port}")

    def test_tls_handshake_with_a_trusted_certificate_is_healthy(self, tls_server: TlsServer) -> None:
        client_context = ssl.create_default_context(cafile=str(tls_server.certificate))
        check = EventsReachabilityCheck(
            f"https://localhost:{tls_server.port}", connect_timeout=2, tls_context=client_context
        )
        outcome = check.run(time.monotonic() + 5)
        assert outcome.status is HealthStatus.HEALTHY
        assert outcome.reason.endswith(f"handshake with localhost:{tls_server.port}, certificate verified")

    def test_tls_certificate_the_client_does_not_trust_is_unhealthy(self, tls_server: TlsServer) -> None:
        outcome = EventsReachabilityCheck(f"https://localhost:{tls_server.port}", connect_timeout=2).run(
            time.monotonic() + 5
        )
        assert outcome.status is HealthStatus.UNHEALTHY
        assert outcome.reason.startswith(f"TLS certificate of localhost:{tls_server.port} rejected")
