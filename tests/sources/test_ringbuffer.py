import threading

import numpy as np

from streamer.sources.ringbuffer import RingBuffer


def test_wraps_around_and_keeps_order():
    ring = RingBuffer(10)
    ring.write(np.arange(7, dtype=np.float32))
    assert ring.read(5).tolist() == [0, 1, 2, 3, 4]
    ring.write(np.arange(7, 14, dtype=np.float32))  # crosses the end of the storage
    assert ring.available() == 9
    assert ring.read(100).tolist() == list(range(5, 14))
    assert ring.overruns == 0


def test_overrun_drops_the_excess_and_counts_it():
    ring = RingBuffer(8)
    ring.write(np.ones(6, dtype=np.float32))
    stored = ring.write(np.full(5, 2, dtype=np.float32))
    assert stored == 2
    assert ring.overruns == 1
    assert ring.dropped_samples == 3
    assert ring.read(8).tolist() == [1] * 6 + [2, 2]
    ring.write(np.zeros(9, dtype=np.float32))
    assert ring.overruns == 2 and ring.dropped_samples == 4


def test_read_into_preallocated_output():
    ring = RingBuffer(4)
    out = np.empty(4, dtype=np.float32)
    ring.write(np.array([1, 2, 3], dtype=np.float32))
    view = ring.read(4, out=out)
    assert view.tolist() == [1, 2, 3]
    assert np.shares_memory(view, out)


def test_reset_empties_and_clears_counters():
    ring = RingBuffer(4)
    ring.write(np.ones(6, dtype=np.float32))
    ring.reset()
    assert ring.available() == 0 and ring.overruns == 0 and ring.dropped_samples == 0


def test_producer_and_consumer_threads_lose_nothing_when_capacity_suffices():
    ring = RingBuffer(4096)
    total = 200_000
    received: list[np.ndarray] = []

    def produce():
        for start in range(0, total, 160):
            block = np.arange(start, min(start + 160, total), dtype=np.float32)
            while ring.capacity - ring.available() < len(block):
                threading.Event().wait(0.0001)
            ring.write(block)

    producer = threading.Thread(target=produce)
    producer.start()
    got = 0
    while got < total:
        ring.wait(0.1)
        chunk = ring.read(1000)
        got += len(chunk)
        received.append(chunk)
    producer.join()
    assert np.array_equal(np.concatenate(received), np.arange(total, dtype=np.float32))
    assert ring.overruns == 0


def test_consumer_wakes_only_once_a_whole_block_is_in():
    ring = RingBuffer(1000, wake_at=480)
    ring.write(np.zeros(320, dtype=np.float32))
    assert not ring.wait(0)  # two 10 ms device blocks: not worth waking for
    ring.write(np.zeros(320, dtype=np.float32))
    assert ring.wait(0)
    ring.read(600)
    assert not ring.wait(0)  # 40 samples left, below the threshold
    ring.write(np.zeros(1000, dtype=np.float32))  # overrun: a full buffer wakes it too
    assert ring.wait(0) and ring.overruns == 1
