"""A release's story and its notes: about-us blocks, funder notices, addresses, contact
lines and end markers leave every post and newsletter and stay in `notes`.

The corpus in `tests/releases/` is written for these tests in the shapes real releases
come in — PDF extractions with banners and running heads, pasted web pages with
breadcrumbs and "related news", Markdown with a `###` marker — in English, Spanish,
French and Russian. Each entry names phrases of the story and phrases of the notes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.config import load_config
from bot.render import render, targets
from bot.sources import feed
from bot.sources.extract import line_kind
from bot.sources.files import read_release_file
from tests.helpers import CHANNELS, NEWSLETTER_OUTBOX, make_workspace

CORPUS = Path(__file__).parent.parent / "releases"

# file: (title, phrases of the story, phrases of the notes)
EXPECTED: dict[str, tuple[str, list[str], list[str]]] = {
    "en-eu-delegation-pdf.txt": (
        "EU helps 40 rural schools switch to solar heating",
        ["Forty rural schools", "Green Schools Foundation, which will also train"],
        ["About the Green Schools Foundation", "non-governmental organisation",
         "is made up of 27 Member States", "cultural diversity", "Strada Kogălniceanu",
         "+373 22 505 210", "delegation-moldova-press@", "EUinMoldova",
         "Delegation of the European Union to the Republic of Moldova"]),
    "en-foundation-web.txt": (
        "Coastal wetlands restoration reaches halfway mark",
        ["120 hectares of salt marsh", "drier summer months"],
        ["Notes to editors", "registered charity", "07700 900123", "press@estuarytrust",
         "Follow us on Instagram"]),
    "en-ngo-ends.txt": (
        "New helpline answers 10,000 calls from older people in its first year",
        ["10,312 calls", "140 trained volunteers"],
        ["Priya Nandakumar", "+44 20 7946 0321", "media@laterlifelink", "founded in 1998"]),
    "en-interreg-hash.md": (
        "Cross-border bus line connects two valleys",
        ["eight return journeys", "regional travel passes"],
        ["About the programme", "co-funded by the European Union", "Giulia Ferrante"]),
    "es-fundacion-pdf.txt": (
        "La Fundación Horizonte abre 25 aulas digitales en escuelas rurales de Extremadura",
        ["25 aulas digitales", "Jerez de los Caballeros"],
        ["cofinanciado por la Unión Europea", "Fondo Social Europeo Plus",
         "Acerca de la Fundación Horizonte", "sin ánimo de lucro", "Lucía Martín Robles",
         "+34 924 000 123", "prensa@fundacionhorizonte", "Avenida de Extremadura 45"]),
    "es-delegacion-web.txt": (
        "La UE y el Gobierno firman un programa de 15 millones para el agua potable",
        ["60 comunidades andinas", "45.000 personas"],
        ["está formada por 27 Estados miembros", "recursos y destinos",
         "Delegación de la Unión Europea en Perú", "Belaúnde 147", "+51 1 415 0800",
         "@UEenPeru"]),
    "es-ayuntamiento-fin.txt": (
        "El Ayuntamiento abre un nuevo centro de día para mayores en el barrio del Carmen",
        ["60 plazas", "cualquier oficina municipal"],
        ["Gabinete de prensa", "963 000 456", "comunicacion@ayuntamiento"]),
    "fr-association-pdf.txt": (
        "Une nouvelle ressourcerie ouvre ses portes à Villeurbanne",
        ["ressourcerie de 800 m²", "souligne la présidente"],
        ["cofinancé par l'Union européenne", "développement régional",
         "À propos de Deuxième Vie", "Camille Lefèvre", "+33 4 78 00 00 00",
         "presse@deuxiemevie", "12 rue des Charmettes"]),
    "fr-delegation-web.txt": (
        "L'Union européenne soutient la vaccination de 200 000 enfants au Sénégal",
        ["400 réfrigérateurs solaires", "avec l'UNICEF"],
        ["constituée de 27 États membres", "leurs destins", "Délégation de l'Union",
         "avenue Birago Diop", "+221 33 889 11 00", "@UEauSenegal"]),
    "fr-mairie-fin.txt": (
        "La ville de Rennes plante 5 000 arbres dans ses écoles",
        ["5 000 arbres", "surface goudronnée"],
        ["Service de presse", "02 99 00 00 00", "presse@rennes-ville"]),
    "ru-fond-pdf.txt": (
        "Фонд «Открытая библиотека» оснастил 30 сельских библиотек Вологодской области",
        ["30 сельских библиотек", "в Кириллове"],
        ["О фонде", "работает с 2009 года", "Анна Соколова", "+7 (8172) 00-00-00",
         "press@openlibrary", "ул. Мира"]),
    "ru-delegation-web.txt": (
        "ЕС выделил 5 млн евро на модернизацию водоснабжения в Оше",
        ["40 километров", "круглосуточно"],
        ["финансируется Европейским союзом", "состоит из 27 государств-членов",
         "ресурсы и судьбы", "Пресс-служба", "+996 312 00 00 00", "@EUinKyrgyzstan"]),
}
# markers that say where a release ends never reach a post or the notes
MARKERS = ("###", "ENDS", "-FIN-", "- Fin -", "Page 1 of 2", "Share this article",
           "Related news", "Rangers ring 300 terns")


def test_the_corpus_is_all_here() -> None:
    files = sorted(p.name for p in CORPUS.iterdir())
    assert files == sorted(EXPECTED)
    assert {name[:2] for name in files} == {"en", "es", "fr", "ru"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_story_and_notes_are_apart(name: str) -> None:
    title, story, notes = EXPECTED[name]
    r = read_release_file(CORPUS / name, source="press", key=name)
    assert r.title == title
    assert r.published_at is not None
    for phrase in story:
        assert phrase in r.body, phrase
        assert phrase not in r.notes, phrase
    for phrase in notes:
        assert phrase in r.notes, phrase
        assert phrase not in r.body and phrase not in r.summary, phrase
        assert phrase not in r.body_html, phrase
    for marker in MARKERS:
        assert marker not in r.body and marker not in r.notes, marker
    assert r.summary and r.summary in r.body


CORPUS_CHANNELS = CHANNELS + NEWSLETTER_OUTBOX + """
[channels.bluesky]
type = "outbox"
like = "bluesky"
approval = "manual"
"""


def test_no_post_or_newsletter_carries_the_notes(tmp_path: Path) -> None:
    """Through the CLI: every file previewed for every kind of channel."""
    ws = make_workspace(tmp_path, channels=CORPUS_CHANNELS)
    for path in CORPUS.iterdir():
        (ws.content / path.name).write_bytes(path.read_bytes())
    result = ws.run("preview", str(ws.content), "--json")
    assert result.exit_code == 0, result.output
    items = json.loads(result.output)
    assert {i["channel"] for i in items} == {"mastodon", "facebook", "bluesky", "newsletter"}
    assert len(items) == 4 * len(EXPECTED)
    by_title = {t: n for n, (t, _, _) in EXPECTED.items()}
    for item in items:
        _, story, notes = EXPECTED[by_title[item["release"]["title"]]]
        out = " ".join(str(item.get(k) or "") for k in ("text", "subject", "html"))
        for phrase in notes:
            assert phrase not in out, (item["channel"], phrase)
        if item["type"] == "email":
            # the newsletter carries the whole story
            assert all(p in item["text"] for p in story), item["release"]["title"]


FEED_ITEM = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>News</title><link>https://www.example.org/</link>
<item><title>Bridge reopens</title><link>https://www.example.org/news/bridge</link>
<guid>bridge</guid><pubDate>Tue, 10 Mar 2026 09:00:00 GMT</pubDate>
<description><![CDATA[<p>The bridge over the Drava reopened today after repairs.</p>
<p>It carries 8,000 vehicles a day.</p>
<h3>À propos du programme</h3><p>Le programme relie deux régions.</p>
<p>Contact presse : Marie Dupont<br>Tél. : +33 1 23 45 67 89</p>]]></description>
</item></channel></rss>"""


def test_a_feed_entry_leaves_its_footer_in_the_notes(tmp_path: Path) -> None:
    [r] = feed.parse("site", FEED_ITEM.encode(), url="https://www.example.org/feed")
    assert "8,000 vehicles" in r.body and "8,000 vehicles" in r.body_html
    for phrase in ("À propos du programme", "relie deux régions", "+33 1 23 45 67 89"):
        assert phrase in r.notes
        assert phrase not in r.body and phrase not in r.body_html
    ws = make_workspace(tmp_path, channels=NEWSLETTER_OUTBOX)
    config = load_config(ws.config)
    [target] = targets(config)
    email = render(r, target, config)
    assert email.html and "8,000 vehicles" in email.html
    assert "Marie Dupont" not in email.html and "Marie Dupont" not in email.text


def test_templates_may_show_the_notes(tmp_path: Path) -> None:
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "with-notes.txt.j2").write_text("{{ title }}\n\n{{ notes }}\n")
    ws = make_workspace(tmp_path, channels=f"""
[channels.mastodon]
type = "outbox"
like = "mastodon"
templates_dir = "{tmp_path}/tpl"
template = "with-notes.txt.j2"
""")
    config = load_config(ws.config)
    r = read_release_file(CORPUS / "fr-mairie-fin.txt", source="press", key="k")
    [target] = targets(config)
    assert "presse@rennes-ville.example" in render(r, target, config).text


@pytest.mark.parametrize(("line", "kind"), [
    ("Acerca de la Fundación Horizonte", "footer"),
    ("Contacto de prensa:", "footer"),
    ("Para más información:", "footer"),
    ("À propos de l'association", "footer"),
    ("Contact presse :", "footer"),
    ("Pour plus d'informations", "footer"),
    ("О фонде «Открытая библиотека»", "footer"),
    ("Контакты для СМИ:", "footer"),
    ("-FIN-", "end"),
    ("- Fin -", "end"),
    ("— конец —", "end"),
    ("Tél. : +33 4 78 00 00 00", "boiler"),
    ("Тел.: +7 (8172) 00-00-00", "boiler"),
    ("Correo electrónico: prensa@fundacion.example", "boiler"),
    ("Эл. почта: press@openlibrary.example", "boiler"),
    ("Ce projet est cofinancé par l'Union européenne.", "boiler"),
    ("El proyecto está financiado por la Unión Europea.", "boiler"),
    ("Проект финансируется Европейским союзом.", "boiler"),
    ("160000, Вологда, ул. Мира, д. 1", "boiler"),
    ("Suivez-nous sur Facebook", "boiler"),
    # the story's own sentences stay story
    ("Sobre la mesa había 40 propuestas de los vecinos.", "text"),
    ("О проекте рассказали жителям на встрече в библиотеке.", "text"),
    ("À propos de ce chantier, le maire a promis une réunion publique.", "text"),
    ("La Unión Europea ha financiado la obra con 2 millones de euros.", "text"),
])
def test_line_kind_in_four_languages(line: str, kind: str) -> None:
    assert line_kind(line) == kind


def test_a_digest_newsletter_carries_no_notes(tmp_path: Path) -> None:
    from bot.render import render_digest

    ws = make_workspace(tmp_path, channels=NEWSLETTER_OUTBOX)
    config = load_config(ws.config)
    [target] = targets(config)
    found = [read_release_file(CORPUS / n, source="press", key=n) for n in sorted(EXPECTED)]
    digest = render_digest(found, target, config)
    assert not digest.blocking, digest.warnings
    out = f"{digest.subject} {digest.text} {digest.html}"
    for name in EXPECTED:
        title, _story, notes = EXPECTED[name]
        assert title in digest.text
        for phrase in notes:
            assert phrase not in out, (name, phrase)


RAW_HTML_MD = """---
title: Nueva línea de autobús transfronteriza
date: 2024-03-12
url: https://www.ejemplo.org/noticias/linea
---
<div class="lead"><b>Madrid, 12 de marzo de 2024.</b> La nueva línea conecta dos valles
y ofrece <a href="https://www.ejemplo.org/horario">ocho viajes</a> diarios.</div>

<div>El servicio empieza el <u>1 de abril</u> y cuesta <i>dos euros</i>.</div>

<div><b>Acerca de la Fundación Ejemplo</b></div>
<div>La Fundación Ejemplo es una organización sin ánimo de lucro fundada en 1990 que
trabaja en doce países.</div>
<script>alert("x")</script>
"""


def test_markdown_whose_body_is_html_leaves_no_tags_and_keeps_its_notes(tmp_path: Path
                                                                        ) -> None:
    """Site repositories keep bodies as HTML inside Markdown: no `<div><b>` reaches a post,
    and the footer it carries goes to the notes like any other."""
    ws = make_workspace(tmp_path, channels=CORPUS_CHANNELS)
    (ws.content / "linea.md").write_text(RAW_HTML_MD, encoding="utf-8")
    result = ws.run("preview", str(ws.content / "linea.md"), "--json")
    assert result.exit_code == 0, result.output
    items = json.loads(result.output)
    assert {i["channel"] for i in items} == {"mastodon", "facebook", "bluesky", "newsletter"}
    for item in items:
        assert item["release"]["summary"].startswith("Madrid, 12 de marzo de 2024. La nueva")
        out = " ".join(str(item.get(k) or "") for k in ("text", "subject"))
        for tag in ("<div", "<b>", "</b>", "<u>", "<i>", "<script", "alert("):
            assert tag not in out, (item["channel"], tag)
        assert "Fundación Ejemplo" not in out and "Fundación Ejemplo" not in (item["html"] or "")
        if item["type"] == "email":
            assert "El servicio empieza el 1 de abril" in item["text"]
            assert "<script" not in item["html"] and "alert(" not in item["html"]
            assert "ocho viajes</a>" in item["html"]  # the link stays a link in the email
    r = read_release_file(ws.content / "linea.md", source="press", key="linea.md")
    assert "Fundación Ejemplo es una organización" in r.notes
