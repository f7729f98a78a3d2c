"""A post's pictures on the review page, as a browser without JavaScript sends the forms:
alt text fixed (and the warning gone), pictures reordered and removed, an upload checked
by decoding it, capped, cleaned of its GPS and stored where the bot keeps pictures."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image as PILImage
from starlette.testclient import TestClient

from bot import pictures
from bot.config import Config
from bot.models import Image, Post
from bot.store import Store
from bot.store import posts as post_store
from tests.channels.test_photo_metadata import assert_clean, gps_jpeg, plain_jpeg
from tests.web.conftest import csrf_of, queue, release, sign_in

TWO = [Image(url="https://www.example.org/img/a.jpg", alt=""),
       Image(url="https://www.example.org/img/b.jpg", alt="Second")]


def post_of(store: Store, post_id: int) -> tuple[Post, str]:
    """The stored post and its last audit action."""
    with store.begin() as conn:
        return (post_store.require(conn, post_id),
                str(post_store.list_events(conn, post_id=post_id)[0]["action"]))


def form_of(client: TestClient, post_id: int) -> dict[str, str]:
    page = client.get(f"/posts/{post_id}").text
    version = re.search(r'name="version" value="([0-9a-f]+)"', page)
    assert version, "no pictures form on the page"
    return {"csrf": csrf_of(page), "version": version[1]}


def send(client: TestClient, post_id: int, **fields: str) -> Any:
    return client.post(f"/posts/{post_id}/pictures", data={**form_of(client, post_id), **fields})


def upload(client: TestClient, post_id: int, data: bytes, name: str = "photo.jpg",
           **fields: str) -> Any:
    return client.post(f"/posts/{post_id}/pictures/upload",
                       data={**form_of(client, post_id), **fields},
                       files={"file": (name, data, "image/jpeg")})


@pytest.fixture
def two(store: Store, config: Config, client: TestClient) -> int:
    sign_in(client, "ed")
    return queue(store, config, release(1, images=TWO))["mastodon"]


def test_alt_text_written_on_the_page_clears_the_warning(client: TestClient, two: int,
                                                         store: Store) -> None:
    assert "no alt text on 1 image" in client.get(f"/posts/{two}").text
    response = send(client, two, **{"alt-0": " A reading room by the river \r\n",
                                    "alt-1": "Second", "action": "alt"})
    assert response.status_code == 303
    page = client.get(response.headers["location"]).text
    assert "alt text saved" in page and "no alt text" not in page
    post, action = post_of(store, two)
    assert [i.alt for i in post.images] == ["A reading room by the river", "Second"]
    assert (action, post.status) == ("pictures", "pending")


def test_pictures_move_and_go_keeping_the_alt_typed(client: TestClient, two: int,
                                                    store: Store) -> None:
    send(client, two, **{"alt-0": "First", "alt-1": "Second", "action": "down:0"})
    post, _ = post_of(store, two)
    assert [(i.url[-5:], i.alt) for i in post.images] == [("b.jpg", "Second"),
                                                          ("a.jpg", "First")]
    response = send(client, two, **{"alt-0": "Second", "alt-1": "First", "action": "remove:0"})
    assert "picture 1 removed" in client.get(response.headers["location"]).text
    assert post_of(store, two)[0].images == [Image(url=TWO[0].url, alt="First")]
    assert send(client, two, action="down:0").status_code == 400     # nowhere to go
    assert send(client, two, action="remove:7").status_code == 400


def test_a_page_out_of_date_changes_nothing(client: TestClient, two: int,
                                            store: Store) -> None:
    stale = form_of(client, two)
    send(client, two, action="remove:1")
    response = client.post(f"/posts/{two}/pictures", data={**stale, "action": "remove:0"})
    assert response.status_code == 409 and "changed since this page was loaded" in response.text
    assert [i.url for i in post_of(store, two)[0].images] == [TWO[0].url]


def test_an_upload_replaces_a_picture_without_its_metadata(client: TestClient, two: int,
                                                           store: Store,
                                                           config: Config) -> None:
    response = upload(client, two, gps_jpeg(), "IMG_0042.jpg", slot="0", alt="The new wing")
    assert response.status_code == 303
    post, action = post_of(store, two)
    kept = Path(post.images[0].url)
    assert kept.parent == pictures.folder(config) == config.resolve(
        Path(config.bot.outbox)).parent / ".pressbot-images"
    assert (post.images[0].alt, post.images[1], action) == ("The new wing", TWO[1], "pictures")
    assert_clean(kept.read_bytes())
    shown = client.get(f"/pictures/{kept.name}")
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
    assert f'src="/pictures/{kept.name}"' in client.get(f"/posts/{two}").text
    # added after the others, the same bytes twice are one file
    upload(client, two, gps_jpeg(), "again.jpg", slot="add", alt="Again")
    post, _ = post_of(store, two)
    assert [i.url for i in post.images] == [str(kept), TWO[1].url, str(kept)]
    assert len(list(kept.parent.iterdir())) == 1


@pytest.mark.parametrize(("data", "said"), [
    (b"#!/bin/sh\necho hi\n", "not a PNG, JPEG, GIF or WebP picture"),
    (plain_jpeg()[:200], "cannot be read"),
    (b"", "the file is empty"),
])
def test_what_is_not_a_whole_picture_is_refused(client: TestClient, two: int, store: Store,
                                                data: bytes, said: str) -> None:
    response = upload(client, two, data, "press-photo.jpg", slot="0")
    assert response.status_code == 422
    assert said in response.text and "press-photo.jpg" in response.text
    assert post_of(store, two)[0].images == TWO


def test_uploads_are_capped_in_bytes_and_pixels(client: TestClient, two: int, store: Store,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.BytesIO()
    PILImage.new("L", (2000, 1000)).save(out, "PNG")
    monkeypatch.setattr(pictures, "MAX_PIXELS", 1_000_000)
    assert "2000×1000 pixels" in upload(client, two, out.getvalue(), "wide.png").text
    monkeypatch.setattr(pictures, "UPLOAD_MAX", 100)
    said = upload(client, two, gps_jpeg(), "big.jpg")
    assert said.status_code == 422, said.status_code
    assert "big.jpg: 0.0 MB; a picture may have at most" in said.text
    # past the request cap, nothing is read at all
    too_big = client.post(f"/posts/{two}/pictures/upload", data=form_of(client, two),
                          files={"file": ("huge.jpg", b"\xff" * (9 * 1024 * 1024), "image/jpeg")})
    assert too_big.status_code == 413
    assert post_of(store, two)[0].images == TWO


def test_forms_need_the_token_and_the_editor_role(client: TestClient, two: int,
                                                  store: Store, config: Config) -> None:
    fields = form_of(client, two)
    refused = client.post(f"/posts/{two}/pictures/upload", data={"version": fields["version"]},
                          files={"file": ("a.jpg", gps_jpeg(), "image/jpeg")})
    assert refused.status_code == 403
    assert not pictures.folder(config).exists()
    assert client.get("/pictures/../../pressbot.toml").status_code == 404
    assert client.get("/pictures/" + "0" * 64 + ".jpg").status_code == 404
    client.post("/signout", data={"csrf": fields["csrf"]})
    sign_in(client, "rita")
    assert f'action="/posts/{two}/pictures"' not in client.get(f"/posts/{two}").text
    assert client.post(f"/posts/{two}/pictures",
                       data={**form_of_reviewer(client, two), "action": "remove:0"}
                       ).status_code == 403
    assert post_of(store, two)[0].images == TWO


def form_of_reviewer(client: TestClient, post_id: int) -> dict[str, str]:
    return {"csrf": csrf_of(client.get(f"/posts/{post_id}").text), "version": "x"}


def test_an_emails_html_is_rendered_again_with_the_new_alt(client: TestClient, store: Store,
                                                           config: Config) -> None:
    sign_in(client, "ed")
    post_id = queue(store, config, release(1, images=TWO))["newsletter"]
    assert 'alt="Rooftop garden"' not in (post_of(store, post_id)[0].html or "")
    send(client, post_id, **{"alt-0": "Rooftop garden", "alt-1": "Second"})
    post, action = post_of(store, post_id)
    assert action == "pictures" and 'alt="Rooftop garden"' in (post.html or "")


def test_four_eyes_counts_a_picture_change_as_an_edit(store: Store, config: Config) -> None:
    from bot import workflow
    from bot.errors import WorkflowError

    strict = config.model_copy(update={"web": config.web.model_copy(update={"four_eyes": True})})
    post_id = queue(store, config, release(1, images=TWO))["mastodon"]
    with store.begin() as conn:
        workflow.set_pictures(conn, strict, post_id, "web:ed", TWO[1:], "picture 1 removed")
    with pytest.raises(WorkflowError, match="another person must approve"), \
            store.begin() as conn:
        workflow.approve(conn, strict, post_id, "web:ed")
    with store.begin() as conn:
        assert workflow.approve(conn, strict, post_id, "web:rita").status == "approved"
