"""``pdutils sim``: run the PagerDuty simulator standalone, or steer one that is already running.

pdutils sim [--port 8080] [--spec-dir DIR] [--webhook URL --webhook-secret S] [--rate-limit N]
pdutils sim fault --status 503 [--count 3 | --fraction 0.2] [--path-prefix /v2/] [--url URL]
pdutils sim fault --timeout | --drop | --delay 0.5 ...
pdutils sim clear-faults | state | reset [--url URL]

The steering actions talk to --url, else $PDUTILS_SIM_URL, else the simulator of the pdutils start running
for --template (default template.yaml), else http://127.0.0.1:8080 (a standalone pdutils sim). They send the
simulator's control token: --control-token, else $PDUTILS_SIM_CONTROL_TOKEN, else the running stack's (a
standalone pdutils sim prints its token when it starts).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from http import HTTPStatus
from pathlib import Path
from typing import Any

from pdutils.errors import FAILED, CommandError
from pdutils.local.cli_arguments import port_number

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
    parser.add_argument(
        "--port", type=port_number, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any free)"
    )
    parser.add_argument(
        "--spec-dir", type=Path, help="directory with PagerDuty's OpenAPI files (default: the ones pdutils ships)"
    )
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
        action.add_argument("--url", help=f"simulator URL (default: ${URL_ENV}, else the running stack's, else :8080)")
        action.add_argument(
            "-t", "--template", type=Path, default=Path("template.yaml"), help="template of the running local stack"
        )
        action.add_argument(
            "--control-token",
            help="the simulator's control token (default: $PDUTILS_SIM_CONTROL_TOKEN, else the running stack's)",
        )


def serve(args: argparse.Namespace) -> int:
    from pdutils.local.interrupt import wait_until_interrupted  # noqa: PLC0415 - on use only
    from pdutils.simulator import DEV_TOKEN, SimulatorConfig, running_simulator  # noqa: PLC0415
    from pdutils.simulator.config import CONTROL_TOKEN_ENV  # noqa: PLC0415
    from pdutils.simulator.openapi import EVENTS_SPEC_FILE, REST_SPEC_FILE, spec_files_present  # noqa: PLC0415

    if bool(args.webhook) != bool(args.webhook_secret):
        raise CommandError("--webhook and --webhook-secret go together: give both, or neither")
    if args.spec_dir is not None and not spec_files_present(args.spec_dir):
        raise CommandError(
            f"--spec-dir {args.spec_dir} does not hold {EVENTS_SPEC_FILE} and {REST_SPEC_FILE}: point it at "
            "PagerDuty's OpenAPI files, or leave it out to use the ones pdutils ships"
        )
    config = SimulatorConfig(
        spec_dir=args.spec_dir,
        validate=not args.no_validate,
        valid_tokens=frozenset({DEV_TOKEN, *args.token}),
        events_rate_limit_per_minute=args.rate_limit,
        seed=args.seed,
        webhook_hosts=frozenset(args.allow_webhook_host),
    )
    with running_simulator(args.port, config, host=args.host) as handle:
        if args.webhook:
            try:
                subscription = handle.add_webhook_subscription(args.webhook, args.webhook_secret)
            except ValueError as error:
                raise CommandError(str(error)) from None
            print(f"webhooks -> {args.webhook} (subscription {subscription.id})")
        if handle.validation_enabled:
            validation = "on"
        else:
            validation = "OFF (--no-validate)" if args.no_validate else "OFF (OpenAPI files not found)"
        print(f"PagerDuty simulator listening on {handle.base_url}")
        print(f"  set PAGERDUTY_EVENTS_URL and PAGERDUTY_API_URL to it; REST token: {DEV_TOKEN}")
        print(f"  OpenAPI validation: {validation}; state at {handle.base_url}/_sim/state; Ctrl-C stops")
        print(f"  control plane token (X-Pdutils-Sim-Token): export {CONTROL_TOKEN_ENV}={config.control_token}")
        sys.stdout.flush()
        wait_until_interrupted()
    print("PagerDuty simulator stopped")
    return 0


def _control(args: argparse.Namespace, method: str, route: str, body: dict[str, Any] | None = None) -> int:
    import httpx  # noqa: PLC0415 - imported on use, like every command's heavy imports

    from pdutils.simulator.config import CONTROL_TOKEN_HEADER  # noqa: PLC0415 - on use only

    url, token = simulator_target(args)
    headers = {CONTROL_TOKEN_HEADER: token} if token else {}
    try:
        response = httpx.request(method, f"{url}/_sim/{route}", json=body, headers=headers, timeout=10)
        document = response.json()
    except httpx.HTTPError as error:
        raise CommandError(
            f"cannot reach the simulator at {url} ({error}): start one (pdutils sim, or pdutils start), or pass --url",
            exit_status=FAILED,
        ) from error
    except ValueError as error:
        raise CommandError(
            f"{url} answered {response.status_code} without JSON: is it a PagerDuty simulator? Check --url",
            exit_status=FAILED,
        ) from error
    if response.status_code == HTTPStatus.UNAUTHORIZED:
        raise CommandError(
            f"the simulator at {url} refused the control token: pass --control-token or set "
            "PDUTILS_SIM_CONTROL_TOKEN (pdutils sim prints it when it starts)"
        )
    print(json.dumps(document, indent=2))
    return 0 if response.is_success else 1


def simulator_target(args: argparse.Namespace) -> tuple[str, str | None]:
    """The simulator's URL and control token.

    URL: --url, else $PDUTILS_SIM_URL, else the running local stack's simulator, else the standalone default.
    Token: --control-token, else $PDUTILS_SIM_CONTROL_TOKEN, else the running local stack's when its simulator
    is the one addressed.
    """
    from pdutils.local.stack_record import read_running_record  # noqa: PLC0415 - on use only
    from pdutils.simulator.config import CONTROL_TOKEN_ENV  # noqa: PLC0415 - on use only

    record = read_running_record(args.template.resolve().parent)
    url: str | None = args.url or os.environ.get(URL_ENV)
    if not url:
        url = record.simulator_url if record is not None else None
    url = (url or f"http://127.0.0.1:{DEFAULT_PORT}").rstrip("/")
    token: str | None = args.control_token or os.environ.get(CONTROL_TOKEN_ENV)
    if not token and record is not None and (record.simulator_url or "").rstrip("/") == url:
        token = record.simulator_control_token
    return url, token


def inject_fault(args: argparse.Namespace) -> int:
    headers: dict[str, str] | None = None
    if args.header or args.no_headers:
        malformed = [item for item in args.header if "=" not in item]
        if malformed:
            raise CommandError(f"--header expects NAME=VALUE, got {malformed[0]!r}")
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
