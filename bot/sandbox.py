"""Jinja's immutable sandbox, bounded: a template cannot exhaust memory or time.

Staff edit templates, and the sandbox already stops them reaching Python's insides. It does
not stop `{{ 'x' * 200000000 }}`, `{{ 'a' | center(10**9) }}`, `{{ 'x'.ljust(10**9) }}`,
`{{ '%999999999d' % 1 }}`, `{{ 9 ** 9 ** 9 }}`, loops nested over long strings or a macro
that calls itself twice: each could take the whole process (memory, or a CPU core for good).

So this environment refuses sizes up front (repetition, exponents, padding widths, format
widths, replacements), and every render shares one budget: of steps (each item of every
`for` loop, each call of a macro or method), of characters written (every `{{ }}` and every
piece of literal text, also inside `{% set %}` blocks and macros whose output is thrown
away) and of CPU time, checked at every step. Loops and output are counted by rewriting the
parsed template (`_parse`), so no loop, block or output escapes the count. A single call
that could build a huge value at once (a join, a format, a repetition, `int.to_bytes`, …)
is sized from its arguments first (`bot.sandbox_sizes`). Every such stop is a
`SecurityError`, which the renderer turns into that post's template error.

These limits count what a template asks for, not what Python spends on it (a list of two
million one-letter strings is "2 million items" here and 150 MB in memory), and a path
nobody thought of is not counted at all. So staff-edited templates also render in a worker
process with hard limits on memory and CPU (`bot.template_worker`).
"""

from __future__ import annotations

import contextvars
import operator
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import update_wrapper, wraps
from typing import Any

from jinja2 import nodes, pass_context, pass_eval_context
from jinja2.exceptions import SecurityError
from jinja2.nodes import EvalContext
from jinja2.runtime import Context, markup_join, str_join
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from bot.sandbox_sizes import (
    MAX_EXPONENT,
    MAX_INT_BITS,
    MAX_ITERATIONS,
    MAX_OUTPUT,
    SEQUENCES,
    SizedEscapeFormatter,
    SizedFormatter,
    bounded_dumps,
    bounded_join,
    bounded_sum,
    bounded_wordwrap,
    check_filter,
    check_method,
    check_percent,
    check_size,
    check_text,
    text_size,
    too_big,
)

MAX_WRITTEN = 4 * MAX_OUTPUT
"""Characters one render may write in all, output thrown away by a `set` block included."""
MAX_SECONDS = 2.0
"""CPU seconds of the rendering thread (`time.thread_time`): a busy machine or another
thread's work does not count against a template, only the template's own work does."""

_ITER, _EMIT, _CONCAT = "_pressbot_iter", "_pressbot_emit", "_pressbot_concat"
_BOUNDED = "_pressbot_bounded"


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
        if time.thread_time() > self.deadline:
            raise SecurityError(f"the template took more than {MAX_SECONDS:g} s of CPU")


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
    """Count what a template writes, wherever the output goes (a list is sized as it will
    be printed, before it is)."""
    size = len(value) if isinstance(value, str) else text_size(value)
    if size > MAX_OUTPUT:
        raise SecurityError(f"the template writes a value of over {MAX_OUTPUT:,} characters")
    budget = _budget.get(None)
    if budget is not None:
        budget.written -= size
        if budget.written < 0:
            raise SecurityError(f"the template writes over {MAX_WRITTEN:,} characters")
    return value


@pass_eval_context
def _concat(eval_ctx: EvalContext, values: tuple[Any, ...]) -> str:
    """`a ~ b ~ …`, sized from its pieces before they are joined."""
    check_size("~", sum(text_size(value) for value in values))
    return markup_join(values) if eval_ctx.autoescape else str_join(values)


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    passes_context = getattr(function, "jinja_pass_arg", None) is not None

    @wraps(function)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        check_filter(name, args[1:] if passes_context else args, kwargs)
        result = function(*args, **kwargs)
        if too_big(result):
            raise SecurityError(f"{name} made a value over {MAX_OUTPUT:,} characters")
        return result

    bounded.jinja_pass_arg = getattr(function, "jinja_pass_arg", None)  # type: ignore[attr-defined]
    setattr(bounded, _BOUNDED, True)
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
        concat.nodes = [nodes.Filter(nodes.Tuple(concat.nodes, "load", lineno=concat.lineno),
                                     _CONCAT, [], [], None, None, lineno=concat.lineno)]


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """The immutable sandbox with size, step, output and time limits (see the module)."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals.pop("lipsum", None)
        self.globals["range"] = _bounded_range
        self.policies["json.dumps_function"] = bounded_dumps
        self.filters.update(join=bounded_join, sum=bounded_sum(_step),
                            wordwrap=bounded_wordwrap)
        self.filters[_ITER] = _bounded_iter
        self.filters[_EMIT] = _emit
        self.filters[_CONCAT] = _concat
        for internal in (_ITER, _EMIT, _CONCAT):
            setattr(self.filters[internal], _BOUNDED, True)

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        template = super()._parse(source, name, filename)
        _count_loops_and_output(template)
        return template

    def add_filter(self, name: str, function: Callable[..., Any]) -> None:
        self.filters[name] = _bounded_filter(name, function)

    def bound_filters(self) -> None:
        """Wrap every filter (built-in and added) in the size checks, once."""
        for name, function in list(self.filters.items()):
            if not getattr(function, _BOUNDED, False):
                self.filters[name] = _bounded_filter(name, function)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """str.format and str.format_map through a formatter that sizes every field (the
        sandbox's own does the attribute checks)."""
        if getattr(value, "__name__", None) not in ("format", "format_map") or \
                not isinstance(getattr(value, "__self__", None), str):
            return None
        text: str = value.__self__
        formatter = (SizedEscapeFormatter(self, escape=text.escape)
                     if isinstance(text, Markup) else SizedFormatter(self))
        mapping = value.__name__ == "format_map"

        def sized_format(*args: Any, **kwargs: Any) -> str:
            if mapping and (kwargs or len(args) != 1):
                raise TypeError("format_map() takes exactly one argument, a mapping")
            fields = args[0] if mapping else kwargs
            return type(text)(formatter.vformat(text, () if mapping else args, fields))

        return update_wrapper(sized_format, value)

    def call(__self, __context: Context, __obj: Any, *args: Any,
             **kwargs: Any) -> Any:
        """Every call is a step (a macro calling itself twice runs out of steps, not of
        time); methods of str, bytes and int that pad, replace, join, translate or make
        bytes are sized before they run."""
        _step()
        owner = getattr(__obj, "__self__", None)
        if owner is not None:
            args = check_method(owner, getattr(__obj, "__name__", ""), args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        if too_big(result):
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
                if isinstance(seq, SEQUENCES) and isinstance(times, int) and \
                        len(seq) * times > MAX_OUTPUT:
                    raise SecurityError(f"repeating a value {times:,} times is too large "
                                        f"(at most {MAX_OUTPUT:,} characters)")
            return operator.mul(left, right)
        if operator_ == "%":
            if isinstance(left, str | bytes | bytearray):
                check_percent(left, right)
            else:
                check_text("%", right)
            result = operator.mod(left, right)
        else:
            result = operator.add(left, right)
        if too_big(result):
            raise SecurityError(f"a value over {MAX_OUTPUT:,} characters")
        return result


def render_bounded(template: Any, context: dict[str, Any]) -> str:
    """Render with the step budget, the output caps and the time limit."""
    token = _budget.set(_Budget(MAX_ITERATIONS, MAX_WRITTEN, time.thread_time() + MAX_SECONDS))
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
