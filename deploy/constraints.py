"""Print pip constraints pinning pressbot's runtime dependencies as installed in this venv.

`pip freeze` would pin the test tools too; this walks pyproject's `dependencies` and what
they require (markers evaluated here), so the container installs exactly what was tested:

    .venv/bin/python deploy/constraints.py > constraints.txt
"""

from __future__ import annotations

import tomllib
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def runtime_pins(root: Path) -> dict[str, str]:
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    # markers are read where they are written: a child's `extra == "binary"` in its parent's
    todo = [r for r in map(Requirement, project["dependencies"])
            if r.marker is None or r.marker.evaluate({"extra": ""})]
    pins: dict[str, str] = {}
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if name in pins:
            continue
        try:
            dist = distribution(req.name)
        except PackageNotFoundError:
            raise SystemExit(f"{req.name} is required but not installed in this venv") from None
        pins[name] = dist.version
        for sub in dist.requires or []:
            child = Requirement(sub)
            if child.marker is None or any(child.marker.evaluate({"extra": e})
                                           for e in ["", *req.extras]):
                todo.append(child)
    return pins


if __name__ == "__main__":
    print("# Runtime dependencies of pressbot, pinned as tested (deploy/constraints.py).")
    for name, version in sorted(runtime_pins(Path(__file__).parent.parent).items()):
        print(f"{name}=={version}")
