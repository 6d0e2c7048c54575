"""measure(): the timing protocol, statistics, sample bounding and the CUDA event path, on fakes."""

from __future__ import annotations

import pytest

from scaleboard.record import MAX_SAMPLES
from scaleboard.runner import measure as m
from scaleboard.runner.spec import Budget


class FakeClock:
    """A clock that advances only when the measured callable runs."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def stepping_fn(clock: FakeClock, durations_s: list[float]):
    """Each call advances the clock by the next duration (the last one repeats)."""
    calls = []

    def fn():
        calls.append(1)
        clock.now += durations_s[min(len(calls) - 1, len(durations_s) - 1)]

    return fn, calls


def budget(**kw) -> Budget:
    base = dict(warmup_iterations=2, min_iterations=5, max_iterations=100, min_time_s=1.0, max_time_s=10.0)
    return Budget(**{**base, **kw})


def test_first_call_and_warmup_are_timed_apart_from_the_samples():
    clock = FakeClock()
    fn, calls = stepping_fn(clock, [3.0, 0.5, 0.5, 0.1])
    result = m.measure(fn, budget=budget(), clock=clock)
    assert result.first_call_s == pytest.approx(3.0)
    assert result.warmup_s == pytest.approx(1.0)
    assert result.warmup_iterations == 2
    assert all(s == pytest.approx(100.0) for s in result.samples_ms)
    assert len(calls) == 3 + result.iterations


def test_timing_stops_when_both_minimum_count_and_minimum_time_are_met():
    clock = FakeClock()
    fn, _ = stepping_fn(clock, [0.01])  # 10 ms per call: 1 s needs 100 calls, capped at 100
    assert m.measure(fn, budget=budget(min_time_s=0.5), clock=clock).iterations == 50
    fn, _ = stepping_fn(clock, [0.5])  # 500 ms per call: min time met after 2, min count needs 5
    assert m.measure(fn, budget=budget(), clock=clock).iterations == 5


def test_caps_win_over_minimums():
    clock = FakeClock()
    fn, _ = stepping_fn(clock, [0.001])
    assert m.measure(fn, budget=budget(min_time_s=5.0, max_iterations=20), clock=clock).iterations == 20
    fn, _ = stepping_fn(clock, [4.0])  # slow point: max_time_s stops it before min_iterations
    assert m.measure(fn, budget=budget(max_time_s=10.0, point_timeout_s=60.0), clock=clock).iterations == 3


def test_a_slow_first_call_is_compile_cost_but_a_slow_iteration_is_a_timeout():
    clock = FakeClock()
    fn, _ = stepping_fn(clock, [100.0, 0.1])  # a 100 s compile, then fast
    assert m.measure(fn, budget=budget(point_timeout_s=5.0), clock=clock).first_call_s == pytest.approx(100.0)
    fn, _ = stepping_fn(clock, [0.1, 0.1, 0.1, 6.0])  # the first timed iteration takes 6 s
    with pytest.raises(m.PointTimeout, match="6.0 s, over the 5 s budget"):
        m.measure(fn, budget=budget(point_timeout_s=5.0), clock=clock)


def test_wall_timer_synchronizes_around_every_call():
    clock, events = FakeClock(), []
    fn, _ = stepping_fn(clock, [0.002])
    result = m.measure(
        lambda: (events.append("call"), fn()),
        budget=budget(warmup_iterations=0, min_iterations=2, min_time_s=0.0),
        clock=clock,
        sync=lambda: events.append("sync"),
    )
    assert result.iterations == 2
    assert events == ["sync", "call", "sync"] * 3  # first call + 2 timed


class FakeEvent:
    """Stands in for torch.cuda.Event(enable_timing=True): a device timestamp set at record()."""

    def __init__(self, device: dict, log: list):
        self.device, self.log, self.time_ms, self.done = device, log, None, False

    def record(self):
        self.log.append("record")
        self.time_ms = self.device["now_ms"]

    def synchronize(self):
        self.log.append("event-sync")
        self.done = True

    def elapsed_time(self, end: FakeEvent) -> float:
        assert end.done, "elapsed_time read before the end event completed"
        return end.time_ms - self.time_ms


def test_cuda_event_path_reports_device_time_not_host_time():
    device, log = {"now_ms": 0.0}, []
    clock = FakeClock()

    def kernel():  # the GPU runs 7 ms; the host only launches (0.01 ms)
        log.append("launch")
        device["now_ms"] += 7.0
        clock.now += 0.00001

    timer = m.EventTimer(lambda: FakeEvent(device, log), sync=lambda: log.append("device-sync"))
    result = m.measure(
        kernel, budget=budget(warmup_iterations=1, min_iterations=3, min_time_s=0.0), clock=clock, timer=timer
    )
    assert result.samples_ms == [7.0, 7.0, 7.0]
    # each timed iteration: drain the queue, record, launch, record, wait for the end event
    assert log[-5:] == ["device-sync", "record", "launch", "record", "event-sync"]
    assert log.count("launch") == 1 + 1 + 3


def test_statistics_on_known_samples():
    stats = m.summarize([float(v) for v in range(1, 101)])  # 1..100 ms
    assert stats["p50"] == pytest.approx(50.5)
    assert stats["p90"] == pytest.approx(90.1)
    assert stats["p99"] == pytest.approx(99.01)
    assert stats["mean"] == pytest.approx(50.5)
    assert stats["std"] == pytest.approx(29.011491975882016)  # sample std (n-1)
    assert (stats["min"], stats["max"]) == (1.0, 100.0)
    one = m.summarize([4.0])
    assert one["std"] == 0.0 and one["p99"] == 4.0


def test_samples_are_bounded_evenly_keeping_first_and_last():
    result = m.Measurement(samples_ms=[float(i) for i in range(1000)])
    kept = result.bounded_samples()
    assert len(kept) == MAX_SAMPLES
    assert kept[0] == 0.0 and kept[-1] == 999.0
    assert kept == sorted(kept)
    assert result.iterations == 1000
    assert m.subsample([1.0, 2.0], 5) == [1.0, 2.0]


def test_throughput_from_the_median():
    result = m.Measurement(samples_ms=[10.0, 20.0, 1000.0])
    assert result.throughput(batch_size=4, seq_len=128) == {"samples_per_s": 200.0, "tokens_per_s": 25600.0}


def test_peak_rss_is_reported_and_resettable():
    m.reset_peak_memory("cpu")
    before = m.peak_memory("cpu")["peak_rss_bytes"]
    block = bytearray(64 * 1024 * 1024)
    block[::4096] = b"x" * len(block[::4096])  # touch every page so it is resident
    after = m.peak_memory("cpu")["peak_rss_bytes"]
    assert before > 0
    assert after >= before + 60 * 1024 * 1024
    del block
    if m.reset_peak_memory("cpu"):  # Linux: the peak starts again from the current RSS
        assert m.peak_memory("cpu")["peak_rss_bytes"] < after
