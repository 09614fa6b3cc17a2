"""The notice as templates receive it: one Notice of headings, paragraphs and tables, all of it data.

Every string in these records is a value for a template to lay out, never a template itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import polars as pl

KINDS = ("plan_notice", "campaign_notice", "scheme", "work_notice", "task_notice", "inspection_letter", "results_notice")


@dataclass(frozen=True)
class Heading:
    level: int
    number: str
    text: str
    runin: str | None = None  # a sentence heading (ends with 。) runs into its first paragraph
    kind: str = "heading"


@dataclass(frozen=True)
class Para:
    text: str
    kind: str = "para"


class FrameRows(Sequence):
    """A long table's rows held as text columns (a city's drawn lists: millions of rows), read as tuples of
    texts: templates iterate them as they do a tuple of rows, and Word fills them in from the columns
    (docx_tables), so no Python object is made per row."""

    __slots__ = ("frame",)

    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame

    def __len__(self) -> int:
        return self.frame.height

    def __iter__(self) -> Iterator[tuple]:
        return self.frame.iter_rows()

    def __getitem__(self, index):
        if isinstance(index, slice):
            start, stop, step = index.indices(self.frame.height)
            if step == 1:
                return tuple(self.frame.slice(start, max(0, stop - start)).iter_rows())
            return tuple(self)[index]
        return self.frame.row(index)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and tuple(self) == tuple(other)

    def __hash__(self) -> int:
        return hash(tuple(self))


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...] | FrameRows
    widths: tuple[int, ...]  # relative column widths
    kind: str = "table"
    # Merged cells: per row and column, the number of rows the cell spans (0: covered by the cell
    # above, whose text it shares; covered cells hold ""). Empty when nothing is merged.
    spans: tuple[tuple[int, ...], ...] = ()
    # Per column, whether Word centres it (docx_styles.centred_columns); empty: read from the rows. Given
    # when a table is laid out from some of its rows and must look as it does with all of them.
    centred: tuple[bool, ...] = ()


Block = Heading | Para | Table


@dataclass(frozen=True)
class Annex:
    """An attachment printed after the signature on its own pages (附件另面编排)."""

    label: str  # 附件 / 附件1
    title: str
    blocks: tuple[Block, ...]
    landscape: bool = False


@dataclass(frozen=True)
class EntityNotice:
    """One 随机抽查通知书 to a drawn entity: one planned visit, every task and item of it."""

    entity: str
    uscc: str
    district: str
    task_no: str  # 第001号、第009号
    tasks: str  # “名称”抽查任务（第001号）、…
    plan: str
    basis: str  # legal bases of the items, joined with 、; "" when the item list gives none
    items: tuple[str, ...]  # numbered lines, the items of all its tasks
    window: str
    methods: str  # "" when the item list gives none
    inspector: str  # the inspecting body
    contacts: tuple[str, ...]  # the inspecting unit's contact lines
    signature: str  # the inspecting unit
    date: dt.date
    visit_id: str = ""
    team: tuple[str, ...] = ()  # 姓名（执法证号 …） of each inspector, lead first; empty while unstaffed


@dataclass(frozen=True)
class Notice:
    """One official document, laid out by a template; every string here is data, never a template."""

    kind: str
    letter: bool
    issuer: str
    number: str | None
    title: str
    addressees: str | None  # 各……，……：
    preamble: tuple[str, ...]
    body: tuple[Block, ...]
    contacts: tuple[str, ...]
    attachments: tuple[str, ...]  # the lines after “附件：”
    signature: str
    date: dt.date | None  # None only for a plan generated from tasks alone
    disclosure: str | None  # （信息公开类型：主动公开）
    cc: str | None
    printed_by: str | None
    enclosure_title: str | None = None
    enclosure: tuple[Block, ...] = ()
    annexes: tuple[Annex, ...] = ()
    entity_notices: tuple[EntityNotice, ...] = ()
    results: Table | None = None
    drill: bool = False
    draw_id: str | None = None
