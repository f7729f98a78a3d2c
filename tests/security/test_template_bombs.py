"""A template cannot take the process down: bombs hold that one post, the rest go on.

Run through the real CLI (`fetch`, `check --offline`) with a staff-edited template per case;
the process's peak memory is checked too, so a bomb that was merely caught late (after
allocating its gigabyte) fails the test.
"""

from __future__ import annotations

import json
import resource
import time
from pathlib import Path

import pytest

from tests.helpers import make_workspace, write_release
from tests.test_render import channels_with_template


@pytest.mark.parametrize(("body", "expected"), [
    ("{{ 'x' * 200000000 }}", "too large"),
    ("{{ 'a' | center(1000000000) }}", "too large"),
    ("{{ 7 ** 99999999 }}", "exponent"),
    ("{% for i in range(100000000) %}{% endfor %}", "loops more than"),
    ("{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
     "loops more than"),
    ("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", "recursion"),
    ("{% for i in range(90000) %}{{ title }}{{ title }}{{ title }}{% endfor %}",
     "output is over"),
    ("{{ (title ~ title) * 10 ** 6 }}", "too large"),
])
def test_a_template_bomb_holds_only_its_post(tmp_path: Path, body: str, expected: str) -> None:
    ws = make_workspace(tmp_path, channels=channels_with_template(tmp_path, "bomb.txt.j2", body))
    write_release(ws.content, "r.md", "A release")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    began = time.monotonic()
    fetched = ws.run("fetch")
    assert fetched.exit_code == 0, fetched.output
    assert time.monotonic() - began < 20
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 150, f"peak memory grew by {grown_mb:.0f} MB"
    posts = {p["channel"]: p for p in json.loads(ws.run("queue", "--json").stdout)}
    assert posts["fine"]["status"] == "approved"        # the other channel goes on
    assert posts["broken"]["status"] == "held"
    assert expected in posts["broken"]["last_error"], posts["broken"]["last_error"]
    assert "bomb.txt.j2" in posts["broken"]["last_error"]
    checked = ws.run("check", "--offline")
    assert checked.exit_code == 1 and "Traceback" not in checked.output
    assert "channels.broken" in checked.output
