"""A source's repeated footer is learned from its own releases, in any language.

The footers here are Finnish and Hungarian, languages `bot.sources.extract` has no words
for: only the repetition tells them apart from the story.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.config import load_config
from bot.ingest import fetch_all
from bot.models import Release
from bot.sources.boilerplate import History, Paragraphs, learn
from bot.store import Store, releases, schema
from bot.store import posts as post_store
from tests.fakes.feeds import FeedSite, Page, make_app, rss
from tests.fakes.server import LiveServer
from tests.helpers import CHANNELS, NEWSLETTER_OUTBOX, make_workspace

# -- a Finnish cycling federation's feed ---------------------------------------------------

FI_ABOUT = ("Suomen Polkupyöräilijät ry on vuonna 1968 perustettu valtakunnallinen "
            "kattojärjestö, joka edistää pyöräilyä arkiliikkumisen ja vapaa-ajan muotona "
            "kaikkialla Suomessa.")
FI_CONTACT = ("Lisätietoja: toiminnanjohtaja Anna Virtanen, puh. 040 123 4567, "
              "anna.virtanen@polkupyorailijat.fi")
FI_FUNDER = ("Hanketta rahoittaa Euroopan unionin Interreg Aurora -ohjelma vuosina "
             "2024–2027 osana alueellista yhteistyötä.")
FI_FOOTER_WORDS = ("kattojärjestö", "Lisätietoja", "rahoittaa", "Tietoa yhdistyksestä")
FI_QUOTE = ("– Pyöräily on halvin ja terveellisin tapa liikkua kaupungissa, ja siksi "
            "haluamme tehdä siitä turvallista kaikille, sanoo toiminnanjohtaja Anna Virtanen.")
FI_FREE = "Tapahtuma on maksuton."


def fi_entry(n: int, story: list[str], *, year: str = "2026", footer: bool = True) -> dict:
    paras = [*story]
    if footer:
        # the same footer each time, but for the year in the funder line and the phone
        funder = FI_FUNDER.replace("2024–2027", f"{int(year) - 2}–{year}")
        contact = FI_CONTACT.replace("123 4567", f"123 45{n:02d}")
        paras += ["Tietoa yhdistyksestä", FI_ABOUT, contact, funder]
    html = "".join(f"<p>{p}</p>" for p in paras)
    return {"title": f"Tiedote {n}: pyöräilykausi alkaa", "guid": f"fi-{n}",
            "link": f"https://www.polkupyorailijat.fi/uutiset/{n}",
            "pubDate": f"Mon, 0{n} Mar 2026 09:00:00 +0200",
            "description": f"<![CDATA[{html}]]>"}


FI_STORIES = {
    1: ["Kevään ensimmäinen yhteisajo järjestetään Helsingissä lauantaina, ja mukaan "
        "odotetaan satoja pyöräilijöitä eri puolilta pääkaupunkiseutua.",
        "Reitti kulkee Kauppatorilta Töölönlahdelle ja takaisin."],
    2: ["Tampereen kaupunki avaa kolme uutta pyöräkaistaa keskustaan toukokuun alussa, "
        "mikä lyhentää työmatkoja tuhansilla asukkailla.",
        FI_QUOTE,
        FI_FREE],
    3: ["Oulussa alkaa syksyllä koululaisten pyöräilykoulu, jossa lapset oppivat "
        "liikennesäännöt ja pyörän huollon yhdessä vanhempiensa kanssa.",
        FI_QUOTE,  # a follow-up quotes the last release once: still the story
        "Kursseja järjestetään viidellä koululla, ja ilmoittautuminen avautuu elokuussa.",
        FI_FREE],
}


@pytest.fixture
def fi_site() -> tuple[FeedSite, str]:  # type: ignore[misc]
    state = FeedSite()
    with LiveServer(make_app(state)) as server:
        yield state, server.url


def _serve(state: FeedSite, entries: list[dict], extra: str = "") -> None:
    state.pages["/feed"] = Page(rss(entries, extra=extra), last_modified=None)


def _stored(config_path: Path, source: str) -> dict[str, tuple[int, Release]]:
    config = load_config(config_path)
    store = Store(config.bot.database_url)
    try:
        with store.begin() as conn:
            ids = conn.execute(releases.releases.select()
                               .where(releases.releases.c.source == source)).fetchall()
            # by the key's last part: a feed's guid resolves against the feed's address
            return {row.key.rsplit("/", 1)[-1]: (row.id, releases.to_model(row)) for row in ids}
    finally:
        store.dispose()


def _posts(config_path: Path, release_id: int) -> list[post_store.Post]:
    config = load_config(config_path)
    store = Store(config.bot.database_url)
    try:
        with store.begin() as conn:
            return post_store.listing(conn, release_id=release_id)
    finally:
        store.dispose()


def _fetch(ws, source: str) -> str:  # type: ignore[no-untyped-def]
    result = ws.run("fetch", "--source", source)
    assert result.exit_code == 0, result.output
    return str(result.stdout)


def _assert_clean(release: Release, posts: list[post_store.Post], words: tuple[str, ...]
                  ) -> None:
    for word in words:
        assert word in release.notes, (word, release.notes)
        for field in ("summary", "body", "body_html"):
            assert word not in getattr(release, field), (word, field)
        for post in posts:
            assert word not in post.text and word not in (post.html or ""), (word, post.channel)


def test_a_feeds_footer_is_learned_after_two_releases(fi_site: tuple[FeedSite, str],
                                                      tmp_path: Path, database_url: str
                                                      ) -> None:
    """Through `fetch_all`, as `pressbot fetch` runs it, with a store this test closes (the
    in-process CLI leaves its PostgreSQL connections open)."""
    state, base = fi_site
    ws = make_workspace(tmp_path, database_url=database_url,
                        channels=CHANNELS + NEWSLETTER_OUTBOX, extra=(
        f'\n[sources.liitto]\ntype = "feed"\nurl = "{base}/feed"\nallow_private = true\n'
        'backlog = "all"\n'))
    config = load_config(ws.config)
    store = Store(config.bot.database_url)

    def fetch() -> tuple[int, int, int]:
        report, = asyncio.run(fetch_all(config, store, only="liitto"))
        assert report.ok, report.errors
        return report.new, report.updated, report.unchanged

    try:
        _a_feeds_footer_is_learned(state, ws.config, fetch)
    finally:
        store.dispose()


def _a_feeds_footer_is_learned(state: FeedSite, config_path: Path,
                               fetch: Callable[[], tuple[int, int, int]]) -> None:
    entries = {n: fi_entry(n, FI_STORIES[n]) for n in (1, 2, 3)}
    _serve(state, [entries[1]])
    assert fetch() == (1, 0, 0)
    first = _stored(config_path, "liitto")["fi-1"][1]
    _serve(state, [entries[2], entries[1]])
    assert fetch() == (1, 0, 1)
    _serve(state, [entries[3], entries[2], entries[1]])
    assert fetch() == (1, 0, 2)

    stored = _stored(config_path, "liitto")
    for key in ("fi-2", "fi-3"):
        release_id, release = stored[key]
        posts = _posts(config_path, release_id)
        assert {p.channel for p in posts} == {"mastodon", "facebook", "newsletter"}
        _assert_clean(release, posts, FI_FOOTER_WORDS)
        assert release.summary == FI_STORIES[int(key[-1])][0]
    third = stored["fi-3"][1]
    # the story stays whole: its lede, the quote it repeats once, its short last sentence
    assert third.body.split("\n\n") == FI_STORIES[3]
    assert FI_QUOTE in third.body_html and FI_FREE in third.body_html
    assert third.notes.startswith("Tietoa yhdistyksestä")
    # the first release is what the single-release rules made of it: learning later does
    # not rewrite it
    assert stored["fi-1"][1] == first

    # the feed is read again in full (a new build date): nothing is an update
    _serve(state, [entries[3], entries[2], entries[1]],
           extra="<lastBuildDate>Tue, 10 Mar 2026 10:00:00 +0200</lastBuildDate>")
    assert fetch() == (0, 0, 3)
    assert _stored(config_path, "liitto") == stored

    # a real correction of the third release is an update, and stays clean
    fixed = [*FI_STORIES[3][:2], FI_STORIES[3][2].replace("viidellä", "kuudella"),
             FI_STORIES[3][3]]
    _serve(state, [fi_entry(3, fixed), entries[2], entries[1]])
    assert fetch() == (0, 1, 2)
    release_id, release = _stored(config_path, "liitto")["fi-3"]
    assert release.body.split("\n\n") == fixed
    _assert_clean(release, _posts(config_path, release_id), FI_FOOTER_WORDS)


def test_a_short_sentence_two_stories_share_stays(fi_site: tuple[FeedSite, str],
                                                  tmp_path: Path) -> None:
    """No footer at all: the stories' one shared line is short, and it stays in each."""
    state, base = fi_site
    ws = make_workspace(tmp_path, extra=(
        f'\n[sources.liitto]\ntype = "feed"\nurl = "{base}/feed"\nallow_private = true\n'))
    two = fi_entry(2, FI_STORIES[2], footer=False)
    _serve(state, [two])
    _fetch(ws, "liitto")
    _serve(state, [fi_entry(3, FI_STORIES[3], footer=False), two])
    _fetch(ws, "liitto")
    third = _stored(ws.config, "liitto")["fi-3"][1]
    assert third.body.split("\n\n") == FI_STORIES[3]
    assert third.notes == ""


# -- a Hungarian cycling federation's folder ------------------------------------------------

HU_ABOUT = ("A Magyar Kerékpáros Szövetség 1990 óta képviseli a hazai kerékpárosok "
            "érdekeit, és országszerte szervez közösségi programokat minden korosztálynak.")
HU_CONTACT = ("További információ: Kovács Anna sajtóreferens, telefon 06 1 234 5678, "
              "kovacs.anna@kerekparos-szovetseg.hu")
HU_WORDS = ("képviseli", "További információ")
HU_FREE = "A rendezvény ingyenes."


def _md(title: str, story: list[str]) -> str:
    return ("---\ntitle: " + title + "\ndate: 2026-03-10\n---\n\n"
            + "\n\n".join([*story, HU_ABOUT, HU_CONTACT]) + "\n")


def _txt(title: str, story: list[str]) -> str:
    return "\n\n".join([title, "Budapest, 2026. március 12.", *story, HU_ABOUT,
                        HU_CONTACT]) + "\n"


def test_a_folders_footer_is_learned_across_md_and_txt_files(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path, channels=CHANNELS + NEWSLETTER_OUTBOX)
    (ws.content / "01-tavasz.md").write_text(_md("Tavaszi kerékpártúra a Balatonnál", [
        "Áprilisban ismét megrendezzük a Balaton-kört, amelyre idén már háromezer "
        "résztvevőt várunk az ország minden részéből.", HU_FREE]), encoding="utf-8")
    assert "1 new" in _fetch(ws, "press")
    (ws.content / "02-iskola.md").write_text(_md("Kerékpáros iskola indul Szegeden", [
        "Szeptembertől a szegedi általános iskolákban kerékpáros oktatás indul, ahol a "
        "gyerekek a közlekedési szabályokat is megtanulják.", HU_FREE]), encoding="utf-8")
    assert "1 new" in _fetch(ws, "press")
    (ws.content / "03-sav.txt").write_text(_txt("Új kerékpársáv a Nagykörúton", [
        "A főváros jövő hónapban átadja a Nagykörút teljes hosszán végigfutó védett "
        "kerékpársávot, amelyet naponta több ezren használnak majd.", HU_FREE]),
        encoding="utf-8")
    out = _fetch(ws, "press")
    assert "1 new" in out and "updated" not in out.replace("0 updated", ""), out

    stored = _stored(ws.config, "press")
    for key in ("02-iskola.md", "03-sav.txt"):
        release_id, release = stored[key]
        _assert_clean(release, _posts(ws.config, release_id), HU_WORDS)
        assert release.body.endswith(HU_FREE), release.body  # short: stays, though repeated
        assert release.summary.startswith(("Szeptembertől", "A főváros"))
    assert "<p>" + HU_FREE + "</p>" in stored["02-iskola.md"][1].body_html

    # a file touched but not changed is read again: still the same release
    os.utime(ws.content / "02-iskola.md", (1e9, 1e9))
    out = _fetch(ws, "press")
    assert "updated" not in out.replace("0 updated", ""), out
    assert _stored(ws.config, "press") == stored
    queue = json.loads(ws.run("queue", "--json").stdout)
    assert not [p for p in queue if "képviseli" in p["text"] and
                p["release"]["title"] != "Tavaszi kerékpártúra a Balatonnál"]


def test_releases_stored_before_prints_were_kept_teach_too(tmp_path: Path) -> None:
    """A database upgraded to prints has releases without them: they are made once, from
    the stored text, the first time a new release of their source is compared."""
    ws = make_workspace(tmp_path)
    story = ["Ősszel új kerékpárkölcsönző nyílik Debrecenben a vasútállomás mellett, "
             "negyven elektromos kerékpárral.", HU_FREE]
    (ws.content / "01.md").write_text(_md("Kölcsönző nyílik Debrecenben", story),
                                      encoding="utf-8")
    _fetch(ws, "press")
    store = Store(load_config(ws.config).bot.database_url)
    with store.begin() as conn:
        conn.execute(schema.release_prints.delete())
    (ws.content / "02.md").write_text(_md("Kerékpáros iskola indul Szegeden", [
        "Szeptembertől a szegedi általános iskolákban kerékpáros oktatás indul."]),
        encoding="utf-8")
    _fetch(ws, "press")
    with store.begin() as conn:
        kept = conn.execute(sa.select(schema.release_prints.c.release_id)).scalars().all()
    store.dispose()
    stored = _stored(ws.config, "press")
    assert sorted(kept) == sorted(i for i, _ in stored.values())
    assert "képviseli" in stored["02.md"][1].notes
    assert "képviseli" not in stored["02.md"][1].body


# -- the rules of `learn`, on releases made by hand -----------------------------------------

STORY = ["Council approves the new cycle bridge over the river after two years of "
         "public consultation with residents and businesses.",
         "Construction starts in June and the bridge opens to cyclists next spring."]
FOOTER = ["About the association",
          "The Riverside Cycling Association promotes everyday cycling in the region "
          "and speaks for its four thousand members since 1990.",
          "Contact: Jane Doe, +44 20 7946 0000"]


def _release(n: int, paras: list[str], **fields: str) -> Release:
    return Release(source="s", key=f"k{n}", title=f"Release {n}", body="\n\n".join(paras),
                   summary=paras[0], **fields)


def _history(*others: list[str]) -> History:
    history = History()
    for n, paras in enumerate(others, 1):
        history.add(n, Paragraphs(_release(n, paras)).stored)
    return history


def test_a_footer_seen_once_before_moves_with_its_heading_and_contact_line() -> None:
    other = ["A different story about a new bike lane along the harbour, opening soon "
             "to everyone.", *FOOTER]
    learned = learn(_release(9, [*STORY, *FOOTER]), _history(other), 9)
    assert learned.body == "\n\n".join(STORY)
    assert learned.notes == "About the association\n\n" + FOOTER[1] + "\n\n" + FOOTER[2]


def test_small_edits_still_match_and_a_story_alone_is_untouched() -> None:
    edited = [FOOTER[0], FOOTER[1].replace("four thousand", "five thousand")
              .replace("1990", "1991"), FOOTER[2]]
    learned = learn(_release(9, [*STORY, *edited]), _history([STORY[0], *FOOTER]), 9)
    assert learned.body == "\n\n".join(STORY)
    alone = _release(9, [*STORY, *FOOTER])
    assert learn(alone, _history(), 9) is alone
    assert learn(alone, _history([*STORY, *FOOTER]), 1) is alone  # its own prints: no match


def test_nothing_before_the_storys_end_moves_however_often_it_recurs() -> None:
    """A follow-up's quote, a templated lede: in the story, they are the story."""
    quote = ("“Every family should be able to cycle to school safely,” said the mayor, "
             "opening the consultation in the town hall.")
    lede = ("Today the association announces its 2026 programme, the latest of its yearly "
            "programmes for cycling in the region.")
    body = [lede, STORY[0], quote, STORY[1]]
    others = [[lede.replace("2026", str(year)), f"Story {year}.", quote] for year in (24, 25)]
    release = _release(9, body)
    assert learn(release, _history(*others), 9) is release


def test_a_footer_of_short_lines_alone_needs_two_other_releases() -> None:
    """Short lines ("Press office", a phone line) are weak evidence: one repeat is not a
    footer, two are."""
    lines = ["Press office", "Tel. 0049 30 1234 567", "presse@example.org"]
    once = _release(9, [*STORY, *lines])
    assert learn(once, _history(["Other news.", *lines]), 9) is once
    twice = learn(once, _history(["Other news.", *lines], ["More news.", *lines]), 9)
    assert twice.body == "\n\n".join(STORY) and twice.notes == "\n".join(lines)


def test_a_repeated_release_is_not_emptied() -> None:
    """A release posted again under a new address is all repeats: none of it is a footer."""
    again = _release(9, [*STORY, *FOOTER])
    assert learn(again, _history([*STORY, *FOOTER], [*STORY, *FOOTER]), 9) is again


def test_the_lede_and_the_html_follow_the_story() -> None:
    """A feed whose every entry's description is the site's self-description: that lede is
    the footer's, and the story's first paragraph takes its place."""
    html = ("<div class=\"entry\">" + "".join(f"<p>{p}</p>" for p in STORY)
            + f"<h3>{FOOTER[0]}</h3>"
            + "<address>" + "<br>".join(FOOTER[1:]) + "</address></div>")
    release = _release(9, [*STORY, *FOOTER], body_html=html).model_copy(
        update={"summary": FOOTER[1]})
    learned = learn(release, _history(["One story.", *FOOTER]), 9)
    assert learned.summary == STORY[0]
    assert learned.body == "\n\n".join(STORY)
    assert learned.body_html == ("<div class=\"entry\">"
                                 + "".join(f"<p>{p}</p>" for p in STORY) + "</div>")


def test_the_newest_prints_come_from_their_own_index_once_there_are_enough(
        database_url: str) -> None:
    from bot.store import prints

    store = Store(database_url)
    made: list[str] = []

    def compute(body: str, notes: str) -> list[list[int]]:
        made.append(body)
        return [[len(body)]]

    try:
        with store.begin() as conn:
            ids = [releases.insert(conn, _release(n, [f"Body {n}."])) for n in range(4)]
            prints.put(conn, "s", [(ids[2], [[2]]), (ids[3], [[3]])])
            # fewer kept than asked for: the releases table says which are the newest
            assert prints.recent(conn, "s", 3, compute) == {ids[3]: [[3]], ids[2]: [[2]],
                                                           ids[1]: [[7]]}
            assert made == ["Body 1."]
            assert prints.recent(conn, "s", 3, compute) == {ids[3]: [[3]], ids[2]: [[2]],
                                                           ids[1]: [[7]]}
            assert made == ["Body 1."]  # made once, kept
    finally:
        store.dispose()
