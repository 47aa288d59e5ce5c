"""Point-by-point isolation: a point the parser cannot read is left out of its table and recorded.

One bad value must never cost its page, its table or its run (issue #11): a point whose conversion
raises anything (a value its column cannot hold, ``ValueOutOfRange``; a field of the wrong shape,
``UnreadableField``; a missing key, a wrong type, an overflow...) becomes one ``rejected_points`` row
instead of a row of its table, and the page's other points load. Only page-level problems escape
(``PAGE_LEVEL``: no known time zone for points without offsets; an unreadable page is refused before
any point is read), and ``MemoryError``, which says nothing about the point.

A rejection row says where the point is (``json_path``: ``dataPoints[17]``, plus the field when a value
column failed) and why, by error class and a value-free reason: a message may quote a value (Python's
``int("sixty")`` does), so only this project's own ``PipelineError`` messages, which never carry one,
are kept; any other class is described by a word for its kind.
"""

from __future__ import annotations

from collections.abc import Callable

from fitbit.catalogue import REJECTED_POINTS_TABLE
from fitbit.errors import PipelineError, TimeZoneUnknown
from fitbit.parse.columns import TIMESTAMP_OUT_OF_RANGE, UNREADABLE_VALUE, UnreadableField, ValueOutOfRange
from fitbit.parse.page import PageContext, Row, lineage

PAGE_LEVEL: tuple[type[BaseException], ...] = (TimeZoneUnknown, MemoryError)
POINTS_REJECTED = "points_rejected"  # ParsedPage.counts kind
FIX = ("the point was left out and the rest of its page loaded: keep the raw object, report the reason, and "
       "replay the raw object once the parser reads such points")
_REASONS: tuple[tuple[type[BaseException], str], ...] = (
    (LookupError, "missing_field"),
    (OverflowError, TIMESTAMP_OUT_OF_RANGE),  # datetime and timedelta arithmetic beyond years 1..9999
    (TypeError, "wrong_type"),
    (AttributeError, "wrong_type"),
    (ValueError, UNREADABLE_VALUE),
)


def explain(exc: BaseException) -> tuple[str, str, str | None]:
    """(error class, value-free reason, the value column's field path or None) of a point's failure."""
    if isinstance(exc, UnreadableField):
        return exc.cause, exc.reason, exc.path
    if isinstance(exc, ValueOutOfRange):
        return type(exc).__name__, exc.reason, None
    if isinstance(exc, PipelineError):
        return exc.error_class, str(exc), None
    reason = next((word for kind, word in _REASONS if isinstance(exc, kind)), "unexpected_error")
    return type(exc).__name__, reason, None


class Rejections:
    """The rejected points of one page, as ``rejected_points`` rows (keyed by raw object and JSON path)."""

    __slots__ = ("_items_key", "_lead", "_lead_lineage", "_value_key", "rows")

    def __init__(self, ctx: PageContext, table: str, items_key: str | None, value_key: str | None = None) -> None:
        day = ctx.civil_date.isoformat() if ctx.civil_date else ctx.fetched_at[:10]
        self._lead = {"participant_id": ctx.participant, "civil_date": day, "data_type": ctx.data_type,
                      "method": ctx.method, "table_name": table}
        self._items_key, self._value_key = items_key, value_key
        self.rows: list[Row] = []
        self._lead_lineage = lineage(ctx)

    def add(self, index: int | None, exc: BaseException, where: str | None = None) -> None:
        """Record the point at ``index`` of the page's items (None: the page's only item), or at ``where``."""
        error_class, reason, field = explain(exc)
        path = where or (self._items_key and f"{self._items_key}[{index}]") or "$"
        if field:
            path += "." + ".".join(p for p in (self._value_key, field) if p)
        fix = exc.fix if isinstance(exc, PipelineError) and not isinstance(exc, UnreadableField) else FIX
        self.rows.append({**self._lead, "json_path": path, "error_class": error_class, "reason": reason,
                          "fix": fix, **self._lead_lineage})

    def isolated(self, index: int | None, read: Callable[[], Row], where: str | None = None) -> Row | None:
        """``read()``, or None with the point recorded when it raises anything but a page-level error."""
        try:
            return read()
        except PAGE_LEVEL:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure of one point rejects that point, not its page
            self.add(index, exc, where)
            return None

    def table_rows(self) -> dict[str, list[Row]]:
        """``{"rejected_points": rows}`` when the page rejected any point, else nothing."""
        return {REJECTED_POINTS_TABLE.name: self.rows} if self.rows else {}

    def counts(self) -> dict[str, int]:
        return {POINTS_REJECTED: len(self.rows)} if self.rows else {}

