"""start_eagerly (myproject/realtime/eager.py): a coroutine's first step on the caller's turn, a task
only for the rest, if it waits."""

import asyncio

import pytest

from myproject.realtime.eager import start_eagerly


class Boom(Exception):
    pass


async def test_a_coroutine_that_never_waits_runs_to_its_end_at_once_without_a_task():
    done = []
    writable = asyncio.Event()
    writable.set()  # as Uvicorn's send finds it, unless the client's buffer is full

    async def writes_and_returns():
        await writable.wait()
        done.append("written")

    tasks_before = len(asyncio.all_tasks())
    assert start_eagerly(writes_and_returns()) is None
    assert done == ["written"]  # before the caller waited on anything
    assert len(asyncio.all_tasks()) == tasks_before


async def test_a_coroutine_that_waits_ran_up_to_its_wait_and_a_task_finishes_it():
    steps = []
    gate = asyncio.Event()

    async def waits_once():
        steps.append("before")
        await gate.wait()
        steps.append("after")

    task = start_eagerly(waits_once())
    assert steps == ["before"]
    assert task is not None
    assert not task.done()
    gate.set()
    await task
    assert steps == ["before", "after"]


async def test_values_the_loop_hands_back_reach_the_coroutine():
    async def sums():
        total = 0
        for value in (1, 2, 3):
            total += await asyncio.sleep(0.001, result=value)
        assert total == 6

    task = start_eagerly(sums())
    assert task is not None
    await task


async def test_an_exception_before_the_first_wait_is_the_callers_as_with_await():
    async def raises_at_once():
        raise Boom

    with pytest.raises(Boom):
        start_eagerly(raises_at_once())


async def test_an_exception_after_a_wait_is_the_tasks():
    async def raises_later():
        await asyncio.sleep(0)
        raise Boom

    task = start_eagerly(raises_later())
    assert task is not None
    with pytest.raises(Boom):
        await task


async def test_cancelling_the_task_cancels_the_coroutine_where_it_waits():
    cleaned_up = asyncio.Event()

    async def waits_forever():
        try:
            await asyncio.Event().wait()
        finally:
            cleaned_up.set()

    task = start_eagerly(waits_forever())
    assert task is not None
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned_up.is_set()
    assert task.cancelled()


async def test_a_coroutine_may_catch_the_cancellation_and_finish():
    async def catches_it():
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            await asyncio.sleep(0)  # and waits again, after the cancellation
            return

    task = start_eagerly(catches_it())
    assert task is not None
    await asyncio.sleep(0)
    task.cancel()
    await task
    assert not task.cancelled()
