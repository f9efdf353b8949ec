"""``links.csv``: read beside a dataset's ratings (folder, file, zip) and kept on import."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from engine.taste.links import parse_links, read_links

RATINGS = "userId,movieId,rating,timestamp\n1,1,4,1\n1,2,3,2\n2,1,5,3\n"
MOVIES = "movieId,title,genres\n1,Toy Story (1995),Animation\n2,Jumanji (1995),Fantasy\n"
LINKS = "movieId,imdbId,tmdbId\n1,0114709,862\n2,0113497,\n"


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    d = tmp_path / "my-set"
    d.mkdir()
    (d / "ratings.csv").write_text(RATINGS, encoding="utf-8")
    (d / "movies.csv").write_text(MOVIES, encoding="utf-8")
    (d / "links.csv").write_text(LINKS, encoding="utf-8")
    return d


def _check(links) -> None:
    assert links is not None
    assert int(links.loc[1, "imdb"]) == 114709 and int(links.loc[1, "tmdb"]) == 862
    assert links["tmdb"].isna().tolist() == [False, True]


def test_links_are_read_beside_a_folder_a_ratings_file_and_a_zip(dataset: Path, tmp_path: Path):
    _check(read_links(dataset))
    _check(read_links(dataset / "ratings.csv"))
    z = tmp_path / "set.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in dataset.iterdir():
            zf.write(f, f"my-set/{f.name}")
    _check(read_links(z))


def test_a_dataset_without_links_gives_none(dataset: Path):
    (dataset / "links.csv").unlink()
    assert read_links(dataset) is None


def test_a_file_that_is_not_links_gives_none():
    assert parse_links("a,b\n1,2\n") is None
    assert parse_links("movieId,imdbId\nx,1\n").empty


def test_importing_a_ratings_file_keeps_its_links(dataset: Path):
    """``datasets import .../ratings.csv`` copies links.csv along; the engine reads it there."""
    from engine.catalogue.importer import import_dataset
    from engine.catalogue.registry import resolve

    import_dataset(dataset / "ratings.csv", "withlinks")
    data = resolve("withlinks")
    assert (data.parent / "links.csv").is_file()
    _check(read_links(data))
