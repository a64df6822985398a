"""A Ctrl-C that arrives while a stack starts is never lost, even when its KeyboardInterrupt is swallowed."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from pdutils.local import interrupt


@pytest.fixture(autouse=True)
def fresh_requests(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No stop requested yet, and this process's own handlers back afterwards."""
    monkeypatch.setattr(interrupt, "_stop_requested", threading.Event())
    handlers = {number: signal.getsignal(number) for number in interrupt.STOP_SIGNALS}
    yield
    for number, handler in handlers.items():
        signal.signal(number, handler)


def swallowing_ctrl_c() -> None:
    """What a finalizer or a library's clean-up does to a KeyboardInterrupt that lands in it."""
    with contextlib.suppress(KeyboardInterrupt):
        signal.raise_signal(signal.SIGINT)


def test_ctrl_c_raises_keyboard_interrupt_so_clean_up_runs() -> None:
    interrupt.remember_stop_requests()

    with pytest.raises(KeyboardInterrupt):
        signal.raise_signal(signal.SIGINT)


@pytest.mark.parametrize("number", interrupt.STOP_SIGNALS, ids=lambda number: signal.Signals(number).name)
def test_a_swallowed_stop_request_is_still_seen_afterwards(number: int) -> None:
    interrupt.remember_stop_requests()
    with contextlib.suppress(KeyboardInterrupt):
        signal.raise_signal(number)

    with pytest.raises(KeyboardInterrupt):
        interrupt.raise_if_stop_requested()


def test_waiting_ends_at_once_after_a_request_that_came_while_starting() -> None:
    interrupt.remember_stop_requests()
    swallowing_ctrl_c()

    interrupt.wait_until_interrupted()  # returns: the request is remembered, no second Ctrl-C needed

    interrupt.raise_if_stop_requested()  # answered by the wait: the command stops normally


def test_without_a_request_nothing_is_raised() -> None:
    interrupt.remember_stop_requests()

    interrupt.raise_if_stop_requested()


@pytest.mark.parametrize("receiver", ["main thread", "another thread"])
def test_waiting_ends_on_ctrl_c_whichever_thread_receives_it(receiver: str) -> None:
    """The kernel hands a process's signal to any of its threads; Python runs the handler in the main thread,
    which must not sleep through it. Sending it to one thread makes both cases happen every time."""
    interrupt.remember_stop_requests()
    remembering = signal.getsignal(signal.SIGINT)
    main_thread = threading.get_ident()
    waiting = threading.Event()

    def ctrl_c_once_waiting() -> None:
        waiting.wait()
        target = main_thread if receiver == "main thread" else threading.get_ident()
        signal.pthread_kill(target, signal.SIGINT)

    original_signal = signal.signal

    def installing(number: int, handler: Any) -> Any:
        previous = original_signal(number, handler)
        if number == signal.SIGINT and handler is not remembering:
            waiting.set()  # the wait's own handler is in place: the Ctrl-C may come
        return previous

    sender = threading.Thread(target=ctrl_c_once_waiting)
    sender.start()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(signal, "signal", installing)
        interrupt.wait_until_interrupted()
    sender.join()

    assert signal.getsignal(signal.SIGINT) is remembering
