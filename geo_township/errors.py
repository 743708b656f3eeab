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


class NotFoundError(UsageError, LookupError):
    """Something asked for by name (a tree id) that the township does not hold. In a county
    the townships that do not hold it are passed over (:func:`geo_township.county.run_county`)."""


ERROR_KINDS: tuple[tuple[type[TownshipError], str, str], ...] = (
    (ConfigError, "a mistake in township.toml: an unknown key, a wrong value, a layer or raster table that "
     "cannot be used", "township.toml 写错了：不认识的键、取值不对、图层或栅格设置无法使用"),
    (LayerReadError, "a layer file that is missing, empty, cut short, damaged or in an encoding the tool cannot "
     "read", "图层文件缺失、为空、不完整、损坏，或编码无法识别"),
    (FieldError, "a field a command needs is not in the layer, or not mapped to it",
     "命令需要的字段在图层中不存在或没有对应上"),
    (CRSError, "a coordinate system that is missing, unknown or does not fit where the features lie",
     "坐标系缺失、无法识别，或与要素所在位置不符"),
    (GeometryError, "shapes that cannot be used: none at all, or of the wrong type for the layer",
     "图形无法使用：没有图形，或图形类型与图层不符"),
    (UsageError, "an option or argument that cannot be honoured: a name that names nothing, a period that "
     "ends before it starts, a cluster that cannot be reached",
     "选项或参数无法执行：名称不存在、统计期结束早于开始、无法连接计算集群等"),
    (NotFoundError, "a tree id (or other name) asked for that the township's layers do not hold; in a county, that "
     "no township holds", "所查的疫木编号(或其他名称)在乡镇图层中不存在；对全县而言，是任何乡镇都没有"),
)
"""Each kind of error a command stops with (exit 2) and what it means, in English and Chinese:
the message names the file and the row, feature or key, says what is wrong and how to fix it."""

