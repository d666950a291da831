"""The in-process hub: subscribers get what passes their filter, in order; a slow one is cut off, not the others."""

from __future__ import annotations

import asyncio
import threading

import pytest

from ringfence.feed.filters import ChangeFilter
from ringfence.feed.hub import ChangeHub, SlowSubscriber
from ringfence.feed.models import ChangeBatch


def _batch(first_seq: int, numbers: list[int], categories: int = 1) -> ChangeBatch:
    rows = [(first_seq + i, 0, 0, n, 1, 0, 0, 1, 1, categories, 1000, 0) for i, n in enumerate(numbers)]
    return ChangeBatch.from_rows(rows)


async def test_subscribers_get_what_passes_their_filter_in_order() -> None:
    hub = ChangeHub()
    everything = hub.subscribe()
    french = hub.subscribe(ChangeFilter.parse(prefixes="+33"))
    hub.publish(_batch(1, [442079460018, 33142685300]))
    hub.publish(_batch(3, [33142685301]))
    assert [c.seq for c in await everything.get(1)] == [1, 2, 3]
    assert [c.number for c in await french.get(1)] == [33142685300, 33142685301]
    assert await french.get(0.05) == []  # nothing more: times out empty


async def test_publishing_from_another_thread_wakes_the_subscriber() -> None:
    hub = ChangeHub()
    sub = hub.subscribe()
    thread = threading.Thread(target=lambda: hub.publish(_batch(1, [442079460018])))
    waiting = asyncio.create_task(sub.get(5))
    await asyncio.sleep(0.01)
    thread.start()
    changes = await waiting
    thread.join()
    assert [c.seq for c in changes] == [1]


async def test_a_slow_subscriber_is_cut_off_and_the_others_go_on() -> None:
    hub = ChangeHub(max_pending=5)
    slow = hub.subscribe()
    fast = hub.subscribe()
    hub.publish(_batch(1, [1, 2, 3]))
    assert len(await fast.get(1)) == 3
    hub.publish(_batch(4, [4, 5, 6]))  # slow now has 6 waiting: over its bound
    with pytest.raises(SlowSubscriber) as caught:
        await slow.get(1)
    assert caught.value.pending == 5
    assert [c.seq for c in await fast.get(1)] == [4, 5, 6]
    assert slow.pending == 0  # its queue was dropped, not kept growing


async def test_a_closed_subscription_gets_nothing_more() -> None:
    hub = ChangeHub()
    sub = hub.subscribe()
    sub.close()
    hub.publish(_batch(1, [1]))
    assert hub.subscriber_count == 0 and sub.pending == 0
