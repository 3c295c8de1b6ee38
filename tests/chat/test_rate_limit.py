from chat.rate_limit import FloodGuard, TokenBucket, Verdict


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
