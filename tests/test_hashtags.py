"""Tags as press teams write them → hashtags Mastodon links."""

from __future__ import annotations

import pytest

from bot.hashtags import hashtag, hashtags


@pytest.mark.parametrize(("tag", "expected"), [
    ("climate", "#climate"),
    ("Climate", "#Climate"),
    ("cross-border cooperation", "#CrossBorderCooperation"),
    ("EU funding", "#EUFunding"),
    ("Zusammenarbeit", "#Zusammenarbeit"),
    ("Éducation nationale", "#ÉducationNationale"),
    ("E\u0301ducation", "#Éducation"),  # combining accent normalised to one code point
    ("women's rights", "#WomensRights"),
    ("women’s rights", "#WomensRights"),
    ("G7 summit", "#G7Summit"),
    ("COVID-19", "#COVID19"),
    ("#Budget", "#Budget"),
    ("  press  release!  ", "#PressRelease"),
    ("open_data", "#open_data"),
    ("東京", "#東京"),
    ("Україна", "#Україна"),
    ("2024", None),
    ("2024 - 2025", None),
    ("!!!", None),
    ("", None),
    ("   ", None),
    ("___", None),
])
def test_hashtag(tag: str, expected: str | None) -> None:
    assert hashtag(tag) == expected


def test_hashtags_are_valid_mastodon_tags() -> None:
    made = hashtags(["a.b.c", "x/y", "R&D", "news (EN)", "e-mail"])
    assert made == ["#ABC", "#XY", "#RD", "#NewsEN", "#EMail"]
    for tag in made:
        assert tag[0] == "#"
        assert all(char.isalnum() or char == "_" for char in tag[1:])


def test_hashtags_dedup_case_insensitively_in_order() -> None:
    assert hashtags(["Climate", "budget", "climate", "CLIMATE", "Budget", "2024", "EU"]) == \
        ["#Climate", "#budget", "#EU"]
    assert hashtags(["cross border", "Cross-Border", "crossBorder"]) == ["#CrossBorder"]


def test_hashtags_limit_counts_valid_tags_only() -> None:
    assert hashtags(["2024", "a", "A", "b", "c"], limit=2) == ["#a", "#b"]
    assert hashtags(["a", "b"], limit=0) == []
    assert hashtags(iter(["a", "b", "c"]), limit=None) == ["#a", "#b", "#c"]
