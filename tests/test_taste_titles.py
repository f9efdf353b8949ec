"""Title keys: MovieLens's form and the form people know reduce to the same key."""

from __future__ import annotations

import pytest

from engine.taste.titles import front_article, short_keys, split_movielens, title_key


@pytest.mark.parametrize(
    ("movielens", "known"),
    [
        ("Matrix, The", "The Matrix"),
        ("Auberge espagnole, L'", "L'Auberge espagnole"),
        ("Misérables, Les", "Les Miserables"),
        ("Postino, Il", "Il postino"),
        ("Blaue Engel, Der", "Der blaue Engel"),
        ("Lord of the Rings: The Fellowship of the Ring, The",
         "The Lord of the Rings: The Fellowship of the Ring"),
        ("Alien³", "Alien 3"),
        ("Lock, Stock & Two Smoking Barrels", "Lock, Stock and Two Smoking Barrels"),
        ("Schindler's List", "Schindler’s List"),
        ("Amélie", "AMELIE"),
        ("Dr. Strangelove or: How I Learned to Stop Worrying and Love the Bomb",
         "Dr Strangelove or How I Learned to Stop Worrying and Love the Bomb"),
    ],
)  # fmt: skip
def test_movielens_and_known_titles_share_a_key(movielens: str, known: str):
    assert title_key(movielens) == title_key(known) != ""


@pytest.mark.parametrize(
    ("a", "b"),
    [("The Matrix", "The Matrix Reloaded"), ("Alien", "Aliens"), ("Heat", "The Heat Is On"),
     ("Yes, Madam", "Madam")],
)  # fmt: skip
def test_different_titles_keep_different_keys(a: str, b: str):
    assert title_key(a) != title_key(b)


def test_front_article_moves_only_an_article():
    assert front_article("Matrix, The") == "The Matrix"
    assert front_article("Yes, Madam") == "Yes, Madam"
    assert front_article("Nosferatu, eine Symphonie des Grauens") == (
        "Nosferatu, eine Symphonie des Grauens"
    )


def test_split_movielens_gives_names_then_year():
    assert split_movielens("City of Lost Children, The (Cité des enfants perdus, La) (1995)") == (
        ["City of Lost Children, The", "Cité des enfants perdus, La"],
        1995,
    )
    assert split_movielens("Léon: The Professional (a.k.a. The Professional) (Léon) (1994)") == (
        ["Léon: The Professional", "The Professional", "Léon"],
        1994,
    )
    assert split_movielens("Fawlty Towers (1975-1979)") == (["Fawlty Towers"], 1975)
    assert split_movielens("Unknown title") == (["Unknown title"], None)


def test_short_keys_split_a_series_name_from_its_subtitle():
    assert short_keys("Star Wars: Episode V - The Empire Strikes Back") == {
        "star wars",
        "episode v",
        "empire strikes back",
    }
    assert short_keys("Heat") == set()


def test_tail_keys_keep_telling_subtitles_with_their_series():
    from engine.taste.titles import tail_keys

    assert tail_keys("Star Wars: Episode VII - The Force Awakens") == {"star|force awakens"}
    assert tail_keys("Kill Bill: Vol. 1") == set()
    assert tail_keys("Heat") == set()
