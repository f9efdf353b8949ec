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
from engine.model.calibration import FEATURES, from_positional, upgrade  # noqa: E402
from engine.model.fileformat import seal  # noqa: E402
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
    assert model.rbm.like_units == 2  # 0.4 of 4 hidden units
    assert back.config == model.config
    assert back.meta["dataset"]["fingerprint"] == model.meta["dataset"]["fingerprint"]
    # the movie-to-movie part: 8 movies, each with the 7 others as partners
    ii, back_ii = model.rbm.item_item, back.rbm.item_item
    assert ii is not None and ii.partners.shape == (8, 7)
    assert torch.equal(back_ii.partners, ii.partners) and torch.equal(back_ii.weights, ii.weights)
    assert back_ii.gamma == ii.gamma == 0.5
    a = fold_in(model, [0], [1])
    b = fold_in(back, [0], [1])
    np.testing.assert_allclose(a.p_like, b.p_like)
    np.testing.assert_allclose(a.seen_logit, b.seen_logit)
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    # the like units' gain (1 when the calibration found no use for it, as on these random
    # ratings) is kept too
    import copy

    gained = copy.copy(model)
    gained.rbm = copy.copy(model.rbm)
    gained.rbm.like_gain = 1.7
    back = load_model(save_model(gained, tmp_path / "g.pt"), device="cpu")
    assert back.rbm.like_gain == 1.7
    c = fold_in(back, [0], [1])
    np.testing.assert_allclose(c.p_like, fold_in(gained, [0], [1]).p_like)
    assert not np.allclose(c.p_like, a.p_like)


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
    with pytest.raises(
        ModelError, match=r"junk.pt: not an rbm-tui model file \(not a zip archive\)"
    ):
        load_model(tmp_path / "junk.pt")
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(ModelError, match=r"empty.pt: .*\(an empty file\)"):
        load_model(tmp_path / "empty.pt")
    with pytest.raises(ModelError, match="no such model"):
        load_model(tmp_path / "missing.pt")


def test_foreign_and_mismatched_files(model, tmp_path):
    torch.save({"weights": torch.zeros(3)}, tmp_path / "foreign.pt")
    with pytest.raises(ModelError, match="not an rbm-tui model"):
        load_model(tmp_path / "foreign.pt")
    path = save_model(model, tmp_path / "m.pt")
    blob = torch.load(path, weights_only=True)
    blob["W"] = torch.zeros(5, 5)
    torch.save(seal(blob), tmp_path / "bad_shape.pt")
    with pytest.raises(ModelError, match="shape"):
        load_model(tmp_path / "bad_shape.pt")
    blob = torch.load(path, weights_only=True)
    blob["W"] = blob["W"].clone()
    blob["W"][0, 0] = float("nan")
    torch.save(seal(blob), tmp_path / "nan.pt")
    with pytest.raises(ModelError, match="NaN"):
        load_model(tmp_path / "nan.pt")


DATA = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize("name", ["model-v1.pt", "model-v1-4weights.pt"])
def test_version_1_files_load_through_their_upgrades_and_score_as_before(name, tmp_path):
    """Stored files written by rbm-tui's format version 1 (positional calibration weights; the
    oldest layout with 4 weights and no rating sums, lateral weights or neighbours; the last
    with 9 and all of them) load through the upgrades to version 7 and give the P(like) and
    seen log-odds the version that wrote them gave (``model-v1-expected.json``): the
    neighbours are gone (they only moved the stars' P(like)), the seen and partners features
    weigh 0 and the 30-movie lateral weights become a movie-to-movie part that keeps, for
    every movie, all 29 others. Saved again they are version 7 and load the same."""
    import json

    expected = json.loads((DATA / "model-v1-expected.json").read_text())[name]
    blob = torch.load(DATA / name, weights_only=True)
    header = json.loads(blob["header"])
    assert header["format_version"] == 1 and isinstance(header["calibration"], list)
    old = load_model(DATA / name, device="cpu")
    assert set(old.calibration) == {*FEATURES, "bias"} and old.calibration["seen"] == 0.0
    assert old.calibration["partners"] == 0.0
    assert old.calibration == from_positional(header["calibration"])
    ii = old.rbm.item_item
    if "lateral" in blob:
        assert ii is not None and ii.partners.shape == (30, 29) and ii.gamma == 0.0
        lateral = blob["lateral"].float()
        for j in range(30):
            assert sorted(ii.partners[j].tolist()) == [i for i in range(30) if i != j]
            torch.testing.assert_close(ii.weights[j], lateral[ii.partners[j], j])
        assert (lateral < 0).any()  # the negative pulls are kept too
    else:
        assert ii is None
    got = fold_in(old, [0, 1], [2])
    # float32 log-odds: equal to the last bits (a log-odds near 0 may move by 1e-7; the
    # exact conditionals' softplus is now a log1p of a product, which rounds differently)
    np.testing.assert_allclose(got.p_like, expected["p_like"], rtol=1e-6)
    np.testing.assert_allclose(got.seen_logit, expected["seen_logit"], rtol=1e-6, atol=1e-6)
    again = load_model(save_model(old, tmp_path / "v4.pt"), device="cpu")
    saved = torch.load(tmp_path / "v4.pt", weights_only=True)
    assert json.loads(saved["header"])["format_version"] == FORMAT_VERSION == 7
    assert "lateral" not in saved and "neighbour_items" not in saved
    assert ("item_item_partners" in saved) == (ii is not None)
    assert again.calibration == old.calibration
    np.testing.assert_allclose(fold_in(again, [0, 1], [2]).p_like, got.p_like)
    np.testing.assert_allclose(fold_in(again, [0, 1], [2]).seen_logit, got.seen_logit)


def test_positional_weights_map_to_names_with_the_missing_ones_at_zero():
    """The 1 -> 2 upgrade names the positional weights: 4 (before the movie-rating and trust
    features), 7 (before the rating bias), 8 (before the neighbours) or 9 (the neighbours
    weight, no longer used, dropped); the seen and partners features, newer than all, weigh
    0; other counts are refused."""
    names = (*FEATURES, "bias")
    four = from_positional([0.5, 0.25, 0.75, -0.1])
    assert [four[n] for n in names] == [0.5, 0.25, 0.75, 0, 0, 0, 0, 0, 0, -0.1]
    seven = from_positional([0.9, 0.1, 0.2, 0.3, 0.01, 0.02, -0.2])
    assert seven["person_rating"] == 0.0 and seven["seen"] == 0.0 and seven["bias"] == -0.2
    eight = from_positional([0.9, 0.1, 0.2, 0.3, 0.01, 0.02, 0.5, -0.2])
    assert eight["person_rating"] == 0.5 and eight["seen"] == 0.0
    nine = from_positional([0.9, 0.1, 0.2, 0.3, 0.01, 0.02, 0.5, 0.7, -0.2])
    assert [nine[n] for n in names] == [0.9, 0.1, 0.2, 0.3, 0.01, 0.02, 0.5, 0.0, 0.0, -0.2]
    assert all(set(w) == set(names) for w in (four, seven, eight, nine))
    with pytest.raises(ValueError, match="3 calibration weights"):
        from_positional([0.9, 0.1, 0.2])
    assert upgrade({**nine, "neighbours": 0.7}) == nine  # format 2's names: the same


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
    torch.save(seal(blob), tmp_path / "bad_sums.pt")
    with pytest.raises(ModelError, match="item_rating_sums"):
        load_model(tmp_path / "bad_sums.pt")


def test_damaged_item_item_tensors_are_refused(model, tmp_path):
    """Partners outside the catalogue or not whole numbers, shapes that do not fit, NaN
    weights, one tensor of the pair alone or a gamma out of range: ModelError naming the file
    and the problem. Without both tensors the model has no movie-to-movie part."""
    import json

    path = save_model(model, tmp_path / "m.pt")
    blob = torch.load(path, weights_only=True)
    n_items = blob["W"].shape[0] // 2

    def both(t):  # both tensors cut to fewer movies than the catalogue has
        return t[:-1]

    cases = {
        "out_of_range": ({"item_item_partners": lambda t: t.fill_(n_items)}, "outside"),
        "negative": ({"item_item_partners": lambda t: t.fill_(-1)}, "outside"),
        "float_partners": ({"item_item_partners": lambda t: t.double() + 0.5}, "int64"),
        "nan": ({"item_item_weights": lambda t: t.fill_(float("nan"))}, "NaN"),
        "inf": ({"item_item_weights": lambda t: t.fill_(float("inf"))}, "infinite"),
        "columns": ({"item_item_weights": lambda t: t[:, :1]}, "shapes"),
        "rows": ({"item_item_partners": lambda t: t[:-1]}, "shapes"),
        "both_rows": ({"item_item_partners": both, "item_item_weights": both}, "shapes"),
        "flat": ({"item_item_weights": lambda t: t.reshape(-1)}, "shapes"),
        "half": ({"item_item_weights": lambda t: None}, "missing"),
        "other_half": ({"item_item_partners": lambda t: None}, "missing"),
        "not_a_tensor": ({"item_item_partners": lambda t: [1, 2]}, "is a list"),
    }  # fmt: skip
    for name, (damage, message) in cases.items():
        bad = dict(blob)
        for key, change in damage.items():
            bad[key] = change(blob[key].clone())
            if bad[key] is None:
                del bad[key]
        torch.save(seal(bad), tmp_path / f"{name}.pt")
        with pytest.raises(ModelError, match=message) as err:
            load_model(tmp_path / f"{name}.pt")
        assert f"{name}.pt" in str(err.value)
    for gamma in (-0.5, 11.0, "0.5"):
        header = json.loads(blob["header"])
        header["item_item_gamma"] = gamma
        torch.save(seal({**blob, "header": json.dumps(header)}), tmp_path / "gamma.pt")
        with pytest.raises(ModelError, match="item_item_gamma"):
            load_model(tmp_path / "gamma.pt")
    bare = dict(blob)
    del bare["item_item_partners"], bare["item_item_weights"]
    torch.save(seal(bare), tmp_path / "bare.pt")
    assert load_model(tmp_path / "bare.pt").rbm.item_item is None


def _version_3(blob: dict, lateral=None) -> dict:
    """A version-3 file of the tensors of ``blob`` (a saved model): no movie-to-movie part
    and no gamma; the dense ``lateral`` weights and neighbour tensors of those versions, a
    calibration with the neighbours feature and without the seen one."""
    import json

    header = json.loads(blob["header"])
    header["format_version"] = 3
    del header["item_item_gamma"]
    cal = {k: v for k, v in header["calibration"].items() if k not in ("seen", "partners")}
    header["calibration"] = {**cal, "neighbours": 0.7}
    old = {k: v for k, v in blob.items() if not k.startswith("item_item_")}
    n = header["n_items"]
    old["neighbour_items"] = torch.zeros(n, 3, dtype=torch.int64)
    old["neighbour_sims"] = torch.ones(n, 3)
    if lateral is not None:
        old["lateral"] = lateral
    return {**old, "header": json.dumps(header)}


def test_a_version_3_file_with_dense_lateral_weights_loads_as_the_sparse_part(tmp_path):
    """The 3 -> 4 upgrade: every movie keeps the 100 strongest (by size: negative ones too)
    of the lateral weights pulling on it, as its partners; the neighbours are dropped with
    their calibration weight; the seen feature weighs 0; gamma is 0, so the seen log-odds are
    the RBM's plus the kept lateral pulls of the rated movies, as version 3 added them."""
    from helpers import random_ratings

    r = random_ratings(n_users=60, n_items=150, n=3000, seed=2)
    n = r.n_items
    assert n == 150
    model = train(r, TrainConfig(n_hidden=4, epochs=1, item_item_weight=0.0)).model
    assert model.rbm.item_item is None
    blob = torch.load(save_model(model, tmp_path / "v4.pt"), weights_only=True)
    # lateral[i, j]: movie i's pull on movie j; per column 100 strong pulls (|w| >= 0.5, about
    # half of them negative) and 49 weak positive ones (< 0.01) that the top 100 leave out
    g = torch.Generator().manual_seed(0)
    lateral = torch.rand(n, n, generator=g) * 0.01
    strong = torch.zeros(n, n, dtype=torch.bool)
    for j in range(n):
        others = torch.tensor([i for i in range(n) if i != j])
        pick = others[torch.randperm(n - 1, generator=g)[:100]]
        strong[pick, j] = True
        sign = torch.where(torch.rand(100, generator=g) < 0.5, -1.0, 1.0)
        lateral[pick, j] = sign * (0.5 + 0.5 * torch.rand(100, generator=g))
    lateral.fill_diagonal_(0.0)
    torch.save(_version_3(blob, lateral), tmp_path / "v3.pt")

    old = load_model(tmp_path / "v3.pt", device="cpu")
    ii = old.rbm.item_item
    assert ii is not None and ii.partners.shape == ii.weights.shape == (n, 100)
    assert ii.gamma == 0.0
    for j in range(n):
        assert set(ii.partners[j].tolist()) == set(strong[:, j].nonzero().flatten().tolist())
        torch.testing.assert_close(ii.weights[j], lateral[ii.partners[j], j])
    assert "neighbours" not in old.calibration and old.calibration["seen"] == 0.0
    assert old.calibration["partners"] == 0.0
    assert {k: v for k, v in old.calibration.items() if k != "seen"} == {
        k: v for k, v in model.calibration.items() if k != "seen"
    }
    likes, dislikes = [0, 5, 7], [9]
    got = fold_in(old, likes, dislikes)
    old.rbm.item_item = None
    base = fold_in(old, likes, dislikes)
    kept = torch.where(strong, lateral, torch.zeros(()))[likes + dislikes].sum(0).numpy()
    np.testing.assert_allclose(got.seen_logit, base.seen_logit + kept, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got.p_like, base.p_like)

    # without lateral weights: no part; misshapen or NaN ones: refused
    torch.save(_version_3(blob), tmp_path / "plain.pt")
    assert load_model(tmp_path / "plain.pt").rbm.item_item is None
    torch.save(_version_3(blob, lateral[:, :-1]), tmp_path / "cut.pt")
    with pytest.raises(ModelError, match=r"cut.pt: cannot upgrade .*version 3.*lateral"):
        load_model(tmp_path / "cut.pt")
    lateral[3, 4] = float("nan")
    torch.save(_version_3(blob, lateral), tmp_path / "nan.pt")
    with pytest.raises(ModelError, match="nan.pt"):
        load_model(tmp_path / "nan.pt")


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


def test_a_version_4_file_loads_with_the_partners_feature_weighing_0(tmp_path):
    """The 4 -> 5 upgrade: the calibration gains the partners feature with weight 0, every
    other weight and tensor as the file has them."""
    import json

    from helpers import random_ratings

    r = random_ratings(n_users=60, n_items=40, n=1500, seed=3)
    model = train(r, TrainConfig(n_hidden=4, epochs=2)).model
    assert model.rbm.item_item is not None
    blob = torch.load(save_model(model, tmp_path / "v5.pt"), weights_only=True)
    header = json.loads(blob["header"])
    header["format_version"] = 4
    header["calibration"] = {k: v for k, v in header["calibration"].items() if k != "partners"}
    torch.save({**blob, "header": json.dumps(header)}, tmp_path / "v4.pt")
    old = load_model(tmp_path / "v4.pt", device="cpu")
    assert old.calibration == {**header["calibration"], "partners": 0.0}
    torch.testing.assert_close(old.rbm.item_item.weights, model.rbm.item_item.weights)
    again = load_model(save_model(old, tmp_path / "again.pt"), device="cpu")
    assert (
        json.loads(torch.load(tmp_path / "again.pt", weights_only=True)["header"])["format_version"]
        == FORMAT_VERSION
    )
    assert again.calibration == old.calibration


def test_a_version_5_file_loads_without_the_persons_own_like_term(tmp_path, model):
    """The 5 -> 6 upgrade: no person's own like term (weight 0), so the file's P(like) is
    what it was; a version-6 file keeps its term, and the term moves P(like)."""
    import json

    assert model.rbm.rate_weight != 0.0 and model.rbm.rate_prior == 5.0
    path = save_model(model, tmp_path / "v6.pt")
    back = load_model(path, device="cpu")
    fields = ("rate_weight", "rate_prior", "rate_share")
    assert [getattr(back.rbm, k) for k in fields] == [getattr(model.rbm, k) for k in fields]
    likes, dislikes = [0, 1, 2], [3]
    np.testing.assert_allclose(
        fold_in(back, likes, dislikes).p_like, fold_in(model, likes, dislikes).p_like
    )
    blob = torch.load(path, weights_only=True)
    header = json.loads(blob["header"])
    header["format_version"] = 5
    for k in fields:
        del header[k]
    torch.save({**blob, "header": json.dumps(header)}, tmp_path / "v5.pt")
    old = load_model(tmp_path / "v5.pt", device="cpu")
    assert old.rbm.rate_weight == 0.0 and old.rbm.like_offset([3], [4]) is None
    assert not np.allclose(
        fold_in(old, likes, dislikes).p_like, fold_in(model, likes, dislikes).p_like
    )


def test_a_score_that_is_not_a_number_is_saved_as_null_not_bare_nan(seeded_model_file, tmp_path):
    """Validation pairs of one class score NaN; ``json.dumps`` wrote it as ``NaN``, which is
    not JSON (another program reading the header fails on it)."""
    import json

    import torch

    from engine.model.storage import load_model, save_model
    from engine.training.validation import monitored_score

    model = load_model(seeded_model_file, device="cpu")
    model.meta["val_metrics"] = {"auc": float("nan"), "ndcg@10": 0.25}
    path = save_model(model, tmp_path / "nan.pt")
    header = torch.load(path, weights_only=True)["header"]
    assert "NaN" not in header
    assert json.loads(header)["meta"]["val_metrics"] == {"auc": None, "ndcg@10": 0.25}
    again = load_model(path, device="cpu")
    assert monitored_score(again.meta["val_metrics"]) is None
    assert monitored_score({"auc": "x", "ndcg@10": 0.2}) is None


def test_the_models_list_reads_a_file_again_once_it_changed(seeded_model_file, rbm_home):
    """The list keeps each file's checked header while the file is unchanged (a big model's
    check reads hundreds of MB); a file replaced meanwhile is read again."""
    import shutil

    from engine import paths
    from engine.model import storage

    target = paths.models_dir() / "m.pt"
    shutil.copy(seeded_model_file, target)
    (first,) = storage.list_models()
    assert not first.error and first.header["n_items"] > 0
    first.header["n_items"] = -1  # a caller's change to its copy stays its own
    (again,) = storage.list_models()
    assert again.header["n_items"] > 0
    target.write_bytes(b"not a model any more")
    (changed,) = storage.list_models()
    assert changed.error and changed.header == {}
