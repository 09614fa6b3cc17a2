"""随机抽查通知书: one letter per planned visit, its own document beside the task announcement.

A letter is written after `spotcheck plan`: it reads the draw folder's visits.csv and teams.csv, so
every letter is one visit (all the tasks and items of that visit), signed by the unit that inspects,
with that unit's contact and the names and enforcement certificate numbers of the team, which the
inspectors must show (《市场监督管理行政处罚程序规定》: 执法人员不得少于两人并出示执法证件).
"""

from __future__ import annotations

import dataclasses
import hashlib
from functools import cached_property
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from spotcheck.directory.kinds import key_text
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.notices.announcements import (
    DrawFolder,
    district_name,
    district_order,
    plan_identity,
    same_policy,
    task_span,
)
from spotcheck.notices.content import item_line, numbered_lines, plan_document, task_no
from spotcheck.notices.model import EntityNotice, Notice
from spotcheck.policy.loader import LoadedPolicy
from spotcheck.policy.model import Contact
from spotcheck.policy.yamlsource import display

LEAD_ROLES = ("主查", "主查人")  # the plan's word and the results fixtures' word for the team's lead
_NAME_BYTES = 200  # of a file name's 255, leaving room for a digest and the suffix


def file_name(text: str) -> str:
    """A unit's or an entity's name as a file or folder name: path separators and control characters
    become “_”, and a long name is cut to fit the file system."""
    name = "".join("_" if c in '/\\:*?"<>|' or ord(c) < 32 else c for c in text).strip(". ") or "_"
    return name.encode("utf-8")[:_NAME_BYTES].decode("utf-8", "ignore")


def unique_name(text: str, taken: dict[str, str]) -> str:
    """file_name(text), told apart from a different text already given the same name (`a/b` and `a:b`)
    by a digest of the text; `taken` maps each name given to its text."""
    name = file_name(text)
    if taken.setdefault(name, text) != text:
        name = f"{name}_{hashlib.sha256(text.encode('utf-8')).hexdigest()[:8]}"
        taken[name] = text
    return name


def _frame(path: Path, needed: Sequence[str], wanted: Sequence[str] = ()) -> pl.DataFrame:
    """A plan file's columns as text (empty cells as ""), `needed` ones checked, `wanted` ones kept when present."""
    try:
        header = pl.read_csv(path, n_rows=0, infer_schema=False).columns
        missing = [c for c in needed if c not in header]
        if missing:
            raise SpotcheckError(Problem("N812", f"{path.name} 缺少列：{'、'.join(missing)}", file=display(path), row=1,
                                         hint="该文件应由 spotcheck plan 生成，不要手工改动列名"))
        # Only the columns a letter prints are read: a city's visits.csv has many more.
        kept = [*needed, *(c for c in wanted if c in header and c not in needed)]
        frame = pl.read_csv(path, columns=kept, infer_schema=False, empty_string_is_null=False)
    except FileNotFoundError:
        raise SpotcheckError(Problem(
            "N815", f"抽取结果目录中没有 {path.name}：随机抽查通知书按检查安排（一户一次上门）生成", file=display(path),
            hint="先运行 spotcheck plan 抽取结果目录 --inspectors 执法检查人员名录，再生成通知书")) from None
    except pl.exceptions.PolarsError as exc:
        raise SpotcheckError(Problem("N812", f"{path.name} 无法读取：{type(exc).__name__}", file=display(path),
                                     hint="该文件应由 spotcheck plan 生成，不要手工改动")) from None
    return frame.select(kept).fill_null("")



def _declared_contacts(loaded: LoadedPolicy, unit: str) -> tuple[str, ...] | None:
    """The signing unit's own contact lines: a district bureau's declared contacts, or the plan's contact
    when the issuing bureau itself inspects; None when the unit declares none."""
    policy = loaded.policy
    for d in policy.jurisdiction.districts:
        if d.unit == unit and d.contacts:
            return tuple(_contact_text(d.contacts))
    if unit == policy.jurisdiction.name:
        doc = plan_document(policy)
        if doc is not None and doc.contacts:
            return tuple(_contact_text(doc.contacts))
    return None


def _contact_text(contacts: Sequence[Contact]) -> list[str]:
    """A line per contact and the e-mail on its own line, so no code or address wraps mid-token."""
    lines = []
    for c in contacts:
        lines.append(f"联系人：{c.unit or ''}{c.name}" + (f"　联系电话：{c.phone}" if c.phone else ""))
        if c.email:
            lines.append(f"电子邮箱：{c.email}")
    return lines


def inspection_letters(loaded: LoadedPolicy, draw: DrawFolder) -> Notice:
    """One 随机抽查通知书 per planned visit, in district order, each a page of its own."""
    return all_letters(loaded, draw).notice


def all_letters(loaded: LoadedPolicy, draw: DrawFolder) -> LetterBatch:
    """inspection_letters as columns: every letter in one batch, signed by the issuing bureau's notice."""
    same_policy(loaded, draw)
    build = Letters(loaded, draw)
    return build.batch(loaded.policy.jurisdiction.name, None, build.planned())


@dataclass(frozen=True)
class LetterRows:
    """Letters as columns, in letter order: one row per planned visit with what differs from visit to visit;
    what a letter says of its tasks, unit and district is put in a chunk at a time (`chunks`), so a city's
    letters are never all in memory as text."""

    build: Letters
    visits: pl.DataFrame

    @property
    def height(self) -> int:
        return self.visits.height

    def chunks(self, size: int = 16384) -> Iterator[pl.DataFrame]:
        """The letters' fields (EntityNotice's, as columns) `size` rows at a time: each polars call costs
        the same whatever the rows, and a chunk's letters are laid out in some hundred calls, so chunks
        are large (16,384 letters are about 120 MB of XML)."""
        for start in range(0, self.visits.height, size):
            yield self.build.fields(self.visits.slice(start, size))

    def notices(self) -> list[EntityNotice]:
        return [n for chunk in self.chunks() for n in notices_of(chunk)]


@dataclass(frozen=True)
class LetterBatch:
    """The letters one inspecting unit sends for the visits of one month (month None: no month)."""

    unit: str
    month: int | None
    planned: pl.DataFrame  # its visits as Letters.planned has them, not yet in letter order
    build: Letters

    @property
    def size(self) -> int:
        return self.planned.height

    @property
    def head(self) -> Notice:
        """The notice around the letters, without them."""
        return self.build.head

    @cached_property
    def rows(self) -> LetterRows:
        """Sorted when first asked for, so that a run's batches, waiting their turn, hold no second copy."""
        return self.build.rows(self.planned)

    @property
    def notice(self) -> Notice:
        return dataclasses.replace(self.head, entity_notices=tuple(self.rows.notices()))


def letters_by_unit(loaded: LoadedPolicy, draw: DrawFolder) -> Iterator[LetterBatch]:
    """inspection_letters split per inspecting unit and month, one batch at a time, units in the
    policy's district order: what each unit prints and sends together, and all a city's letters
    never in memory at once (the plan's files are held as columns). Within a batch the letters keep
    inspection_letters' order."""
    same_policy(loaded, draw)
    build = Letters(loaded, draw)
    batches = build.planned().partition_by("_unit", "_month", as_dict=True, maintain_order=True)
    order = {d.unit: k for k, d in enumerate(loaded.policy.jurisdiction.districts)}
    for unit, mon in sorted(batches, key=lambda g: (order.get(g[0], len(order)), g[0], g[1] or 0)):
        yield build.batch(unit, mon, batches.pop((unit, mon)))


def _planned(draw: DrawFolder) -> tuple[pl.DataFrame, pl.DataFrame]:
    visits = _frame(draw.path / "visits.csv", ("visit_id", "uscc", "name", "district", "task_ids", "item_codes",
                                               "inspecting_unit"), ("month",))
    if "month" not in visits.columns:
        visits = visits.with_columns(pl.lit("").alias("month"))
    teams = _frame(draw.path / "teams.csv", ("visit_id", "name", "role"), ("certificate",))
    return visits, teams


FIELDS = tuple(f.name for f in dataclasses.fields(EntityNotice))
LISTS = ("items", "contacts", "team")  # the fields that are tuples of lines


def notices_of(frame: pl.DataFrame) -> list[EntityNotice]:
    """The letters of a frame of EntityNotice's fields."""
    lists = [k for k, f in enumerate(FIELDS) if f in LISTS]
    out = []
    for row in frame.select(FIELDS).iter_rows():
        values = list(row)
        for k in lists:
            values[k] = tuple(values[k])
        out.append(EntityNotice(*values))
    return out


def frame_of(letters: Sequence[EntityNotice]) -> pl.DataFrame:
    """EntityNotice's fields as columns (notices_of's inverse)."""
    schema = {f: pl.List(pl.String) if f in LISTS else pl.Date if f == "date" else pl.String for f in FIELDS}
    return pl.DataFrame({f: [list(v) if f in LISTS else v for v in (getattr(n, f) for n in letters)] for f in FIELDS},
                        schema=schema)


class Letters:
    """The letters of visits. What a letter says of its tasks and items, of its unit and of its district is
    the same for every visit with the same tasks and items, unit or district, so it is worked out once."""

    def __init__(self, loaded: LoadedPolicy, draw: DrawFolder) -> None:
        self.loaded, self.draw = loaded, draw
        self.head = _notice(loaded, draw, ())
        self.plan = plan_identity(loaded.policy)[1]
        self.issuer = loaded.policy.jurisdiction.name
        self._tasks: dict[tuple[str, str], tuple] = {}
        self._contacts: dict[str, tuple[str, ...] | None] = {}
        self._districts: dict[str, tuple[tuple[int, str], str]] = {}

    def planned(self) -> pl.DataFrame:
        """The plan's visits, each with its team's lines and lead (teams.csv's order), its unit and month."""
        visits, teams = _planned(self.draw)
        certificate = pl.lit("")
        if "certificate" in teams.columns:
            # Python's own idea of white space (str.strip), over the few distinct certificates.
            certificate = pl.col("certificate").replace_strict(
                {c: c.strip() for c in teams.get_column("certificate").unique()}, return_dtype=pl.String)
        members = teams.lazy().with_columns(certificate.alias("_certificate")).group_by("visit_id", maintain_order=True).agg(
            pl.when(pl.col("_certificate") != "")
            .then(pl.concat_str(pl.col("name"), pl.lit("（执法证号 "), pl.col("_certificate"), pl.lit("）")))
            .otherwise(pl.concat_str(pl.col("name"), pl.lit("（"), pl.col("role"), pl.lit("）"))).alias("team"),
            pl.coalesce(pl.col("name").filter(pl.col("role").is_in(LEAD_ROLES)).first(), pl.col("name").first()).alias("_lead"))
        month = pl.col("month")
        return (visits.lazy().with_row_index("_row")
                .join(members, on="visit_id", how="left", maintain_order="left")
                .with_columns(pl.col("team").fill_null(pl.lit([], dtype=pl.List(pl.String))),
                              pl.when(pl.col("inspecting_unit") == "").then(pl.lit(self.issuer))
                              .otherwise(pl.col("inspecting_unit")).alias("_unit"),
                              pl.when(month.str.contains(r"^[0-9]+$")).then(month.cast(pl.Int64, strict=False))
                              .otherwise(None).alias("_month"))
                .collect())

    def batch(self, unit: str, month: int | None, planned: pl.DataFrame) -> LetterBatch:
        """The letters of some of `planned()`'s visits, signed by `unit`, for `month`."""
        return LetterBatch(unit, month, planned, self)

    def rows(self, visits: pl.DataFrame) -> LetterRows:
        """These planned visits in letter order: by district (the policy's order), month and code."""
        districts = visits.get_column("district").unique().to_list()
        order = {d: self._district(d)[0][0] for d in districts}
        names = {d: self._district(d)[0][1] for d in districts}
        district = pl.col("district")
        return LetterRows(self, visits.sort(
            district.replace_strict(order, return_dtype=pl.Int64), district.replace_strict(names, return_dtype=pl.String),
            pl.col("_month").fill_null(0), "uscc", "_row", maintain_order=True))

    def _task_texts(self, task_ids: str, item_codes: str) -> tuple:
        key = (task_ids, item_codes)
        if key not in self._tasks:
            loaded, policy = self.loaded, self.loaded.policy
            tasks = [loaded.task(t) for t in task_ids.split("|") if t]
            codes = [c for c in item_codes.split("|") if c]
            items = [loaded.items[c] for c in codes]
            nos = [f"第{task_no(policy, t):03d}号" for t in tasks]
            # One method for every item is said once; otherwise each item names its own.
            methods = {tuple(i.method) for i in items}
            shared = "、".join(next(iter(methods))) if len(methods) == 1 else ""
            lines = [item_line(loaded, c) + (f"（检查方式：{'、'.join(i.method)}）" if i.method and not shared else "")
                     for c, i in zip(codes, items, strict=True)]
            self._tasks[key] = (
                "、".join(nos), "、".join(f"{no}“{t.name}”" for t, no in zip(tasks, nos, strict=True)) + "抽查任务",
                "、".join(dict.fromkeys(i.basis for i in items if i.basis)), numbered_lines(lines, 1),
                task_span(policy, tasks), shared)
        return self._tasks[key]

    def _district(self, district: str) -> tuple[tuple[int, str], str]:
        if district not in self._districts:
            policy = self.loaded.policy
            self._districts[district] = (district_order(policy, district), district_name(policy, district))
        return self._districts[district]

    def _declared(self, unit: str) -> tuple[str, ...] | None:
        if unit not in self._contacts:
            self._contacts[unit] = _declared_contacts(self.loaded, unit)
        return self._contacts[unit]

    def fields(self, visits: pl.DataFrame) -> pl.DataFrame:
        """EntityNotice's fields of these planned visits, as columns in their order."""
        pairs = visits.select("task_ids", "item_codes").unique().rows()
        texts = [self._task_texts(*p) for p in pairs]
        tasks = pl.DataFrame([[*p, *t] for p, t in zip(pairs, texts, strict=True)], orient="row", schema={
            "task_ids": pl.String, "item_codes": pl.String, "task_no": pl.String, "tasks": pl.String, "basis": pl.String,
            "items": pl.List(pl.String), "window": pl.String, "methods": pl.String})
        units = visits.get_column("_unit").unique().to_list()
        declared = pl.DataFrame({"_unit": units, "_declared": [self._declared(u) for u in units]},
                                schema={"_unit": pl.String, "_declared": pl.List(pl.String)})
        codes = visits.get_column("uscc")
        keyed = {k: key_text(k) for k in codes.filter(codes.str.contains(r"[/:]")).to_list()}
        districts = visits.get_column("district").unique().to_list()
        return (visits.lazy()
                .join(tasks.lazy(), on=["task_ids", "item_codes"], how="left", maintain_order="left")
                .join(declared.lazy(), on="_unit", how="left", maintain_order="left")
                .select(pl.col("name").alias("entity"),
                        (pl.col("uscc").replace(keyed) if keyed else pl.col("uscc")).alias("uscc"),
                        pl.col("district").replace_strict({d: self._district(d)[1] for d in districts}, return_dtype=pl.String),
                        "task_no", "tasks", pl.lit(self.plan).alias("plan"), "basis", "items", "window", "methods",
                        pl.col("_unit").alias("inspector"),
                        pl.when(pl.col("_declared").is_not_null()).then(pl.col("_declared"))
                        .when(pl.col("_lead").is_not_null()).then(pl.concat_list(pl.concat_str(
                            pl.lit("联系人："), pl.col("_lead"), pl.lit("（主查）"))))
                        .otherwise(pl.lit([], dtype=pl.List(pl.String))).alias("contacts"),
                        pl.col("_unit").alias("signature"), pl.lit(self.draw.drawn_on, dtype=pl.Date).alias("date"),
                        "visit_id", "team")
                .collect())


def _notice(loaded: LoadedPolicy, draw: DrawFolder, letters: Sequence[EntityNotice]) -> Notice:
    issuer = loaded.policy.jurisdiction.name
    return Notice(
        kind="inspection_letter", letter=False, issuer=issuer, number=None,
        title=f"随机抽查通知书{'（演练）' if draw.drill else ''}", addressees=None, preamble=(), body=(), contacts=(),
        attachments=(), signature=issuer, date=draw.drawn_on, disclosure=None, cc=None, printed_by=None,
        entity_notices=tuple(letters), drill=draw.drill, draw_id=draw.draw_id,
    )
