"""The audience: normalisation, CSV import, erasure and suppression, tokens, the CLI.

Store-backed tests run on SQLite and, when PRESSBOT_TEST_DATABASE_URL is set, on
PostgreSQL too (each test in a schema of its own, dropped afterwards).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from bot import subscribers as subs
from bot.store import Store
from bot.store import subscribers as sub_store
from bot.store.schema import metadata

KEY = "test-signing-key-0123456789"


# ── normalisation ─────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize(("raw", "expected"), [
    ("  Ann.Lee@Example.ORG ", "ann.lee@example.org"),
    ("ann@EXAMPLE.org\n", "ann@example.org"),
    ("Zoë@example.org", "zoë@example.org"),
])
def test_addresses_are_stored_in_one_form(raw: str, expected: str) -> None:
    assert subs.normalise_email(raw) == expected


@pytest.mark.parametrize("raw", ["", "ann", "ann@", "@example.org", "a b@example.org",
                                 "ann@example..org", "ann@example.org\nBcc: x@y.z"])
def test_invalid_addresses_are_refused_with_the_value(raw: str) -> None:
    with pytest.raises(subs.SubscriberError, match="not a valid email address"):
        subs.normalise_email(raw)


def test_names_and_languages_are_tidied() -> None:
    assert subs.normalise_name("  Ann \n\u2028 Lee ") == "Ann Lee"
    assert subs.normalise_name("   ") is None
    assert subs.normalise_language("nl_BE") == "nl-BE"
    with pytest.raises(subs.SubscriberError, match="not a language tag"):
        subs.normalise_language("dutch please")


def test_the_same_person_in_another_case_is_one_subscriber(store: Store) -> None:
    subs.add(store, "Ann@Example.org", name="Ann")
    with pytest.raises(subs.SubscriberError, match="already subscribed"):
        subs.add(store, "ann@example.ORG")
    assert [s.email for s in subs.listing(store)] == ["ann@example.org"]


# ── CSV import ────────────────────────────────────────────────────────────────────────────

CSV = (
    "Email,Name,Language\n"                          # 1
    "ann@example.org,Ann,en\n"                       # 2
    "not-an-address,Bob,en\n"                        # 3
    "\n"                                             # 4 (blank: ignored)
    'cem@example.org,"Cem\nSecond line",nl-BE\n'     # 5-6 (a quoted newline)
    "dee@example.org,Dee,klingon please\n"           # 7
    "ANN@example.org,Ann again,\n"                   # 8 (duplicate of line 2)
    "eve@example.org,,\n"                            # 9
)


def test_import_reports_bad_rows_by_their_line(store: Store) -> None:
    report = subs.import_csv(store, CSV)

    assert report.added == 3
    assert [line for line, _ in report.errors] == [3, 7, 8]
    assert "not-an-address" in report.errors[0][1]
    assert "not a language tag" in report.errors[1][1]
    assert "already on line 2" in report.errors[2][1]
    people = {s.email: s for s in subs.listing(store)}
    assert sorted(people) == ["ann@example.org", "cem@example.org", "eve@example.org"]
    assert {s.status for s in people.values()} == {"active"}
    assert {s.consent_source for s in people.values()} == {"import"}
    assert all(s.consent_at is not None for s in people.values())
    assert people["cem@example.org"].name == "Cem Second line"
    assert people["cem@example.org"].language == "nl-BE"


def test_import_without_an_email_column_writes_nothing(store: Store) -> None:
    with pytest.raises(subs.SubscriberError, match="'email' column"):
        subs.import_csv(store, "address,name\nann@example.org,Ann\n")
    assert subs.listing(store) == []


def test_import_again_changes_nothing_and_activates_pending(store: Store) -> None:
    subs.import_csv(store, "email\nann@example.org\n")
    subs.request(store, "bob@example.org")
    report = subs.import_csv(store, "email\nann@example.org\nbob@example.org\n")
    assert (report.added, report.unchanged, report.reactivated) == (0, 1, 1)
    assert {s.status for s in subs.listing(store)} == {"active"}


# ── leaving: unsubscribe and erasure ──────────────────────────────────────────────────────

def _all_text(store: Store) -> str:
    """Every value in every table, as one string: where an erased address could hide."""
    parts = []
    with store.begin() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                parts.extend(str(v) for v in row)
    return "\n".join(parts)


def test_erasure_keeps_only_a_hash_and_blocks_reimport(store: Store) -> None:
    subs.add(store, "ann@example.org", name="Ann Lee")
    subs.add(store, "bob@example.org")

    assert subs.erase(store, "ANN@example.org") is True

    text = _all_text(store)
    assert "ann@example.org" not in text
    assert "Ann Lee" not in text
    with store.begin() as conn:
        assert sub_store.is_suppressed(conn, sub_store.email_hash("ann@example.org"))
    report = subs.import_csv(store, "email\nbob@example.org\nann@example.org\n")
    assert report.refused == [(3, "ann@example.org unsubscribed or was erased")]
    assert report.added == 0
    with pytest.raises(subs.SubscriberError, match="unsubscribed or was erased"):
        subs.add(store, "ann@example.org")
    assert [s.email for s in subs.listing(store)] == ["bob@example.org"]


def test_erasing_an_unknown_address_still_suppresses_it(store: Store) -> None:
    assert subs.erase(store, "never@example.org") is False
    assert subs.import_csv(store, "email\nnever@example.org\n").refused


def test_unsubscribe_is_idempotent_and_blocks_import(store: Store) -> None:
    ann = subs.add(store, "ann@example.org")
    assert subs.unsubscribe(store, ann.id) is True
    assert subs.unsubscribe(store, ann.id) is False
    assert subs.import_csv(store, "email\nann@example.org\n").refused
    with store.begin() as conn:
        assert sub_store.mailable(conn) == []


def test_double_opt_in_lifts_an_old_suppression(store: Store) -> None:
    ann = subs.add(store, "ann@example.org")
    subs.unsubscribe(store, ann.id)
    pending = subs.request(store, "ann@example.org")
    assert pending is not None
    token = subs.confirm_token(KEY, pending)
    confirmed = subs.confirm(store, subs.read_confirm_token(store, KEY, token))
    assert confirmed.status == "active"
    assert confirmed.consent_source == "form"
    assert confirmed.confirmed_at is not None
    with store.begin() as conn:
        assert [s.email for s in sub_store.mailable(conn)] == ["ann@example.org"]


def test_tokens_are_bound_to_the_address(store: Store) -> None:
    ann = subs.add(store, "ann@example.org")
    token = subs.unsubscribe_token(KEY, ann.id, ann.email)
    found = subs.read_unsubscribe_token(store, KEY, token)
    assert found is not None
    assert found.id == ann.id
    assert subs.read_unsubscribe_token(store, "another-key-0123456789", token) is None
    assert subs.read_unsubscribe_token(store, KEY, token[:-2] + "xx") is None
    # the row id comes back for someone else: the old link must not reach them
    subs.erase(store, "ann@example.org")
    with store.begin() as conn:
        conn.execute(sa.insert(sub_store.subscribers).values(
            id=ann.id, email="bob@example.org", status="active", bounces=0,
            created_at=ann.created_at, updated_at=ann.created_at))
    assert subs.read_unsubscribe_token(store, KEY, token) is None
    assert subs.is_signed_unsubscribe_token(KEY, token)


@pytest.mark.parametrize("key", [KEY, "ünï-kéy-0123456789"])
def test_the_fast_unsubscribe_token_is_itsdangerous_own(key: str) -> None:
    """Issue 27 item 17: the token is signed without `URLSafeSerializer.dumps` (its zlib
    set-up cost half a millisecond a copy), and is still the string it writes and reads:
    links already sent and links sent now are one format."""
    from itsdangerous import URLSafeSerializer

    reference = URLSafeSerializer(key, salt="pressbot-unsubscribe")
    for subscriber_id in (1, 7, 4321, 10**9):
        for email in ("ann@example.org", "zoë@exämple.org"):
            token = subs.unsubscribe_token(key, subscriber_id, email)
            assert token == reference.dumps([subscriber_id, subs._bind(email)])
            assert reference.loads(token) == [subscriber_id, subs._bind(email)]
    # a payload zlib would shorten: not compressed here, and still read
    squeezed = subs.unsubscribe_signer(key)(10**40, "x@example.org")
    assert reference.loads(squeezed)[0] == 10**40


def test_bounces_mark_the_subscriber_after_the_threshold(store: Store) -> None:
    ann = subs.add(store, "ann@example.org")
    with store.begin() as conn:
        assert sub_store.record_bounce(conn, ann.id, 2) is False
        assert sub_store.record_bounce(conn, ann.id, 2) is True
        assert sub_store.mailable(conn) == []


def test_export_reimports(store: Store, tmp_path: Path) -> None:
    subs.import_csv(store, CSV)
    text = subs.export_csv(subs.listing(store))
    assert text.splitlines()[0].startswith("email,name,language,status")
    other = Store(f"sqlite:///{tmp_path}/other.db")
    report = subs.import_csv(other, text)
    assert report.added == 3
    assert report.errors == []


# ── the CLI ───────────────────────────────────────────────────────────────────────────────

def _cli(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    from bot.cli import cli
    from bot.cli import subscribers as _  # noqa: F401  (registers the group)

    config = tmp_path / "pressbot.toml"
    if not config.exists():
        config.write_text(f'[bot]\ndatabase_url = "sqlite:///{tmp_path}/cli.db"\n',
                          encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    return result.exit_code, result.stdout, result.stderr


def test_cli_add_list_import_remove_export(tmp_path: Path) -> None:
    assert _cli(tmp_path, "subscribers", "add", "Ann@Example.org", "--name", "Ann")[0] == 0
    code, _, err = _cli(tmp_path, "subscribers", "add", "nope")
    assert code == 1
    assert "not a valid email address" in err

    file = tmp_path / "people.csv"
    file.write_text("email,name\nbob@example.org,Bob\nbroken,\n", encoding="utf-8")
    code, out, err = _cli(tmp_path, "subscribers", "import", str(file))
    assert code == 1
    assert f"{file}:3:" in err
    assert "1 added" in out

    code, out, _ = _cli(tmp_path, "subscribers", "list", "--json")
    assert code == 0
    listed = json.loads(out)
    assert [(s["email"], s["status"], s["consent_source"]) for s in listed] == [
        ("ann@example.org", "active", "cli"), ("bob@example.org", "active", "import")]

    code, out, _ = _cli(tmp_path, "subscribers", "remove", "bob@example.org")
    assert code == 0
    assert "erased" in out
    code, out, _ = _cli(tmp_path, "subscribers", "export")
    assert code == 0
    assert out.splitlines()[1].startswith("ann@example.org,Ann,")
    assert "bob@example.org" not in out
    code, _, err = _cli(tmp_path, "subscribers", "add", "bob@example.org")
    assert code == 1
    assert "erased" in err
    code, out, _ = _cli(tmp_path, "subscribers", "list", "--status", "unsubscribed", "--json")
    assert json.loads(out) == []


# ── moving the audience: export → import into a new database ──────────────────────────────

def test_export_import_brings_back_nobody_who_left(tmp_path: Path) -> None:
    """Through the real CLI, from one database into a fresh one: status, consent and the
    suppression list survive, and nobody who left becomes mailable again."""
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    assert _cli(old, "subscribers", "add", "ann@example.org", "--name", "Ann")[0] == 0
    assert _cli(old, "subscribers", "add", "bob@example.org")[0] == 0
    assert _cli(old, "subscribers", "add", "cem@example.org")[0] == 0
    assert _cli(old, "subscribers", "add", "gone@example.org")[0] == 0
    store = Store(f"sqlite:///{old}/cli.db")
    with store.begin() as conn:
        bob = sub_store.by_email(conn, "bob@example.org")
        cem = sub_store.by_email(conn, "cem@example.org")
        assert bob is not None and cem is not None
        sub_store.mark_bounced(conn, cem.id)
    subs.unsubscribe(store, bob.id)
    subs.request(store, "dee@example.org")  # pending: never confirmed
    ann_before = next(s for s in subs.listing(store) if s.email == "ann@example.org")
    store.dispose()
    assert _cli(old, "subscribers", "remove", "gone@example.org")[0] == 0

    people, hashes = old / "people.csv", old / "suppressed.csv"
    code, _, err = _cli(old, "subscribers", "export", str(people), "--suppressions",
                        str(hashes))
    assert code == 0, err
    assert "gone@example.org" not in hashes.read_text() + people.read_text()
    code, out, err = _cli(new, "subscribers", "import", str(people), "--suppressions",
                          str(hashes))
    assert code == 0, err

    moved = Store(f"sqlite:///{new}/cli.db")
    try:
        found = {s.email: s for s in subs.listing(moved)}
        assert {e: s.status for e, s in found.items()} == {
            "ann@example.org": "active", "bob@example.org": "unsubscribed",
            "cem@example.org": "bounced", "dee@example.org": "pending"}
        ann = found["ann@example.org"]
        assert (ann.consent_source, ann.consent_at) == ("cli", ann_before.consent_at)
        assert found["dee@example.org"].consent_source is None
        with moved.begin() as conn:
            assert [s.email for s in sub_store.mailable(conn)] == ["ann@example.org"]
            for gone in ("bob@example.org", "gone@example.org"):
                assert sub_store.is_suppressed(conn, sub_store.email_hash(gone))
    finally:
        moved.dispose()
    # and a later plain import (or add) cannot bring them back either
    again = tmp_path / "again.csv"
    again.write_text("email\nbob@example.org\ncem@example.org\ngone@example.org\n")
    code, out, err = _cli(new, "subscribers", "import", str(again))
    assert "0 added, 0 activated" in out
    assert err.count("not imported") == 3
    assert _cli(new, "subscribers", "add", "gone@example.org")[0] == 1


def test_an_export_saying_someone_left_wins_over_an_active_row(store: Store) -> None:
    subs.add(store, "ann@example.org")
    report = subs.import_csv(store, "email,status\nann@example.org,unsubscribed\n"
                                    "bob@example.org,complained\n")
    assert report.left == 2
    with store.begin() as conn:
        assert sub_store.mailable(conn) == []
        assert {e[1] for e in sub_store.suppression_list(conn)} == {"unsubscribed", "complaint"}


def test_import_names_a_bad_status_or_time_by_line(store: Store) -> None:
    report = subs.import_csv(store, "email,status,consent_at\na@example.org,maybe,\n"
                                    "b@example.org,active,yesterday\n")
    assert [(line, msg.split(":")[0]) for line, msg in report.errors] == [
        (2, "status"), (3, "consent_at")]


@pytest.mark.parametrize("raw", [
    "ann@example.org", "Ann.Lee+news@Example.ORG", "o'neil@x-y.example.com", "a@b.co",
    "x@xn--bcher-kva.org", "x@a--b.org", "x@ex.123", "x@example.test", "a..b@x.org",
    "x@a-.org", "x@-a.org", "x@a.b", "x" * 65 + "@example.org", "Zoë@example.org",
    "x@" + "a" * 64 + ".org", "x@localhost", "_@x.org", "a.@x.org", ".a@x.org"])
def test_the_fast_address_check_agrees_with_email_validator(raw: str) -> None:
    from email_validator import EmailNotValidError, validate_email

    try:
        expected: str | None = str(validate_email(raw, check_deliverability=False)
                                   .normalized).lower()
    except EmailNotValidError:
        expected = None
    try:
        got: str | None = subs.normalise_email(raw)
    except subs.SubscriberError:
        got = None
    assert got == expected


# ── issue 27 item 2: consent evidence in `show`, the export and the import ─────────────────

def test_show_and_export_give_the_consent_evidence_and_import_keeps_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    assert _cli(old, "subscribers", "list")[0] == 0  # creates the database
    store = Store(f"sqlite:///{old}/cli.db")
    monkeypatch.setenv("PRESSBOT_CLOCK", "2026-12-05T10:00:00+00:00")
    evidence = subs.Evidence(wording="v7", ip="192.0.2.7", user_agent="=Mozilla/5.0")
    pending = subs.request(store, "ann@example.org", name="Ann", evidence=evidence)
    assert pending is not None
    with store.begin() as conn:  # the mail went out (bot.confirmations records this)
        sub_store.update(conn, pending.id, confirm_mailed_at=pending.requested_at)
    monkeypatch.setenv("PRESSBOT_CLOCK", "2026-12-05T10:05:00+00:00")
    subs.confirm(store, pending, subs.Evidence(ip="192.0.2.8", user_agent="Click"))
    store.dispose()

    code, out, err = _cli(old, "subscribers", "show", "Ann@Example.org")
    assert code == 0, err
    shown = dict(line.split(None, 1) for line in out.splitlines())
    assert shown["requested_at"] == "2026-12-05T10:00:00+00:00"
    assert shown["confirm_mailed_at"] == "2026-12-05T10:00:00+00:00"
    assert shown["confirmed_at"] == "2026-12-05T10:05:00+00:00"
    assert (shown["consent_wording"], shown["consent_ip"]) == ("v7", "192.0.2.8")
    assert shown["consent_user_agent"] == "Click" and shown["suppressed"] == "—"
    code, out, _ = _cli(old, "subscribers", "show", "ann@example.org", "--json")
    assert json.loads(out)["consent_client_at"] == "2026-12-05T10:05:00+00:00"

    people = old / "people.csv"
    assert _cli(old, "subscribers", "export", str(people))[0] == 0
    header, row = people.read_text().splitlines()
    for name in subs.EVIDENCE_FIELDS:
        assert name in header.split(",")
    assert "v7" in row and "192.0.2.8" in row
    assert _cli(new, "subscribers", "import", str(people))[0] == 0
    moved = Store(f"sqlite:///{new}/cli.db")
    try:
        [ann] = subs.listing(moved)
    finally:
        moved.dispose()
    assert (ann.consent_wording, ann.consent_ip, ann.consent_user_agent) == (
        "v7", "192.0.2.8", "Click")
    assert ann.requested_at == ann.confirm_mailed_at and ann.requested_at is not None

    # past the retention, `show` erases the client first
    monkeypatch.setenv("PRESSBOT_CLOCK", "2027-03-06T10:05:01+00:00")  # 91 days later
    code, out, _ = _cli(old, "subscribers", "show", "ann@example.org", "--json")
    data = json.loads(out)
    assert (data["consent_ip"], data["consent_user_agent"]) == (None, None)
    assert data["consent_wording"] == "v7"

    assert _cli(old, "subscribers", "remove", "ann@example.org")[0] == 0
    code, out, _ = _cli(old, "subscribers", "show", "ann@example.org")
    assert code == 0 and "erased" in out and "v7" not in out
