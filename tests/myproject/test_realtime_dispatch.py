"""Dispatcher (myproject/realtime/dispatch.py): Channels' rules for a consumer's events, one
long-lived task per source."""

import asyncio

import pytest

from myproject.realtime.dispatch import Dispatcher, FellBehind


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
        await Dispatcher(dispatch).run([source_of(["a1", "a2", "a3"]), source_of(["b1", "b2", "b3"])])

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
        await Dispatcher(dispatch).run([source_of(["slow"]), fails_while_the_handler_runs])

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
        await Dispatcher(dispatch).run([source_of(["last"]), waits_forever])

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
        await Dispatcher(dispatch).run([delivery, disconnect_during_the_delivery])

    assert started == ["delivery"]


# Offered events: a group feed's, handed over without a source (myproject/realtime/groups.py) -------


async def waits_forever():
    await asyncio.Event().wait()


async def start(dispatcher: Dispatcher, *sources) -> asyncio.Task:
    task = asyncio.create_task(dispatcher.run([*sources, waits_forever]))
    await asyncio.sleep(0)  # its relays are waiting
    return task


async def test_an_event_offered_to_an_idle_consumer_is_handled_before_offer_returns_without_a_task():
    handled = []

    async def dispatch(event):
        handled.append(event)

    dispatcher = Dispatcher(dispatch)
    loop_task = await start(dispatcher)
    tasks_before = len(asyncio.all_tasks())

    dispatcher.offer("m1")

    assert handled == ["m1"]
    assert len(asyncio.all_tasks()) == tasks_before
    loop_task.cancel()


async def test_offered_events_wait_their_turn_behind_a_running_handler_and_keep_their_order():
    handled, running = [], []
    first_running = asyncio.Event()

    async def dispatch(event):
        running.append(event)
        assert len(running) == 1  # never two handlers at once
        if event == "from the client":
            first_running.set()
            await asyncio.sleep(0.01)
        handled.append(event)
        running.remove(event)
        if event == "m3":
            raise Stop

    dispatcher = Dispatcher(dispatch)
    loop_task = await start(dispatcher, source_of(["from the client"]))
    await first_running.wait()
    for event in ("m1", "m2", "m3"):
        dispatcher.offer(event)

    with pytest.raises(Stop):
        await loop_task
    assert handled == ["from the client", "m1", "m2", "m3"]


async def test_a_handler_that_has_to_wait_holds_back_the_next_offered_event():
    handled = []
    writable = asyncio.Event()

    async def dispatch(event):
        await writable.wait()  # a client whose buffer is full
        handled.append(event)

    dispatcher = Dispatcher(dispatch)
    loop_task = await start(dispatcher)
    dispatcher.offer("m1")
    dispatcher.offer("m2")
    assert handled == []
    writable.set()
    for _ in range(10):
        await asyncio.sleep(0)
    assert handled == ["m1", "m2"]
    loop_task.cancel()


async def test_offers_mixed_with_a_sources_events_run_one_at_a_time_each_in_order():
    handled, running = [], []

    async def dispatch(event):
        running.append(event)
        assert len(running) == 1
        if event.endswith("0"):
            await asyncio.sleep(0.001)  # now and then a handler waits
        handled.append(event)
        running.remove(event)

    dispatcher = Dispatcher(dispatch)
    client_events = [f"c{number}" for number in range(30)]
    loop_task = await start(dispatcher, source_of(client_events))
    for number in range(60):
        dispatcher.offer(f"o{number}")
        await asyncio.sleep(0 if number % 3 else 0.0005)
    for _ in range(5000):
        if len(handled) == 90:
            break
        await asyncio.sleep(0.001)
    loop_task.cancel()

    assert [event for event in handled if event.startswith("o")] == [f"o{number}" for number in range(60)]
    assert [event for event in handled if event.startswith("c")] == client_events


async def test_an_offered_event_whose_handler_raises_ends_the_loop_with_it_and_nothing_runs_after():
    handled = []

    async def dispatch(event):
        handled.append(event)
        if event == "m1":
            raise Stop

    dispatcher = Dispatcher(dispatch)
    loop_task = await start(dispatcher)
    dispatcher.offer("m1")
    dispatcher.offer("m2")

    with pytest.raises(Stop):
        await loop_task
    assert handled == ["m1"]


async def test_fail_ends_the_loop_with_the_feeds_error():
    async def dispatch(event):
        pass

    dispatcher = Dispatcher(dispatch)
    loop_task = await start(dispatcher)
    dispatcher.fail(ConnectionError("Redis went away"))

    with pytest.raises(ConnectionError, match="Redis went away"):
        await loop_task


async def test_a_consumer_too_far_behind_ends_with_fell_behind_and_its_backlog_is_dropped():
    stuck = asyncio.Event()

    async def dispatch(event):
        await stuck.wait()  # a client that stopped reading

    dispatcher = Dispatcher(dispatch, max_backlog=5)
    loop_task = await start(dispatcher)
    for number in range(7):  # one handled (stuck), five waiting, the seventh is one too many
        dispatcher.offer(number)

    assert len(dispatcher.inbox) == 0
    stuck.set()  # the stuck send ends (the client read, or its connection was dropped)
    with pytest.raises(FellBehind):
        await loop_task


async def test_events_offered_after_the_loop_ended_are_dropped():
    handled = []

    async def dispatch(event):
        handled.append(event)
        raise Stop

    dispatcher = Dispatcher(dispatch)
    with pytest.raises(Stop):
        await dispatcher.run([source_of(["last"])])
    dispatcher.offer("late")
    assert handled == ["last"]
    assert not dispatcher.inbox
