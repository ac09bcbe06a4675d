"""ui.lanes: when a lane frees, the client with the fewest jobs computing goes first."""

from __future__ import annotations

import threading

from ui.lanes import FairLanes


def no_check() -> None:
    pass


def test_another_clients_job_goes_before_a_burst_that_came_first():
    lanes = FairLanes({"small": 1, "big": 1}, poll_s=0.01)
    a1 = lanes.acquire("a", ("small", "big"), no_check)
    a2 = lanes.acquire("a", ("small", "big"), no_check)          # client a holds both lanes
    order, started = [], []

    def wait(client: str) -> None:
        started.append(client)
        lane = lanes.acquire(client, ("small", "big"), no_check)
        order.append(client)
        lanes.release(client, lane)

    waiters = []
    for client in ("a", "a", "b"):                            # a's two waiting jobs came before b's
        waiters.append(threading.Thread(target=wait, args=(client,)))
        waiters[-1].start()
        while len(lanes.waiting) < len(waiters):
            threading.Event().wait(0.01)
    lanes.release("a", a1)                  # one lane frees: b (nothing computing) gets it, then a's in turn
    for t in waiters:
        t.join(5)
    assert order == ["b", "a", "a"]
    lanes.release("a", a2)
    assert lanes.free == {"small": 1, "big": 1} and not lanes.running


def test_a_big_job_never_takes_the_small_lane_and_a_check_can_give_up():
    lanes = FairLanes({"small": 1, "big": 1}, poll_s=0.01)
    big = lanes.acquire("a", ("big",), no_check)

    def stop() -> None:
        raise RuntimeError("gone")

    try:
        lanes.acquire("b", ("big",), stop)                    # the small lane is free, but not for it
        raise AssertionError("a big job took the small lane")
    except RuntimeError as e:
        assert str(e) == "gone"
    assert not lanes.waiting and lanes.free == {"small": 1, "big": 0}
    lanes.release("a", big)


def test_one_client_computes_at_most_its_share_and_leaves_a_lane_for_others():
    lanes = FairLanes({"small": 1, "big": 1}, poll_s=0.01, per_client=1, exempt=frozenset({"tool"}))
    first = lanes.acquire("a", ("small", "big"), no_check)
    got = []
    second = threading.Thread(target=lambda: got.append(lanes.acquire("a", ("small", "big"), no_check)))
    second.start()
    while not lanes.waiting:
        threading.Event().wait(0.01)
    other = lanes.acquire("b", ("small", "big"), no_check)      # a's second job waits; b computes at once
    assert not got and lanes.running == {"a": 1, "b": 1}
    lanes.release("a", first)
    second.join(5)
    assert got and lanes.running == {"a": 1, "b": 1}
    lanes.release("a", got[0])
    lanes.release("b", other)
    both = [lanes.acquire("tool", ("small", "big"), no_check) for _ in range(2)]   # outside a request: no cap
    assert sorted(both) == ["big", "small"]
