"""A folder release's link: found in it when it can be, else derived — and never published
without a warning; `require_link` and `check_link` hold what a person must look at."""

from __future__ import annotations

import json
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from bot.sources.files import read_release_file
from tests.fakes.server import LiveServer
from tests.helpers import make_workspace

STORY = ("Volunteers planted 500 trees along the river on Saturday, the first step of a "
         "plan to shade the whole path by 2030.\n\nThe next planting day is in November.\n")


def test_a_read_more_line_is_the_link(tmp_path: Path) -> None:
    for n, line in enumerate(["Read more: https://www.example.org/2026/trees-planted",
                              "Lire la suite : https://www.example.org/2026/trees-planted",
                              "Подробнее: https://www.example.org/2026/trees-planted",
                              "Read more at https://www.example.org/2026/trees-planted."]):
        path = tmp_path / f"r{n}.txt"
        path.write_text(f"Trees along the river\n\n{STORY}\n{line}\n", encoding="utf-8")
        r = read_release_file(path, source="press", key=path.name,
                              base_url="https://www.example.org/news/")
        assert r.url == "https://www.example.org/2026/trees-planted", line
        assert not r.url_derived


def test_a_derived_link_warns_on_every_post(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    (ws.content / "004-trees.txt").write_text(f"Trees along the river\n\n{STORY}",
                                              encoding="utf-8")
    (ws.content / "005.md").write_text("---\ntitle: Another release here\nurl: "
                                       "https://www.example.org/n/5\n---\nText of it.\n")
    assert ws.run("fetch").exit_code == 0
    posts = _queue(ws)
    assert len(posts) == 4
    for post in posts:
        shown = json.loads(ws.run("show", str(post["id"]), "--json").output)
        derived = [w for w in shown["warnings"] if w.startswith("derived link: ")]
        if post["release"]["title"] == "Trees along the river":  # type: ignore[index]
            assert post["status"] == "pending"
            assert "https://www.example.org/news/004-trees" in str(shown.get("link"))
            assert derived and "https://www.example.org/news/004-trees" in derived[0]
        else:  # a link the release gives is not derived: no such warning
            assert not derived


def _queue(ws: object) -> list[dict[str, object]]:
    result = ws.run("queue", "--json")  # type: ignore[attr-defined]
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def test_require_link_holds_posts_of_releases_without_a_found_link(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    ws.config.write_text(ws.config.read_text().replace(
        'base_url = "https://www.example.org/news/"',
        'base_url = "https://www.example.org/news/"\nrequire_link = true'))
    (ws.content / "derived.txt").write_text(f"Trees along the river\n\n{STORY}")
    (ws.content / "found.txt").write_text(
        f"Bridge reopens after repairs\n\n{STORY}\nRead more: https://www.example.org/n/bridge\n")
    assert ws.run("fetch").exit_code == 0
    posts = _queue(ws)
    by_title: dict[str, set[object]] = {}
    for post in posts:
        by_title.setdefault(post["release"]["title"], set()).add(post["status"])  # type: ignore[index]
    assert by_title == {"Trees along the river": {"held"},
                        "Bridge reopens after repairs": {"pending"}}
    held = [p for p in posts if p["status"] == "held"]
    assert all("require_link" in str(p["last_error"]) for p in held)


def _site(internal: str = "") -> Starlette:
    async def page(request: Request) -> Response:
        if request.path_params["slug"] == "exists":
            return PlainTextResponse("the release")
        if request.path_params["slug"] == "moved" and internal:
            return RedirectResponse(internal, status_code=302)   # into the local network
        return PlainTextResponse("not here", status_code=404)

    return Starlette(routes=[Route("/news/{slug}", page, methods=["GET", "HEAD"])])


def test_check_link_asks_the_site_before_approval(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    with LiveServer(_site()) as site:
        ws.config.write_text(ws.config.read_text().replace(
            'base_url = "https://www.example.org/news/"',
            f'base_url = "{site.url}/news/"\ncheck_link = true'))
        (ws.content / "exists.txt").write_text(f"Trees along the river\n\n{STORY}")
        (ws.content / "missing.txt").write_text(f"Bridge reopens after repairs\n\n{STORY}")
        assert ws.run("fetch").exit_code == 0
    posts = _queue(ws)
    exists = [p for p in posts if str(p["release"]["url"]).endswith("/news/exists")]  # type: ignore[index]
    missing = [p for p in posts if str(p["release"]["url"]).endswith("/news/missing")]  # type: ignore[index]
    assert exists and {p["status"] for p in exists} == {"pending"}
    assert missing and {p["status"] for p in missing} == {"held"}
    assert all("did not answer 200" in str(p["last_error"]) for p in missing)
    shown = ws.run("show", str(exists[0]["id"]), "--json").output
    assert "derived link" not in shown  # a link that answered is as good as a found one


def test_check_link_never_follows_a_redirect_into_the_local_network(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    hits: list[str] = []

    async def secret(request: Request) -> PlainTextResponse:
        hits.append(request.url.path)
        return PlainTextResponse("internal")

    with LiveServer(Starlette(routes=[Route("/secret", secret, methods=["GET", "HEAD"])])
                    ) as inside:
        port = inside.url.rsplit(":", 1)[1]
        with LiveServer(_site(f"http://localhost:{port}/secret")) as site:
            ws.config.write_text(ws.config.read_text().replace(
                'base_url = "https://www.example.org/news/"',
                f'base_url = "{site.url}/news/"\ncheck_link = true'))
            (ws.content / "moved.txt").write_text(f"Ferry timetable changes\n\n{STORY}")
            assert ws.run("fetch").exit_code == 0
    assert hits == []                                    # the internal server saw nothing
    assert {p["status"] for p in _queue(ws)} == {"held"}
