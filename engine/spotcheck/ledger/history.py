"""Past and planned checks in the ledger: `history` records, indexed in the history table for the caps."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from spotcheck.errors import Problem, SpotcheckError
from spotcheck.ledger.chain import HISTORY_FIELDS, Record, canonical_json, ledger_problem
from spotcheck.ledger.store import Transaction


def append_history(tx: Transaction, rows: list[dict], *, key: str = "", actor: str | None = None) -> Record:
    """Record past/planned checks (one `history` record) and index them for `Ledger.history`.

    Each row: uscc (required), year (required unless checked_on gives it), task_id, item_codes (list),
    tier, draw_id, visit_id, lead_inspector, checked_on (ISO date or date). Bad rows: L410, nothing written.
    """
    path = tx.ledger.path
    problems: list[Problem] = []
    clean = []
    for i, row in enumerate(rows, start=1):
        where = f"抽查历史第 {i} 行"
        if not isinstance(row, Mapping):
            problems.append(ledger_problem("L410", "抽查历史行必须是键值表", path, where=where))
            continue
        unknown = sorted(set(row) - set(HISTORY_FIELDS))
        if unknown:
            problems.append(ledger_problem("L410", f"未知字段：{', '.join(map(str, unknown))}", path, where=where,
                                           hint=f"可用字段：{', '.join(HISTORY_FIELDS)}"))
        item = {name: row.get(name) for name in HISTORY_FIELDS}
        if not isinstance(item["uscc"], str) or not item["uscc"]:
            problems.append(ledger_problem("L410", "缺少统一社会信用代码（uscc）", path, where=where))
        checked = item["checked_on"]
        if isinstance(checked, datetime):
            checked = None
            problems.append(ledger_problem("L410", "检查日期只写日期，不带时间", path, where=f"{where} → checked_on"))
        elif isinstance(checked, date):
            checked = checked.isoformat()
        elif isinstance(checked, str):
            try:
                checked = date.fromisoformat(checked).isoformat()
            except ValueError:
                problems.append(ledger_problem("L410", f"检查日期 '{checked}' 不是 YYYY-MM-DD", path,
                                               where=f"{where} → checked_on"))
                checked = None
        elif checked is not None:
            problems.append(ledger_problem("L410", "检查日期必须是日期", path, where=f"{where} → checked_on"))
        item["checked_on"] = checked
        if item["year"] is None and checked is not None:
            item["year"] = int(checked[:4])
        if not isinstance(item["year"], int) or isinstance(item["year"], bool):
            problems.append(ledger_problem("L410", "缺少年度（year），或年度不是整数", path, where=f"{where} → year"))
        codes = item["item_codes"] if item["item_codes"] is not None else []
        if isinstance(codes, str) or not all(isinstance(c, str) for c in codes):
            problems.append(ledger_problem("L410", "检查事项编码（item_codes）必须是文字列表", path,
                                           where=f"{where} → item_codes"))
        else:
            item["item_codes"] = list(codes)
        for name in ("task_id", "tier", "draw_id", "visit_id", "lead_inspector"):
            if item[name] is not None and not isinstance(item[name], str):
                problems.append(ledger_problem("L410", f"{name} 必须是文字", path, where=f"{where} → {name}"))
        clean.append(item)
    if problems:
        raise SpotcheckError(problems)
    record = tx.append("history", key, {"rows": clean}, actor=actor)
    conn = tx.ledger._conn
    tx.ledger._run(lambda: conn.executemany(
        "INSERT INTO history(seq, row_no, uscc, year, task_id, item_codes, tier, draw_id, visit_id,"
        " lead_inspector, checked_on) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
        [(record.seq, n, r["uscc"], r["year"], r["task_id"], canonical_json(r["item_codes"]), r["tier"],
          r["draw_id"], r["visit_id"], r["lead_inspector"], r["checked_on"]) for n, r in enumerate(clean)]))
    return record

