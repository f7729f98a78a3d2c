"""How big a template's next value would be, found out before Python builds it.

The sandbox (`bot.sandbox`) checks its budgets between steps; a single call can still ask
Python for gigabytes in one go (`'x'.encode() * 10**9`, `'{0:{1}}' * 1000`, `range(1000) |
join('y' * 1999999)`), and the check after it comes too late. So every operation that can
make a value much larger than its inputs is sized here first, from its inputs, and refused
with a `SecurityError` that names the operation and the limit. A size is in characters (or
bytes, or items), never more than `MAX_OUTPUT`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from string import Formatter
from typing import Any

from jinja2 import pass_environment, pass_eval_context
from jinja2.environment import Environment
from jinja2.exceptions import SecurityError
from jinja2.filters import do_wordwrap, make_attrgetter, sync_do_join
from jinja2.nodes import EvalContext
from jinja2.sandbox import SandboxedEscapeFormatter, SandboxedFormatter

MAX_OUTPUT = 2_000_000
"""Characters a template may produce (or build in one value): a digest email is ~100 kB."""
MAX_ITERATIONS = 100_000
"""Steps one render may take: loop items (`range` and every other `for`) and calls."""
MAX_EXPONENT = 64
MAX_INT_BITS = 100_000
"""Python refuses to print an int of over 4300 digits anyway; bigger ones only eat memory."""
MAX_OPTION = 100
"""Characters of a string a filter repeats on every line or link (`wordwrap`'s wrapstring,
`tojson`'s indent, `urlize`'s target and rel): a longer one is an attack, not a layout."""
MAX_COPIES = 100 * MAX_OUTPUT
"""Characters `wordwrap` may copy to break long words (it copies the rest of a word for
every piece it cuts off: a 400,000-character word at width 1 is 80 billion)."""

SEQUENCES = (str, bytes, bytearray, list, tuple)
_CONTAINERS = (list, tuple, set, frozenset, dict)


def too_big(value: Any) -> bool:
    return isinstance(value, (*SEQUENCES, set, frozenset, dict)) and len(value) > MAX_OUTPUT


def check_size(what: str, size: int) -> None:
    if size > MAX_OUTPUT:
        raise SecurityError(f"{what} would make a value of {size:,} characters (over "
                            f"{MAX_OUTPUT:,}, the most one value may hold)")


def check_ints(what: str, values: Iterable[Any], limit: int = MAX_OUTPUT) -> None:
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool) and value > limit:
            raise SecurityError(f"{what}: a size of {value:,} is too large (at most {limit:,})")


def text_size(value: Any, limit: int = MAX_OUTPUT) -> int:
    """About how many characters `str(value)` has (at least that many), counted only up
    to just past `limit`: a list holding one long string a thousand times is 1,000 times
    that string once printed, though it costs almost nothing to build."""
    total, stack = 0, [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, str | bytes | bytearray):
            total += len(item)
        elif isinstance(item, dict):
            total += 2 + 4 * len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, _CONTAINERS):
            total += 2 + 2 * len(item)
            stack.extend(item)
        else:
            total += 1
    return total


def check_text(what: str, value: Any) -> None:
    """`value` printed must fit in one value."""
    if not isinstance(value, str) and isinstance(value, _CONTAINERS):
        size = text_size(value)
        if size > MAX_OUTPUT:
            raise SecurityError(f"{what} would print a value of over {MAX_OUTPUT:,} characters")


# -- %-formats -----------------------------------------------------------------------------

_PERCENT_SPEC = re.compile(r"%(?:\((?P<key>[^)]*)\))?[#0 +-]*(?P<width>\*|\d*)"
                           r"(?:\.(?P<precision>\*|\d*))?[hlL]?(?P<kind>.?)", re.DOTALL)


def check_percent(text: str | bytes | bytearray, values: Any) -> None:
    """The size of `text % values`, from each conversion's width, precision and value:
    `'%999999d' * 1000 % ...` and `'%(a)s' * 1000 % {'a': long}` are refused as well as
    one `%900000000d`."""
    source = text if isinstance(text, str) else bytes(text).decode("latin-1")
    mapping = values if isinstance(values, Mapping) else None
    args = iter(values if isinstance(values, tuple) else (values,))
    size = len(source)
    for spec in _PERCENT_SPEC.finditer(source):
        if spec["kind"] == "%":
            continue
        width = _percent_number(spec["width"], args)
        precision = _percent_number(spec["precision"], args)
        if spec["key"] is not None and mapping is not None:
            value = mapping.get(spec["key"], "")
        else:
            value = next(args, "")
        if max(width, precision) > MAX_OUTPUT:
            raise SecurityError(f"a format width or precision of {max(width, precision):,} "
                                f"is too large (at most {MAX_OUTPUT:,})")
        shown = text_size(value) * (4 if spec["kind"] in "ra" else 1)
        if spec["kind"] not in "sra":
            shown = max(shown, 30) + precision   # a number: its digits and the decimals
        elif spec["precision"] is not None:
            shown = min(shown, precision)
        size += max(width, shown)
        check_size("a %-format", size)


def _percent_number(given: str | None, args: Iterable[Any]) -> int:
    if given == "*":
        value = next(iter(args), 0)
        return value if isinstance(value, int) else 0
    return int(given) if given else 0


# -- str.format and str.format_map ------------------------------------------------------------

_NUMBERS = re.compile(r"\d+")


class _SizedFormatting(Formatter):
    """str.format's fields sized one by one: a width inside the spec (`{0:{1}}` included,
    it is filled in before `format_field` sees it), the value printed, and their sum."""

    _size = 0

    def vformat(self, format_string: str, args: Any, kwargs: Any) -> str:
        self._size = len(format_string)
        return super().vformat(format_string, args, kwargs)

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        check_text("a format field", value)
        return super().convert_field(value, conversion)

    def format_field(self, value: Any, format_spec: str) -> Any:
        check_text("a format field", value)
        for number in _NUMBERS.findall(format_spec):
            if len(number) > 7 or int(number) > MAX_OUTPUT:
                raise SecurityError(f"a format width or precision of {int(number[:12]):,}"
                                    f"{'…' if len(number) > 12 else ''} is too large (at "
                                    f"most {MAX_OUTPUT:,})")
        result = super().format_field(value, format_spec)
        self._size += len(result)
        check_size("str.format", self._size)
        return result


class SizedFormatter(_SizedFormatting, SandboxedFormatter):
    pass


class SizedEscapeFormatter(_SizedFormatting, SandboxedEscapeFormatter):
    pass


# -- methods of str, bytes and int -----------------------------------------------------------


def _replaced_size(text: Any, old: Any, new: Any, count: Any = -1) -> int:
    if not (isinstance(old, str | bytes | bytearray) and isinstance(new, str | bytes
                                                                     | bytearray)):
        return len(text)
    try:
        found = text.count(old) if old else len(text) + 1
    except TypeError:       # str.replace(bytes, …): Python refuses it anyway
        return len(text)
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    return len(text) + found * max(0, len(new) - len(old))


def _translated_size(text: str, table: Any) -> int:
    """str.translate maps each character to a string of any length."""
    size = 0
    for char, times in Counter(text).items():
        try:
            replacement = table[ord(char)]
        except (LookupError, TypeError):
            replacement = char
        if isinstance(replacement, str):
            size += times * len(replacement)
        elif replacement is not None:
            size += times
    return size


def check_method(owner: Any, name: str, args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """Refuse a call of a str, bytes or int method whose result would be over the size
    limit, before Python allocates it; gives back the arguments to call it with (a join
    over an iterator gets the list it was sized from)."""
    values = (*args, *kwargs.values())
    if isinstance(owner, int) and not isinstance(owner, bool):
        if name == "to_bytes":
            check_ints("int.to_bytes", values[:1])
        return args
    if not isinstance(owner, str | bytes | bytearray):
        return args
    if name in ("center", "ljust", "rjust", "zfill"):
        check_ints(name, values[:1])
    elif name == "expandtabs":
        tab = args[0] if args else kwargs.get("tabsize", 8)
        if isinstance(tab, int):
            tabs = owner.count("\t") if isinstance(owner, str) else owner.count(b"\t")
            check_size(name, tabs * tab + len(owner))
    elif name == "replace" and len(args) >= 2:
        check_size(name, _replaced_size(owner, *args[:3]))
    elif name == "translate" and args and isinstance(owner, str):
        check_size(name, _translated_size(owner, args[0]))
    elif name == "join" and args:
        items = args[0] if isinstance(args[0], list | tuple | str) else list(args[0])
        check_size(name, len(owner) * max(0, len(items) - 1)
                   + sum(len(i) for i in items if isinstance(i, str | bytes | bytearray)))
        return (items, *args[1:])
    return args


# -- filters ----------------------------------------------------------------------------------

SIZED_OPTIONS = {"center": 1, "indent": 1, "truncate": 2, "wordwrap": 1, "batch": 1,
                 "slice": 1, "urlize": 1}
"""Filters whose first option(s) are sizes (a width, a length, a count)."""
STRINGIFYING = frozenset({
    "capitalize", "center", "e", "escape", "forceescape", "format", "indent", "lower",
    "pprint", "replace", "safe", "string", "striptags", "title", "trim", "truncate", "upper",
    "urlencode", "urlize", "wordcount", "wordwrap", "xmlattr"})
"""Filters that print their input first (a list holding a long string 1,000 times is
2 GB once printed)."""


def check_filter(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Size checks of the filters that can build a big value from small arguments; `args`
    starts with the filter's input."""
    if not args:
        return
    value, rest = args[0], args[1:]
    if name in STRINGIFYING:
        check_text(name, value)
    if name in SIZED_OPTIONS:
        limit = MAX_OUTPUT if name not in ("batch", "slice") else MAX_ITERATIONS
        check_ints(name, (*rest[:SIZED_OPTIONS[name]], *kwargs.values()), limit)
    if name == "urlize":
        _check_option(name, (*rest[2:], *kwargs.values()))
    if name == "format" and isinstance(value, str):
        check_percent(value, kwargs or rest)
    if not isinstance(value, str):
        return
    if name == "replace" and len(rest) >= 2:
        check_size(name, _replaced_size(value, *rest[:3]))
    elif name == "indent":
        width = rest[0] if rest else kwargs.get("width", 4)
        size = width if isinstance(width, int) else len(str(width))
        check_size(name, len(value) + (value.count("\n") + 1) * size)


def _check_option(name: str, options: Iterable[Any]) -> None:
    for option in options:
        if isinstance(option, str) and len(option) > MAX_OPTION:
            raise SecurityError(f"{name}: an option of {len(option):,} characters (at most "
                                f"{MAX_OPTION})")


@pass_eval_context
def bounded_join(eval_ctx: EvalContext, value: Iterable[Any], d: str = "",
                 attribute: str | int | None = None) -> str:
    """`join`, sized from its items and separator before anything is joined."""
    items = list(value)
    shown: Iterable[Any] = items
    if attribute is not None:
        shown = map(make_attrgetter(eval_ctx.environment, attribute), items)
    size = len(str(d)) * max(0, len(items) - 1)
    for item in shown:
        size += text_size(item)
        check_size("join", size)
    return sync_do_join(eval_ctx, items, d, attribute)


def bounded_sum(step: Callable[[], None]) -> Callable[..., Any]:
    """`sum`, one addition per step, each sum sized (Python's sum of lists is one call that
    copies the growing list at every item: quadratic, and uninterruptible)."""
    @pass_environment
    def do_sum(environment: Environment, iterable: Iterable[Any],
               attribute: str | int | None = None, start: Any = 0) -> Any:
        if isinstance(start, str):
            raise TypeError("sum can't sum strings: use join")
        if attribute is not None:
            iterable = map(make_attrgetter(environment, attribute), iterable)
        total = start
        for item in iterable:
            step()
            total = total + item
            if too_big(total):
                raise SecurityError(f"sum made a value over {MAX_OUTPUT:,} items")
        return total
    return do_sum


@pass_environment
def bounded_wordwrap(environment: Environment, s: str, width: int = 79,
                     break_long_words: bool = True, wrapstring: str | None = None,
                     break_on_hyphens: bool = True) -> str:
    """`wordwrap`, refused when breaking long words would copy too much (textwrap copies
    the rest of a word for every piece it cuts) or the wrapstring would make it too big."""
    text = str(s)
    if wrapstring is None:
        wrapstring = environment.newline_sequence
    _check_option("wordwrap's wrapstring", (wrapstring,))
    if break_long_words and isinstance(width, int) and width > 0:
        copies = sum(len(word) ** 2 // width for word in text.split() if len(word) > width)
        if copies > MAX_COPIES:
            raise SecurityError(f"wordwrap({width}) would copy {copies:,} characters to break "
                                f"long words (at most {MAX_COPIES:,})")
    wrapped = do_wordwrap(environment, text, width, break_long_words, "\n", break_on_hyphens)
    if wrapstring != "\n":
        check_size("wordwrap", len(wrapped) + wrapped.count("\n") * (len(wrapstring) - 1))
        wrapped = wrapped.replace("\n", wrapstring)
    return wrapped


def bounded_dumps(value: Any, **options: Any) -> str:
    """`tojson`'s encoder: the value sized first, then the JSON written piece by piece up to
    the limit (an indent is repeated on every line, at every depth)."""
    indent = options.get("indent")
    check_ints("tojson's indent", (indent,), MAX_OPTION)
    _check_option("tojson's indent", (indent,))
    check_text("tojson", value)
    size, parts = 0, []
    for part in json.JSONEncoder(**options).iterencode(value):
        size += len(part)
        check_size("tojson", size)
        parts.append(part)
    return "".join(parts)
