"""Process tuning of the rbm-tui entry points (rbm_tui.runtime)."""

from __future__ import annotations

import platform
import sys

import pytest

torch = pytest.importorskip("torch")

from rbm_tui import runtime  # noqa: E402


def test_interactive_and_training_threads(monkeypatch):
    before = torch.get_num_threads()
    monkeypatch.setattr(runtime, "_default_threads", None)
    try:
        torch.set_num_threads(2)
        runtime.use_interactive_threads()
        assert torch.get_num_threads() == 1
        with runtime.training_threads():
            assert torch.get_num_threads() == 2  # torch's count from before the switch
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_tune_allocator_reports_whether_it_applied():
    glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert runtime.tune_allocator() is glibc
