"""Past and planned checks in the ledger: `history` records, indexed in the history table for the caps."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path

import orjson
import polars as pl

from spotcheck.errors import Problem, SpotcheckError
from spotcheck.ledger.chain import HISTORY_FIELDS, canonical_json, ledger_problem
from spotcheck.ledger.store import Ledger, Transaction


# Rows per `history` record. A province's official year draws millions of pairs: in one record its body
# neared SQLite's limit on a value (1,000,000,000 bytes), and checking the chain held it all in memory.
HISTORY_ROWS_PER_RECORD = 50_000


def append_history(tx: Transaction, rows: list[dict] | pl.DataFrame, *, key: str = "", actor: str | None = None) -> int:
    """Record past/planned checks (one `history` record per HISTORY_ROWS_PER_RECORD rows, all under `key`; how
    many is returned) and index them for `Ledger.history`.

    Each row: uscc (required), year (required unless checked_on gives it), task_id, item_codes (list),
    tier, draw_id, visit_id, lead_inspector, checked_on (ISO date or date). Bad rows: L410, nothing written.
    A frame with those columns (a draw's millions of rows) is checked by column and written by column; one
    the column check cannot pass is checked row by row, so its problems are the same as a list's.
    """
    framed = isinstance(rows, pl.DataFrame)
    clean = _clean_frame(rows) if framed else None
    if clean is not None:
        return _append_frame(tx, clean, key, actor)
    clean = _checked_rows(rows.to_dicts() if framed else rows, tx.ledger.path)
    # A year's rows repeat a few lists of item codes: each is written once.
    codes_text: dict[tuple[str, ...], str] = {}
    parts = range(0, max(len(clean), 1), HISTORY_ROWS_PER_RECORD)
    for start in parts:
        body = {"rows": clean[start:start + HISTORY_ROWS_PER_RECORD]}
        record = tx.append("history", key, body, actor=actor, text=_text(body))
        _index(tx, record.seq, [(r["uscc"], r["year"], r["task_id"], _codes(r["item_codes"], codes_text), r["tier"], r["draw_id"],
                                 r["visit_id"], r["lead_inspector"], r["checked_on"]) for r in body["rows"]])
    return len(parts)


def _append_frame(tx: Transaction, clean: pl.DataFrame, key: str, actor: str | None) -> int:
    """A clean frame's records and table rows, made by polars without a dict per row: polars writes each row as
    orjson writes it (keys sorted, the same escapes; tests/ledger/test_history.py compares the two)."""
    codes = pl.struct("item_codes").struct.json_encode().str.strip_prefix('{"item_codes":').str.strip_suffix("}")
    parts = range(0, clean.height, HISTORY_ROWS_PER_RECORD)
    for start in parts:
        # A part at a time: a province's rows as text at once are gigabytes.
        part = clean.slice(start, HISTORY_ROWS_PER_RECORD).select(
            pl.struct(sorted(HISTORY_FIELDS)).struct.json_encode().alias("_text"), "uscc", "year", "task_id",
            codes.alias("item_codes"), *HISTORY_FIELDS[4:])
        tx.extend_texts("history", [(key, '{"rows":[' + part.get_column("_text").str.join(",").item() + "]}")], actor=actor)
        _index(tx, tx.head_seq, part.drop("_text").iter_rows())
    return len(parts)


def _checked_rows(rows: list, path: str) -> list[dict]:
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
    return clean


_TEXT_FIELDS = ("task_id", "tier", "draw_id", "visit_id", "lead_inspector")


def _clean_frame(frame: pl.DataFrame) -> pl.DataFrame | None:
    """The frame as `_checked_rows` would leave it, when every row passes by column alone (the fields, their
    types, a code and a year in every row, no check date to normalise); None sends it row by row."""
    schema = frame.schema
    if set(schema) != set(HISTORY_FIELDS) or frame.is_empty():
        return None
    text = (pl.String, pl.Null)
    if (schema["uscc"] != pl.String or not schema["year"].is_integer()
            or schema["item_codes"] not in (pl.List(pl.String), pl.List(pl.Null))
            or any(schema[name] not in text for name in (*_TEXT_FIELDS, "checked_on"))):
        return None
    bad = frame.select(
        pl.col("uscc").is_null().any() | (pl.col("uscc") == "").any() | pl.col("year").is_null().any()
        | pl.col("checked_on").is_not_null().any()
        | pl.col("item_codes").list.eval(pl.element().is_null()).list.any().any())
    if bad.item():
        return None
    return frame.select(
        pl.col("uscc"), pl.col("year").cast(pl.Int64), pl.col("task_id").cast(pl.String),
        pl.col("item_codes").cast(pl.List(pl.String)).fill_null(pl.lit([], dtype=pl.List(pl.String))),
        *(pl.col(name).cast(pl.String) for name in HISTORY_FIELDS[4:]))


def _text(body: dict) -> str | None:
    """The canonical text of checked history rows: they hold only text, integers, lists of text and nulls,
    which orjson writes as json.dumps does, so it is not read back to be compared (as `Transaction.append`
    would); None for what orjson refuses (lone surrogates, integers past 64 bits)."""
    try:
        return orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode("utf-8")
    except TypeError:
        return None


def _codes(codes: list[str], texts: dict[tuple[str, ...], str]) -> str:
    if (text := texts.get(key := tuple(codes))) is None:
        text = texts[key] = canonical_json(codes)
    return text


def _index(tx: Transaction, seq: int, rows: Iterable[tuple]) -> None:
    """The history table's rows of record `seq`: each row's fields in HISTORY_FIELDS order, its codes as text."""
    table = [(seq, n, *row) for n, row in enumerate(rows)]
    conn = tx.ledger._conn
    tx.ledger._run(lambda: conn.executemany(
        "INSERT INTO history(seq, row_no, uscc, year, task_id, item_codes, tier, draw_id, visit_id,"
        " lead_inspector, checked_on) VALUES(?,?,?,?,?,?,?,?,?,?,?)", table))


# The columns of a past-checks file as the national system exports them, or as this tool names them.
IMPORT_COLUMNS = {
    "统一社会信用代码": "uscc", "检查日期": "checked_on", "年度": "year", "检查事项": "item_codes", "抽查任务": "task_id",
    "uscc": "uscc", "checked_on": "checked_on", "year": "year", "item_codes": "item_codes", "task_id": "task_id",
}


def import_history(ledger: Ledger, path: Path, *, actor: str) -> int:
    """Past checks from a CSV file (earlier years' checks for "近N个月内未被抽查" and "每N年至少一次"),
    recorded as one history record keyed by the file's name; returns the rows recorded.

    Columns: 统一社会信用代码, 检查日期 (YYYY-MM-DD) or 年度, optionally 检查事项 (codes separated by
    |, 、 or ；) and 抽查任务. A bad row is L410 with its row number; nothing is recorded then."""
    problems: list[Problem] = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            header = [h.strip() for h in reader.fieldnames or []]
            table = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise SpotcheckError(Problem("D230", f"无法读取检查记录文件：{exc}", file=str(path),
                                     hint="用 UTF-8 编码的 CSV 文件，首行为列名")) from None
    unknown = [h for h in header if h not in IMPORT_COLUMNS]
    if "uscc" not in {IMPORT_COLUMNS.get(h) for h in header} or unknown:
        raise SpotcheckError(Problem(
            "D230", "检查记录文件的列名不对" + (f"：不认识 {'、'.join(unknown)}" if unknown else "：缺少 统一社会信用代码"),
            file=str(path), hint="可用的列：统一社会信用代码、检查日期、年度、检查事项、抽查任务"))
    rows = []
    for n, raw in enumerate(table, start=2):
        row: dict = {}
        for name, value in raw.items():
            value = (value or "").strip()
            if not value or name is None:
                continue
            key = IMPORT_COLUMNS[name.strip()]
            if key == "year":
                if not value.isdigit():
                    problems.append(Problem("D231", f"年度 '{value}' 不是整数", file=str(path), where=f"第 {n} 行 → 年度"))
                    continue
                row[key] = int(value)
            elif key == "item_codes":
                row[key] = [c for c in re.split(r"[|、；;]", value) if c.strip()]
            else:
                row[key] = value
        rows.append(row)
    if problems:
        raise SpotcheckError(problems)
    with ledger.transaction() as tx:
        append_history(tx, rows, key=path.name, actor=actor)
    return len(rows)


def checks_of_year(ledger: Ledger, year: int) -> tuple[int, int]:
    """(the year's checks a draw made, its other checks) in the history table, counted by SQLite: a drawn
    check is one per visit (or per drawn entity, before its visit was planned), so a visit's rows for each
    of its tasks count once; a check without a draw counts row by row."""
    drawn = "ifnull(draw_id, '') != ''"
    # The drawn checks counted as groups, not by count(DISTINCT …): on a 1M city's 655,164 rows 0.8-1.1 s of
    # CPU against 2.4-2.5 s.
    sql = (f"SELECT (SELECT count(*) FROM (SELECT 1 FROM history WHERE year = ?1 AND {drawn}"
           f" GROUP BY CASE WHEN ifnull(visit_id, '') != '' THEN visit_id ELSE draw_id || '|' || uscc END)),"
           f" (SELECT count(*) FROM history WHERE year = ?1 AND NOT {drawn})")
    ((checks, others),) = next(ledger.chunks(sql, (year,)))
    return checks, others
