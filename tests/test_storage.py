"""Model files: round trip, atomic writes, and refusal of corrupted, foreign or hostile files."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engine.ratings import from_arrays  # noqa: E402
from engine.recommend import fold_in  # noqa: E402
from engine.storage import (  # noqa: E402
    ModelError,
    delete_model,
    find_model,
    list_models,
    load_model,
    rename_model,
    save_model,
)
from engine.trainer import TrainConfig, train  # noqa: E402


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


def test_files_from_before_the_movie_rating_feature_still_load(model, tmp_path):
    """A file with four calibration weights and no item_rating_sums (the earlier layout)
    loads with the new weights at 0, so its P(like) is the old formula's."""
    import json

    path = save_model(model, tmp_path / "m.pt")
    blob = torch.load(path, weights_only=True)
    del blob["item_rating_sums"]
    header = json.loads(blob["header"])
    header["calibration"] = [0.5, 0.25, 0.75, -0.1]
    blob["header"] = json.dumps(header)
    torch.save(blob, tmp_path / "old.pt")
    old = load_model(tmp_path / "old.pt", device="cpu")
    assert old.calibration == (0.5, 0.25, 0.75, 0.0, 0.0, 0.0, 0.0, 0.0, -0.1)
    z, pl, pn, items = np.array([0.3, -1.2]), np.array([3, 0]), np.array([4, 2]), np.array([0, 1])
    from engine.model import like_features, prior_like_share

    X = like_features(
        z,
        pl,
        pn,
        old.item_likes[items],
        old.item_counts[items],
        np.zeros(2),
        prior_like_share(old.item_likes, old.item_counts),
        0.0,
    )
    expect = 1 / (1 + np.exp(-(X[:, :3] @ np.array([0.5, 0.25, 0.75]) - 0.1)))
    np.testing.assert_allclose(old.p_like(z, pl, pn, items), expect)
    # a present but misshapen item_rating_sums is refused
    blob["item_rating_sums"] = torch.zeros(3, dtype=torch.float64)
    torch.save(blob, tmp_path / "bad_sums.pt")
    with pytest.raises(ModelError, match="item_rating_sums"):
        load_model(tmp_path / "bad_sums.pt")


def test_files_from_before_the_person_rating_bias_still_load(model, tmp_path):
    """Seven calibration weights (the layout before the person's rating bias) load with
    that feature's weight at 0; a wrong count is refused with a clear message."""
    import json

    path = save_model(model, tmp_path / "m.pt")
    blob = torch.load(path, weights_only=True)
    header = json.loads(blob["header"])
    header["calibration"] = [0.9, 0.1, 0.2, 0.3, 0.01, 0.02, -0.2]
    blob["header"] = json.dumps(header)
    torch.save(blob, tmp_path / "seven.pt")
    old = load_model(tmp_path / "seven.pt", device="cpu")
    assert old.calibration == (0.9, 0.1, 0.2, 0.3, 0.01, 0.02, 0.0, 0.0, -0.2)
    z, pl, pn, items = np.array([0.3, -1.2]), np.array([3, 0]), np.array([4, 2]), np.array([0, 1])
    # with no weight on them, the rating bias and the neighbours change nothing
    np.testing.assert_allclose(
        old.p_like(z, pl, pn, items, 1.5, -0.7), old.p_like(z, pl, pn, items)
    )
    header["calibration"] = [0.9, 0.1, 0.2, 0.3, 0.01, 0.02, 0.5, -0.2]  # before neighbours
    blob["header"] = json.dumps(header)
    torch.save(blob, tmp_path / "eight.pt")
    eight = load_model(tmp_path / "eight.pt", device="cpu")
    assert eight.calibration == (0.9, 0.1, 0.2, 0.3, 0.01, 0.02, 0.5, 0.0, -0.2)
    header["calibration"] = [0.9, 0.1, 0.2]
    blob["header"] = json.dumps(header)
    torch.save(blob, tmp_path / "three.pt")
    with pytest.raises(ModelError, match="calibration"):
        load_model(tmp_path / "three.pt")


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
