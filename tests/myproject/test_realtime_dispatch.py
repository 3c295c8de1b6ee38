"""dispatch_from (myproject/realtime/dispatch.py): Channels' rules for a consumer's events, one
long-lived task per source."""

import asyncio

import pytest

from myproject.realtime.dispatch import dispatch_from


class Stop(Exception):
    pass


def source_of(events: list[object]):
    """A source that hands out `events` in turn (an exception is raised), then waits forever."""
    queue = list(events)

    async def source():
        if not queue:
            await asyncio.Event().wait()
        event = queue.pop(0)
        if isinstance(event, Exception):
            raise event
        await asyncio.sleep(0)
        return event

    return source


async def test_each_sources_events_are_handled_in_order_one_handler_at_a_time():
    handled, running = [], []

    async def dispatch(event):
        running.append(event)
        assert len(running) == 1  # never two handlers at once
        await asyncio.sleep(0.001)
        handled.append(event)
        running.remove(event)
        if len(handled) == 6:
            raise Stop

    with pytest.raises(Stop):
        await dispatch_from([source_of(["a1", "a2", "a3"]), source_of(["b1", "b2", "b3"])], dispatch)

    assert [event for event in handled if event.startswith("a")] == ["a1", "a2", "a3"]
    assert [event for event in handled if event.startswith("b")] == ["b1", "b2", "b3"]


async def test_a_source_that_fails_lets_the_running_handler_finish_then_raises():
    finished = []

    async def dispatch(event):
        await asyncio.sleep(0.05)
        finished.append(event)

    async def fails_while_the_handler_runs():
        await asyncio.sleep(0.01)
        raise Stop

    with pytest.raises(Stop):
        await dispatch_from([source_of(["slow"]), fails_while_the_handler_runs], dispatch)

    assert finished == ["slow"]


async def test_the_sources_still_waiting_are_cancelled_when_the_loop_ends():
    cancelled = asyncio.Event()

    async def waits_forever():
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def dispatch(event):
        raise Stop

    with pytest.raises(Stop):
        await dispatch_from([source_of(["last"]), waits_forever], dispatch)

    assert cancelled.is_set()


async def test_no_handler_starts_after_one_has_raised():
    # A client gone during a delivery (the layer's handler raises) while its disconnect waits its
    # turn: under Channels the loop stops at the first exception, and the disconnect is not handled
    # (the consumer cleans up after the loop). Started, it would be cancelled half-way.
    started = []
    delivery_running = asyncio.Event()

    async def delivery():
        return "delivery"

    async def disconnect_during_the_delivery():
        await delivery_running.wait()
        return "disconnect"

    async def dispatch(event):
        started.append(event)
        if event == "delivery":
            delivery_running.set()
            await asyncio.sleep(0.01)  # the disconnect is taken meanwhile and waits for its turn
            raise Stop

    with pytest.raises(Stop):
        await dispatch_from([delivery, disconnect_during_the_delivery], dispatch)

    assert started == ["delivery"]
