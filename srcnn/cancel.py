"""Stopping a long computation part-way: the one way this project does it.

A *check* is a function of no arguments that returns when the work may go on and raises to stop
it (the app's: ui.server.check, which raises when the request's client has gone or the server is
shutting down). The caller says which check applies, once, around the work::

    with cancel.cancellable(check):
        srcnn.compare(photo, 3)        # stops at its next checkpoint once check() raises

and the long loops inside call :func:`checkpoint` between their steps (between tiles, stages,
row bands): it calls the enclosing check, or does nothing outside any :func:`cancellable`. The
computations take no ``check`` argument and no progress callback needs to raise: progress only
reports. A check is passed by hand only where the work it guards is not inside a
:func:`cancellable`, or needs one of its own: the app's wait for a lane polls the check it is
given (ui.lanes.FairLanes.acquire; the lane enters :func:`cancellable` once it is held), and its
PNG writer's file calls its writer's check between chunks (ui.common._Checked: the writer's own
stop, then :func:`checkpoint`).

The check is held in a context variable, so it belongs to the thread (and asyncio task) that
entered :func:`cancellable`: another thread does not see it, unless it runs the work in a copy
of the caller's context (:func:`in_context`; a ``concurrent.futures`` pool does not do that by
itself). The computation's numbers never depend on the check: it only decides whether to go on.
"""

from __future__ import annotations

import contextvars
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

Check = Callable[[], None]   # returns to go on, raises to stop

_CHECK: contextvars.ContextVar[Check | None] = contextvars.ContextVar("srcnn_cancel_check", default=None)

T = TypeVar("T")


@contextmanager
def cancellable(check: Check | None) -> Iterator[None]:
    """While inside, in this thread or context, :func:`checkpoint` calls ``check()`` (None: no
    check). Nested, the inner check replaces the outer one until its block ends; an inner check
    that should honour the outer one too calls it (:func:`current`)."""
    token = _CHECK.set(check)
    try:
        yield
    finally:
        _CHECK.reset(token)


def current() -> Check | None:
    """The enclosing :func:`cancellable`'s check, None outside one."""
    return _CHECK.get()


def checkpoint() -> None:
    """Call the enclosing :func:`cancellable`'s check, if there is one: the work stops here if it
    raises."""
    check = _CHECK.get()
    if check is not None:
        check()


def in_context(fn: Callable[..., T]) -> Callable[..., T]:
    """``fn`` to be run in another thread under this thread's cancellation (and every other
    context variable as they are now, e.g. Gradio's request): ``pool.submit(in_context(fn), x)``.
    The context is copied when this is called, not when the result runs; one copy runs in one
    thread at a time, so call this once per job."""
    context = contextvars.copy_context()
    return lambda *args, **kwargs: context.run(fn, *args, **kwargs)
