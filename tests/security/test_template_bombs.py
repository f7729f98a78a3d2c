"""A template cannot take the process down: bombs hold that one post, the rest go on.

Run through the real CLI (`fetch`, `check --offline`) with a staff-edited template per case;
the process's peak memory is checked too, so a bomb that was merely caught late (after
allocating its gigabyte) fails the test. Each bomb must be stopped by the limit that counts
it (steps, sizes, characters written), never by the sandbox's 2 s time limit: that one is
only a backstop, and on a busy machine it would trip first. It is pushed out of the way
here and proven on its own with a clock the test moves.
"""

from __future__ import annotations

import json
import resource
from pathlib import Path

import pytest
from jinja2.exceptions import SecurityError

from bot import sandbox
from tests.helpers import make_workspace, write_release
from tests.test_render import channels_with_template


@pytest.fixture
def no_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the counted limits may stop a render in time: a bomb they miss runs into the
    time limit, moved out to a minute, whose message fails the test."""
    monkeypatch.setattr(sandbox, "MAX_SECONDS", 60.0)


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
@pytest.mark.usefixtures("no_time_limit")
def test_a_template_bomb_holds_only_its_post(tmp_path: Path, body: str, expected: str) -> None:
    ws = make_workspace(tmp_path, channels=channels_with_template(tmp_path, "bomb.txt.j2", body))
    write_release(ws.content, "r.md", "A release")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    fetched = ws.run("fetch")
    assert fetched.exit_code == 0, fetched.output
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


class SteppingClock:
    """`time.thread_time` for the sandbox that moves `step` seconds each time it is read."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def thread_time(self) -> float:  # the sandbox's clock: CPU time of the rendering thread
        self.now += self.step
        return self.now


def test_the_time_limit_stops_a_render_that_stays_within_every_count(
        monkeypatch: pytest.MonkeyPatch) -> None:
    env = sandbox.BoundedEnvironment()
    template = env.from_string("{% for i in range(10) %}{{ i }}{% endfor %}")
    assert sandbox.render_bounded(template, {}) == "0123456789"   # real time: well within
    clock = SteppingClock(0.5)   # every step of the loop reads the clock: 0.5 s each
    monkeypatch.setattr(sandbox, "time", clock)
    with pytest.raises(SecurityError, match=r"the template took more than 2 s"):
        sandbox.render_bounded(template, {})
