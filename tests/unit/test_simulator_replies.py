"""Error answers in the shape of the API they belong to."""

from __future__ import annotations

from pdutils.simulator.replies import APIError, error_reply


def test_rest_errors_use_pagerdutys_error_object() -> None:
    reply = error_reply("/incidents", 400, ["title is required"])

    assert reply.status == 400
    assert reply.body == {"error": {"message": "Invalid Input Provided", "code": 2001, "errors": ["title is required"]}}


def test_rest_server_errors_are_named_after_their_status() -> None:
    assert error_reply("/abilities", 503).body == {"error": {"message": "Service Unavailable", "code": 2000}}


def test_events_errors_use_the_events_api_shape() -> None:
    reply = error_reply("/v2/enqueue", 400, ["payload: required"])

    assert reply.body == {
        "status": "invalid event",
        "message": "Event object is invalid",
        "errors": ["payload: required"],
    }


def test_api_error_keeps_its_headers() -> None:
    reply = APIError(429, headers={"ratelimit-reset": "5"}).reply("/v2/enqueue")

    assert (reply.status, reply.headers, reply.body and reply.body["status"]) == (
        429,
        {"ratelimit-reset": "5"},
        "throttle event",
    )
