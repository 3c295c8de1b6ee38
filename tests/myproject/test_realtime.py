"""The shared realtime vocabulary: the ?after= rule, the per-loop registry, the outage log filter."""

import asyncio
import logging
import sys

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from myproject.realtime.layer_log import OneLinePerLayerOutage
from myproject.realtime.per_event_loop import PerEventLoop
from myproject.realtime.resume import MAX_ID, BadResumePoint, read_after


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (b"", None),
        (b"x=1", None),
        (b"after=0", 0),
        (b"after=123", 123),
        (b"x=1&after=7", 7),
        (b"after=1&after=2", 2),
        (b"after=007", 7),
        (b"after=9223372036854775807", MAX_ID),
    ],
)
def test_read_after_reads_an_id(query, expected):
    assert read_after(query) == expected


@pytest.mark.parametrize(
    "query",
    [
        b"after=",
        b"after=abc",
        b"after=-1",
        b"after=+1",
        b"after=1.5",
        b"after=%201",
        b"after=1%00",
        b"after=%C2%B2",  # superscript two: str.isdigit() says yes, int() says no
        b"after=%E2%91%A0",  # circled one, the same
        b"after=%D9%A3",  # Arabic-Indic three: int() would take it, the rule does not
        b"after=9223372036854775808",
        b"after=" + b"9" * 20,
        b"after=1e3",
    ],
)
def test_read_after_refuses_anything_but_ascii_digits_within_an_id(query):
    with pytest.raises(BadResumePoint, match="after"):
        read_after(query)


def test_a_refusal_repeats_at_most_40_characters_of_the_value():
    with pytest.raises(BadResumePoint) as refused:
        read_after(b"after=" + b"x" * 10_000)

    assert len(str(refused.value)) < 150


async def test_per_event_loop_hands_out_one_object_per_loop():
    registry = PerEventLoop(object)
    here = registry.get()

    elsewhere = await asyncio.to_thread(lambda: asyncio.run(_get(registry)))

    assert registry.get() is here
    assert elsewhere is not here


async def _get(registry: PerEventLoop) -> object:
    return registry.get()


def failure_record(message: str = "Unexpected exception in receive task") -> logging.LogRecord:
    try:
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
    except RedisConnectionError:
        exc_info = sys.exc_info()
    return logging.LogRecord("tests.a_channel_layer", logging.ERROR, __file__, 1, message, (), exc_info)


async def test_an_outage_logs_one_line_without_traceback_then_one_when_redis_is_back(caplog):
    outage = OneLinePerLayerOutage(quiet_seconds=0.2)
    layer_logger = logging.getLogger("tests.a_channel_layer")
    layer_logger.addFilter(outage)
    try:
        with caplog.at_level(logging.INFO, logger="tests.a_channel_layer"):
            for _ in range(5):
                layer_logger.handle(failure_record())
                await asyncio.sleep(0.05)
            # The line that must come: once nothing failed for quiet_seconds.
            for _ in range(40):
                if len(caplog.records) >= 2:
                    break
                await asyncio.sleep(0.05)
    finally:
        layer_logger.removeFilter(outage)

    assert [(record.levelname, record.exc_info) for record in caplog.records] == [
        ("WARNING", None),
        ("WARNING", None),
    ]
    assert "lost Redis" in caplog.records[0].getMessage()
    assert "Redis is back" in caplog.records[1].getMessage()


def test_other_records_of_the_layer_pass_untouched():
    record = logging.LogRecord(
        "channels_redis.pubsub", logging.ERROR, __file__, 1, "something else", (), None
    )

    assert OneLinePerLayerOutage().filter(record)
    assert record.levelname == "ERROR"


def test_a_failure_after_a_long_quiet_gap_starts_a_new_outage():
    outage = OneLinePerLayerOutage(quiet_seconds=0.0)  # no loop runs: the "back" line never comes

    assert outage.filter(failure_record())
    assert outage.filter(failure_record())
