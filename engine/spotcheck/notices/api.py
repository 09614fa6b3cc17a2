"""Official notices from a policy: numbered body, spliced-in tables and lists, then md, html, docx or pdf.

Every fact comes from data: the policy, its item lists and calendar, a draw folder, or the result rows
the results stage passes in. Templates lay the facts out and add only form wording (“附件：”,
“随机抽查通知书”); policy text is handed to them as values and never rendered as a template.

This module chooses the notice and renders it. The Notice record is in notice_model, a policy's own
documents are built in notice_content, the task and results announcements in notice_announcements,
template lookup and the Jinja sandbox in notice_templates, and Word and PDF in docx_render.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import deque
from collections.abc import Iterable, Mapping
from pathlib import Path

from spotcheck.draw.folder import staged, write_output
from spotcheck.draw.reader import DRAWS, read_folder
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.notices.announcements import (
    DRAWN_COLUMNS,
    ResultRow,
    drawn_frame,
    drawn_units,
    results_notice,
    same_policy,
    task_notice,
)
from spotcheck.notices.content import (
    document_notice,
    generated_plan,
    plan_document,
    policy_problem,
)
from spotcheck.notices.letter_helper import Job, Source, helper_for, write_files
from spotcheck.notices.letters import all_letters, inspection_letters, letters_by_unit, unique_name
from spotcheck.notices.model import KINDS, Notice, Table
from spotcheck.notices.templates import (
    FORMATS,
    find_template,
    list_templates,
    render_text,
    search_path,
)
from spotcheck.policy.loaded import LoadedPolicy
from spotcheck.policy.loader import load_policy
from spotcheck.policy.yamlsource import display
from spotcheck.resources import TEMPLATES

KIND_ALIASES = {**{k.removesuffix("_notice"): k for k in KINDS}, "letter": "inspection_letter", "letters": "inspection_letter"}

# ---------------------------------------------------------------- choosing what to render


def normalize_kind(kind: str | None) -> str | None:
    if kind is None or kind in KINDS:
        return kind
    if kind in KIND_ALIASES:
        return KIND_ALIASES[kind]
    raise SpotcheckError(Problem("N803", f"没有这种文种：{kind}",
                                 hint=f"可用：{'、'.join(KINDS)}（也可省略 _notice；随机抽查通知书可写 letter）"))


def choose_notice(loaded: LoadedPolicy, kind: str | None = None, document: str | None = None,
                  draw_dir: str | Path | None = None) -> Notice:
    """The Notice `spotcheck notice` renders: by --document, by --kind, else the policy's default document."""
    policy = loaded.policy
    kind = normalize_kind(kind) or ("task_notice" if draw_dir is not None and document is None else None)
    if kind == "task_notice":
        if draw_dir is None:
            raise SpotcheckError(Problem("N804", "任务公告由抽取结果生成，需要 --draw 指定抽取结果目录",
                                         hint="先运行 spotcheck draw，再用 --draw 指向其输出目录"))
        return task_notice(loaded, read_folder(draw_dir, needs=(DRAWS,)))
    if kind == "inspection_letter":
        if draw_dir is None:
            raise SpotcheckError(Problem("N804", "随机抽查通知书按抽取结果和检查安排生成，需要 --draw 指定抽取结果目录",
                                         hint="先运行 spotcheck draw 和 spotcheck plan，再用 --draw 指向其输出目录"))
        return inspection_letters(loaded, read_folder(draw_dir, needs=(DRAWS,)))
    if kind == "results_notice":
        raise SpotcheckError(Problem("N804", "检查结果公告由结果阶段根据检查结果生成，不能只凭策略生成",
                                     hint="录入并审核检查结果后运行 spotcheck results publish --draw 抽取结果目录 --out 输出目录，"
                                          "结果公告随公示名单一并生成"))
    ids = [d.id for d in policy.documents]
    if document is not None:
        doc = next((d for d in policy.documents if d.id == document), None)
        if doc is None:
            raise SpotcheckError(policy_problem("N805", f"策略中没有文件 '{document}'", loaded, "documents",
                                                hint=f"已有文件：{'、'.join(ids) or '（无）'}"))
        if kind is not None and doc.kind != kind:
            raise SpotcheckError(policy_problem("N805", f"文件 '{document}' 的文种是 {doc.kind}，不是 {kind}", loaded, "documents"))
        return document_notice(loaded, doc)
    if kind is not None:
        doc = next((d for d in policy.documents if d.kind == kind), None)
        if doc is None and kind == "plan_notice" and policy.tasks:
            return generated_plan(loaded)
        if doc is None:
            raise SpotcheckError(policy_problem("N805", f"策略中没有 {kind} 文件", loaded, "documents",
                                                hint=f"已有文件：{'、'.join(f'{d.id}（{d.kind}）' for d in policy.documents) or '（无）'}"))
        return document_notice(loaded, doc)
    chosen = plan_document(policy) if policy.default_document else (policy.documents[0] if policy.documents else None)
    if chosen is None:
        if policy.tasks:
            return generated_plan(loaded)
        raise SpotcheckError(policy_problem("N805", "策略中没有可生成的文件（documents 为空，也没有任务）", loaded,
                                            hint="在策略中写 documents，或用 --kind task --draw DIR 生成任务公告"))
    return document_notice(loaded, chosen)


# ---------------------------------------------------------------- rendering and writing


def render_notice(loaded: LoadedPolicy, notice: Notice, fmt: str, root: Path = TEMPLATES) -> str | bytes:
    """A Notice in one format: md and html as text, docx and pdf as bytes."""
    if fmt not in FORMATS:
        raise SpotcheckError(Problem("N803", f"没有这种输出格式：{fmt}", hint=f"可用：{'、'.join(FORMATS)}"))
    template = find_template(loaded, notice.kind, fmt, root)
    if fmt in ("md", "html"):
        return render_text(notice, fmt, template, search_path(loaded, root))
    from spotcheck.notices import docx_render

    docx = docx_render.render(template, notice)
    return docx if fmt == "docx" else docx_render.to_pdf(docx, notice.date)


def render(loaded: LoadedPolicy, kind: str | None = None, fmt: str = "md", draw_dir: str | Path | None = None, *,
           document: str | None = None, root: Path = TEMPLATES) -> str | bytes:
    """The notice of a policy: its default document, a kind, a document id, or the task notice of a draw."""
    if normalize_kind(kind) == "inspection_letter" and fmt == "docx" and draw_dir is not None:
        return _letters_docx(loaded, draw_dir, root)
    return render_notice(loaded, choose_notice(loaded, kind, document, draw_dir), fmt, root)


def _letters_docx(loaded: LoadedPolicy, draw_dir: str | Path, root: Path) -> bytes:
    """Every 随机抽查通知书 in one Word file, laid out from the plan's columns (no object per letter)."""
    from spotcheck.notices import docx_render
    from spotcheck.notices.docx_letters import LetterFiles

    batch = all_letters(loaded, read_folder(draw_dir, needs=(DRAWS,)))
    template = find_template(loaded, "inspection_letter", "docx", root)
    if batch.rows.height < docx_render.FAST_LETTERS:
        return docx_render.render(template, batch.notice)
    return LetterFiles(template).document_bytes(batch.head, batch.rows)


def render_results_notice(loaded: LoadedPolicy, rows: Iterable[ResultRow | Mapping], fmt: str,
                          root: Path = TEMPLATES, *, published_on: dt.date | None = None) -> str | bytes:
    """The results announcement of one task's checked entities (called by the results stage), dated the
    day it is published (`published_on`; today when not given)."""
    return render_notice(loaded, results_notice(loaded, rows, published_on or dt.date.today()), fmt, root)


def make_notice(policy_path: str | Path, *, fmt: str, out: str | Path | None = None, kind: str | None = None,
                document: str | None = None, draw_dir: str | Path | None = None,
                root: Path = TEMPLATES) -> str | bytes:
    """Load a policy, render its notice, and write it atomically to `out` when given; returns the content."""
    loaded = load_policy(policy_path)
    content = render(loaded, kind, fmt, draw_dir, document=document, root=root)
    if out is not None:
        write_output(Path(out), content.encode("utf-8") if isinstance(content, str) else content)
    return content


def write_letters(policy_path: str | Path, draw_dir: str | Path, out_dir: str | Path, *, fmt: str,
                  per_entity: bool = False, root: Path = TEMPLATES) -> list[tuple[Path, int]]:
    """Every 随机抽查通知书 of a planned draw, one file per inspecting unit and month (out_dir/<unit>/<year>年<MM>月.docx),
    or with `per_entity` a zip of one Word file per visit in its place (<year>年<MM>月.zip), written into a new
    folder that appears whole or not at all. Word files of one run share one layout of the letters
    (docx_letters.LetterFiles); a big run's are written on two processes (letter_helper). Returns each file
    (relative to out_dir) with its number of letters, in the order of letters_by_unit."""
    loaded = load_policy(policy_path)
    draw = read_folder(draw_dir, needs=(DRAWS,))
    if fmt not in FORMATS:
        raise SpotcheckError(Problem("N803", f"没有这种输出格式：{fmt}", hint=f"可用：{'、'.join(FORMATS)}"))
    if per_entity and fmt != "docx":
        raise SpotcheckError(Problem(
            "N852", f"逐户文件只生成 Word（docx），不生成 {fmt}",
            hint="逐户转换 PDF 要为每一份通知书启动一次 LibreOffice，一个城市一年要数小时；"
                 "需要 PDF 时按单位和月份生成（--per-unit --format pdf），或在 Word 中批量另存"))
    files = source = None
    if fmt == "docx":
        from spotcheck.notices.docx_letters import LetterFiles

        template = find_template(loaded, "inspection_letter", "docx", root)
        files = LetterFiles(template)
        source = Source(str(policy_path), str(draw_dir), str(template))
    written = []
    folders: dict[str, str] = {}
    # Every file is whole (the helper has answered or ended, LetterFiles ends) before the folder appears.
    with staged(Path(out_dir)) as stage, files or contextlib.nullcontext(), helper_for(draw, source) as helper:
        jobs = deque()
        for batch in letters_by_unit(loaded, draw):
            when = f"{loaded.policy.year}年{batch.month:02d}月" if batch.month else "未定月份"
            name = Path(unique_name(batch.unit, folders)) / f"{when}.{'zip' if per_entity else fmt}"
            (stage / name).parent.mkdir(parents=True, exist_ok=True)
            jobs.append(Job(stage / name, batch, per_entity))
            written.append((name, batch.size))
        if files is not None:
            write_files(files, jobs, helper)
        while jobs:
            target, batch, _ = jobs.popleft()
            content = render_notice(loaded, batch.notice, fmt, root)
            target.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return written


def write_task_notices(policy_path: str | Path, draw_dir: str | Path, out_dir: str | Path, *, fmt: str,
                       root: Path = TEMPLATES) -> list[tuple[Path, int]]:
    """The task announcement split per unit that checks (out_dir/<unit>.docx): each with the drawn lists of
    the districts that unit checks, written one at a time into a new folder that appears whole or not at
    all. Returns each file (relative to out_dir) with the number of drawn entities it lists."""
    loaded = load_policy(policy_path)
    draw = read_folder(draw_dir, needs=(DRAWS,))
    if fmt not in FORMATS:
        raise SpotcheckError(Problem("N803", f"没有这种输出格式：{fmt}", hint=f"可用：{'、'.join(FORMATS)}"))
    same_policy(loaded, draw)
    written = []
    taken: dict[str, str] = {}
    with staged(Path(out_dir)) as stage:
        drawn = drawn_frame(loaded, draw)
        for unit in drawn_units(loaded, drawn):
            notice = task_notice(loaded, draw, unit=unit, drawn=drawn)
            name = Path(f"{unique_name(unit, taken)}.{fmt}")
            content = render_notice(loaded, notice, fmt, root)
            (stage / name).write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
            listed = sum(len(b.rows) for b in notice.body if isinstance(b, Table) and b.columns[:3] == DRAWN_COLUMNS)
            written.append((name, listed))
    return written


def describe_templates(policy_path: str | Path, root: Path = TEMPLATES) -> list[str]:
    """One line per kind and format: which template file `spotcheck notice` will use."""
    loaded = load_policy(policy_path)
    lines = [f"辖区模板目录（由近及远）：{'、'.join(display(f) for f in search_path(loaded, root))}"]
    for kind, fmt, path in list_templates(loaded, root):
        lines.append(f"{kind:<16} {fmt:<5} {display(path) if path else '（无模板）'}")
    return lines
