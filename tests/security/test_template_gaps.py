"""The template bombs that got through the sandbox's limits (issue 26): each one asked
Python for a gigabyte, or minutes of CPU, in a single call the limits did not size.

Each runs through the real CLI (`pressbot fetch`, a folder with a release, a channel whose
`templates_dir` holds the bomb) and must hold that post with an error that names the
template and the limit it ran into. What the bombs cost before and after (time, peak
memory) is measured by `bench/template_bombs.py`, not here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jinja2.exceptions import SecurityError

from bot.sandbox import BoundedEnvironment, render_bounded
from tests.helpers import make_workspace, write_release
from tests.test_render import channels_with_template

BOMBS = [
    # filters with `__wrapped__` (join, sum, map, …) were never bounded
    ("{{ range(1000) | join('y' * 1999999) }}",
     "join would make a value of 1,997,999,002 characters (over 2,000,000"),
    ("{{ range(1000) | list | tojson(indent=1999999) }}",
     "tojson's indent: a size of 1,999,999 is too large (at most 100)"),
    ("{{ range(1000) | list | tojson(indent=' ' * 1999999) }}",
     "tojson's indent: an option of 1,999,999 characters (at most 100)"),
    ("{{ ([range(100000) | list] * 1000) | sum(start=[]) | length }}",
     "sum made a value over 2,000,000 items"),
    ("{{ ('x' * 400000) | wordwrap(1) }}",
     "wordwrap(1) would copy 160,000,000,000 characters to break long words "
     "(at most 200,000,000)"),
    ("{{ ('x' * 400000) | wordwrap(10, wrapstring='y' * 1999999) }}",
     "wordwrap's wrapstring: an option of 1,999,999 characters (at most 100)"),
    ("{{ ('y' * 1999999).join(range(1000) | map('string')) }}",
     "join would make a value of 1,998,001,891 characters"),
    # bytes and ints had no sizes, and bytes were no sequence to `*`
    ("{{ 'x'.encode() * 10 ** 9 }}", "repeating a value 1,000,000,000 times is too large"),
    ("{{ (1).to_bytes(10 ** 9, 'big') }}", "int.to_bytes: a size of 1,000,000,000 is too large"),
    ("{{ 'x'.encode().center(10 ** 9) }}", "center: a size of 1,000,000,000 is too large"),
    # str methods, formats and widths that were never sized, or sized one field at a time
    ("{{ ('x' * 1000000).translate({120: 'y' * 1999}) }}",
     "translate would make a value of 1,999,000,000 characters"),
    ("{{ ('{0:{1}}' * 1000).format(1, 1999999) }}", "str.format would make a value of"),
    ("{{ '{a:{w}}'.format_map({'a': 1, 'w': 10 ** 9}) }}",
     "a format width or precision of 1,000,000,000 is too large"),
    ("{{ '%(a)999999d' * 1000 % {'a': 1} }}", "a %-format would make a value of"),
    ("{{ ('%s' * 1000) | format(*(['y' * 1999999] * 1000)) }}",
     "a %-format would make a value of"),
    # a value printed is as long as everything it holds, however cheaply it was built
    ("{{ ['y' * 1999999] * 1000 }}", "the template writes a value of over 2,000,000"),
    ("{{ (['y' * 1999999] * 1000) | string }}", "string would print a value of over"),
    ("{% set a = 'y' * 1999999 %}{{ a ~ a ~ a ~ a }}",
     "~ would make a value of 7,999,996 characters"),
]


def fetch_and_hold(tmp_path: Path, body: str) -> str:
    """`pressbot fetch` with the bomb as one channel's template: that post is held, the
    other channel's is not; gives the held post's error."""
    ws = make_workspace(tmp_path, channels=channels_with_template(tmp_path, "bomb.txt.j2", body))
    write_release(ws.content, "r.md", "A release")
    fetched = ws.run("fetch")
    assert fetched.exit_code == 0, fetched.output
    posts = {p["channel"]: p for p in json.loads(ws.run("queue", "--json").stdout)}
    assert posts["fine"]["status"] == "approved"
    assert posts["broken"]["status"] == "held"
    error: str = posts["broken"]["last_error"]
    assert f"{tmp_path}/tpl/bomb.txt.j2" in error, error
    return error


@pytest.mark.parametrize(("body", "expected"), BOMBS)
def test_a_bomb_sized_before_it_allocates_holds_its_post(tmp_path: Path, body: str,
                                                         expected: str) -> None:
    assert expected in fetch_and_hold(tmp_path, body)


@pytest.mark.parametrize(("body", "expected"), BOMBS)
def test_the_sandbox_alone_refuses_each_bomb(body: str, expected: str) -> None:
    """pressbot's own templates render in the bot's process, with the sandbox only."""
    env = BoundedEnvironment()
    env.bound_filters()
    with pytest.raises(SecurityError) as raised:
        render_bounded(env.from_string(body), {})
    assert expected in str(raised.value)


@pytest.mark.parametrize("body", [
    "{{ '%d visitors' % 3000000 }} {{ '{} visitors'.format(3000000) }} {{ 3000000|string }}",
    "{{ [1, 2] | tojson(indent=2) }} {{ 'a b c' | wordwrap(2, wrapstring='<br>') }}",
    "{{ [[1], [2]] | sum(start=[]) }} {{ ['a', 'b'] | join(', ') }} {{ ('a' * 99)|wordwrap(7) }}",
    "{{ 'ab'.translate({97: 'xyz'}) }} {{ '{:>{}}'.format('x', 5) }} {{ 'x'.encode() * 3 }}",
])
def test_ordinary_uses_of_the_same_calls_still_render(body: str) -> None:
    env = BoundedEnvironment()
    env.bound_filters()
    assert render_bounded(env.from_string(body), {})


def test_the_worker_bounds_memory_the_sandbox_does_not_count(tmp_path: Path) -> None:
    """Ten lists of two million one-letter strings: 20 million items by the sandbox's
    count (within every limit), 1.7 GB in Python. The worker's address space is capped:
    the render fails on memory, and the next render gets a fresh worker."""
    from bot import template_worker

    error = fetch_and_hold(tmp_path, (
        "{% set big = '€' * 1999999 %}{% set ns = namespace(all=[]) %}"
        "{% for i in range(10) %}{% set ns.all = ns.all + [big | list] %}{% endfor %}"
        "{{ ns.all | length }}"))
    assert (f"MemoryError: the template needs more memory than the {template_worker.MEMORY_MB}"
            " MB a channel's own template may use") in error
    (tmp_path / "tpl" / "fine.txt.j2").write_text("{{ title }} is fine", encoding="utf-8")
    assert template_worker.render(str(tmp_path / "tpl"), "fine.txt.j2", {"title": "It"},
                                  "channels.x.template") == "It is fine"


def test_the_worker_stops_a_single_call_that_outlasts_its_cpu_limit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """urlize over a million words is one call, within every size: the sandbox checks its
    time only between steps. The kernel stops the worker at its CPU limit (1 s here)."""
    from bot import template_worker

    monkeypatch.setattr(template_worker, "CPU_SECONDS", 1)
    monkeypatch.setattr(template_worker, "_worker", None)   # a worker with that limit
    error = fetch_and_hold(tmp_path, "{{ ('a ' * 999999) | urlize | length }}")
    assert "the template used more than 1 s of CPU (the limit of one render of a " \
           "channel's own template) and was stopped" in error
