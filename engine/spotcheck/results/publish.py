"""一公开, second half: the public results list, in the shape of the national disclosure system.

One row per entity and task (a merged visit for two tasks is two rows, each with the visit's result):
序号, 抽查计划编号/名称, 抽查任务编号/名称, 抽查类型, 检查机关, 市场主体名称, 统一社会信用代码,
检查完成日期, 检查结果, 备注 — the table of the results announcement (notice_announcements.RESULT_COLUMNS), of which
one per task is rendered beside the list. The list holds every result of the draw that is public
after this run: the results approved now, and the last published version of those published before.
Risk tiers are internal to the draw and never appear in it. Entities whose result says 通过登记的住
所（经营场所）无法联系 go to DIR/abnormal-candidates.csv for the 经营异常名录 decision.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from pathlib import Path

import polars as pl
from spotcheck.notices import api as notice
from spotcheck.notices import announcements as notice_announcements
from spotcheck.notices import content as notice_content
from spotcheck.notices.announcements import ResultRow
from spotcheck.results import reads
from spotcheck.results import records as results
from spotcheck.results.categories import CATEGORIES, UNREACHABLE, category_text
from spotcheck.results.notice_docx import notice_docx
from spotcheck.draw.reader import Visit, load_draw
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.draw.folder import committed, write_file_atomic, write_files
from spotcheck.ledger.chain import Record
from spotcheck.ledger.store import Ledger
from spotcheck.policy.loaded import LoadedPolicy
from spotcheck.results.tables import frame_bytes, table_bytes

# The announcement's table and the public list are one shape.
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

    def notice_row(self) -> dict:
        return {"task_id": self.task_id, "name": self.name, "uscc": self.uscc, "completed": self.completed_on,
                "result": self.result, "remarks": self.remarks, "inspecting_body": self.authority}


_CELL_FIELDS = tuple(f.name for f in fields(PublicRow))[:len(PUBLIC_COLUMNS)]


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


def public_frame(rows: list[PublicRow]) -> pl.DataFrame:
    """The public list's cells, a text column per column of PUBLIC_COLUMNS."""
    return pl.DataFrame({f"c{j}": [str(getattr(r, name)) for r in rows] for j, name in enumerate(_CELL_FIELDS)},
                        schema={f"c{j}": pl.String for j in range(len(_CELL_FIELDS))})


def announcements(loaded: LoadedPolicy, rows: list[PublicRow], on: dt.date) -> dict[str, bytes]:
    """One results announcement per task (“第NNN号抽查任务检查结果公告”), in each format, dated `on` (the day of publication)."""
    files = {}
    by_task: dict[str, list[PublicRow]] = {}
    for row in rows:
        by_task.setdefault(row.task_id, []).append(row)
    for task_id, mine in by_task.items():
        no = f"{notice_content.task_no(loaded.policy, loaded.task(task_id)):03d}"
        # Built once for both formats (each would convert the rows and lay out the table again).
        full = notice_announcements.results_notice(loaded, [ResultRow.of(r.notice_row()) for r in mine], on)
        for fmt in NOTICE_FORMATS:
            content = notice_docx(loaded, full) if fmt == "docx" else notice.render_notice(loaded, full, fmt)
            files[f"results-notice-{no}.{fmt}"] = content.encode("utf-8") if isinstance(content, str) else content
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
                shown = reads.shown(folder, ledger)
                approved = [s for s in shown if s.published_on is None]
                if not approved:
                    raise SpotcheckError(Problem("S840", "没有已审核、待公示的检查结果", file=str(folder.path),
                                                 hint="先用 spotcheck results approve 审核已录入的结果"))
                with reads.bulk():
                    rows = public_rows(loaded, [(s.visit, s.version) for s in shown])
                    table = public_frame(rows)
                notices = announcements(loaded, rows, on)
                files = {
                    f"{PUBLIC_LIST}.xlsx": frame_bytes(".xlsx", list(PUBLIC_COLUMNS), table),
                    f"{PUBLIC_LIST}.csv": frame_bytes(".csv", list(PUBLIC_COLUMNS), table),
                    **notices,
                }
                write_files(stage.path, files)
                done = results.mark_published(tx, [(s.visit.visit_id, s.version.seq) for s in approved], on, str(out_dir))
            abnormal = [
                (s.version.body["uscc"], s.version.body["name"], s.visit.visit_id, s.version.body["completed_on"],
                 s.published_on or on.isoformat(), s.visit.unit, CATEGORIES[UNREACHABLE].name)
                for s in shown
                if UNREACHABLE in s.version.body["categories"]
            ]
            write_file_atomic(folder.path / ABNORMAL_FILE, table_bytes(".csv", ABNORMAL_COLUMNS, abnormal))
    return Publication(out_dir, tuple(out_dir / n for n in files), tuple(done), len(rows), len(abnormal),
                       tuple(out_dir / n for n in notices))
