"""Regenerate every example output and generated table in the README and docs/ from real runs.

A block written as

    <!-- output: geo-township area forest_plots --by village -->
    ```text
    ...
    ```

gets its contents replaced by what the command prints today, run in the repository root on
the bundled sample, 100 columns wide unless the command starts with ``COLUMNS=…``. The run
must end with exit code 0 or 1 (1: the command reported findings, which is what ``check``
and ``audit`` do on the sample); a block that shows a failing command on purpose says so,
``<!-- output exit=2: geo-township area no_such_layer -->``, and then must end with exactly
that code. Any other ending stops the tool, names the file, the command and what it
printed, and writes nothing: a failed run is never pasted into the docs.

Generated tables sit between ``<!-- generated: NAME -->`` and ``<!-- /generated -->``
(NAME one of :data:`GENERATORS`: tables drawn from the package's registries).

    python tools/update_docs.py           # rewrite the stale blocks
    python tools/update_docs.py --check   # exit 1 listing the stale blocks; write nothing

A command that needs a prepared state (files to import, a list it writes, a folder of the
user's own files) names a scenario of ``tools/doc_scenarios.py``:
``<!-- output setup=sample: geo-township report --year 2022 --explain pv_transfer_mu -o pv.csv -->``
runs in a fresh copy of the sample, prepared anew for that block.

What would differ from run to run is made stable in every block: the user (recorded in an
import's history) is ``clerk``, an import's id (its time and a random suffix) reads
``IMPORT-ID``, and paths inside the folder a command runs in are shown relative to it — except
in a table's cells, where a scenario's temporary folder keeps its place and width but reads
``…/geo-township`` so the columns stay aligned. Durations (``0.7 s``), timestamps and file
sizes (``1.3 MB``) differ from run to run or machine to machine and are ignored when deciding
whether a block is stale.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"(?P<head><!-- output(?P<options>(?: [\w-]+=(?:\"[^\"]*\"|[^\s\"]+))*): (?P<cmd>.+?) -->\n"
                   r"```text\n)"
                   r"(?P<body>.*?)(?P<tail>```)", re.DOTALL)
OPTION = re.compile(r"([\w-]+)=(?:\"([^\"]*)\"|([^\s\"]+))")
"""A block marker's options, in any order: ``exit=N``, ``setup=NAME``, ``table="TITLE"``."""
MARKER = re.compile(r"<!-- output\b")
GENERATED = re.compile(r"(?P<head><!-- generated: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(?P<tail><!-- /generated -->)",
                       re.DOTALL)
VOLATILE = re.compile(r"\b\d+(?:\.\d+)? ?(?:s|ms|秒|kB|MB)\b|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
"""What differs from run to run and machine to machine: durations, the times a run or a file
was made (provenance's ``created`` and ``modified``), and the sizes of written files (a page
inlines its libraries, whose installed versions differ between machines)."""
IMPORT_ID = re.compile(r"\b\d{8}T\d{6}-[0-9a-f]{8}\b")
"""An import's id (``geo_township.treeimport.history.new_import_id``: its time and a random
suffix), shown as ``IMPORT-ID``."""
USER = "clerk"
"""The login name every documented command runs as (an import records it in its history)."""
SCENARIO_FOLDER = "geo-township"
"""How a scenario's temporary folder (``geo-`` and 8 random characters) reads in a table."""


class RunFailed(Exception):
    """A documented command ended with an exit code its block does not expect."""


@dataclass(frozen=True)
class Run:
    """One documented command, the exit codes its block accepts and the scenario it runs in
    (a name of :data:`doc_scenarios.SCENARIOS`; None: the checkout itself)."""

    cmd: str
    expected: tuple[int, ...]
    setup: str | None = None
    table: str | None = None
    """Show only the table of this title (``table="…"`` in the marker), not the whole output."""


def job_of(m: re.Match[str]) -> Run:
    """The run a block's marker asks for (RunFailed for an option the tool does not know)."""
    options = {name: quoted or plain for name, quoted, plain in OPTION.findall(m.group("options"))}
    unknown = set(options) - {"exit", "setup", "table"}
    if unknown or not options.get("exit", "0").isdigit():
        raise RunFailed(f"the marker of `{m.group('cmd')}` has an option the tool does not know: "
                        f"{', '.join(sorted(unknown)) or 'exit=' + options['exit']} (known: exit=N, setup=NAME, "
                        "table=\"TITLE\")")
    return Run(m.group("cmd"), (int(options["exit"]),) if "exit" in options else (0, 1), options.get("setup"),
               options.get("table"))


def only_table(out: str, title: str, cmd: str) -> str:
    """The table titled ``title`` in a command's output: its title line to its bottom border."""
    lines = out.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.strip() == title]
    if not starts:
        raise RunFailed(f"`{cmd}` printed no table titled {title!r}")
    end = next((i for i in range(starts[0], len(lines)) if lines[i].startswith("└")), len(lines) - 1)
    return "".join(lines[starts[0]:end + 1])


def documents(root: Path = ROOT) -> list[Path]:
    """The Markdown files whose blocks are kept current: the READMEs and everything in docs/."""
    found = sorted(root.glob("README*.md")) + sorted((root / "docs").rglob("*.md"))
    return [p for p in found if p.is_file()]


def _command(cmd: str, root: Path) -> tuple[list[str], dict[str, str]]:
    """The argv and environment of a documented command (``VAR=value`` prefixes go to the
    environment; ``geo-township`` and ``python`` run with this interpreter and ``root``'s code)."""
    env = dict(os.environ, COLUMNS="100", PYTHONIOENCODING="utf-8", NO_COLOR="1",
               LOGNAME=USER, USER=USER, USERNAME=USER)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), os.environ.get("PYTHONPATH", "")) if p)
    args = shlex.split(cmd)
    while args and "=" in args[0] and args[0].split("=", 1)[0].isupper():  # VAR=value prefixes
        key, value = args.pop(0).split("=", 1)
        env[key] = value
    if args and args[0] == "geo-township":
        args = [sys.executable, "-m", "geo_township", *args[1:]]
    elif args and args[0] == "python":
        args = [sys.executable, *args[1:]]
    return args, env


def stable(out: str, cwd: Path, in_tables: str | None = None) -> str:
    """``out`` as a block shows it: import ids as ``IMPORT-ID`` and paths inside ``cwd`` shown
    relative (the same on every checkout), except in a table's lines (``│``) when ``in_tables``
    is given: there ``cwd`` is replaced by that text, as wide, so the columns stay aligned."""
    lines = []
    for line in out.splitlines(keepends=True):
        if in_tables is not None and "│" in line:
            line = line.replace(str(cwd), in_tables)
        lines.append(line.replace(f"{cwd}/", "").replace(str(cwd), "."))
    return IMPORT_ID.sub("IMPORT-ID", "".join(lines))


def _execute(cmd: str, expected: tuple[int, ...], *, cwd: Path, root: Path, what: str = "",
             in_tables: str | None = None) -> str:
    """Run ``cmd`` in ``cwd``; its output made :func:`stable`, or RunFailed when it ends with
    a code not in ``expected``."""
    args, env = _command(cmd, root)
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    out = stable(done.stdout + done.stderr, cwd, in_tables)
    if done.returncode not in expected:
        raise RunFailed(f"`{cmd}`{what} ended with exit code {done.returncode} "
                        f"(expected {' or '.join(map(str, expected))}); it printed:\n{out.strip()[-3000:]}")
    return out


def run(job: Run, root: Path = ROOT) -> str:
    """What ``job.cmd`` prints (stdout, then stderr), with trailing spaces removed; run in
    ``root``, or in a fresh folder its scenario prepared (see :mod:`doc_scenarios`)."""
    if job.setup is None:
        out = _execute(job.cmd, job.expected, cwd=root, root=root)
    else:
        import doc_scenarios

        with tempfile.TemporaryDirectory(prefix="geo-") as tmp:
            folder = Path(tmp).resolve()
            width = len(folder.name)
            in_tables = str(folder.with_name(SCENARIO_FOLDER.ljust(width, "_")[:width]))
            what = f" (preparing setup={job.setup} for `{job.cmd}`)"
            try:
                doc_scenarios.prepare(job.setup, folder, lambda args: _execute(
                    shlex.join(["geo-township", *args]), (0, 1), cwd=folder, root=root, what=what))
            except (KeyError, OSError, ValueError) as err:
                why = err.args[0] if isinstance(err, KeyError) and err.args else err
                raise RunFailed(f"setup={job.setup} for `{job.cmd}` failed: {why}") from None
            out = _execute(job.cmd, job.expected, cwd=folder, root=root, what=f" (setup={job.setup})",
                           in_tables=in_tables)
    if job.table is not None:
        out = only_table(out, job.table, job.cmd)
    return "\n".join(line.rstrip() for line in out.strip("\n").splitlines()) + "\n"


def parameter_table(lang: str = "en") -> str:
    """The township.toml [parameters] table, from the parameter registry."""
    from geo_township.config import PARAMETERS

    zh = lang == "zh"
    rows = ["| 参数 | 默认值 | 含义 |" if zh else "| parameter | default | meaning |", "| --- | --- | --- |"]
    for p in PARAMETERS.values():
        default = p.default if not isinstance(p.default, str) else f'"{p.default}"'
        if isinstance(p.default, list):
            default = "[" + ", ".join(f'"{v}"' for v in p.default) + "]"
        listed = ", ".join(map(str, p.choices)) if p.choices else ""
        choices = (f"（可选：{listed}）" if zh else f" (one of {listed})") if listed else ""
        rows.append(f"| `{p.name}` | `{default}` | {p.doc_zh if zh else p.doc}{choices} |")
    return "\n".join(rows) + "\n"


def kinds_table(lang: str = "en") -> str:
    """The layer kinds and their fields, from the kind registry: each field's canonical name,
    label, the names the loader recognises it by, and the words of a coded field."""
    from geo_township.kinds import KINDS
    from geo_township.labels import has_cjk
    from geo_township.vocabulary import VOCABULARIES

    zh = lang == "zh"
    head = ("| 图层类型 | 几何 | 字段（规范名：中文名；可识别的列名；取值） |" if zh
            else "| kind | geometry | fields (canonical name: label; column names recognised; values) |")
    rows = [head, "| --- | --- | --- |"]
    for kind in KINDS.values():
        cells = []
        for f in kind.fields:
            names = [a for a in f.aliases[1:] if has_cjk(a)][:4] + [a for a in f.aliases[1:] if not has_cjk(a)][:2]
            text = f"`{f.name}`{' **' + ('必填' if zh else 'required') + '**' if f.required else ''}: " \
                   f"{f.zh if zh else f.en}"
            if names:
                text += "; " + "/".join(names)
            if f.vocabulary and f.vocabulary in VOCABULARIES:
                words = [(t.zh if zh else t.code) for t in VOCABULARIES[f.vocabulary].terms]
                text += "; " + " · ".join(words)
            cells.append(text)
        families = {"Point": ("point", "点"), "LineString": ("line", "线"), "Polygon": ("polygon", "面")}
        geometry = "/".join(families.get(g, (g, g))[1 if zh else 0] for g in kind.geometry)
        rows.append(f"| `{kind.name}` {kind.zh if zh else kind.en} | {geometry} | {'<br>'.join(cells)} |")
    return "\n".join(rows) + "\n"


def rules_list(lang: str = "en") -> str:
    """How each number is computed, from the very constants the commands print in their
    provenance and notes (so the page cannot say something the tool does not do)."""
    from geo_township import locate, tree_events, tree_places
    from geo_township.config import PARAMETERS
    from geo_township.crs import CGCS2000_A, CGCS2000_RF
    from geo_township.measure import METHOD_NOTES, METHOD_NOTES_ZH
    from geo_township.raster.zonal import COVERAGE_NOTE
    from geo_township.units import AREA_UNITS, LENGTH_UNITS

    zh = lang == "zh"

    def param(name: str) -> str:
        p = PARAMETERS[name]
        return f"`{name}`（默认 {p.default}）" if zh else f"`{name}` (default {p.default})"

    def unit(u, base: str) -> str:  # noqa: ANN001 - a units.Unit
        return f"1 {u.zh if zh else u.en} = {u.size:.10g} {base}"

    units = ("，" if zh else ", ").join(unit(u, "平方米" if zh else "m²") for u in AREA_UNITS.values())
    lengths = ("，" if zh else ", ").join(unit(u, "米" if zh else "m") for u in LENGTH_UNITS.values())
    rules = [  # (title, title in Chinese, rule, rule in Chinese)
        ("Area", "面积",
         f"{METHOD_NOTES['ellipsoidal']} by default; {METHOD_NOTES['planar']} with `--method planar` or "
         f"{param('area_method')}. The ellipsoid: a = {CGCS2000_A} m, 1/f = {CGCS2000_RF}",
         f"默认按{METHOD_NOTES_ZH['ellipsoidal']}；用 `--method planar` 或 {param('area_method')} 改为"
         f"{METHOD_NOTES_ZH['planar']}。椭球：a = {CGCS2000_A} 米，1/f = {CGCS2000_RF}"),
        ("Units", "单位", f"{units}; {lengths}", f"{units}；{lengths}"),
        ("Shared edges", "公共边上的点", locate.EDGE_RULE, locate.EDGE_RULE_ZH),
        ("Names", "名称比较", locate.NAME_RULE, locate.NAME_RULE_ZH),
        ("A tree's village and plot", "疫木归哪个村、哪个小班", tree_places.RECORD_RULE, tree_places.RECORD_RULE_ZH),
        ("Trees on edges", "边界上的疫木", tree_places.BOUNDARY_RULE, tree_places.BOUNDARY_RULE_ZH),
        ("Counting trees in a period", "统计期内的株数", tree_events.PERIOD_RULE, tree_events.PERIOD_RULE_ZH),
        ("Blank or unknown status", "状态为空或无法识别", tree_events.UNKNOWN_STATUS_RULE,
         tree_events.UNKNOWN_STATUS_RULE_ZH),
        ("Clearance rate", "除治率",
         tree_events.RATE_RULE + f". The target: {param('clearance_target_pct')}; the season: "
         f"{param('season_start')} to {param('season_end')}",
         tree_events.RATE_RULE_ZH + f"。目标：{param('clearance_target_pct')}；除治季：{param('season_start')} 至 "
         f"{param('season_end')}"),
        ("Raster statistics", "栅格统计", str(COVERAGE_NOTE), COVERAGE_NOTE.zh),
    ]
    items = [(t_zh if zh else t, (r_zh + "。") if zh else (r + ".")) for t, t_zh, r, r_zh in rules]
    for name in ("tolerance_pct", "tolerance_mu", "tolerance_rule", "overlap_min_mu", "zone_m", "patrol_buffer_m",
                 "outside_tolerance_m", "max_outside_m", "hotspot_eps_m", "hotspot_min_trees", "risk_radius_m"):
        p = PARAMETERS[name]
        items.append((f"`{name}`", f"{p.doc_zh}（默认 {p.default}）。" if zh else f"{p.doc} (default {p.default})."))
    return "\n".join(f"- **{title}{'：' if zh else ':'}** {text}" for title, text in items) + "\n"


def indicators_table(lang: str = "en") -> str:
    """The report's indicators, from their registry: id, names, unit, definition, and the
    parts an indicator has beside its headline value."""
    from geo_township.report.indicators import INDICATORS

    zh = lang == "zh"
    rows = ["| 编号 | 名称 | 单位 | 定义 |" if zh else "| id | name | unit | definition |", "| --- | --- | --- | --- |"]
    for i in INDICATORS:
        name = i.name_zh if zh else f"{i.name_en} / {i.name_zh}"
        rows.append(f"| `{i.id}` | {name} | {i.unit_word('zh')} | {i.definition(lang).replace('|', '/')} |")
    return "\n".join(rows) + "\n"


def _template(text: str) -> str:
    """A message template as a table cell: fields as {name} without their format, no pipes."""
    return re.sub(r"\{(\w+)[^{}]*\}", r"{\1}", text).replace("|", "/").replace("\n", " ")


def declared_checks(module: str) -> list[str]:
    """The codes of the checks ``module`` declares itself (not those it imports), in order."""
    import importlib
    import inspect

    return re.findall(r"\bCheck\(\s*\"(\w+)\"", inspect.getsource(importlib.import_module(module)))


def checks_table(lang: str = "en") -> str:
    """Every declared check, from the check registry, per module that declares it: code,
    severity, name and message in English and Chinese (the message says what to fix); in
    Chinese (``lang="zh"``) the Chinese name and message only."""
    from geo_township.checklist import CHECK_MODULES, all_checks

    checks = all_checks()
    order: list[str] = []
    for module in CHECK_MODULES:
        order += [code for code in declared_checks(module) if code in checks and code not in order]
    order += [code for code in checks if code not in order]
    severity_zh = {"error": "错误", "warning": "警告", "info": "提示"}
    if lang == "zh":
        rows = ["| 检查项 | 严重程度 | 名称 | 提示 |", "| --- | --- | --- | --- |"]
        rows += [f"| `{c.code}` | {severity_zh[c.severity]} | {c.name_zh} | {_template(c.message_zh)} |"
                 for c in (checks[code] for code in order)]
    else:
        rows = ["| check | severity | name / 名称 | message | 提示 |", "| --- | --- | --- | --- | --- |"]
        rows += [f"| `{c.code}` | {c.severity} | {c.name_en} / {c.name_zh} | {_template(c.message_en)} | "
                 f"{_template(c.message_zh)} |" for c in (checks[code] for code in order)]
    return "\n".join(rows) + "\n"


def errors_table(lang: str = "en") -> str:
    """The kinds of error a command stops with, from :data:`geo_township.errors.ERROR_KINDS`."""
    from geo_township.errors import ERROR_KINDS

    if lang == "zh":
        rows = ["| 错误类型 | 何时出现 |", "| --- | --- |"]
        rows += [f"| `{cls.__name__}` | {zh} |" for cls, _, zh in ERROR_KINDS]
    else:
        rows = ["| error | when | 何时出现 |", "| --- | --- | --- |"]
        rows += [f"| `{cls.__name__}` | {en} | {zh} |" for cls, en, zh in ERROR_KINDS]
    return "\n".join(rows) + "\n"


GENERATORS: dict[str, Callable[[], str]] = {
    "checks": checks_table,
    "checks-zh": functools.partial(checks_table, "zh"),
    "errors": errors_table,
    "errors-zh": functools.partial(errors_table, "zh"),
    "indicators": indicators_table,
    "indicators-zh": functools.partial(indicators_table, "zh"),
    "rules": rules_list,
    "rules-zh": functools.partial(rules_list, "zh"),
    "parameters-zh": functools.partial(parameter_table, "zh"),
    "parameters": parameter_table,
    "kinds": kinds_table,
    "kinds-zh": functools.partial(kinds_table, "zh"),
}
"""Named tables built from the package's registries."""


def jobs_in(text: str) -> list[Run]:
    """Every documented command of one file, in order."""
    blocks = list(BLOCK.finditer(text))
    if len(MARKER.findall(text)) != len(blocks):  # a marker the tool cannot read would never be checked
        read = {m.start() for m in blocks}
        bad = next(line for m in MARKER.finditer(text) if m.start() not in read
                   for line in [text[m.start():text.find("\n", m.start())]])
        raise RunFailed(f"a marker the tool cannot read (`<!-- output OPTIONS: COMMAND -->` followed by a "
                        f"```text block): {bad}")
    return [job_of(m) for m in blocks]


def refreshed(text: str, outputs: dict[Run, str]) -> str:
    """``text`` with every block's body replaced by its fresh output or table."""
    def output(m: re.Match[str]) -> str:
        return m.group("head") + outputs[job_of(m)] + m.group("tail")

    def generated(m: re.Match[str]) -> str:
        name = m.group("name")
        if name not in GENERATORS:
            raise RunFailed(f"no generator called {name!r}; known: {', '.join(sorted(GENERATORS))}")
        return m.group("head") + GENERATORS[name]() + m.group("tail")

    return GENERATED.sub(generated, BLOCK.sub(output, text))


def same_but_volatile(a: str, b: str) -> bool:
    """Whether two texts differ only in durations and timestamps."""
    return VOLATILE.sub("<t>", a) == VOLATILE.sub("<t>", b)


def update(files: list[Path], *, check: bool, root: Path = ROOT, workers: int = 2) -> list[Path]:
    """Refresh ``files``; returns those that were (``check``: would be) changed.

    Every command runs first; only when all have ended as expected is any file written, so a
    failed run leaves every document as it was.
    """
    texts = {path: path.read_text(encoding="utf-8") for path in files}
    jobs = list(dict.fromkeys(job for text in texts.values() for job in jobs_in(text)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        outputs = dict(zip(jobs, pool.map(functools.partial(run, root=root), jobs), strict=True))
    stale = []
    for path, text in texts.items():
        new = refreshed(text, outputs)
        if not same_but_volatile(new, text):
            stale.append(path)
            if not check:
                path.write_text(new, encoding="utf-8")
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="list stale blocks and exit 1; write nothing")
    parser.add_argument("files", nargs="*", type=Path, help="Markdown files (default: README*.md and docs/)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    files = [p.resolve() for p in args.files] or documents()
    try:
        stale = update(files, check=args.check)
    except RunFailed as err:
        print(f"update_docs: {err}\nNothing was written.", file=sys.stderr)
        return 2
    names = ", ".join(str(p.relative_to(ROOT)) for p in stale)
    if args.check:
        if stale:
            print(f"stale example outputs in {names}: run python tools/update_docs.py", file=sys.stderr)
            return 1
        print(f"all example outputs current in {len(files)} files")
        return 0
    print(f"refreshed {names}" if stale else f"all example outputs current in {len(files)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
