"""Jinja's immutable sandbox, bounded: a template cannot exhaust memory or time.

Staff edit templates, and the sandbox already stops them reaching Python's insides. It does
not stop `{{ 'x' * 200000000 }}`, `{{ 'a' | center(10**9) }}`, `{{ 'x'.ljust(10**9) }}`,
`{{ '%999999999d' % 1 }}`, `{{ 9 ** 9 ** 9 }}`, loops nested over long strings or a macro
that calls itself twice: each could take the whole process (memory, or a CPU core for good).

So this environment refuses sizes up front (repetition, exponents, padding widths, format
widths, replacements), and every render shares one budget: of steps (each item of every
`for` loop, each call of a macro or method), of characters written (every `{{ }}` and every
piece of literal text, also inside `{% set %}` blocks and macros whose output is thrown
away) and of time, checked at every step. Loops and output are counted by rewriting the
parsed template (`_parse`), so no loop, block or output escapes the count. Every such stop
is a `SecurityError`, which the renderer turns into that post's template error.
"""

from __future__ import annotations

import contextvars
import operator
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import wraps
from typing import Any

from jinja2 import nodes, pass_context
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_OUTPUT = 2_000_000
"""Characters a template may produce (or build in one value): a digest email is ~100 kB."""
MAX_WRITTEN = 4 * MAX_OUTPUT
"""Characters one render may write in all, output thrown away by a `set` block included."""
MAX_ITERATIONS = 100_000
"""Steps one render may take: loop items (`range` and every other `for`) and calls."""
MAX_SECONDS = 2.0
MAX_EXPONENT = 64
MAX_INT_BITS = 100_000
"""Python refuses to print an int of over 4300 digits anyway; bigger ones only eat memory."""

_ITER, _EMIT, _SIZE = "_pressbot_iter", "_pressbot_emit", "_pressbot_size"
# a width or precision of 7 digits or more in a %-format or a str.format field
_PERCENT_WIDTH = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(?:\d{7,}|\d*\.\d{7,})")
_FIELD_WIDTH = re.compile(r"\{[^{}]*:[^{}]*\d{7,}[^{}]*\}")


@dataclass
class _Budget:
    steps: int
    written: int
    deadline: float

    def step(self, count: int = 1) -> None:
        self.steps -= count
        if self.steps < 0:
            raise SecurityError(f"the template loops or calls more than {MAX_ITERATIONS:,} "
                                "times")
        if time.monotonic() > self.deadline:
            raise SecurityError(f"the template took more than {MAX_SECONDS:g} s")


_budget: contextvars.ContextVar[_Budget] = contextvars.ContextVar("template_budget")


def _step(count: int = 1) -> None:
    budget = _budget.get(None)
    if budget is not None:
        budget.step(count)


def _bounded_range(*args: int) -> range:
    """A range no longer than a render's whole budget; looping over it counts each item
    (`_bounded_iter`), so it is not charged here."""
    numbers = range(*args)
    if len(numbers) > MAX_ITERATIONS:
        raise SecurityError(f"range of {len(numbers):,} items (at most {MAX_ITERATIONS:,})")
    return numbers


def _bounded_iter(value: Any) -> Iterator[Any]:
    """Every `for` loop's items, each one a step (so nested loops over anything stop)."""
    for item in value:
        _step()
        yield item


@pass_context
def _emit(_: Context, value: Any) -> Any:
    """Count what a template writes, wherever the output goes."""
    budget = _budget.get(None)
    if budget is not None and isinstance(value, str):
        budget.written -= len(value)
        if budget.written < 0:
            raise SecurityError(f"the template writes over {MAX_WRITTEN:,} characters")
    return value


@pass_context
def _size(_: Context, value: Any) -> Any:
    if _too_big(value):
        raise SecurityError(f"a value over {MAX_OUTPUT:,} characters")
    return value


def _too_big(value: Any) -> bool:
    return isinstance(value, str | list | tuple | bytes) and len(value) > MAX_OUTPUT


def _check_size(what: str, size: int) -> None:
    if size > MAX_OUTPUT:
        raise SecurityError(f"{what} would make a value of {size:,} characters (at most "
                            f"{MAX_OUTPUT:,})")


def _check_ints(what: str, values: Iterable[Any]) -> None:
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool) and value > MAX_OUTPUT:
            raise SecurityError(f"{what}: a size of {value:,} is too large")


def _check_format(text: str, args: Iterable[Any]) -> None:
    """A format string may not ask for a width or precision bigger than a value may be."""
    if _PERCENT_WIDTH.search(text) or _FIELD_WIDTH.search(text):
        raise SecurityError("a format width or precision is too large")
    _check_ints("format", args)


def _replaced_size(text: str, old: Any, new: Any, count: Any = -1) -> int:
    if not (isinstance(old, str) and isinstance(new, str)):
        return len(text)
    found = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    return len(text) + found * max(0, len(new) - len(old))


def _check_str_method(name: str, text: str, args: tuple[Any, ...],
                      kwargs: dict[str, Any]) -> None:
    """Refuse the calls of a str method whose result would be over the size limit, before
    Python allocates it."""
    values = (*args, *kwargs.values())
    if name in ("center", "ljust", "rjust", "zfill"):
        _check_ints(name, values)
    elif name == "expandtabs":
        tab = args[0] if args else kwargs.get("tabsize", 8)
        if isinstance(tab, int):
            _check_size(name, text.count("\t") * tab + len(text))
    elif name == "replace" and len(args) >= 2:
        _check_size(name, _replaced_size(text, *args[:3]))
    elif name == "join" and args and isinstance(args[0], list | tuple | str):
        items = args[0]
        _check_size(name, len(text) * max(0, len(items) - 1)
                    + sum(len(i) for i in items if isinstance(i, str)))
    elif name in ("format", "format_map"):
        _check_format(text, values)


def _check_filter(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Size checks of the filters that can build a big value from small arguments."""
    _check_ints(name, (*args, *kwargs.values()))
    if not args or not isinstance(args[0], str):
        return
    text, rest = args[0], args[1:]
    if name == "format":
        _check_format(text, (*rest, *kwargs.values()))
    elif name == "replace" and len(rest) >= 2:
        _check_size(name, _replaced_size(text, *rest[:3]))
    elif name == "indent":
        width = rest[0] if rest else kwargs.get("width", 4)
        size = width if isinstance(width, int) else len(str(width))
        _check_size(name, len(text) + (text.count("\n") + 1) * size)


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    passes_context = getattr(function, "jinja_pass_arg", None) is not None

    @wraps(function)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        _check_filter(name, args[1:] if passes_context else args, kwargs)
        result = function(*args, **kwargs)
        if _too_big(result):
            raise SecurityError(f"{name} made a value over {MAX_OUTPUT:,} characters")
        return result

    bounded.jinja_pass_arg = getattr(function, "jinja_pass_arg", None)  # type: ignore[attr-defined]
    return bounded


def _count_loops_and_output(template: nodes.Template) -> None:
    """Rewrite a parsed template: every loop's items and every output go through the
    budget's filters (filters, unlike names, cannot be redefined by the template)."""
    for loop in template.find_all(nodes.For):
        loop.iter = nodes.Filter(loop.iter, _ITER, [], [], None, None, lineno=loop.lineno)
    for output in template.find_all(nodes.Output):
        counted: list[nodes.Expr] = []
        for child in output.nodes:
            if isinstance(child, nodes.TemplateData):
                child = nodes.MarkSafeIfAutoescape(nodes.Const(child.data, lineno=child.lineno),
                                                   lineno=child.lineno)
            counted.append(nodes.Filter(child, _EMIT, [], [], None, None, lineno=child.lineno))
        output.nodes = counted
    for concat in list(template.find_all(nodes.Concat)):
        concat.nodes = [nodes.Filter(nodes.Concat(concat.nodes, lineno=concat.lineno), _SIZE,
                                     [], [], None, None, lineno=concat.lineno)]


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """The immutable sandbox with size, step, output and time limits (see the module)."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals.pop("lipsum", None)
        self.globals["range"] = _bounded_range
        self.filters[_ITER] = _bounded_iter
        self.filters[_EMIT] = _emit
        self.filters[_SIZE] = _size

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        template = super()._parse(source, name, filename)
        _count_loops_and_output(template)
        return template

    def add_filter(self, name: str, function: Callable[..., Any]) -> None:
        self.filters[name] = _bounded_filter(name, function)

    def bound_filters(self) -> None:
        """Wrap every filter (built-in and added) in the size checks."""
        for name, function in list(self.filters.items()):
            if name not in (_ITER, _EMIT, _SIZE) and not getattr(function, "__wrapped__", None):
                self.filters[name] = _bounded_filter(name, function)

    def call(__self, __context: Context, __obj: Any, *args: Any,
             **kwargs: Any) -> Any:
        """Every call is a step (a macro calling itself twice runs out of steps, not of
        time); str methods that pad, replace, join or format are checked before they run."""
        _step()
        method = getattr(__obj, "__wrapped__", __obj)   # str.format comes wrapped
        owner = getattr(method, "__self__", None)
        if isinstance(owner, str):
            _check_str_method(getattr(method, "__name__", ""), owner, args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        if _too_big(result):
            raise SecurityError(f"a call made a value over {MAX_OUTPUT:,} characters")
        return result

    def call_binop(self, context: Any, operator_: str, left: Any, right: Any) -> Any:
        if operator_ == "**":
            if isinstance(right, int) and abs(right) > MAX_EXPONENT:
                raise SecurityError(f"an exponent of {right:,} is too large")
            if isinstance(left, int) and isinstance(right, int) and \
                    left.bit_length() * right > MAX_INT_BITS:
                raise SecurityError("the power is too large a number")
            return operator.pow(left, right)
        if operator_ == "*":
            if isinstance(left, int) and isinstance(right, int) and \
                    left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise SecurityError("the product is too large a number")
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(times, int) and \
                        len(seq) * times > MAX_OUTPUT:
                    raise SecurityError(f"repeating a value {times:,} times is too large")
            return operator.mul(left, right)
        if operator_ == "%":
            if isinstance(left, str):
                values = right if isinstance(right, tuple) else (
                    right.values() if isinstance(right, dict) else (right,))
                _check_format(left, values)
            result = operator.mod(left, right)
        else:
            result = operator.add(left, right)
        if _too_big(result):
            raise SecurityError(f"a value over {MAX_OUTPUT:,} characters")
        return result


def render_bounded(template: Any, context: dict[str, Any]) -> str:
    """Render with the step budget, the output caps and the time limit."""
    token = _budget.set(_Budget(MAX_ITERATIONS, MAX_WRITTEN, time.monotonic() + MAX_SECONDS))
    try:
        size = 0
        parts: list[str] = []
        chunks: Iterator[str] = template.generate(context)
        for chunk in chunks:
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise SecurityError(f"the template's output is over {MAX_OUTPUT:,} characters")
            _step(0)
            parts.append(chunk)
        return "".join(parts)
    finally:
        _budget.reset(token)
