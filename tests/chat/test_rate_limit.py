import asyncio

from chat.rate_limit import FloodGuard, TokenBucket, Verdict, read_ahead


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_refuses():
    bucket = TokenBucket(rate=5, burst=3, clock=FakeClock())

    assert [bucket.take() for _ in range(4)] == [True, True, True, False]


def test_bucket_refills_at_its_rate():
    clock = FakeClock()
    bucket = TokenBucket(rate=5, burst=3, clock=clock)
    for _ in range(3):
        bucket.take()

    clock.now += 0.2  # one token at 5 a second

    assert [bucket.take(), bucket.take()] == [True, False]


def test_bucket_never_holds_more_than_its_burst():
    clock = FakeClock()
    bucket = TokenBucket(rate=5, burst=2, clock=clock)

    clock.now += 3600

    assert [bucket.take() for _ in range(3)] == [True, True, False]


def test_a_client_at_the_rate_is_never_limited():
    clock = FakeClock()
    guard = FloodGuard(rate=5, burst=10, strikes=20, clock=clock)

    verdicts = set()
    for _ in range(500):
        verdicts.add(guard.check())
        clock.now += 0.2

    assert verdicts == {Verdict.ALLOWED}


def test_frames_over_the_burst_are_limited():
    guard = FloodGuard(rate=5, burst=10, strikes=20, clock=FakeClock())

    verdicts = [guard.check() for _ in range(11)]

    assert verdicts == [Verdict.ALLOWED] * 10 + [Verdict.LIMITED]


def test_a_client_that_keeps_flooding_is_told_to_go_after_its_strikes():
    guard = FloodGuard(rate=5, burst=10, strikes=20, clock=FakeClock())

    verdicts = [guard.check() for _ in range(31)]

    assert verdicts == [Verdict.ALLOWED] * 10 + [Verdict.LIMITED] * 20 + [Verdict.FLOODING]


def test_strikes_are_forgiven_over_time():
    clock = FakeClock()
    guard = FloodGuard(rate=5, burst=10, strikes=20, clock=clock)
    for _ in range(30):
        guard.check()

    clock.now += 60  # a minute of calm

    assert [guard.check() for _ in range(31)] == [Verdict.ALLOWED] * 10 + [Verdict.LIMITED] * 20 + [
        Verdict.FLOODING
    ]


async def test_read_ahead_hands_each_event_over_as_it_arrives_while_the_consumer_is_busy():
    server_queue: asyncio.Queue = asyncio.Queue()
    seen: list[str] = []

    async def arrived(event) -> bool:
        seen.append(event.get("text", event["type"]))
        return event.get("text") != "refused"

    async with read_ahead(server_queue.get, arrived) as receive:
        first = asyncio.ensure_future(receive())
        for text in ["one", "refused", "two"]:
            server_queue.put_nowait({"type": "websocket.receive", "text": text})
        assert (await first)["text"] == "one"
        await asyncio.sleep(0.01)  # the consumer is busy with "one"; frames keep arriving

        assert seen == ["one", "refused", "two"]  # judged on arrival, not when taken
        assert (await receive())["text"] == "two"  # the refused frame goes no further


async def test_read_ahead_passes_the_disconnect_on_and_stops_reading():
    server_queue: asyncio.Queue = asyncio.Queue()

    async def refuse_all(event) -> bool:
        return False

    async with read_ahead(server_queue.get, refuse_all) as receive:
        server_queue.put_nowait({"type": "websocket.disconnect", "code": 1000})

        assert (await asyncio.wait_for(receive(), 1))["type"] == "websocket.disconnect"
