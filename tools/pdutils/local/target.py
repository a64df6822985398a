"""Which AWS the local runtime talks to: the embedded one (a moto server) or a real account."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import boto3

from pdutils.moto_server import LOCAL_CREDENTIALS

# The user's own AWS configuration, passed to functions run against real AWS (an AWS_ENDPOINT_URL set by the
# user, for another AWS-compatible service, is theirs to keep).
_USER_AWS_VARIABLES = (
    "AWS_ENDPOINT_URL",
    "AWS_CA_BUNDLE",
    "AWS_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
)


@dataclass(frozen=True)
class AwsTarget:
    """An AWS endpoint with its credentials; ``endpoint_url`` None means real AWS with the user's credentials."""

    region: str
    endpoint_url: str | None = None
    credentials: Mapping[str, str] = field(default_factory=dict)
    # boto3 sessions may not create clients from several threads at once (pollers, schedulers, the demo's probes).
    _client_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    @classmethod
    def embedded(cls, endpoint_url: str, region: str = "us-east-1") -> AwsTarget:
        return cls(region=region, endpoint_url=endpoint_url, credentials=LOCAL_CREDENTIALS)

    @classmethod
    def real(cls, region: str | None = None) -> AwsTarget:
        resolved = region or boto3.session.Session().region_name or "us-east-1"
        return cls(
            region=resolved, credentials={name: os.environ[name] for name in _USER_AWS_VARIABLES if name in os.environ}
        )

    @property
    def is_embedded(self) -> bool:
        return self.endpoint_url is not None

    @property
    def environment(self) -> dict[str, str]:
        """Variables that point a process's boto3 at this target."""
        variables = {**self.credentials, "AWS_REGION": self.region, "AWS_DEFAULT_REGION": self.region}
        if self.endpoint_url:
            variables["AWS_ENDPOINT_URL"] = self.endpoint_url
        return variables

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` on this target (typed at the call site with mypy_boto3 stubs)."""
        with self._client_lock:
            return self._session.client(service, endpoint_url=self.endpoint_url)  # type: ignore[call-overload]

    @cached_property
    def _session(self) -> boto3.session.Session:
        """One session for every client: a new session reads botocore's endpoint and service data again, which
        costs far more than the client itself."""
        return boto3.session.Session(
            region_name=self.region,
            aws_access_key_id=self.credentials.get("AWS_ACCESS_KEY_ID"),
            aws_secret_access_key=self.credentials.get("AWS_SECRET_ACCESS_KEY"),
            aws_session_token=self.credentials.get("AWS_SESSION_TOKEN"),
            profile_name=self.credentials.get("AWS_PROFILE"),
        )

    def account_id(self) -> str:
        account: str = self.client("sts").get_caller_identity()["Account"]
        return account
