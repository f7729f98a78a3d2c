"""The command line as an operator meets it (issue 29, items 13-16), through the real
`pressbot` process: exit codes, what it prints, and the service's log read line by line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import Workspace, make_workspace, write_release
from tests.test_service import free_port


def pressbot(ws: Workspace, *args: str,
             cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", "--config", str(ws.config), *args],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                          cwd=cwd, env={**os.environ, "PYTHONPATH": str(Path.cwd())})


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    ws = make_workspace(tmp_path)
    write_release(ws.content, "r1.md", "Release one")
    assert pressbot(ws, "fetch").returncode == 0
    return ws


def test_an_unknown_channel_or_missing_path_is_a_usage_error(ws: Workspace) -> None:
    for args in (["queue", "--channel", "nope"], ["preview", "--channel", "nope"],
                 ["pause", "nope"], ["resume", "nope"]):
        done = pressbot(ws, *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert "no channel named 'nope'" in done.stderr, args
        assert "mastodon, facebook" in done.stderr, args     # the configured ones
        assert "queue is empty" not in done.stdout

    missing = pressbot(ws, "preview", str(ws.root / "nonexistent"))
    assert missing.returncode == 2
    assert f"{ws.root / 'nonexistent'}: no such file or folder" in missing.stderr
    source = pressbot(ws, "preview", str(ws.content), "--source", "nope")
    assert source.returncode == 2 and "no folder source named 'nope'" in source.stderr
    assert "folder sources: press" in source.stderr
    fetch = pressbot(ws, "fetch", "--source", "nope")
    assert fetch.returncode == 2 and "configured: press" in fetch.stderr
    bounces = pressbot(ws, "subscribers", "bounces", "--channel", "nope")
    assert bounces.returncode == 2 and "named 'nope'" in bounces.stderr

    known = pressbot(ws, "queue", "--channel", "mastodon")
    assert known.returncode == 0 and "Release one" in known.stdout


def test_a_removed_channel_still_lists_its_posts(ws: Workspace) -> None:
    ws.config.write_text(ws.config.read_text().replace("[channels.facebook]",
                                                       "[channels.fb2]"))
    done = pressbot(ws, "queue", "--channel", "facebook")
    assert done.returncode == 0 and "Release one" in done.stdout


def test_a_very_short_edit_is_refused_without_force(ws: Workspace) -> None:
    post = json.loads(pressbot(ws, "queue", "--json", "--channel", "mastodon").stdout)[0]
    short = pressbot(ws, "edit", str(post["id"]), "--text", "…")
    assert short.returncode == 2
    assert "1 character long (under 20)" in short.stderr and "--force" in short.stderr
    after = json.loads(pressbot(ws, "show", str(post["id"]), "--json").stdout)
    assert after["text"] == post["text"]                       # nothing saved

    forced = pressbot(ws, "edit", str(post["id"]), "--text", "Short.", "--force")
    assert forced.returncode == 0, forced.stderr
    assert json.loads(pressbot(ws, "show", str(post["id"]), "--json").stdout)["text"] == \
        "Short."

    # the README's tour example saves as it reads
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    line = next(x for x in readme.splitlines() if x.startswith("pressbot edit 4 --text"))
    tour = line.split('"', 1)[1].rstrip(" \\") + " " + \
        readme.split(line, 1)[1].splitlines()[1].strip().rstrip('"')
    done = pressbot(ws, "edit", str(post["id"]), "--text", tour)
    assert done.returncode == 0, done.stderr
    assert json.loads(pressbot(ws, "show", str(post["id"]), "--json").stdout)["text"] == tour


def test_an_edit_prints_what_changed_from_the_generated_text(ws: Workspace) -> None:
    post = json.loads(pressbot(ws, "queue", "--json", "--channel", "mastodon").stdout)[0]
    first_word = post["text"].split()[0]
    edited = post["text"].replace(first_word, "Tomorrow:", 1)
    for _ in range(2):   # the second time against the generated text still, not the first
        done = pressbot(ws, "edit", str(post["id"]), "--text", edited)
        assert done.returncode == 0, done.stderr
        assert "changed from the generated text: 1 word inserted, 1 deleted:" in done.stdout
        assert f"  [-{first_word}-] {{+Tomorrow:+}}" in done.stdout, done.stdout
    back = pressbot(ws, "edit", str(post["id"]), "--text", post["text"])
    assert "same as the generated text" in back.stdout


def test_run_says_what_leaves_and_logs_json_fields(tmp_path: Path) -> None:
    """Every channel an outbox: the start line says nothing leaves; in JSON every line is
    an object whose fields are keys (post, channel), not text inside msg."""
    port = free_port()
    channels = '\n[channels.mastodon]\ntype = "outbox"\nlike = "mastodon"\napproval = "auto"\n'
    ws = make_workspace(tmp_path, channels=channels, extra=(
        f'\n[web]\nlisten = "127.0.0.1:{port}"\n'))
    ws.config.write_text(ws.config.read_text().replace(
        "[bot]\n", '[bot]\nlog_format = "json"\nlog_level = "INFO"\n'))
    write_release(ws.content, "a.md", "Service release")
    log = tmp_path / "run.log"
    with log.open("w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(ws.config), "run"],
                                stdout=subprocess.DEVNULL, stderr=err, text=True,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 30
        while '"published"' not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert '"published"' in log.read_text(), log.read_text()[-3000:]
        approve_cli = pressbot(ws, "queue", "--json")
        assert approve_cli.returncode == 0
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=25) == 0
    lines = [json.loads(line) for line in log.read_text().splitlines()]  # each one JSON
    for entry in lines:
        assert {"ts", "level", "logger", "msg"} <= entry.keys(), entry
        assert entry["ts"].endswith("Z") and entry["ts"][10] == "T", entry
        assert "post=" not in entry["msg"] and "channel=" not in entry["msg"], entry
    start = next(e for e in lines if e["msg"].startswith("pressbot running")
                 or e.get("mode"))
    assert start["mode"] == "outbox"
    assert "every channel is an outbox; nothing leaves this machine" in start["msg"]
    assert "dry_run" not in json.dumps(start)
    published = next(e for e in lines if e["msg"] == "published")
    assert published["channel"] == "mastodon" and isinstance(published["post"], int)
    assert published["level"] == "info" and published["logger"] == "pressbot.publish"


def test_run_dry_run_and_mixed_channels_say_so() -> None:
    from bot.config import Config
    from bot.service import what_leaves

    config = Config(channels={
        "mastodon": {"type": "mastodon", "base_url": "https://m.example", "access_token": "t" * 12},
        "news": {"type": "outbox", "like": "email"}})
    assert what_leaves(config, dry_run=False, workers=True) == (
        "live", "publishing to mastodon; outbox only: news")
    assert what_leaves(config, dry_run=True, workers=True)[0] == "dry-run"
    assert what_leaves(config, dry_run=False, workers=False)[0] == "web"


def test_logfmt_lines_parse_back_to_their_fields() -> None:
    import logging
    import re

    from bot.logformat import FieldsFilter, LogfmtFormatter

    def line(msg: str, *args: object) -> str:
        record = logging.LogRecord("pressbot.x", logging.WARNING, __file__, 1, msg, args, None)
        FieldsFilter().filter(record)
        return LogfmtFormatter().format(record)

    pair = re.compile(r'(\S+?)=("(?:[^"\\]|\\.)*"|\S*)(?:\s|$)')
    text = line("post=%d channel=%s held: %s", 3, "news letter", 'said "no"\nthen')
    assert "\n" not in text
    parsed = {k: json.loads(v) if v.startswith('"') else v for k, v in pair.findall(text)}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", parsed["ts"])
    assert parsed | {"ts": ""} == {"ts": "", "level": "warning", "logger": "pressbot.x",
                                   "msg": 'held: said "no"\nthen', "post": "3",
                                   "channel": "news letter"}
    assert "".join(f"{k}={v} " for k, v in pair.findall(text)).strip() == text


def test_an_approval_and_an_edit_are_logged(ws: Workspace, monkeypatch: pytest.MonkeyPatch,
                                            caplog: pytest.LogCaptureFixture) -> None:
    import logging

    monkeypatch.setattr(logging.getLogger(), "_pressbot", True, raising=False)
    caplog.set_level(logging.INFO, logger="pressbot.workflow")
    post = json.loads(ws.run("queue", "--json", "--channel", "mastodon").stdout)[0]["id"]
    assert ws.run("edit", str(post), "--text", "A text long enough to be a post.").exit_code == 0
    assert ws.run("approve", str(post)).exit_code == 0
    said = [r.getMessage() for r in caplog.records if r.name == "pressbot.workflow"]
    assert said[0].startswith(f"post={post} channel=mastodon by=cli:") and "edited" in said[0]
    assert said[1].endswith("approved") and "publish_at=" in said[1]


def test_the_container_healthcheck_fails_only_when_unhealthy_or_silent() -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from bot.healthcheck import probe

    answers = {"/ok": (200, "ok"), "/degraded": (503, "degraded"),
               "/unhealthy": (503, "unhealthy")}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            code, status = answers[self.path]
            body = json.dumps({"ok": code == 200, "status": status}).encode()
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        assert probe(f"{base}/ok")[0] and probe(f"{base}/degraded")[0]
        assert probe(f"{base}/unhealthy") == (False, f"{base}/unhealthy: unhealthy")
    finally:
        server.shutdown()
        server.server_close()
    alive, said = probe(base + "/ok")
    assert not alive and "no answer" in said
