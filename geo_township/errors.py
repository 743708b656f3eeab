"""One base exception for the package; every subclass says where, what and how to fix.

The command line turns any :class:`TownshipError` into a one-paragraph message and
exit code 2 (bad input or usage); a traceback is shown only with ``-v``. Any other
exception is a bug and exits 3 (see ``geo_township.cli.exitcodes``).
"""

from __future__ import annotations

from pathlib import Path


class TownshipError(Exception):
    """Base of every error the package raises on purpose.

    Parameters
    ----------
    message:
        What is wrong, in one sentence.
    path:
        The file concerned, if any.
    where:
        The key, row, feature or field concerned (e.g. ``"row 12"``, ``"[layers.rivers] path"``).
    hint:
        How to fix it.
    message_zh, hint_zh:
        The message and hint in Chinese, for errors a newcomer meets first (shown by the
        command line with ``--lang zh``; :meth:`text` falls back to English without them).
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        where: str | None = None,
        hint: str | None = None,
        message_zh: str | None = None,
        hint_zh: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = Path(path) if path is not None else None
        self.where = where
        self.hint = hint
        self.message_zh = message_zh
        self.hint_zh = hint_zh

    def __str__(self) -> str:
        return self.text("en")

    def text(self, lang: str = "en") -> str:
        """The whole message (where, what, how to fix) in the language, when the error has
        a Chinese text; otherwise in English."""
        zh = lang == "zh" and self.message_zh is not None
        message = self.message_zh if zh else self.message
        hint = (self.hint_zh or self.hint) if zh else self.hint
        sep = "：" if zh else ": "
        parts = []
        if self.path is not None:
            loc = str(self.path)
            if self.where:
                loc += f", {self.where}"
            parts.append(f"{loc}{sep}{message}")
        elif self.where:
            parts.append(f"{self.where}{sep}{message}")
        else:
            parts.append(str(message))
        if hint:
            parts.append(f"解决办法：{hint}" if zh else f"Fix: {hint}")
        return "。".join(part.rstrip("。") for part in parts) if zh else " ".join(parts)


class ConfigError(TownshipError, ValueError):
    """A mistake in township.toml."""


class LayerReadError(TownshipError, OSError):
    """A layer file is missing, unreadable, corrupt or empty."""


class FieldError(TownshipError, KeyError):
    """A field is missing, unknown or holds values that cannot be understood."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return TownshipError.__str__(self)


class CRSError(TownshipError, ValueError):
    """A coordinate reference system is missing and cannot be inferred, or is unusable."""


class GeometryError(TownshipError, ValueError):
    """Geometries are of the wrong type, empty or cannot be repaired."""


class UsageError(TownshipError, ValueError):
    """An option or argument that cannot be honoured."""
