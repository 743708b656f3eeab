"""The `geo-township` command line: a thin shell over the library.

Commands live one per module in :mod:`geo_township.cli.commands` and are imported only
when run, so ``--help`` stays fast. This module is the one error boundary: a
:class:`~geo_township.errors.TownshipError` becomes a one-paragraph message and exit
code 2 (bad input); any other exception is a bug and becomes exit code 3 with a request
to report it (a traceback only with ``-v``). Exit codes: :mod:`geo_township.cli.exitcodes`.
"""

from __future__ import annotations

import importlib
import logging
import sys
import traceback

import click

from geo_township import __version__
from geo_township.cli.exitcodes import EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK
from geo_township.cli.options import quiet_option, verbose_option

#: command name → module under geo_township.cli.commands (each defines `command`).
COMMANDS: dict[str, str] = {
    "init": "init",
    "info": "info",
    "check": "check",
    "area": "area",
    "audit": "audit",
    "rivers": "rivers",
    "sand": "sand",
    "trees": "trees",
    "import": "import_",
    "zonal": "zonal",
    "candidates": "candidates",
    "map": "map",
    "export": "export",
    "report": "report",
    "convert": "convert",
}


class TownshipGroup(click.Group):
    """A group that loads command modules lazily and turns package errors into messages."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        module = COMMANDS.get(name)
        if module is None:
            return None
        return importlib.import_module(f"geo_township.cli.commands.{module}").command

    def invoke(self, ctx: click.Context):
        from geo_township.errors import TownshipError

        try:
            try:
                value = super().invoke(ctx)
            except click.exceptions.Exit as done:
                if done.exit_code == EXIT_OK and _county_failed(ctx):
                    ctx.exit(EXIT_FINDINGS)
                raise
            if _county_failed(ctx):  # a county's township was left out: say so to scripts
                ctx.exit(EXIT_FINDINGS)
            return value
        except TownshipError as exc:
            _show_traceback(ctx)
            zh = _lang(ctx) == "zh" and exc.message_zh is not None
            click.echo(f"错误：{exc.text('zh')}" if zh else f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("已中断；没有留下写了一半的文件。" if _lang(ctx) == "zh" else
                       "Interrupted; no file was left half-written.", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except MemoryError:
            click.echo("错误：内存不足。请缩小范围或时段，或换一台内存更大的电脑。" if _lang(ctx) == "zh" else
                       "Error: out of memory. Try a smaller area or period, or a machine with more memory.",
                       err=True)
            ctx.exit(EXIT_BAD_INPUT)
        except Exception as exc:  # noqa: BLE001 - the last line of defence: a message, never a bare traceback
            shown = _show_traceback(ctx)
            if _lang(ctx) == "zh":
                click.echo(f"错误：程序内部错误({type(exc).__name__}: {exc})。这是 geo-township 的缺陷，"
                           "不是你的文件有问题；请报告所运行的命令，"
                           + ("以及上面的回溯信息。" if shown else "以及加 -v 重新运行时显示的完整回溯信息。"),
                           err=True)
            else:
                click.echo(f"Error: internal error ({type(exc).__name__}: {exc}). This is a bug in geo-township, "
                           "not a problem with your files; please report it with the command you ran"
                           + (" and the traceback above." if shown else
                              " and what it prints when run again with -v (the full traceback)."), err=True)
            ctx.exit(EXIT_INTERNAL)


def _county_failed(ctx: click.Context) -> bool:
    """Whether a township of a county could not be analysed (the command showed the others)."""
    return bool(ctx.find_root().ensure_object(dict).get("county_failed"))


def _lang(ctx: click.Context) -> str:
    """The language the command was asked to speak (--lang), 'en' by default."""
    return str(ctx.find_root().ensure_object(dict).get("lang", "en"))


def _show_traceback(ctx: click.Context) -> bool:
    """Print the current exception's traceback on stderr when -v was given; say whether it did."""
    if ctx.find_root().ensure_object(dict).get("verbose"):
        traceback.print_exc(file=sys.stderr)
        return True
    return False


@click.group(cls=TownshipGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="geo-township")
@verbose_option
@quiet_option
@click.pass_context
def main(ctx: click.Context) -> None:
    """Numbers and maps for a township's forest chiefs, river chiefs and land-transfer
    auditors, from the survey files they already have.

    Run in a township folder (one with township.toml), or in this repository to use the
    bundled sample in layers/.
    """
    ctx.ensure_object(dict)
    logger = logging.getLogger("geo_township")
    if not any(isinstance(h, _EchoHandler) for h in logger.handlers):
        logger.addHandler(_EchoHandler())
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.WARNING)


_LEVELS_ZH = {"WARNING": "警告", "ERROR": "错误", "INFO": "提示", "DEBUG": "调试", "CRITICAL": "严重错误"}


class _EchoHandler(logging.Handler):
    """The library's log records on stderr ('Warning: …'), through click so that they go
    to whatever stderr is at the time (a terminal, a pipe, a test runner). A record that
    carries a Chinese twin (``extra={"zh": …}``) is shown in Chinese under ``--lang zh``."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            ctx = click.get_current_context(silent=True)
            lang = (ctx.find_root().obj or {}).get("lang", "en") if ctx is not None else "en"
            zh = getattr(record, "zh", None)
            if lang == "zh" and zh:
                click.echo(f"{_LEVELS_ZH.get(record.levelname, record.levelname)}：{zh}", err=True)
                return
            click.echo(f"{record.levelname.capitalize()}: {record.getMessage()}", err=True)
        except Exception:  # noqa: BLE001 - logging must never break the command
            self.handleError(record)
