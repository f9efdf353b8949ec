"""Model files: round trip, atomic writes, and refusal of corrupted, foreign or hostile files."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engine.data.ratings import from_arrays  # noqa: E402
from engine.errors import ModelError  # noqa: E402
from engine.model.calibration import FEATURES, from_positional  # noqa: E402
from engine.model.storage import (  # noqa: E402
    FORMAT_VERSION,
    delete_model,
    find_model,
    list_models,
    load_model,
    rename_model,
    save_model,
)
from engine.recommender import fold_in  # noqa: E402
from engine.settings import TrainConfig  # noqa: E402
from engine.training.loop import train  # noqa: E402


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("RBM_TUI_HOME", str(tmp_path / "home"))
    return tmp_path


@pytest.fixture(scope="module")
def model():
    rng = np.random.default_rng(0)
    u = rng.integers(0, 40, 600)
    i = rng.choice(np.array(["tt1", "tt2", "tt3", "tt4", "tt5", "tt6", "tt7", "tt8"]), 600)
    r = rng.integers(1, 6, 600).astype(float)
    ratings = from_arrays(u, i, r, source="toy")
    return train(ratings, TrainConfig(n_hidden=4, epochs=2, patience=0)).model


def test_round_trip(model, tmp_path):
    path = save_model(model, tmp_path / "m.pt")
    back = load_model(path, device="cpu")
    assert list(back.item_ids) == list(model.item_ids)
    assert torch.equal(back.rbm.W, model.rbm.W)
    assert back.calibration == model.calibration
    assert (back.rbm.like_units, back.rbm.like_gain) == (model.rbm.like_units, model.rbm.like_gain)
    assert model.rbm.like_units == 1 and model.rbm.like_gain != 1.0
    assert back.config == model.config
    assert back.meta["dataset"]["fingerprint"] == model.meta["dataset"]["fingerprint"]
    a = fold_in(model, [0], [1]).p_like
    b = fold_in(back, [0], [1]).p_like
    np.testing.assert_allclose(a, b)
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_default_location_list_rename_delete(model):
    path = save_model(model)
    assert path.parent.name == "models" and path.name.startswith("toy-")
    infos = list_models()
    assert [m.path for m in infos] == [path]
    assert infos[0].header["n_items"] == 8
    new = rename_model(path, "favourite")
    assert find_model("favourite") == new
    delete_model(new)
    assert list_models() == []


class Evil:
    def __reduce__(self):
        return (os.system, ("touch /tmp/rbm_tui_pwned",))


def test_malicious_pickle_is_refused_without_running_code(tmp_path):
    marker = "/tmp/rbm_tui_pwned"
    if os.path.exists(marker):
        os.unlink(marker)
    path = tmp_path / "evil.pt"
    torch.save({"format": "rbm-tui-model", "payload": Evil()}, path)
    with pytest.raises(ModelError, match="evil.pt"):
        load_model(path)
    plain = tmp_path / "plain.pt"
    plain.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(ModelError, match="plain.pt"):
        load_model(plain)
    assert not os.path.exists(marker)


def test_truncated_and_garbage_files(model, tmp_path):
    path = save_model(model, tmp_path / "m.pt")
    data = path.read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="cut.pt"):
        load_model(tmp_path / "cut.pt")
    (tmp_path / "junk.pt").write_bytes(b"hello")
    with pytest.raises(ModelError, match="junk.pt"):
        load_model(tmp_path / "junk.pt")
    with pytest.raises(ModelError, match="no such model"):
        load_model(tmp_path / "missing.pt")


def test_foreign_and_mismatched_files(model, tmp_path):
    torch.save({"weights": torch.zeros(3)}, tmp_path / "foreign.pt")
    with pytest.raises(ModelError, match="not an rbm-tui model"):
        load_model(tmp_path / "foreign.pt")
    path = save_model(model, tmp_path / "m.pt")
    blob = torch.load(path, weights_only=True)
    blob["W"] = torch.zeros(5, 5)
    torch.save(blob, tmp_path / "bad_shape.pt")
    with pytest.raises(ModelError, match="shape"):
        load_model(tmp_path / "bad_shape.pt")
    blob = torch.load(path, weights_only=True)
    blob["W"] = blob["W"].clone()
    blob["W"][0, 0] = float("nan")
    torch.save(blob, tmp_path / "nan.pt")
    with pytest.raises(ModelError, match="NaN"):
        load_model(tmp_path / "nan.pt")


DATA = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize("name", ["model-v1.pt", "model-v1-4weights.pt"])
def test_version_1_files_load_through_their_upgrade_and_score_as_before(name, tmp_path):
    """Stored files written by rbm-tui's format version 1 (positional calibration weights; the
    oldest layout with 4 weights and no rating sums, lateral weights or neighbours; the last
    with 9 and all of them) load through the 1 -> 2 upgrade and give the P(like) and seen
    log-odds the version that wrote them gave (``model-v1-expected.json``); saved again they
    are version 2 and load the same."""
    import json

    expected = json.loads((DATA / "model-v1-expected.json").read_text())[name]
    header = json.loads(torch.load(DATA / name, weights_only=True)["header"])
    assert header["format_version"] == 1 and isinstance(header["calibration"], list)
    old = load_model(DATA / name, device="cpu")
    assert set(old.calibration) == {*FEATURES, "bias"}
    got = fold_in(old, [0, 1], [2])
    np.testing.assert_allclose(got.p_like, expected["p_like"], rtol=1e-9)
    np.testing.assert_allclose(got.seen_logit, expected["seen_logit"], rtol=1e-6)
    again = load_model(save_model(old, tmp_path / "v2.pt"), device="cpu")
    assert (
        json.loads(torch.load(tmp_path / "v2.pt", weights_only=True)["header"])["format_version"]
        == FORMAT_VERSION
    )
    assert again.calibration == old.calibration
    np.testing.assert_allclose(fold_in(again, [0, 1], [2]).p_like, got.p_like)


def test_positional_weights_map_to_names_with_the_missing_ones_at_zero():
    """The 1 -> 2 upgrade names the positional weights: 4 (before the movie-rating and trust
    features), 7 (before the rating bias), 8 (before the neighbours) or 9; others refused."""
    four = from_positional([0.5, 0.25, 0.75, -0.1])
    assert [four[n] for n in (*FEATURES, "bias")] == [0.5, 0.25, 0.75, 0, 0, 0, 0, 0, -0.1]
    seven = from_positional([0.9, 0.1, 0.2, 0.3, 0.01, 0.02, -0.2])
    assert seven["person_rating"] == 0.0 and seven["neighbours"] == 0.0 and seven["bias"] == -0.2
    eight = from_positional([0.9, 0.1, 0.2, 0.3, 0.01, 0.02, 0.5, -0.2])
    assert eight["person_rating"] == 0.5 and eight["neighbours"] == 0.0
    with pytest.raises(ValueError, match="3 calibration weights"):
        from_positional([0.9, 0.1, 0.2])


def test_a_version_1_file_with_a_bad_weight_count_or_a_future_version_is_refused(tmp_path):
    import json

    blob = torch.load(DATA / "model-v1.pt", weights_only=True)
    header = json.loads(blob["header"])
    header["calibration"] = [0.9, 0.1, 0.2]
    blob["header"] = json.dumps(header)
    torch.save(blob, tmp_path / "three.pt")
    with pytest.raises(ModelError, match="upgrade.*3 calibration weights"):
        load_model(tmp_path / "three.pt")
    header["format_version"] = FORMAT_VERSION + 1
    blob["header"] = json.dumps(header)
    torch.save(blob, tmp_path / "future.pt")
    with pytest.raises(ModelError, match="version"):
        load_model(tmp_path / "future.pt")


def test_a_misshapen_item_rating_sums_is_refused(model, tmp_path):
    path = save_model(model, tmp_path / "m.pt")
    blob = torch.load(path, weights_only=True)
    blob["item_rating_sums"] = torch.zeros(3, dtype=torch.float64)
    torch.save(blob, tmp_path / "bad_sums.pt")
    with pytest.raises(ModelError, match="item_rating_sums"):
        load_model(tmp_path / "bad_sums.pt")


def test_neighbours_round_trip_and_damaged_ones_are_refused(model, tmp_path):
    assert model.neighbours is not None
    path = save_model(model, tmp_path / "m.pt")
    back = load_model(path, device="cpu")
    for a, b in zip(model.neighbours, back.neighbours):
        assert torch.equal(a, b)
    blob = torch.load(path, weights_only=True)
    n_items = blob["W"].shape[0] // 2
    cases = {
        "out_of_range": ("neighbour_items", lambda t: t.fill_(n_items), "out of range"),
        "negative": ("neighbour_items", lambda t: t.fill_(-1), "out of range"),
        "nan": ("neighbour_sims", lambda t: t.fill_(float("nan")), "NaN"),
        "shape": ("neighbour_sims", lambda t: t[:, :1], "shape"),
        "rows": ("neighbour_items", lambda t: t[:-1], "shape"),
        "dtype": ("neighbour_items", lambda t: t.to(torch.float32), "type"),
        "half": ("neighbour_sims", lambda t: None, "neighbours"),
    }
    for name, (key, damage, message) in cases.items():
        bad = dict(blob)
        bad[key] = damage(blob[key].clone())
        if bad[key] is None:
            del bad[key]
        torch.save(bad, tmp_path / f"{name}.pt")
        with pytest.raises(ModelError, match=message):
            load_model(tmp_path / f"{name}.pt")
    old = dict(blob)  # files from before the neighbours: none, and P(like) without them
    del old["neighbour_items"], old["neighbour_sims"]
    torch.save(old, tmp_path / "old.pt")
    assert load_model(tmp_path / "old.pt").neighbours is None


def test_failed_save_leaves_previous_copy(model, tmp_path, monkeypatch):
    path = save_model(model, tmp_path / "m.pt")
    before = path.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        save_model(model, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []
