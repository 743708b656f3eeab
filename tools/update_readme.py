"""Refresh the example outputs in README.md by running the commands they show.

A block written as

    <!-- output: geo-township area forest_plots --by village -->
    ```text
    ...
    ```

gets its contents replaced by what the command prints today (run in the repository root,
on the bundled sample, 100 columns wide unless the command starts with ``COLUMNS=…``). The table
between ``<!-- parameters -->`` and ``<!-- /parameters -->`` is rebuilt from
``geo_township.config.PARAMETERS``.
Run: ``python tools/update_readme.py``.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"(<!-- output: (?P<cmd>.+?) -->\n```text\n)(?P<body>.*?)(```)", re.DOTALL)


def run(cmd: str) -> str:
    env = dict(os.environ, COLUMNS="100", PYTHONIOENCODING="utf-8")
    args = shlex.split(cmd)
    while args and "=" in args[0] and args[0].split("=", 1)[0].isupper():  # VAR=value prefixes
        key, value = args.pop(0).split("=", 1)
        env[key] = value
    if args[0] == "geo-township":
        args = [sys.executable, "-m", "geo_township", *args[1:]]
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    out = done.stdout + done.stderr
    return "\n".join(line.rstrip() for line in out.strip("\n").splitlines()) + "\n"


def parameter_table() -> str:
    sys.path.insert(0, str(ROOT))
    from geo_township.config import PARAMETERS

    rows = ["| parameter | default | meaning |", "| --- | --- | --- |"]
    for p in PARAMETERS.values():
        default = p.default if not isinstance(p.default, str) else f'"{p.default}"'
        if isinstance(p.default, list):
            default = "[" + ", ".join(f'"{v}"' for v in p.default) + "]"
        choices = f" (one of {', '.join(map(str, p.choices))})" if p.choices else ""
        rows.append(f"| `{p.name}` | `{default}` | {p.doc}{choices} |")
    return "\n".join(rows) + "\n"


PARAMS = re.compile(r"(<!-- parameters -->\n).*?(<!-- /parameters -->)", re.DOTALL)


def main() -> None:
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    new = BLOCK.sub(lambda m: m.group(1) + run(m.group("cmd")) + m.group(4), text)
    new = PARAMS.sub(lambda m: m.group(1) + parameter_table() + m.group(2), new)
    readme.write_text(new, encoding="utf-8")
    print(f"refreshed {len(BLOCK.findall(text))} outputs in README.md")


if __name__ == "__main__":
    main()
