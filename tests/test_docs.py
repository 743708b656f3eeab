"""The docs tool: every example output in the READMEs and docs/ comes from a real run on the
sample, a failed run is never pasted, and the test suite fails when a block is stale."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import update_docs  # noqa: E402  (a script in tools/, not a package)


def _doc(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "README.md"
    path.write_text(body, encoding="utf-8")
    return path


def _block(cmd: str, body: str = "old\n", exit_code: int | None = None) -> str:
    head = f"<!-- output exit={exit_code}: {cmd} -->" if exit_code is not None else f"<!-- output: {cmd} -->"
    return f"{head}\n```text\n{body}```\n"


def test_a_block_gets_what_its_command_prints(tmp_path):
    doc = _doc(tmp_path, "# Title\n" + _block("python -c \"print('青溪乡  ')\"") + "after\n")
    assert update_docs.update([doc], check=True, root=tmp_path) == [doc]
    assert doc.read_text(encoding="utf-8").count("old") == 1  # --check wrote nothing
    assert update_docs.update([doc], check=False, root=tmp_path) == [doc]
    expected = "# Title\n" + _block("python -c \"print('青溪乡  ')\"", "青溪乡\n") + "after\n"
    assert doc.read_text(encoding="utf-8") == expected
    assert update_docs.update([doc], check=True, root=tmp_path) == []


def test_a_failed_run_stops_the_tool_and_nothing_is_written(tmp_path):
    good = _doc(tmp_path, _block("python -c \"print(1)\""))
    bad = tmp_path / "docs" / "errors.md"
    bad.parent.mkdir()
    bad.write_text(_block("python -c \"import sys; print('boom'); sys.exit(3)\""), encoding="utf-8")
    before = {p: p.read_bytes() for p in (good, bad)}
    with pytest.raises(update_docs.RunFailed, match=r"(?s)exit code 3 \(expected 0 or 1\).*boom"):
        update_docs.update([good, bad], check=False, root=tmp_path)
    assert {p: p.read_bytes() for p in (good, bad)} == before


def test_a_block_that_shows_an_error_on_purpose_names_its_exit_code(tmp_path):
    cmd = "python -c \"import sys; print('Error: no layer'); sys.exit(2)\""
    doc = _doc(tmp_path, _block(cmd, exit_code=2))
    update_docs.update([doc], check=False, root=tmp_path)
    assert "Error: no layer\n```" in doc.read_text(encoding="utf-8")
    wrong = _doc(tmp_path, _block("python -c \"print('fine')\"", exit_code=2))
    with pytest.raises(update_docs.RunFailed, match="exit code 0"):
        update_docs.update([wrong], check=True, root=tmp_path)


def test_durations_timestamps_and_sizes_alone_do_not_make_a_block_stale(tmp_path):
    doc = _doc(tmp_path, _block("python -c \"print('Map written (1.3 MB, 7.2 s) at 2026-11-29T05:14:09')\"",
                                "Map written (1.2 MB, 0.4 s) at 2025-01-01T00:00:00\n"))
    assert update_docs.update([doc], check=True, root=tmp_path) == []
    changed = _doc(tmp_path, _block("python -c \"print('Map of 11 layers written (1.3 MB, 7.2 s)')\"",
                                    "Map of 10 layers written (1.3 MB, 7.2 s)\n"))
    assert update_docs.update([changed], check=True, root=tmp_path) == [changed]


def test_an_unknown_generated_table_is_an_error(tmp_path):
    doc = _doc(tmp_path, "<!-- generated: nothing-like-this -->\nx\n<!-- /generated -->\n")
    with pytest.raises(update_docs.RunFailed, match="no generator called 'nothing-like-this'"):
        update_docs.update([doc], check=True, root=tmp_path)


def test_every_example_output_in_the_docs_is_current():
    """Runs every documented command on the sample (about a minute)."""
    stale = update_docs.update(update_docs.documents(), check=True)
    assert not stale, f"stale example outputs in {[str(p.relative_to(ROOT)) for p in stale]}: " \
                      "run python tools/update_docs.py"


def test_the_readme_fits_on_a_screen_or_two_and_links_only_to_pages_that_exist():
    """The README stays ≤ 20 KB (the rest lives in docs/), and every relative link in the
    READMEs and docs/ points at a file of the repository."""
    import re

    assert (ROOT / "README.md").stat().st_size <= 20_000  # "20 KB", read strictly
    broken = []
    for doc in update_docs.documents():
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", doc.read_text(encoding="utf-8")):
            if "://" not in target and not (doc.parent / target).exists():
                broken.append(f"{doc.relative_to(ROOT)} → {target}")
    assert broken == []


def test_the_chinese_readme_has_the_english_readmes_sections_in_the_same_order():
    """README.zh-CN.md is the same document for Chinese readers: section for section."""
    import re

    english = ["Quick start", "The bundled sample township", "Commands", "When something is wrong",
               "More", "Performance", "Development"]
    chinese = ["快速开始", "示例乡镇", "命令", "出错了怎么办", "更多文档", "性能", "开发"]
    def sections(name: str) -> list[str]:
        return re.findall(r"^## (.+)$", (ROOT / name).read_text(encoding="utf-8"), flags=re.M)

    assert sections("README.md") == english
    assert sections("README.zh-CN.md") == chinese


def test_paths_inside_the_checkout_are_shown_relative_so_every_checkout_agrees(tmp_path):
    doc = _doc(tmp_path, _block("python -c \"import os; print('written to ' + os.path.join(os.getcwd(), 'x.csv'))\""))
    update_docs.update([doc], check=False, root=tmp_path)
    assert "written to x.csv\n```" in doc.read_text(encoding="utf-8")


def test_errors_page_lists_every_declared_check_and_every_kind_of_error():
    """docs/errors.md holds the generated tables of every check a command can report (from
    the check registry, English and Chinese) and every kind of error a command stops with;
    an error class the package adds must be declared in ERROR_KINDS to appear there."""
    import geo_township.cli  # noqa: F401  (every command's modules, so every error class they define)
    from geo_township import errors
    from geo_township.checklist import all_checks

    page = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    assert "<!-- generated: checks -->" in page and "<!-- generated: errors -->" in page
    for code, check in all_checks().items():
        assert f"| `{code}` | {check.severity} | {check.name_en} / {check.name_zh} |" in page, code

    def subclasses(cls: type) -> set[type]:
        return {s for c in cls.__subclasses__() for s in {c} | subclasses(c)}

    declared = {cls for cls, _, _ in errors.ERROR_KINDS}
    assert subclasses(errors.TownshipError) <= declared
    for cls, en, zh in errors.ERROR_KINDS:
        assert f"| `{cls.__name__}` | {en} | {zh} |" in page and any("\u4e00" <= ch <= "\u9fff" for ch in zh)
    page_zh = (ROOT / "docs" / "zh" / "errors.md").read_text(encoding="utf-8")
    for code, check in all_checks().items():
        assert f"| `{code}` | " in page_zh and f" | {check.name_zh} | " in page_zh, code
    assert all(f"| `{cls.__name__}` | {zh} |" in page_zh for cls, _, zh in errors.ERROR_KINDS)


def test_a_block_with_a_setup_runs_in_a_prepared_copy_and_leaves_the_checkout_alone(tmp_path):
    """setup=sample: the command runs in a fresh folder holding a copy of the sample; what it
    writes stays there, and its paths are shown relative to it."""
    cmd = ("python -c \"import os,pathlib; pathlib.Path('out.txt').write_text('x'); "
           "print(sorted(os.listdir('layers'))[:2]); print(os.path.abspath('out.txt'))\"")
    doc = _doc(tmp_path, _block(cmd).replace("<!-- output:", "<!-- output setup=sample:"))
    update_docs.update([doc], check=False, root=tmp_path)
    text = doc.read_text(encoding="utf-8")
    assert "['README.md', 'dem.tif']" in text and "\nout.txt\n" in text and "docs-" not in text
    assert not (tmp_path / "out.txt").exists()


def test_an_unknown_setup_or_a_failing_one_stops_the_tool(tmp_path):
    doc = _doc(tmp_path, _block("python -c pass").replace("<!-- output:", "<!-- output setup=nothing-like-this:"))
    with pytest.raises(update_docs.RunFailed, match="no scenario called 'nothing-like-this'"):
        update_docs.update([doc], check=True, root=tmp_path)


def test_what_differs_between_runs_reads_the_same_in_every_block(tmp_path):
    """In any block, a prepared one too: the user is clerk, an import's id reads IMPORT-ID,
    and the scenario's temporary folder is left out of plain lines, while in a table's line it
    reads <temp>/geo-township, as wide as the folder it stands for (the columns stay aligned)."""
    import tempfile

    cmd = ("python -c \"import getpass,os; here=os.getcwd(); print(getpass.getuser()); "
           "print('import 20230402T093000-1a2b3c4d'); print(here + '/a.csv'); "
           "b=chr(0x2502); print(b, here + '/a.csv', b)\"")
    doc = _doc(tmp_path, _block(cmd).replace("<!-- output:", "<!-- output setup=sample:"))
    update_docs.update([doc], check=False, root=tmp_path)
    body = doc.read_text(encoding="utf-8").split("```text\n")[1].split("```")[0].splitlines()
    temp = Path(tempfile.gettempdir()).resolve()
    assert body[:3] == ["clerk", "import IMPORT-ID", "a.csv"]
    assert body[3] == f"\u2502 {temp}/geo-township/a.csv \u2502"


def test_a_table_line_keeps_its_width_when_the_folder_is_named():
    folder = Path("/tmp/geo-ab12cd34")
    out = f"│ {folder}/survey.csv │ 3 │\nsaved {folder}/survey.csv\n"
    shown = update_docs.stable(out, folder, "/tmp/geo-township")
    assert shown == "│ /tmp/geo-township/survey.csv │ 3 │\nsaved survey.csv\n"
    assert len(shown.splitlines()[0]) == len(out.splitlines()[0])


def test_marker_options_are_read_in_any_order_and_unreadable_markers_stop_the_tool():
    """A marker's options may come in any order; a marker the tool cannot read (or an option
    it does not know) stops it, since such a block would silently never be checked."""
    body = "\n```text\nold\n```\n"
    one = update_docs.jobs_in('<!-- output exit=2 setup=gone:trees.csv table="Findings (4)": geo-township info -->'
                              + body)
    other = update_docs.jobs_in('<!-- output table="Findings (4)" setup=gone:trees.csv exit=2: geo-township info -->'
                                + body)
    assert one == other == [update_docs.Run("geo-township info", (2,), "gone:trees.csv", "Findings (4)")]
    with pytest.raises(update_docs.RunFailed, match="does not know: colour"):
        update_docs.jobs_in("<!-- output colour=red: geo-township info -->" + body)
    with pytest.raises(update_docs.RunFailed, match="cannot read"):
        update_docs.jobs_in("<!-- output: geo-township info -->\nno block follows\n")


def test_only_the_table_asked_for_is_shown():
    out = "Title A\n┏━┓\n│1│\n└─┘\nTitle B\n┏━┓\n│2│\n└─┘\nmore\n"
    assert update_docs.only_table(out, "Title B", "cmd") == "Title B\n┏━┓\n│2│\n└─┘\n"
    with pytest.raises(update_docs.RunFailed, match="no table titled 'C'"):
        update_docs.only_table(out, "C", "cmd")
