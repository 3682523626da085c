"""PublishQueue: partitions published on a writer thread, in order, bounded, errors surfaced."""

import datetime as dt
import threading

import pyarrow as pa
import pytest

from engine_assets.quality.contracts import ContractViolation, load_contract
from engine_assets.storage.datasets import PublishQueue, is_published, load_dataset, partition_path, publish_dataset

COUNTS = load_contract("seg_5b/bucket_counts")
START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
HOLD_LIMIT_S = 5  # a held publication gives up after this, so a failing test cannot hang the session


def key(day: int) -> dict[str, str]:
    return {"scenario": "baseline", "day": f"2026-01-{day:02d}"}


def counts_table(merchants: list[int], counts: list[int | None] | None = None) -> pa.Table:
    """A bucket_counts table of one row per merchant, in consecutive 5-minute buckets."""
    n = len(merchants)
    return pa.table({
        "merchant_id": pa.array(merchants, pa.uint64()),
        "legal_country_iso": pa.array(["DE"] * n).dictionary_encode(),
        "tzid": pa.array(["Europe/Berlin"] * n).dictionary_encode(),
        "bucket_start": pa.array([START + dt.timedelta(minutes=5 * i) for i in range(n)], pa.timestamp("us", "UTC")),
        "lambda_5a": pa.array([1.5] * n, pa.float32()),
        "lambda": pa.array([2.0] * n, pa.float32()),
        "count": pa.array(counts if counts is not None else [1] * n, pa.int32()),
    })


def held(table: pa.Table, started: threading.Event, release: threading.Event):
    """A table stream that signals `started` when the writer begins and yields only once `release` is set."""
    started.set()
    if not release.wait(HOLD_LIMIT_S):
        raise TimeoutError("the held publication was never released")
    yield table


def merchants_of(identity, day: int) -> list[int]:
    return load_dataset(identity, COUNTS, key(day)).collect()["merchant_id"].to_list()


def test_publications_come_back_in_put_order_and_are_readable(identity):
    merchants = {1: [10], 2: [20, 21], 3: [30, 31, 32]}
    with PublishQueue(identity) as queue:
        futures = [queue.put(COUNTS, key(day), counts_table(ids)) for day, ids in merchants.items()]
        published = queue.wait()
    assert [p.path for p in published] == [partition_path(identity, COUNTS, key(day)) for day in merchants]
    assert [p.rows for p in published] == [1, 2, 3]
    assert [p.manifest["partition"] for p in published] == [key(day) for day in merchants]
    assert [f.result() for f in futures] == published
    for day, ids in merchants.items():
        assert merchants_of(identity, day) == ids


def test_wait_returns_every_publication_so_far_including_those_collected_by_put(identity):
    with PublishQueue(identity, pending=1) as queue:
        for day in (1, 2, 3):  # each put waits for the previous publication
            queue.put(COUNTS, key(day), counts_table([day]))
        published = queue.wait()
        assert queue.wait() == published  # nothing is lost or repeated by a second wait
    assert [p.path for p in published] == [partition_path(identity, COUNTS, key(day)) for day in (1, 2, 3)]


def test_contract_violation_is_raised_by_wait_and_leaves_good_partitions_published(identity):
    with PublishQueue(identity, pending=3) as queue:
        good = queue.put(COUNTS, key(1), counts_table([1, 2]))
        queue.put(COUNTS, key(2), counts_table([3, 4], counts=[1, None]))  # count is not nullable
        queue.put(COUNTS, key(3), counts_table([5]).drop_columns(["merchant_id"]))
        with pytest.raises(ContractViolation) as caught:
            queue.wait()
    # The first failure is the one raised, not the later missing column.
    assert [(v.column, v.rule) for v in caught.value.violations] == [("count", "not_null")]
    assert "seg_5b/bucket_counts" in str(caught.value)
    assert good.result().rows == 2 and merchants_of(identity, 1) == [1, 2]
    for day in (2, 3):
        assert not is_published(identity, COUNTS, key(day))
        left = [p for p in partition_path(identity, COUNTS, key(day)).rglob("*") if p.is_file()]
        assert left == [], "no part of a failed publication stays on disk"


def test_contract_violation_is_raised_by_a_later_put_that_waits_for_it(identity):
    with PublishQueue(identity, pending=1) as queue:
        queue.put(COUNTS, key(1), counts_table([1]))
        queue.put(COUNTS, key(2), counts_table([2], counts=[None]))
        with pytest.raises(ContractViolation, match="count"):
            queue.put(COUNTS, key(3), counts_table([3]))
    assert is_published(identity, COUNTS, key(1))
    assert not is_published(identity, COUNTS, key(2))
    assert not is_published(identity, COUNTS, key(3))  # the put that raised published nothing


def test_put_blocks_while_pending_publications_are_outstanding(identity):
    started, release, third_returned = threading.Event(), threading.Event(), threading.Event()
    with PublishQueue(identity, pending=2) as queue:
        try:
            first = queue.put(COUNTS, key(1), held(counts_table([1]), started, release))
            assert started.wait(2)
            second = queue.put(COUNTS, key(2), counts_table([2]))  # a second slot is free: returns at once
            assert not first.done() and not second.done()

            def third_put() -> None:
                queue.put(COUNTS, key(3), counts_table([3]))
                third_returned.set()

            putter = threading.Thread(target=third_put)
            putter.start()
            assert not third_returned.wait(0.3), "put returned while two publications were outstanding"
            assert not first.done()
        finally:
            release.set()
        assert third_returned.wait(2)
        putter.join(2)
        published = queue.wait()
    assert [p.path for p in published] == [partition_path(identity, COUNTS, key(day)) for day in (1, 2, 3)]
    assert [merchants_of(identity, day) for day in (1, 2, 3)] == [[1], [2], [3]]


def test_leaving_the_block_waits_for_running_and_queued_publications(identity):
    started, release = threading.Event(), threading.Event()
    timer = threading.Timer(0.2, release.set)
    try:
        with PublishQueue(identity) as queue:
            running = queue.put(COUNTS, key(1), held(counts_table([1]), started, release))
            queued = queue.put(COUNTS, key(2), counts_table([2]))
            assert started.wait(2)
            timer.start()
            assert not running.done()
        assert running.done() and queued.done()
        assert is_published(identity, COUNTS, key(1)) and is_published(identity, COUNTS, key(2))
    finally:
        release.set()
        timer.cancel()


def test_leaving_the_block_on_an_error_still_waits_for_the_running_publication(identity):
    started, release = threading.Event(), threading.Event()
    timer = threading.Timer(0.2, release.set)
    try:
        with pytest.raises(RuntimeError, match="asset failed"):
            with PublishQueue(identity) as queue:
                running = queue.put(COUNTS, key(1), held(counts_table([7]), started, release))
                assert started.wait(2)
                timer.start()
                raise RuntimeError("asset failed")
        assert running.done() and running.result().rows == 1
        assert merchants_of(identity, 1) == [7]
    finally:
        release.set()
        timer.cancel()


def test_publish_dataset_returns_a_publication_of_the_same_partition_unchanged(identity):
    with PublishQueue(identity) as queue:
        future = queue.put(COUNTS, key(1), counts_table([1, 2]))
        queue.wait()
    published = future.result()
    assert publish_dataset(identity, COUNTS, key(1), published) is published
    assert merchants_of(identity, 1) == [1, 2]


def test_publish_dataset_refuses_the_publication_of_another_partition(identity):
    published = publish_dataset(identity, COUNTS, key(1), counts_table([1]))
    with pytest.raises(ValueError, match="day=2026-01-01") as caught:
        publish_dataset(identity, COUNTS, key(2), published)
    assert str(partition_path(identity, COUNTS, key(2))) in str(caught.value)
    assert not is_published(identity, COUNTS, key(2))
    assert is_published(identity, COUNTS, key(1))


def test_a_finished_failure_is_raised_by_the_next_put_even_with_room_in_the_queue(identity):
    with pytest.raises(ContractViolation, match="count"):
        with PublishQueue(identity, pending=5) as queue:
            queue.put(COUNTS, key(1), counts_table([1], counts=[None])).exception()  # let it finish, failed
            queue.put(COUNTS, key(2), counts_table([2]))
    assert not is_published(identity, COUNTS, key(2))  # the put that raised started nothing


def test_leaving_the_block_raises_a_failure_nobody_waited_for(identity):
    with pytest.raises(ContractViolation, match="count"):
        with PublishQueue(identity, pending=5) as queue:
            queue.put(COUNTS, key(1), counts_table([1]))
            queue.put(COUNTS, key(2), counts_table([2], counts=[None]))
    assert is_published(identity, COUNTS, key(1)) and not is_published(identity, COUNTS, key(2))
