"""What learning a source's footer costs per poll (`bot.sources.boilerplate`).

    .venv/bin/python bench/boilerplate.py [--items 700]

Three cases, CPU time of the pure part (prints, the history, `learn` with its HTML cut;
the store's one query for the prints and one insert are not in it):
- a first poll of `--items` distinct releases of three 60-word paragraphs sharing a
  four-line footer (every release changes: the worst case);
- the same number of identical 318-word items (bench/history.py's feed: all repeats,
  nothing moves);
- a steady poll: one new release against the 20 stored ones it is compared with.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.history import feed_document
from bot.models import Release
from bot.sources.boilerplate import WINDOW, History, Paragraphs, Print, learn
from bot.sources.feed import parse

FOOTER = ["About the association",
          "The Riverside Cycling Association promotes everyday cycling in the region and "
          "speaks for its four thousand members since 1990.",
          "Contact: Jane Doe, press officer, +44 20 7946 0000, jane.doe@riverside.example",
          "The project is co-financed by the Interreg programme of the European Union."]


def releases(n: int, seed: int = 1) -> list[Release]:
    rnd = random.Random(seed)
    vocabulary = ["".join(rnd.choice("abcdefghiklmnoprstuvy") for _ in range(rnd.randint(3, 10)))
                  for _ in range(5000)]
    found = []
    for i in range(n):
        story = [" ".join(rnd.choice(vocabulary) for _ in range(60)) + "." for _ in range(3)]
        paras = [*story, *FOOTER]
        found.append(Release(source="s", key=f"r{i}", title=f"Release {i}",
                             body="\n\n".join(paras), summary=story[0],
                             body_html="".join(f"<p>{p}</p>" for p in paras)))
    return found


def learn_batch(batch: list[Release], stored: list[Release]) -> tuple[float, int]:
    """CPU seconds to learn `batch` against `stored` (whose prints come as the store keeps
    them, JSON lists), and how many releases changed."""
    kept = [[p.as_json() for p in Paragraphs(r).stored] for r in stored]
    started = time.process_time()
    history = History()
    for n, rows in enumerate(kept, 1):
        history.add(n, map(Print.from_json, rows))
    read = [Paragraphs(r) for r in batch]
    for n, paragraphs in enumerate(read, 1):
        history.add(-n, paragraphs.stored)
    out = [learn(r, history, -n, read[n - 1]) for n, r in enumerate(batch, 1)]
    return time.process_time() - started, sum(o is not r for o, r in zip(out, batch,
                                                                         strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=700)
    args = parser.parse_args()
    distinct = releases(args.items)
    same = parse("s", feed_document(args.items, 2000), url="https://www.example.org/feed")
    steady = releases(WINDOW + 1, seed=2)
    for label, batch, stored in (
            (f"first poll, {args.items} distinct releases", distinct, []),
            (f"first poll, {args.items} identical items", same, []),
            (f"steady poll, 1 new against {WINDOW} stored", steady[-1:], steady[:-1])):
        seconds, changed = learn_batch(batch, stored)
        print(f"{label:<44} {seconds * 1000:8.1f} ms CPU   {changed} changed")


if __name__ == "__main__":
    main()
