"""一公开, second half: the public results list, in the shape of the national disclosure system.

One row per entity and task (a merged visit for two tasks is two rows, each with the visit's result):
序号, 抽查计划编号/名称, 抽查任务编号/名称, 抽查类型, 检查机关, 市场主体名称, 统一社会信用代码,
检查完成日期, 检查结果, 备注 (notice_announcements.RESULT_COLUMNS). Beside it, one results announcement per
task, stating the task's shared facts once above a table of its entities. The list holds every result of
the draw that is public after this run: the results approved now, and the last published version of those
published before.
Risk tiers are internal to the draw and never appear in it. Entities whose result says 通过登记的住
所（经营场所）无法联系 go to DIR/abnormal-candidates.csv for the 经营异常名录 decision.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from functools import lru_cache, partial
from pathlib import Path

import polars as pl
from spotcheck.notices import announcements as notice_announcements
from spotcheck.notices import content as notice_content
from spotcheck.results import reads
from spotcheck.results import records as results
from spotcheck.results.categories import CATEGORIES, UNREACHABLE, category_text
from spotcheck.results.notice_docx import frame_docx
from spotcheck.results.notice_md import frame_md
from spotcheck.draw.reader import Visit, load_draw, visit_unit
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.draw.folder import Content, committed, write_file_atomic, write_files
from spotcheck.ledger.chain import Record
from spotcheck.ledger.store import Ledger
from spotcheck.notices.model import Notice
from spotcheck.policy.loaded import LoadedPolicy
from spotcheck.results.tables import csv_pieces, frame_bytes, table_bytes

# The national disclosure's columns.
PUBLIC_COLUMNS = notice_announcements.RESULT_COLUMNS
PUBLIC_LIST = "results-public"
ABNORMAL_FILE = "abnormal-candidates.csv"
ABNORMAL_COLUMNS = ("统一社会信用代码", "市场主体名称", "检查编号", "检查完成日期", "公示日期", "检查机关", "列入事由")
NOTICE_FORMATS = ("docx", "md")


@dataclass(frozen=True)
class PublicRow:
    no: int
    plan: str  # 抽查计划编号/名称
    task: str  # 抽查任务编号/名称
    task_type: str
    authority: str
    name: str
    uscc: str
    completed_on: str
    result: str
    remarks: str
    task_id: str

    def cells(self) -> tuple[str, ...]:
        # Field by field, not dataclasses.astuple: that deep-copies every value.
        return tuple(str(getattr(self, f)) for f in _CELL_FIELDS)


_CELL_FIELDS = tuple(f.name for f in fields(PublicRow))[:len(PUBLIC_COLUMNS)]
_CELLS = [f"c{j}" for j in range(len(PUBLIC_COLUMNS))]


def public_rows(loaded: LoadedPolicy, shown: list[tuple[Visit, Record | reads.Version]]) -> list[PublicRow]:
    """The public list for these (visit, result version) pairs, in task order then visit order."""
    policy = loaded.policy
    tasks = {t.id: (i, t) for i, t in enumerate(policy.tasks)}
    unknown = sorted({tid for visit, _ in shown for tid in visit.task_ids if tid not in tasks})
    if unknown:
        raise SpotcheckError(Problem("S841", f"检查中的抽查任务 {'、'.join(unknown)} 不在策略 {policy.id} 中",
                                     file=str(loaded.path), hint="用抽取时的策略文件公示（--policy）"))
    plan_no, plan_name = notice_announcements.plan_identity(policy)
    pairs = sorted(((tasks[tid][0], n, visit, record, tasks[tid][1])
                    for n, (visit, record) in enumerate(shown) for tid in visit.task_ids), key=lambda p: p[:2])
    return [
        PublicRow(
            no=i, plan=f"{plan_no}/{plan_name}", task=f"{notice_content.task_no(policy, task):03d}/{task.name}",
            task_type=task.type, authority=visit.unit, name=record.body["name"], uscc=record.body["uscc"],
            completed_on=record.body["completed_on"], result=category_text(record.body["categories"]),
            remarks=record.body.get("remarks") or "", task_id=task.id,
        )
        for i, (_, _, visit, record, task) in enumerate(pairs, start=1)
    ]


def public_table(loaded: LoadedPolicy, visits: pl.DataFrame, shown: pl.DataFrame) -> pl.DataFrame:
    """public_frame(public_rows(…)) from columns, without a Python object per row: `visits` is the draw's
    visit_frame, `shown` reads.shown_frame. Besides c0…c9, task_id (for the announcements)."""
    policy = loaded.policy
    plan_no, plan_name = notice_announcements.plan_identity(policy)
    tasks = {t.id: t for t in policy.tasks}
    pairs = shown.join(visits.select("visit_id", "task_ids", visit_unit(visits).alias("c4")), on="visit_id", how="left", maintain_order="left") \
        .explode("task_ids").filter(pl.col("task_ids").is_not_null()).rename({"task_ids": "task_id"})
    unknown = sorted(set(pairs["task_id"].unique().to_list()) - tasks.keys())
    if unknown:
        raise SpotcheckError(Problem("S841", f"检查中的抽查任务 {'、'.join(unknown)} 不在策略 {policy.id} 中",
                                     file=str(loaded.path), hint="用抽取时的策略文件公示（--policy）"))

    def per_task(values: dict[str, object], dtype) -> pl.Expr:
        return pl.col("task_id").replace_strict(values, return_dtype=dtype)

    texts = {c: category_text(reads.codes(c)) for c in pairs["categories"].fill_null("[]").unique().to_list()}
    return pairs.sort(per_task({t: i for i, t in enumerate(tasks)}, pl.Int64), "n").select(
        pl.int_range(1, pl.len() + 1).cast(pl.String).alias("c0"),
        pl.lit(f"{plan_no}/{plan_name}").alias("c1"),
        per_task({t.id: f"{notice_content.task_no(policy, t):03d}/{t.name}" for t in tasks.values()}, pl.String).alias("c2"),
        per_task({t.id: t.type for t in tasks.values()}, pl.String).alias("c3"),
        "c4", pl.col("name").alias("c5"), pl.col("uscc").alias("c6"), pl.col("completed_on").alias("c7"),
        pl.col("categories").fill_null("[]").replace_strict(texts, return_dtype=pl.String).alias("c8"),
        pl.col("remarks").fill_null("").alias("c9"), "task_id",
    )


def _cells(loaded: LoadedPolicy, mine: pl.DataFrame, task_id: str) -> pl.DataFrame:
    """A task's rows of the public list (`mine`) in its announcement's columns (ENTITY_COLUMNS): numbered
    from 1, dates in Chinese, a row without a unit checked by the task's inspecting level (else the issuer)."""
    task = loaded.task(task_id)
    body = task.inspecting_level or loaded.policy.jurisdiction.name
    dates = {d: notice_content.cn_date(dt.date.fromisoformat(d)) for d in mine["c7"].unique().to_list()}
    return mine.select(
        pl.int_range(1, pl.len() + 1).cast(pl.String).alias("c0"),
        pl.when(pl.col("c4") != "").then("c4").otherwise(pl.lit(body)).alias("c4"), "c5", "c6",
        pl.col("c7").replace_strict(dates, return_dtype=pl.String), "c8", "c9")


def _announced(loaded: LoadedPolicy, mine: pl.DataFrame, task_id: str, on: dt.date) -> tuple[Notice, pl.DataFrame]:
    """A task's results announcement without its rows, and its rows as its table prints them: 检查机关 a
    column only when the rows' bodies differ."""
    cells = _cells(loaded, mine, task_id)
    bodies = cells.get_column("c4").unique(maintain_order=True).to_list()
    head = notice_announcements.results_head(loaded, loaded.task(task_id), bodies, cells.height, on)
    return head, (cells if "检查机关" in head.results.columns else cells.drop("c4"))


def announcements(loaded: LoadedPolicy, table: pl.DataFrame, on: dt.date) -> dict[str, Content]:
    """One results announcement per task (“第NNN号抽查任务检查结果公告”) of the public list `table`
    (public_table), in each format, dated `on` (the day of publication); each is made as it is written."""
    # public_table sorts by task: a task's rows are one run of the table, taken as a slice (no copy), and its
    # cells are made once for both formats, which are written one after the other.
    runs = table.select(pl.col("task_id").rle()).unnest("task_id")
    spans = dict(zip(runs["value"], zip((runs["len"].cum_sum() - runs["len"]).to_list(), runs["len"].to_list())))

    @lru_cache(maxsize=1)
    def announced(task_id: str) -> tuple[Notice, pl.DataFrame]:
        return _announced(loaded, table.slice(*spans[task_id]), task_id, on)

    files: dict[str, Content] = {}
    for task_id in spans:
        no = f"{notice_content.task_no(loaded.policy, loaded.task(task_id)):03d}"
        files[f"results-notice-{no}.docx"] = partial(lambda t: [frame_docx(loaded, *announced(t))], task_id)
        files[f"results-notice-{no}.md"] = partial(lambda t: frame_md(loaded, *announced(t)), task_id)
    return files


@dataclass(frozen=True)
class Publication:
    out_dir: Path
    files: tuple[Path, ...]
    published: tuple[str, ...]  # visits moved to 公示 now
    rows: int  # rows of the public list
    abnormal: int  # entities in abnormal-candidates.csv
    notices: tuple[Path, ...]


def publish(draw_dir: str | Path, out_dir: str | Path, *, ledger_path: str | Path, policy_path: str | Path | None = None,
            actor: str | None = None, on: dt.date | None = None) -> Publication:
    """Publish a draw's approved results: the public list (xlsx, csv), the announcement, the 公示 records."""
    on = on or dt.date.today()
    out_dir = Path(out_dir)
    with Ledger.open(ledger_path, create=False, actor=actor) as ledger:
        folder = load_draw(draw_dir, ledger)
        loaded = results.policy_for(folder, policy_path)
        adding = out_dir.is_dir() and any(out_dir.iterdir())
        with committed(out_dir, ledger, adding=adding) as stage:
            # Read under the write lock, so two publishers cannot both publish the same results.
            with stage.transaction() as tx:
                shown = reads.shown_frame(folder, ledger)
                approved = shown.filter(pl.col("published_on").is_null())
                if approved.is_empty():
                    raise SpotcheckError(Problem("S840", "没有已审核、待公示的检查结果", file=str(folder.path),
                                                 hint="先用 spotcheck results approve 审核已录入的结果"))
                table = public_table(loaded, folder.visit_frame, shown)
                notices = announcements(loaded, table, on)
                lists = {
                    f"{PUBLIC_LIST}.xlsx": partial(lambda t: [frame_bytes(".xlsx", list(PUBLIC_COLUMNS), t)], table.select(_CELLS)),
                    f"{PUBLIC_LIST}.csv": partial(csv_pieces, list(PUBLIC_COLUMNS), table.select(_CELLS)),
                }
                # The files are mostly polars and zlib, which let go of Python's lock, the 公示 records mostly
                # Python: the list, the announcements and the records are made side by side on two cores.
                # Leaving the block waits for the files, so a problem in any rolls the records back and removes
                # the staging folder with whatever was written.
                with ThreadPoolExecutor(2) as writer:
                    writing = [writer.submit(write_files, stage.path, group) for group in (lists, notices)]
                    done = results.mark_published(tx, approved, on, folder.draw_id, str(out_dir))
                    for written in writing:
                        written.result()
            unreachable = [c for c in shown["categories"].fill_null("[]").unique().to_list() if UNREACHABLE in reads.codes(c)]
            abnormal = shown.filter(pl.col("categories").is_in(unreachable)).sort("n") \
                .join(folder.visit_frame.select("visit_id", visit_unit(folder.visit_frame).alias("unit")), on="visit_id", how="left", maintain_order="left") \
                .select("uscc", "name", "visit_id", "completed_on", pl.col("published_on").fill_null(on.isoformat()), "unit",
                        pl.lit(CATEGORIES[UNREACHABLE].name)).rows()
            write_file_atomic(folder.path / ABNORMAL_FILE, table_bytes(".csv", ABNORMAL_COLUMNS, abnormal))
    return Publication(out_dir, tuple(out_dir / n for n in (*lists, *notices)), tuple(done), table.height, len(abnormal),
                       tuple(out_dir / n for n in notices))
