"""Model-file faults (issue 34, item 5): every tensor's dtype and storage size is checked
against the header before use, and a checksum of the header and tensors is stored and checked,
so a damaged file never loads silently. Older files (no checksum) still load."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from helpers import write_dataset  # noqa: E402

from engine.errors import ModelError  # noqa: E402
from engine.model import fileformat  # noqa: E402
from engine.model.fileformat import FORMAT_VERSION, seal  # noqa: E402
from engine.model.storage import load_model, read_header, save_model  # noqa: E402
from engine.model.upgrade import UPGRADES  # noqa: E402
from rbm_tui.cli import main  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> Path:
    """A real model of a tiny dataset (30 movies, 4 hidden units)."""
    from engine.data.loaders import load_ratings
    from engine.settings import TrainConfig
    from engine.training.loop import train

    folder = write_dataset(tmp_path_factory.mktemp("data") / "tiny")
    model = train(load_ratings(folder, cache=False), TrainConfig(n_hidden=4, epochs=2)).model
    return save_model(model, tmp_path_factory.mktemp("m") / "tiny.pt")


def _blob(path: Path) -> dict:
    return torch.load(path, weights_only=True)


def _cli(argv: list) -> tuple[int, str]:
    import contextlib

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = main([str(a) for a in argv])
    return rc, err.getvalue()


def test_saved_files_are_version_7_with_a_checksum_of_header_and_tensors(model_file):
    blob = _blob(model_file)
    assert json.loads(blob["header"])["format_version"] == FORMAT_VERSION == 7
    assert blob["checksum"].startswith("sha256:") and len(blob["checksum"]) == 7 + 64
    assert blob["checksum"] == fileformat.checksum(blob)
    assert 6 in UPGRADES  # the explicit 6 -> 7 step


@pytest.mark.parametrize("dtype", ["bool", "int64", "int32", "float16", "bfloat16", "complex64"])
def test_a_weight_matrix_of_a_wrong_dtype_is_refused_even_with_a_matching_checksum(
    model_file, tmp_path, dtype
):
    blob = _blob(model_file)
    blob["W"] = blob["W"].to(getattr(torch, dtype))
    f = tmp_path / f"{dtype}.pt"
    torch.save(seal(blob), f)
    with pytest.raises(ModelError, match=rf"{f.name}: damaged model file \(W is {dtype}, not"):
        load_model(f, device="cpu")


def test_counts_of_a_float_dtype_are_refused(model_file, tmp_path):
    blob = _blob(model_file)
    blob["item_counts"] = blob["item_counts"].double()
    torch.save(seal(blob), tmp_path / "c.pt")
    with pytest.raises(ModelError, match="item_counts is float64"):
        load_model(tmp_path / "c.pt", device="cpu")


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda b: b.update(W=b["W"] * 1e37), "W holds weights beyond"),
        (lambda b: b.update(c=b["c"] + 1e9), "c holds weights beyond"),
        (lambda b: b.update(item_likes=b["item_counts"] * 1000 + 5), "more likes than ratings"),
        (lambda b: b.update(item_rating_sums=b["item_rating_sums"] + 1e9), "beyond 10 stars"),
    ],
    ids=["huge-W", "huge-c", "likes-over-counts", "sums-over-stars"],
)
def test_values_no_training_gives_are_refused(model_file, tmp_path, change, why):
    """Finite but impossible tensors passed every check, re-sealed: P(like) printed NaN% and
    evaluate crashed in a bincount."""
    blob = _blob(model_file)
    change(blob)
    f = tmp_path / "odd.pt"
    torch.save(seal(blob), f)
    with pytest.raises(ModelError, match=why):
        load_model(f, device="cpu")


@pytest.mark.parametrize(
    ("meta", "field"),
    [
        ({"val_metrics": {"auc": "x", "ndcg@10": 0.1}}, "val_metrics"),
        ({"versions": [1, 2]}, "versions"),
        ({"dataset": {"n_users": "many"}}, "dataset"),
        ({"history": [{"epoch": 1, "seconds": "abc", "val": {}}]}, "history"),
        ({"history": [{"epoch": 1, "val": [{"auc": 1}]}]}, "history"),
    ],
    ids=["scores-text", "versions-list", "users-text", "seconds-text", "val-list"],
)
def test_metadata_the_screens_read_as_numbers_must_be_numbers(model_file, tmp_path, meta, field):
    """Crafted and re-sealed, these crashed the Models screen and `models info`."""
    blob = _blob(model_file)
    header = json.loads(blob["header"])
    header["meta"].update(meta)
    blob["header"] = json.dumps(header)
    f = tmp_path / "meta.pt"
    torch.save(seal(blob), f)
    with pytest.raises(ModelError, match=f"meta '{field}"):
        load_model(f, device="cpu")


def _rewrite(src: Path, dst: Path, change) -> None:
    """Copy the zip ``src`` to ``dst``, each record's bytes through ``change(name, data)``."""
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as out:
        for info in z.infolist():
            out.writestr(zipfile.ZipInfo(info.filename), change(info.filename, z.read(info)))


def _data_records(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as z:
        return [i.filename for i in z.infolist() if i.filename.split("/")[-2:-1] == ["data"]]


def test_a_storage_shorter_than_its_shape_is_refused_before_it_is_read(model_file, tmp_path):
    """Memory-mapped, such a tensor would read the next records (or past the end of the file);
    its checksum is then garbage-in, so the record sizes are checked first."""
    short = tmp_path / "short.pt"
    first = _data_records(model_file)[0]  # torch maps it without a word: the next records follow
    _rewrite(
        model_file, short, lambda name, data: data[: len(data) // 2] if name == first else data
    )
    torch.load(short, weights_only=True, mmap=True)  # torch alone would read past the record
    for read in (read_header, lambda p: load_model(p, device="cpu")):
        with pytest.raises(ModelError, match=r"short.pt: damaged model file \(a tensor's storage"):
            read(short)
    rc, err = _cli(["models", "info", short])
    assert rc == 2 and err.count("\n") == 1 and "storage" in err


def test_a_changed_byte_in_the_weights_is_refused_by_the_checksum(model_file, tmp_path):
    """Today's damage: the bytes of W changed (or zeroed, as a cut file rebuilt by a repair
    tool would be); the file is still a valid zip of a well-formed tensor table."""
    with zipfile.ZipFile(model_file) as z:
        sizes = {i.filename: i.file_size for i in z.infolist()}
    w_name = max(_data_records(model_file), key=sizes.__getitem__)

    def zero_half(name: str, data: bytes) -> bytes:
        return bytes(len(data) // 2) + data[len(data) // 2 :] if name == w_name else data

    _rewrite(model_file, tmp_path / "zeroed.pt", zero_half)
    with pytest.raises(ModelError, match="checksum does not match"):
        load_model(tmp_path / "zeroed.pt", device="cpu")
    rc, err = _cli(["recommend", "demo", "--model", tmp_path / "zeroed.pt"])
    assert rc == 2 and err.startswith("rbm-tui: error:") and "checksum" in err


def test_a_changed_header_is_refused_by_the_checksum(model_file, tmp_path):
    blob = _blob(model_file)
    header = json.loads(blob["header"])
    header["like_threshold"] = 1.0
    torch.save({**blob, "header": json.dumps(header)}, tmp_path / "h.pt")
    with pytest.raises(ModelError, match="checksum does not match"):
        read_header(tmp_path / "h.pt")


def test_a_version_7_file_without_a_checksum_is_refused(model_file, tmp_path):
    blob = _blob(model_file)
    del blob["checksum"]
    torch.save(blob, tmp_path / "bare.pt")
    with pytest.raises(ModelError, match=r"bare.pt: damaged model file \(no checksum\)"):
        load_model(tmp_path / "bare.pt", device="cpu")


def test_a_version_6_file_without_a_checksum_loads_through_its_upgrade(model_file, tmp_path):
    blob = _blob(model_file)
    del blob["checksum"]
    header = json.loads(blob["header"])
    header["format_version"] = 6
    blob["header"] = json.dumps(header)
    torch.save(blob, tmp_path / "v6.pt")
    old = load_model(tmp_path / "v6.pt", device="cpu")
    new = load_model(model_file, device="cpu")
    assert torch.equal(old.rbm.W, new.rbm.W) and old.calibration == new.calibration
    assert read_header(tmp_path / "v6.pt")["format_version"] == 7
    again = save_model(old, tmp_path / "again.pt")
    assert _blob(again)["checksum"] == fileformat.checksum(_blob(again))


def test_version_1_fixture_still_loads(tmp_path):
    model = load_model(FIXTURES / "model-v1.pt", device="cpu")
    assert model.n_items == 30 and model.rbm.W.dtype == torch.float32


def test_an_entry_that_is_neither_tensor_nor_text_is_refused(model_file, tmp_path):
    blob = _blob(model_file)
    blob["extra"] = {"nested": [1, 2]}
    torch.save(seal(blob), tmp_path / "x.pt")
    with pytest.raises(ModelError, match="entry 'extra' is a dict"):
        load_model(tmp_path / "x.pt", device="cpu")


def test_a_cut_file_gives_one_line_never_scores(model_file, tmp_path):
    data = model_file.read_bytes()
    for cut in (len(data) // 3, len(data) - 30, len(data) - 1):
        f = tmp_path / f"cut{cut}.pt"
        f.write_bytes(data[:cut])
        rc, err = _cli(["recommend", "demo", "--model", f])
        assert rc == 2 and err.count("\n") == 1 and str(f) in err, err


def test_checksum_covers_every_tensor_name_dtype_and_shape(model_file):
    blob = _blob(model_file)
    base = fileformat.checksum(blob)
    renamed = {**blob, "b2": blob.pop("b")}
    assert fileformat.checksum(renamed) != base
    blob = _blob(model_file)
    assert fileformat.checksum({**blob, "c": blob["c"].double()}) != base
    assert fileformat.checksum({**blob, "b": blob["b"].reshape(2, -1)}) != base
    assert fileformat.checksum({**blob, "W": torch.zeros_like(blob["W"])}) != base
