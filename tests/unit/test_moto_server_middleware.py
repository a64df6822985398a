"""The embedded AWS's middleware: DynamoDB requests one at a time, every other request untouched."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from pdutils.moto_server import DYNAMODB_TARGET_PREFIX, OneDynamoDBRequestAtATime


class Body:
    """A response body that notes whether the server closed it, as WSGI requires."""

    def __init__(self) -> None:
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield b"{}"

    def close(self) -> None:
        self.closed = True


def application_answering(body: Body) -> Callable[[dict[str, Any], Callable[..., Any]], Body]:
    def application(_environ: dict[str, Any], start_response: Callable[..., Any]) -> Body:
        start_response("200 OK", [])
        return body

    return application


def no_start_response(*_: Any) -> None:
    return None


def test_other_services_requests_pass_straight_through() -> None:
    """An SQS long poll keeps its own thread: nothing waits for it, and its body streams as the server reads it."""
    body = Body()
    middleware = OneDynamoDBRequestAtATime(application_answering(body))

    answer = middleware({"HTTP_X_AMZ_TARGET": "AmazonSQS.ReceiveMessage"}, no_start_response)

    assert answer is body
    assert not body.closed


def test_a_dynamodb_request_is_answered_whole_and_its_body_closed() -> None:
    body = Body()
    middleware = OneDynamoDBRequestAtATime(application_answering(body))

    answer = middleware({"HTTP_X_AMZ_TARGET": f"{DYNAMODB_TARGET_PREFIX}UpdateItem"}, no_start_response)

    assert answer == [b"{}"]
    assert body.closed
