"""Process tuning of the rbm-tui entry points (rbm_tui.runtime)."""

from __future__ import annotations

import platform
import sys

import pytest

torch = pytest.importorskip("torch")

from rbm_tui import runtime  # noqa: E402


def test_interactive_threads_and_the_training_s_own(monkeypatch):
    """The app's interactive work runs on one thread; a training run sets the count it
    chooses (engine.device.choose_threads) for its duration and puts the count back."""
    from helpers import planted

    import engine.device
    from engine.settings import TrainConfig
    from engine.training.loop import train

    before = torch.get_num_threads()
    seen = []
    monkeypatch.setattr(runtime, "_default_threads", None)
    monkeypatch.setattr(engine.device, "others_busy_now", lambda: 0.0)
    try:
        torch.set_num_threads(2)
        runtime.use_interactive_threads()
        assert torch.get_num_threads() == 1
        train(
            planted(40),
            TrainConfig(n_hidden=4, epochs=1, threads=0),
            callback=lambda r: seen.append(torch.get_num_threads()),
        )
        assert seen == [engine.device.available_cpus()]
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_threads_leave_the_cores_other_programs_keep_busy(monkeypatch):
    import engine.device as device

    cpus = device.available_cpus()
    monkeypatch.setattr(device, "others_busy_now", lambda: 0.1)
    assert device.choose_threads() == cpus
    monkeypatch.setattr(device, "others_busy_now", lambda: cpus - 0.2)
    assert device.choose_threads() == 1
    assert device.choose_threads(1) == 1  # asked for: taken as it is
    with pytest.raises(device.SettingError, match="--threads"):
        device.choose_threads(cpus + 1)


def test_a_spinning_program_is_seen_busy():
    import subprocess

    from engine.device import busy_cpus

    spin = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        import time

        time.sleep(0.3)
        assert busy_cpus(0.5) >= 0.6
    finally:
        spin.kill()
        spin.wait()


def test_the_entry_point_asks_openmp_to_wait_passively_after_a_short_spin(monkeypatch):
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.delenv("GOMP_SPINCOUNT", raising=False)
    runtime.tune_process()
    import os

    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    assert 0 < int(os.environ["GOMP_SPINCOUNT"]) <= 100_000  # at most about a millisecond


def _two_cpus_and_a_clock(monkeypatch):
    """engine.device on a fake machine of two CPUs whose clock, /proc/stat and this
    process's CPU time move only when the returned ``run(seconds, own_cpus, other_cpus)``
    says how busy this process and the others kept the CPUs."""
    from engine import device

    clock = {"t": 0.0, "busy": 0.0, "total": 0.0, "own": 0.0}
    monkeypatch.setattr(device.os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(device, "_cpu_times", lambda cpus: (clock["busy"], clock["total"]))
    monkeypatch.setattr(device, "_now", lambda: clock["t"])
    monkeypatch.setattr(device, "_own_cpu_time", lambda: clock["own"])

    def run(seconds: float, own_cpus: float, other_cpus: float) -> None:
        clock["t"] += seconds
        clock["total"] += 2 * 100 * seconds  # jiffies of two CPUs
        clock["busy"] += (own_cpus + other_cpus) * 100 * seconds
        clock["own"] += own_cpus * seconds

    return device, run


def test_the_first_choice_of_threads_reads_the_load_since_start_up_without_waiting(monkeypatch):
    """A training started from the command line chooses its threads from the load since the
    entry point imported engine.device (while torch and the data loaded), not from a fresh
    0.1 s sample; its own CPU time is not counted as load. Long after start-up (a later
    training in the app) it samples anew."""
    device, run = _two_cpus_and_a_clock(monkeypatch)
    monkeypatch.setattr(device, "_IMPORT_MARK", device._load_mark({0, 1}))
    monkeypatch.setattr(device, "busy_cpus", lambda interval=0.1: pytest.fail("sampled anew"))
    run(1.5, own_cpus=1.0, other_cpus=0.0)  # importing torch, loading the data
    assert device.others_busy_now() == pytest.approx(0.0)
    assert device.choose_threads() == 2
    run(0.5, own_cpus=1.0, other_cpus=1.0)  # a busy loop took the other core
    assert device.others_busy_now() == pytest.approx(0.25)  # 1 CPU, a quarter of the time
    run(2.5, own_cpus=1.0, other_cpus=1.0)
    assert device.others_busy_now() == pytest.approx(2 / 3)
    assert device.choose_threads() == 1
    run(device.IMPORT_WINDOW, own_cpus=0.0, other_cpus=0.0)
    monkeypatch.setattr(device, "busy_cpus", lambda interval=0.1: 0.25)
    assert device.others_busy_now() == 0.25


def test_the_thread_governor_follows_the_load_of_other_programs(monkeypatch):
    """Two CPUs: while another program keeps one busy, training drops to one thread; when
    the machine is quiet again it gets both back; its own CPU time never counts as load."""
    import torch

    device, run = _two_cpus_and_a_clock(monkeypatch)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        gov = device.ThreadGovernor(interval=1.0)
        run(0.5, own_cpus=2.0, other_cpus=0.0)
        assert gov.check() is None  # too soon to tell
        run(1.0, own_cpus=2.0, other_cpus=0.0)
        assert gov.check() is None and torch.get_num_threads() == 2  # only our own load
        run(1.5, own_cpus=1.1, other_cpus=0.9)  # a busy loop took a core
        assert gov.check() == 1 and torch.get_num_threads() == 1
        run(1.5, own_cpus=1.0, other_cpus=1.0)
        assert gov.check() is None and torch.get_num_threads() == 1
        run(1.5, own_cpus=1.0, other_cpus=0.05)  # it ended
        assert gov.check() == 2 and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_tune_allocator_reports_whether_it_applied():
    glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert runtime.tune_allocator() is glibc


def test_cpu_times_count_what_programs_ran_not_the_hosts_steal(tmp_path):
    """user, nice, system, irq and softirq are busy; idle, iowait and steal (a virtual
    machine's host running others) are not; only the CPUs asked for count."""
    from engine.device import _cpu_times

    stat = tmp_path / "stat"
    stat.write_text(
        "cpu  999 0 999 999 0 0 0 999 0 0\n"
        "cpu0 100 5 20 300 10 1 2 50 0 0\n"
        "cpu1 7 0 3 400 0 0 0 90 0 0\n"
        "intr 12345\n"
    )
    assert _cpu_times({0}, str(stat)) == (128.0, 488.0)
    assert _cpu_times({0, 1}, str(stat)) == (138.0, 988.0)
