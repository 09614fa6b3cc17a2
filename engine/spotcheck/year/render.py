"""The year board as text for the terminal, JSON, and one offline HTML page (no external resources)."""

from __future__ import annotations

import json
from pathlib import Path

import jinja2

from spotcheck.draw.folder import write_output
from spotcheck.resources import TEMPLATES
from spotcheck.terminal import columns, padded
from spotcheck.year.board import Board, RoundRow, year_board

STATE_CLASS = {
    "未到月份": "later", "本月应抽取": "due", "逾期未抽取": "late", "已抽取": "drawn",
    "已安排检查": "planned", "检查中": "checking", "已完成": "done",
}


def _draws_text(row: RoundRow) -> str:
    return "；".join(
        f"{d.draw_id}（{d.drawn_on.isoformat()}，{d.drawn} 户，{'第' + str(d.revision) + '次修订' if d.revision else '原计划'}"
        + (f"，提前/重复抽取：{d.override}" if d.override else "") + "）"
        for d in row.draws
    )


def _label(row: RoundRow) -> str:
    if row.batch is not None:
        return f"{row.task_id} {row.batch}（{'拆分样本' if row.split else '重复抽取'}，{row.due.isoformat()}前完成）"
    return f"{row.task_id} 第{row.round}/{row.rounds}轮" if row.rounds > 1 else row.task_id


def text(board: Board) -> str:
    lines = [
        f"{board.jurisdiction} {board.year} 年度抽查计划执行情况（截至 {board.on.isoformat()}）",
        f"计划版本：{board.revision}",
        "",
        "任务与轮次：",
    ]
    labels = [_label(row) for row in board.rows]
    whens = [f"{row.draw_by.isoformat()}前" if row.draw_by else f"{row.month:>2}月" for row in board.rows]
    label_width, when_width = (max(map(columns, texts), default=0) for texts in (labels, whens))
    for row, label, when in zip(board.rows, labels, whens):
        # Lined up in columns: a round's label (第1/2轮) and a date are wider than a bare task and month.
        parts = [f"  {padded(label, label_width)} {padded(when, when_width)} 【{row.state}】"]
        if row.draws:
            parts.append(f"抽取 {_draws_text(row)}")
        if row.visits:
            parts.append(f"检查 {row.visits} 户（已配人员 {row.staffed}），已录入 {row.checked}，已公示 {row.published}")
        if row.overdue:
            parts.append("逾期：" + "；".join(row.overdue))
        lines.append(" ".join(parts))
    lines += ["", f"今后 10 个工作日（至 {board.horizon_end.isoformat()}）的期限："]
    lines += [f"  {d.date.isoformat()} {d.kind}：{d.what}" for d in board.deadlines] or ["  （无）"]
    lines += ["", "下一步抽取："]
    lines += [f"  {x}" for x in board.next_draws] or ["  全年各轮次均已抽取"]
    if board.closed is not None:
        lines += ["", "抽中后、检查前已注销或吊销的主体："]
        lines += [f"  {c.uscc} {c.name}（{c.status}；任务 {c.task_ids}；抽取 {c.draw_id}）" for c in board.closed] or ["  （无）"]
    lines += [f"注意：{n}" for n in board.notes]
    return "\n".join(lines) + "\n"


def json_text(board: Board) -> str:
    return json.dumps(board.to_dict(), ensure_ascii=False, indent=2) + "\n"


def html(board: Board) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    return env.get_template("year.html.j2").render(board=board, state_class=STATE_CLASS, draws_text=_draws_text)


def show(policy_path, *, ledger_path, on, entities_path=None, fmt: str = "text", out=None) -> str:
    """Build the board, render it in `fmt` (text, json, html), write it to `out` atomically when given."""
    board = year_board(policy_path, ledger_path=ledger_path, on=on, entities_path=entities_path)
    rendered = {"text": text, "json": json_text, "html": html}[fmt](board)
    if out is not None:
        write_output(Path(out), rendered.encode("utf-8"))
    return rendered
