"""What the template limits cost a normal render, and what each known bomb costs.

    .venv/bin/python bench/template_bombs.py [--runs 300] [--code DIR] [--skip-normal]

`--code DIR` measures another checkout's `bot` (e.g. `git archive main | tar -x -C DIR`
for the figures before a change); the bench itself stays this one.

- normal renders, ms per render (median of `--runs`), in a fresh process: the stock
  Mastodon template in-process; the same template from a channel's `templates_dir` (in
  the template worker, once it exists); the email body; and, for comparison, the other
  design: a fork per render, from this small process and from one holding 300 MB of
  Python objects (a long-running bot's size); the worker's start (once per process).
- each bomb, in a fresh process with a 4 GB address-space cap and a 30 s CPU cap (so the
  unbounded ones cannot take the machine): wall time of `render()` and the peak memory
  it added, as VmHWM from /proc/self/status of that process (a spawned process, so its
  peak is its own) and, for the template worker it spawned, `ru_maxrss` of its reaped
  children (the worker is exec'd, not forked, so that is the worker's own peak too).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BOMBS = [
    ("join with a long separator", "{{ range(1000) | join('y' * 1999999) }}"),
    ("tojson with a huge indent", "{{ range(1000) | list | tojson(indent=1999999) }}"),
    ("sum(start=[]) of big lists", "{{ ([range(100000)|list] * 1000) | sum(start=[]) }}"),
    ("wordwrap(1), 400,000 chars", "{{ ('x' * 400000) | wordwrap(1) }}"),
    ("bytes repeated 10**9 times", "{{ 'x'.encode() * 10 ** 9 }}"),
    ("int.to_bytes(10**9)", "{{ (1).to_bytes(10 ** 9, 'big') }}"),
    ("translate, long replacement", "{{ ('x' * 1000000).translate({120: 'y' * 1999}) }}"),
    ("nested format widths", "{{ ('{0:{1}}' * 1000).format(1, 1999999) }}"),
    ("format_map width", "{{ '{a:{w}}'.format_map({'a': 1, 'w': 10 ** 9}) }}"),
    ("%-format, 6-digit widths", "{{ '%(a)999999d' * 1000 % {'a': 1} }}"),
    ("a list printed", "{{ ['y' * 1999999] * 1000 }}"),
    ("~ of long strings", "{% set a = 'y' * 1999999 %}{{ a ~ a ~ a ~ a }}"),
    ("lists of 2M strings (memory)", "{% set big = '€' * 1999999 %}"
     "{% set ns = namespace(all=[]) %}{% for i in range(10) %}"
     "{% set ns.all = ns.all + [big | list] %}{% endfor %}{{ ns.all | length }}"),
    ("urlize of 1M words (CPU)", "{{ ('a ' * 999999) | urlize | length }}"),
]

CONFIG = """
[bot]
database_url = "sqlite:///{folder}/pressbot.db"
outbox = "{folder}/outbox"

[sources.press]
type = "folder"
path = "{folder}"

[channels.stock]
type = "outbox"
like = "mastodon"

[channels.custom]
type = "outbox"
like = "mastodon"
templates_dir = "{folder}/custom"

[channels.bomb]
type = "outbox"
like = "mastodon"
templates_dir = "{folder}/tpl"
template = "bomb.txt.j2"

[channels.mail]
type = "outbox"
like = "email"
"""

CHILD = textwrap.dedent("""
    import json, os, resource, statistics, sys, time
    from pathlib import Path
    mode, folder, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "bomb":
        cap = 4 << 30
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        resource.setrlimit(resource.RLIMIT_CPU, (30, 30))
    from bot.checks import SAMPLE
    from bot.config import load_config
    from bot.render import context_for, render, render_template, targets
    try:
        from bot import template_worker
    except ImportError:
        template_worker = None

    def status(field):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    config = load_config(Path(folder) / "pressbot.toml")
    by_name = {t.name: t for t in targets(config)}
    def timed(target, name, count=runs):
        context = {**context_for(SAMPLE, by_name[target], config), "summary": SAMPLE.summary}
        times = []
        for _ in range(count):
            began = time.perf_counter()
            render_template(by_name[target], name, context)
            times.append(time.perf_counter() - began)
        return statistics.median(times) * 1000
    out = {}
    if mode == "normal":
        began = time.perf_counter()
        timed("custom", "mastodon.txt.j2", 1)
        out["first custom render (starts the worker)"] = (time.perf_counter() - began) * 1000
        out["stock template, in-process"] = timed("stock", "mastodon.txt.j2")
        out["same template, channel's templates_dir"] = timed("custom", "mastodon.txt.j2")
        out["email body.html.j2, in-process"] = timed("mail", "email/body.html.j2")
        def forked(ballast):
            context = {**context_for(SAMPLE, by_name["stock"], config), "summary": "s"}
            times = []
            for _ in range(max(20, runs // 10)):
                began = time.perf_counter()
                r, w = os.pipe()
                pid = os.fork()
                if pid == 0:
                    os.close(r)
                    os.write(w, render_template(by_name["stock"], "mastodon.txt.j2",
                                                context).encode())
                    os._exit(0)
                os.close(w)
                while os.read(r, 65536):
                    pass
                os.close(r)
                os.waitpid(pid, 0)
                times.append(time.perf_counter() - began)
            return statistics.median(times) * 1000
        out[f"fork per render, {status('VmRSS'):.0f} MB process"] = forked(None)
        ballast = [(i, str(i)) for i in range(2_500_000)]
        out[f"fork per render, {status('VmRSS'):.0f} MB process"] = forked(ballast)
    else:
        if template_worker is not None:
            timed("custom", "mastodon.txt.j2", 1)   # the worker is up, as in a running bot
        base = status("VmHWM")
        began = time.perf_counter()
        rendered = render(SAMPLE, by_name["bomb"], config)
        out["seconds"] = time.perf_counter() - began
        out["own_mb"] = status("VmHWM") - base
        worker = template_worker and template_worker._worker
        if worker is not None:
            template_worker._stop(worker)
        out["worker_mb"] = (resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
                            if template_worker is not None else None)
        out["error"] = " ".join(rendered.warnings)[-110:]
    print(json.dumps(out))
""")


def run_child(code: Path, mode: str, folder: Path, runs: int) -> dict[str, object] | str:
    """One fresh process; its JSON line, or what stopped it."""
    done = subprocess.run([sys.executable, "-c", CHILD, mode, str(folder), str(runs)],
                          capture_output=True, text=True, cwd=code,
                          env={"PYTHONPATH": str(code), "PATH": "/usr/bin:/bin"})
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [""])[-1]
        return f"exit {done.returncode}: {last[-80:]}"
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--code", type=Path, default=ROOT)
    parser.add_argument("--skip-normal", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "custom").mkdir()
        (folder / "tpl").mkdir()
        stock = args.code / "templates" / "mastodon.txt.j2"
        (folder / "custom" / "mastodon.txt.j2").write_text(stock.read_text())
        (folder / "pressbot.toml").write_text(CONFIG.format(folder=folder))
        print(f"code: {args.code}")
        if not args.skip_normal:
            print("normal renders, ms per render (median):")
            figures = run_child(args.code, "normal", folder, args.runs)
            for label, value in (figures.items() if isinstance(figures, dict) else ()):
                print(f"  {label:<44} {value:9.3f}")
            if isinstance(figures, str):
                print(f"  {figures}")
        print("bombs (fresh process each; 4 GB address-space and 30 s CPU caps):")
        print(f"  {'bomb':<30} {'seconds':>8} {'peak MB':>8} {'worker MB':>9}  error")
        for label, body in BOMBS:
            (folder / "tpl" / "bomb.txt.j2").write_text(body)
            got = run_child(args.code, "bomb", folder, 1)
            if isinstance(got, str):
                print(f"  {label:<30} {'':>8} {'':>8} {'':>9}  {got}")
                continue
            worker = got["worker_mb"]
            print(f"  {label:<30} {got['seconds']:8.2f} {got['own_mb']:8.0f} "
                  f"{'-' if worker is None else f'{worker:.0f}':>9}  {got['error']}")


if __name__ == "__main__":
    main()
