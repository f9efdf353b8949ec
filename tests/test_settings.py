"""The settings table: declared once, and the command line, the Train form and the distributed
launcher accept exactly its settings with its ranges."""

from __future__ import annotations

import math
import re
from dataclasses import fields

import pytest
from helpers import SIZE, make_app

from engine.errors import SettingError
from engine.settings import ADVANCED, BASIC, SETTINGS, TrainConfig


def outside(s) -> list[str]:
    """Texts just outside a numeric setting's range (and NaN for a float one)."""
    out = []
    step = 1 if s.type is int else 1e-6
    if s.low is not None:
        out.append(str(s.low if s.low_open else s.low - step))
    if s.high is not None:
        out.append(str(s.high if s.high_open else s.high + step))
    if s.type is float:
        out.append("nan")
    return out


def inside(s) -> str:
    """A text of a value inside the range that is not the default."""
    if s.type is bool:
        return "false" if s.default else "true"
    if s.choices:
        return next(c for c in s.choices if c != s.default)
    if s.type is int:
        return str(s.default + 1 if s.high is None or s.default + 1 <= s.high else s.default - 1)
    hi = s.high if s.high is not None else s.default + 1
    return repr((s.default + (hi if not math.isinf(hi) else s.default + 1)) / 2)


def test_every_field_of_the_config_is_one_row_of_the_table():
    assert [f.name for f in fields(TrainConfig)] == [s.name for s in SETTINGS]
    assert set(BASIC) | set(ADVANCED) == set(SETTINGS) and not set(BASIC) & set(ADVANCED)
    for s in SETTINGS:
        assert s.help and s.type in (int, float, bool, str)
        assert s.check(s.default) == s.default  # the default is in range
        assert (s.flag is not None) == s.basic and (not s.basic or s.label)


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_the_command_line_takes_each_setting_with_its_range(setting, monkeypatch):
    """Every setting is reachable with ``--set NAME=VALUE`` (and a basic one with its flag);
    a value out of its range or NaN is refused with one line naming the option."""
    from rbm_tui.cli import build_parser
    from rbm_tui.cli.train import _train_config

    parser = build_parser()

    def config(*argv):
        return _train_config(parser.parse_args(["train", "demo", *argv]))

    value = inside(setting)
    assert getattr(config("--set", f"{setting.name}={value}"), setting.name) == setting.parse(value)
    if setting.basic:
        assert getattr(config(setting.flag, value), setting.name) == setting.parse(value)
    for bad in outside(setting):
        with pytest.raises(SettingError, match=rf"^{re.escape(setting.option)}\b"):
            config(f"{setting.flag}={bad}" if setting.basic else f"--set={setting.name}={bad}")


def test_the_command_line_has_no_flag_outside_the_table():
    from rbm_tui.cli import build_parser

    train = build_parser()._subparsers._group_actions[0].choices["train"]
    flags = {o for a in train._actions for o in a.option_strings}
    own = {"-h", "--help", "--help-advanced", "--model-out", "--set", "--json"}
    own |= {"--distributed", "--dist-timeout"}
    assert flags - own == {s.flag for s in BASIC}


@pytest.mark.slow
async def test_the_train_form_has_one_field_per_setting_checked_by_its_range():
    from textual.widgets import Input, Select

    app = make_app(first_screen="train")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        for s in SETTINGS:
            widget = screen.query_one(f"#cfg-{s.name}")
            if s.choices or s.type is bool:
                assert isinstance(widget, Select)
                continue
            assert isinstance(widget, Input)
            assert widget.validate(inside(s)).is_valid
            for bad in outside(s):
                assert not widget.validate(bad).is_valid, (s.name, bad)
        screen.set_values(**{s.name: s.parse(inside(s)) for s in SETTINGS if s.name != "device"})
        cfg = screen.read_config()
        for s in SETTINGS:
            if s.name != "device":
                assert getattr(cfg, s.name) == s.parse(inside(s)), s.name


def test_the_distributed_launcher_is_the_train_command(monkeypatch, tmp_path):
    """``rbm-tui train --distributed`` parses the same settings and hands the same config to
    the data-parallel trainer as ``rbm-tui train`` to the single-process one."""
    import engine.training.distributed as dist
    import engine.training.loop as loop
    from rbm_tui.cli import main

    got = {}

    class Stop(Exception):
        pass

    def capture(name):
        def run(ratings, config, **kwargs):
            got[name] = config
            raise Stop

        return run

    monkeypatch.setattr(loop, "train", capture("single"))
    monkeypatch.setattr(dist, "run_training", capture("distributed"))
    argv = ["train", "demo", "--hidden", "12", "--set", "dropout=0.2", "--set", "persistent=on"]
    for extra in ([], ["--distributed"]):
        with pytest.raises(Stop):
            main([*argv, *extra])
    assert got["single"] == got["distributed"]
    assert got["single"].n_hidden == 12 and got["single"].dropout == 0.2
    assert got["single"].persistent is True


def test_every_form_label_fits_its_column_and_names_one_setting():
    """The Train form gives a label 14 columns: `candidates_all` and `candidates_all_cells`
    were both cut to "candidates all", and seven more lost their ends."""
    from rbm_tui.widgets.settings_form import setting_label

    labels = [setting_label(s) for s in SETTINGS]
    assert max(map(len, labels)) <= 13, [x for x in labels if len(x) > 13]
    assert len(set(labels)) == len(labels)
