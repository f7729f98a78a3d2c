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
    ("{% for i in range(100000000) %}{% endfor %}", "range of 100,000,000 items"),
    ("{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
     "loops or calls more than"),
    ("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", "recursion"),
    ("{% for i in range(90000) %}{{ title }}{{ title }}{{ title }}{% endfor %}",
     "output is over"),
    ("{{ (title ~ title) * 10 ** 6 }}", "too large"),
    # loops over anything but range, and calls, share the budget (they hung for good)
    ("{% for i in title * 100000 %}{% for j in title * 100000 %}{% endfor %}{% endfor %}",
     "loops or calls more than"),
    ("{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
     "{{ f(40) }}", "loops or calls more than"),
    # str methods, %-formats and widths are sized before Python allocates the result
    ("{{ title.center(900000000) }}", "too large"),
    ("{{ '%900000000d' % 1 }}", "format width"),
    ("{{ '{:>900000000}'.format(1) }}", "format width"),
    ("{{ ('x' * 100000).replace('x', 'y' * 9000) }}", "would make a value"),
    ("{{ ('x' * 100000) | replace('x', 'y' * 9000) }}", "would make a value"),
    # doubling a value, or writing into a set block, is counted too
    ("{% set ns = namespace(a='x' * 1000000) %}{% for i in range(30) %}"
     "{% set ns.a = ns.a ~ ns.a %}{% endfor %}{{ ns.a | length }}", "over 2,000,000"),
    ("{% set a %}{% for i in range(900) %}{{ 'x' * 1000000 }}{% endfor %}{% endset %}"
     "{{ a | length }}", "writes over"),
    ("{% set ns = namespace(a=10 ** 60) %}{% for i in range(30) %}"
     "{% set ns.a = ns.a * ns.a %}{% endfor %}", "too large a number"),
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
