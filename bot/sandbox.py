"""Jinja's immutable sandbox, bounded: a template cannot exhaust memory or time.

Staff edit templates, and the sandbox already stops them reaching Python's insides. It does
not stop `{{ 'x' * 200000000 }}`, `{{ 'a' | center(10**9) }}`, `{{ 9 ** 9 ** 9 }}` or nested
loops over `range`: each could take the whole process (memory, or a CPU core for good).
So this environment refuses those up front, every render shares one iteration budget, and
the output is streamed and cut at a size and a time limit. Every such stop is a
`SecurityError`, which the renderer turns into that post's template error.
"""

from __future__ import annotations

import contextvars
import operator
import time
from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any

from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_OUTPUT = 2_000_000
"""Characters a template may produce (or build in one value): a digest email is ~100 kB."""
MAX_ITERATIONS = 100_000
"""Items all `range` calls of one render may yield together."""
MAX_SECONDS = 2.0
MAX_EXPONENT = 64

_budget: contextvars.ContextVar[list[int]] = contextvars.ContextVar("template_budget")


def _bounded_range(*args: int) -> range:
    numbers = range(*args)
    budget = _budget.get(None)
    if budget is not None:
        budget[0] -= len(numbers)
        if budget[0] < 0:
            raise SecurityError(f"the template loops more than {MAX_ITERATIONS:,} times")
    elif len(numbers) > MAX_ITERATIONS:
        raise SecurityError(f"range of {len(numbers):,} items (at most {MAX_ITERATIONS:,})")
    return numbers


def _too_big(value: Any) -> bool:
    return isinstance(value, str | list | tuple | bytes) and len(value) > MAX_OUTPUT


def _bounded_filter(function: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(function)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        for value in (*args, *kwargs.values()):
            if isinstance(value, int) and not isinstance(value, bool) and value > MAX_OUTPUT:
                raise SecurityError(f"{function.__name__}: a size of {value:,} is too large")
        result = function(*args, **kwargs)
        if _too_big(result):
            raise SecurityError(f"{function.__name__} made a value over {MAX_OUTPUT:,} "
                                "characters")
        return result

    bounded.jinja_pass_arg = getattr(function, "jinja_pass_arg", None)  # type: ignore[attr-defined]
    return bounded


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """The immutable sandbox with size, iteration and time limits (see the module)."""

    intercepted_binops = frozenset({"*", "**", "+"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals.pop("lipsum", None)
        self.globals["range"] = _bounded_range

    def add_filter(self, name: str, function: Callable[..., Any]) -> None:
        self.filters[name] = _bounded_filter(function)

    def bound_filters(self) -> None:
        """Wrap every filter (built-in and added) in the size checks."""
        for name, function in list(self.filters.items()):
            if not getattr(function, "__wrapped__", None):
                self.filters[name] = _bounded_filter(function)

    def call_binop(self, context: Any, operator_: str, left: Any, right: Any) -> Any:
        if operator_ == "**":
            if isinstance(right, int) and abs(right) > MAX_EXPONENT:
                raise SecurityError(f"an exponent of {right:,} is too large")
            return operator.pow(left, right)
        if operator_ == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(times, int) and \
                        len(seq) * times > MAX_OUTPUT:
                    raise SecurityError(f"repeating a value {times:,} times is too large")
            return operator.mul(left, right)
        result = operator.add(left, right)
        if _too_big(result):
            raise SecurityError(f"a value over {MAX_OUTPUT:,} characters")
        return result


def render_bounded(template: Any, context: dict[str, Any]) -> str:
    """Render with the iteration budget, the output cap and the time limit."""
    token = _budget.set([MAX_ITERATIONS])
    try:
        deadline = time.monotonic() + MAX_SECONDS
        size = 0
        parts: list[str] = []
        chunks: Iterator[str] = template.generate(context)
        for chunk in chunks:
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise SecurityError(f"the template's output is over {MAX_OUTPUT:,} characters")
            if time.monotonic() > deadline:
                raise SecurityError(f"the template took more than {MAX_SECONDS:g} s")
            parts.append(chunk)
        return "".join(parts)
    finally:
        _budget.reset(token)
