"""``pdutils sim``: run the PagerDuty simulator standalone, or steer one that is already running.

pdutils sim [--port 8080] [--spec-dir DIR] [--webhook URL --webhook-secret S] [--rate-limit N]
pdutils sim fault --status 503 [--count 3 | --fraction 0.2] [--path-prefix /v2/] [--url URL]
pdutils sim fault --timeout | --drop | --delay 0.5 ...
pdutils sim clear-faults | state | reset [--url URL]

The control plane needs the simulator's control token: set PDUTILS_SIM_CONTROL_TOKEN for both commands, or
copy the one `pdutils sim` prints when it starts.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

DEFAULT_PORT = 8080
URL_ENV = "PDUTILS_SIM_URL"


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "sim",
        help="run the PagerDuty simulator (Events + REST APIs, webhooks, faults) until Ctrl-C",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any free)")
    parser.add_argument("--spec-dir", type=Path, help="directory with PagerDuty's OpenAPI files")
    parser.add_argument("--no-validate", action="store_true", help="do not validate requests against OpenAPI")
    parser.add_argument("--webhook", help="deliver Webhooks v3 to this URL")
    parser.add_argument("--webhook-secret", help="secret that signs webhook deliveries (with --webhook)")
    parser.add_argument("--rate-limit", type=int, default=120, help="Events API events per minute per routing key")
    parser.add_argument("--token", action="append", default=[], help="accept this REST API token (repeatable)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random fault fractions")
    parser.add_argument(
        "--allow-webhook-host",
        action="append",
        default=[],
        metavar="HOST",
        help="also deliver webhooks to this host (default: loopback addresses only; repeatable)",
    )
    parser.set_defaults(handler=serve)

    actions = parser.add_subparsers(dest="sim_action", metavar="ACTION")
    fault = actions.add_parser("fault", help="inject a fault into a running simulator")
    fault.add_argument("--status", type=int, help="answer with this HTTP status (429, 500-504, 400 ...)")
    fault.add_argument("--count", type=int, default=1, help="for the next N matching requests (default 1)")
    fault.add_argument("--forever", action="store_true", help="until cleared, instead of --count")
    fault.add_argument("--fraction", type=float, help="hit each matching request with this probability")
    fault.add_argument("--header", action="append", default=[], metavar="NAME=VALUE", help="answer header")
    fault.add_argument("--no-headers", action="store_true", help="a 429 without rate-limit headers")
    fault.add_argument("--delay", type=float, default=0.0, help="seconds of added latency")
    fault.add_argument("--timeout", action="store_true", help="hold the connection without answering")
    fault.add_argument("--drop", action="store_true", help="close the connection without answering")
    fault.add_argument("--path-prefix", help="only requests whose path starts with this")
    fault.set_defaults(handler=inject_fault)
    for name, handler, text in (
        ("clear-faults", clear_faults, "remove every pending fault"),
        ("state", show_state, "print the simulator's state as JSON"),
        ("reset", reset, "forget all state, faults and subscriptions"),
    ):
        actions.add_parser(name, help=text).set_defaults(handler=handler)
    for action in actions.choices.values():
        action.add_argument(
            "--url", default=os.environ.get(URL_ENV, f"http://127.0.0.1:{DEFAULT_PORT}"), help="simulator URL"
        )
        action.add_argument(
            "--control-token", help="the simulator's control token (default: $PDUTILS_SIM_CONTROL_TOKEN)"
        )


def serve(args: argparse.Namespace) -> int:
    from pdutils.simulator import DEV_TOKEN, SimulatorConfig, running_simulator  # noqa: PLC0415 - on use only
    from pdutils.simulator.config import CONTROL_TOKEN_ENV  # noqa: PLC0415 - on use only

    if bool(args.webhook) != bool(args.webhook_secret):
        print("pdutils sim: --webhook and --webhook-secret go together", file=sys.stderr)
        return 2
    config = SimulatorConfig(
        spec_dir=args.spec_dir,
        validate=not args.no_validate,
        valid_tokens=frozenset({DEV_TOKEN, *args.token}),
        events_rate_limit_per_minute=args.rate_limit,
        seed=args.seed,
        webhook_hosts=frozenset(args.allow_webhook_host),
    )
    stop = threading.Event()

    def request_stop(_signal: int, _frame: FrameType | None) -> None:
        stop.set()

    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, request_stop)
    with running_simulator(args.port, config, host=args.host) as handle:
        if args.webhook:
            try:
                subscription = handle.add_webhook_subscription(args.webhook, args.webhook_secret)
            except ValueError as error:
                print(f"pdutils sim: {error}", file=sys.stderr)
                return 2
            print(f"webhooks -> {args.webhook} (subscription {subscription.id})")
        validation = "on" if handle.validation_enabled else "OFF (OpenAPI files not found)"
        print(f"PagerDuty simulator listening on {handle.base_url}")
        print(f"  set PAGERDUTY_EVENTS_URL and PAGERDUTY_API_URL to it; REST token: {DEV_TOKEN}")
        print(f"  OpenAPI validation: {validation}; state at {handle.base_url}/_sim/state; Ctrl-C stops")
        print(f"  control plane token (X-Pdutils-Sim-Token): export {CONTROL_TOKEN_ENV}={config.control_token}")
        sys.stdout.flush()
        stop.wait()
    print("PagerDuty simulator stopped")
    return 0


def _control(args: argparse.Namespace, method: str, route: str, body: dict[str, Any] | None = None) -> int:
    import httpx  # noqa: PLC0415 - imported on use, like every command's heavy imports

    from pdutils.simulator.config import CONTROL_TOKEN_ENV, CONTROL_TOKEN_HEADER  # noqa: PLC0415 - on use only

    token = args.control_token or os.environ.get(CONTROL_TOKEN_ENV)
    if not token:
        print(
            f"pdutils sim: pass --control-token or set {CONTROL_TOKEN_ENV} (`pdutils sim` prints it when it starts)",
            file=sys.stderr,
        )
        return 2
    headers = {CONTROL_TOKEN_HEADER: token}
    try:
        response = httpx.request(method, f"{args.url.rstrip('/')}/_sim/{route}", json=body, headers=headers, timeout=10)
    except httpx.HTTPError as error:
        print(f"pdutils sim: cannot reach the simulator at {args.url}: {error}", file=sys.stderr)
        return 1
    print(json.dumps(response.json(), indent=2))
    return 0 if response.is_success else 1


def inject_fault(args: argparse.Namespace) -> int:
    headers: dict[str, str] | None = None
    if args.header or args.no_headers:
        headers = dict(item.split("=", 1) for item in args.header)
    fault = {
        "status": args.status,
        "count": None if args.forever else args.count,
        "fraction": args.fraction,
        "headers": headers,
        "delay": args.delay,
        "timeout": args.timeout,
        "drop": args.drop,
        "path_prefix": args.path_prefix,
    }
    return _control(args, "POST", "faults", fault)


def clear_faults(args: argparse.Namespace) -> int:
    return _control(args, "DELETE", "faults")


def show_state(args: argparse.Namespace) -> int:
    return _control(args, "GET", "state")


def reset(args: argparse.Namespace) -> int:
    return _control(args, "POST", "reset")
