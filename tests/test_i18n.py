"""The gettext catalogues: complete in every language, their `{fields}` intact, compiled
from the `.po` files a clean clone has (no build step)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from babel.messages.pofile import read_po

from bot import i18n


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_every_message_is_translated_with_its_fields(language: str) -> None:
    with i18n.po_path(language).open("rb") as po:
        catalog = read_po(po, locale=language)
    english = set(i18n.msgids())
    seen = set()
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        seen.update(ids)
        assert all(strings), f"{language}: {ids[0]!r} is not translated"
        fields = set(re.findall(r"\{\w+\}", ids[-1]))
        for text in strings:
            assert set(re.findall(r"\{\w+\}", text)) <= fields, (language, text)
    assert seen == english


def test_languages_fall_back_by_region_then_to_english() -> None:
    assert i18n.best("es-MX") == "es" and i18n.best("nl", "de_AT") == "de"
    assert i18n.best(None, "xx") == "en"
    assert i18n.gettext("de", "Read more:") == "Weiterlesen:"
    assert i18n.gettext("nl", "Read more:") == "Read more:"
    assert i18n.from_accept_language("nl, ru;q=0.4, fr;q=0.8") == "fr"
    assert i18n.from_accept_language("nl") is None


def test_markers_become_each_readers_words_and_date() -> None:
    text = f"{i18n.mark('Read the full release')} · {i18n.mark_date(date(2026, 6, 10))}"
    assert i18n.fill(text, "fr") == "Lire le communiqué complet · 10 juin 2026"
    assert i18n.fill(text, "ru") == "Читать полный текст · 10 июня 2026\u202fг."
    assert i18n.fill(text, None) == "Read the full release · 10 June 2026"
    assert i18n.fill(f'<p lang="{i18n.LANGUAGE_MARK}">', "de-AT") == '<p lang="de">'
    assert i18n.ngettext("ru", "Our news: {n} new release", "Our news: {n} new releases",
                         5) == "Наши новости: 5 новых пресс-релизов"
