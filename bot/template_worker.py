"""Staff-edited templates render in a worker process with hard limits on memory and CPU.

The sandbox (`bot.sandbox`) counts what a template asks for: steps, characters, sizes of
the values it builds. It cannot count what Python spends on them (a list of two million
one-letter strings is 150 MB), nor a path nobody thought of. So a channel's own templates
(`templates_dir`, or a `template` path) render in one long-lived child process whose
address space is capped (`RLIMIT_AS`, `MEMORY_MB` beyond what it holds once started) and
whose CPU time is capped per render (`RLIMIT_CPU`, `CPU_SECONDS`; the kernel stops even a
single call that never returns to Python). A template that hits either fails with a
template error that names the template and the limit, and only its post is held; the next
render gets a fresh worker.

Why a worker and not a fork per render: `bench/template_bombs.py` measured a fork at tens of
ms from a loaded bot (and forking a threaded process is fragile), a round trip to the worker
at a fraction of a millisecond. pressbot's own templates are not staff-edited and render in
the bot's process, with the sandbox's limits only.

Protocol, on the worker's stdin and stdout: a request is a length-prefixed pickle of
(user folder, template name, context, config key) written by the bot; an answer is
length-prefixed JSON (`{"text": …}` or `{"error": …, "where": …}`), so the bot never
unpickles anything the worker wrote.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import pickle
import resource
import signal
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

from bot.errors import TemplateError

MEMORY_MB = 256
"""Address space a render may add to the worker's own (a digest email needs a few MB)."""
CPU_SECONDS = 5
"""CPU one render may use; the sandbox's own limit (2 s of CPU, checked between steps)
comes first, this one stops a single call that never returns."""

_HEADER = struct.Struct(">Q")
_lock = threading.Lock()
_worker: subprocess.Popen[bytes] | None = None


def render(user_dir: str, name: str, context: dict[str, Any], setting: str) -> str:
    """Render `name` from `user_dir` (then pressbot's templates) in the worker."""
    global _worker
    request = pickle.dumps((user_dir, name, context, setting), protocol=pickle.HIGHEST_PROTOCOL)
    with _lock:
        worker = _worker if _worker is not None and _worker.poll() is None else _start()
        _worker = worker
        assert worker.stdin is not None
        assert worker.stdout is not None
        try:
            _write(worker.stdin, request)
            answer = json.loads(_read(worker.stdout))
        except (OSError, EOFError):
            _worker = None
            raise TemplateError(_death(worker), str(Path(user_dir, name))) from None
        except BaseException:
            _worker = None          # interrupted mid-answer: that worker is out of step
            worker.kill()
            _stop(worker)
            raise
        if answer.get("restart"):
            _stop(worker)
            _worker = None
    if "error" in answer:
        raise TemplateError(answer["error"], answer.get("where"))
    text: str = answer["text"]
    return text


def _start() -> subprocess.Popen[bytes]:
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (root, os.environ.get("PYTHONPATH")) if p)}
    return subprocess.Popen([sys.executable, "-m", "bot.template_worker", str(MEMORY_MB),
                             str(CPU_SECONDS)], env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, close_fds=True)


@atexit.register
def _stop_current() -> None:
    if _worker is not None:
        _stop(_worker)


def _stop(worker: subprocess.Popen[bytes]) -> None:
    """Close the worker's stdin (it exits on end of input) and reap it."""
    _close(worker.stdin)
    try:
        worker.wait(timeout=5)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
    _close(worker.stdout)


def _close(pipe: IO[bytes] | None) -> None:
    if pipe is not None:
        with contextlib.suppress(OSError):
            pipe.close()


def _death(worker: subprocess.Popen[bytes]) -> str:
    """Why the worker stopped in the middle of a render, in words."""
    code = worker.wait()
    _close(worker.stdin)
    _close(worker.stdout)
    if code == -signal.SIGXCPU:
        return (f"the template used more than {CPU_SECONDS} s of CPU (the limit of one "
                "render of a channel's own template) and was stopped")
    if code < 0:
        return (f"the template's render was stopped by {signal.Signals(-code).name}, most "
                f"likely at the memory limit ({MEMORY_MB} MB for a channel's own template)")
    return f"the template worker exited with status {code} (see the log)"


def _write(stream: IO[bytes], payload: bytes) -> None:
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def _read(stream: IO[bytes]) -> bytes:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    (size,) = _HEADER.unpack(header)
    payload = stream.read(size)
    if len(payload) < size:
        raise EOFError
    return bytes(payload)


# -- the worker process ---------------------------------------------------------------------


def _vm_size() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


def _limit_cpu(seconds: int) -> None:
    """This render may use `seconds` more than the worker has used so far: past that the
    kernel sends SIGXCPU, whose default action ends the process."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(used.ru_utime + used.ru_stime) + 1 + seconds
    resource.setrlimit(resource.RLIMIT_CPU, (soft, resource.getrlimit(resource.RLIMIT_CPU)[1]))


def main(memory_mb: int, cpu_seconds: int) -> None:
    """Serve renders until the bot closes stdin (the limits come from the bot, which
    words the errors when the worker is stopped)."""
    from bot.template_env import render_here

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    space = _vm_size() + memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (space, space))
    memory = f"the {memory_mb} MB a channel's own template may use"
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            user_dir, name, context, setting = pickle.loads(_read(requests))  # noqa: S301 (the bot wrote it)
        except EOFError:
            return
        _limit_cpu(cpu_seconds)
        answer: dict[str, Any]
        try:
            answer = {"text": render_here(user_dir, name, context, setting, memory)}
        except TemplateError as exc:
            # a worker that ran out of memory may be left fragmented: the next one is fresh
            answer = {"error": str(exc).removeprefix(f"{exc.where}: "), "where": exc.where,
                      "restart": isinstance(exc.__context__, MemoryError)}
        _write(answers, json.dumps(answer).encode())


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
