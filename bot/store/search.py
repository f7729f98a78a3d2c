"""Full-text search of posts: their title, subject and text, in the database's own index.

SQLite keeps an FTS5 table (`posts_search`, its content read from `posts`) that triggers
keep in step with every insert, delete and change of those three columns — the
publisher's status changes touch none of them and cost nothing. PostgreSQL keeps a GIN
index on the same words (`ix_posts_search`). Both use language-neutral words (FTS5's
`unicode61` without stemming, PostgreSQL's `simple` configuration): posts are written in
many languages, and a stemmer for one would mangle the others. Each word searched for
matches the start of a word ("librar" finds "library"; a number only itself), and every
word must be found.

What a person types is never query syntax: each word is reduced to its letters and
digits and quoted, so `"`, `*`, `OR` or `NEAR(` are searched as text, not run.

Neither index is part of `bot.store.schema` (SQLAlchemy has no words for them): `create`
makes them, for a new database and in migration 0013.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.store.schema import posts

NAMES = ("posts_search", "ix_posts_search")
"""What `create` makes (with FTS5's own shadow tables, `posts_search_*`)."""
MAX_WORDS = 8
_WORD = re.compile(r"\w+")
_COLUMNS = "title, subject, text"
_PG_WORDS = ("to_tsvector('simple'::regconfig, coalesce({t}title, '') || ' ' || "
             "coalesce({t}subject, '') || ' ' || coalesce({t}text, ''))")

_SQLITE = [
    "CREATE VIRTUAL TABLE posts_search USING fts5(title, subject, text, content='posts', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER posts_search_insert AFTER INSERT ON posts BEGIN "
    f"INSERT INTO posts_search(rowid, {_COLUMNS}) VALUES (new.id, new.title, new.subject, "
    f"new.text); END",
    f"CREATE TRIGGER posts_search_delete AFTER DELETE ON posts BEGIN "
    f"INSERT INTO posts_search(posts_search, rowid, {_COLUMNS}) VALUES ('delete', old.id, "
    f"old.title, old.subject, old.text); END",
    f"CREATE TRIGGER posts_search_update AFTER UPDATE OF {_COLUMNS} ON posts BEGIN "
    f"INSERT INTO posts_search(posts_search, rowid, {_COLUMNS}) VALUES ('delete', old.id, "
    f"old.title, old.subject, old.text); "
    f"INSERT INTO posts_search(rowid, {_COLUMNS}) VALUES (new.id, new.title, new.subject, "
    f"new.text); END",
    "INSERT INTO posts_search(posts_search) VALUES ('rebuild')",
]
_SQLITE_DROP = ["DROP TRIGGER IF EXISTS posts_search_insert",
                "DROP TRIGGER IF EXISTS posts_search_delete",
                "DROP TRIGGER IF EXISTS posts_search_update",
                "DROP TABLE IF EXISTS posts_search"]
_POSTGRES = [f"CREATE INDEX ix_posts_search ON posts USING gin ({_PG_WORDS.format(t='')})"]
_POSTGRES_DROP = ["DROP INDEX IF EXISTS ix_posts_search"]


def create(conn: Connection) -> None:
    """Make the index and fill it from the posts already stored."""
    for statement in _SQLITE if conn.dialect.name == "sqlite" else _POSTGRES:
        conn.exec_driver_sql(statement)


def drop(conn: Connection) -> None:
    for statement in _SQLITE_DROP if conn.dialect.name == "sqlite" else _POSTGRES_DROP:
        conn.exec_driver_sql(statement)


def words(typed: str) -> list[str]:
    """The words of what a person typed, as plain letters and digits (at most MAX_WORDS)."""
    return _WORD.findall(typed)[:MAX_WORDS]


def _prefix(word: str, mark: str) -> str:
    """A word matches the start of words, a number only itself ("2" is not "2026")."""
    return "" if word.isdigit() else mark


def matching(conn: Connection, typed: str) -> Any:
    """A condition on `posts`: every word of `typed` starts a word of the post's title,
    subject or text. None when nothing searchable was typed."""
    found = words(typed)
    if not found:
        return None
    if conn.dialect.name == "sqlite":
        query = " ".join(f'"{w}"' + _prefix(w, "*") for w in found)   # \w has no quote
        ids = (sa.select(sa.text("rowid")).select_from(sa.text("posts_search"))
               .where(sa.text("posts_search MATCH :search_words")
                      .bindparams(search_words=query)))
        return posts.c.id.in_(ids)
    query = " & ".join(f"'{w}'" + _prefix(w, ":*") for w in found)
    return sa.text(f"{_PG_WORDS.format(t='posts.')} @@ "
                   "to_tsquery('simple'::regconfig, :search_words)").bindparams(
        search_words=query)
