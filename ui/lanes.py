"""Lanes shared fairly between clients: who computes next when a lane frees.

ui.server sets how many lanes there are and which job takes which (:data:`ui.server.LANES`: one
for small jobs, one for big ones that a small job may borrow while it is free). This module only
decides the order: when a lane is free, of the jobs waiting that may take it, the one whose
client has the fewest jobs computing now goes first, then the one that came first. And one
client computes at most ``per_client`` jobs at once (1 by default: a job's tiles already use both
cores, so a second job of the same client adds little), so a lane is left for the next client:
another client's job does not wait for a burst's jobs at all when the lanes are two.
Calls outside a request (``exempt`` clients: ui.clients.UNKNOWN) are not capped.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Callable


@dataclass(eq=False)
class Ticket:
    """One job waiting for a lane: its client, the lanes it may take (its own first), its turn."""
    client: str
    lanes: tuple[str, ...]
    turn: int


class FairLanes:
    """``sizes``: jobs at once per lane name. :meth:`acquire` blocks until the caller's turn,
    calling ``check()`` (which may raise to give up) every ``poll_s`` seconds."""

    def __init__(self, sizes: dict[str, int], poll_s: float = 0.1, per_client: int | None = None,
                 exempt: frozenset[str] = frozenset()):
        self.free = dict(sizes)
        self.poll_s = poll_s
        self.per_client, self.exempt = per_client, exempt
        self.running: Counter[str] = Counter()     # jobs computing now, per client
        self.waiting: list[Ticket] = []
        self._turns = itertools.count()
        self._cond = threading.Condition()

    def _winner(self, lane: str) -> Ticket | None:
        """Who takes ``lane`` now: of those waiting that may take it, the client with the fewest
        jobs computing, then the earliest."""
        candidates = [t for t in self.waiting if lane in t.lanes and not self._capped(t.client)]
        return min(candidates, key=lambda t: (self.running[t.client], t.turn), default=None)

    def _capped(self, client: str) -> bool:
        """Whether ``client`` computes as many jobs as it may already."""
        return (self.per_client is not None and client not in self.exempt
                and self.running[client] >= self.per_client)

    def _grant(self, ticket: Ticket) -> str | None:
        for lane in ticket.lanes:
            if self.free[lane] > 0 and self._winner(lane) is ticket:
                return lane
        return None

    def acquire(self, client: str, lanes: tuple[str, ...], check: Callable[[], None]) -> str:
        """Wait for one of ``lanes`` (tried in that order) in the client's fair turn; its name."""
        ticket = Ticket(client, lanes, next(self._turns))
        with self._cond:
            self.waiting.append(ticket)
            try:
                while True:
                    lane = self._grant(ticket)
                    if lane is not None:
                        self.free[lane] -= 1
                        self.running[client] += 1
                        return lane
                    self._cond.wait(self.poll_s)
                    check()
            finally:
                self.waiting.remove(ticket)
                self._cond.notify_all()

    def release(self, client: str, lane: str) -> None:
        with self._cond:
            self.free[lane] += 1
            self.running[client] -= 1
            if self.running[client] <= 0:
                del self.running[client]
            self._cond.notify_all()
