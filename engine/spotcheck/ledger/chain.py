"""The ledger's stored form: records chained by hash, and the check that recomputes the chain.

Record hash (so anyone can recompute it without this code):

    hash = sha256( F(prev_hash) F(seq) F(kind) F(key) F(at) F(actor) F(body) ), hex, lower case
    F(x) = <number of UTF-8 bytes of x, in ASCII decimal> ":" <UTF-8 bytes of x> ","

This is D. J. Bernstein's netstring framing: no field can run into the next. `seq` is written in
decimal, `at` is the UTC time as stored (`2024-03-01T08:00:00.000000+00:00`), `body` is the canonical
JSON text as stored (keys sorted, UTF-8 not escaped, separators "," and ":"). The first record's
`prev_hash` is 64 zeros.

The canonical text is Python's `json.dumps(body, sort_keys=True, ensure_ascii=False,
separators=(",", ":"), allow_nan=False)`. orjson writes the same text far faster for the bodies
spotcheck writes (text, integers, lists, objects): `canonical_json` takes orjson's text only when it
holds no float (whose spelling differs: 1e+16 against 1e16) and decodes back to the body itself (NaN,
which orjson writes as null, and tuples do not); anything else goes through json.dumps. Bodies are read
back by orjson, and by json.loads when orjson refuses the text (NaN, lone surrogates). orjson reads an
integer past 64 bits as a float; no record spotcheck writes holds one (sequence numbers, counts, rows).

The `history` table is a projection of `history` records kept for fast frequency-cap queries;
`verify_chain` rebuilds it from the chain and reports any row that differs.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

import orjson

from spotcheck.errors import Problem, SpotcheckError

GENESIS_HASH = "0" * 64

HISTORY_FIELDS = (
    "uscc", "year", "task_id", "item_codes", "tier", "draw_id", "visit_id", "lead_inspector", "checked_on",
)


@dataclass(frozen=True)
class Record:
    """One link of the chain, as stored."""

    seq: int
    kind: str
    key: str
    at: str
    actor: str
    body: dict
    prev_hash: str
    hash: str

    def to_dict(self) -> dict:
        return {
            "seq": self.seq, "kind": self.kind, "key": self.key, "at": self.at, "actor": self.actor,
            "body": self.body, "prev_hash": self.prev_hash, "hash": self.hash,
        }


@dataclass(frozen=True)
class VerifyReport:
    """What `Ledger.verify` found. `first_bad_seq` is the earliest record that cannot be trusted."""

    count: int
    head_seq: int
    head_hash: str
    problems: list[Problem] = field(default_factory=list)
    first_bad_seq: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


_ORJSON = (orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
           | orjson.OPT_PASSTHROUGH_SUBCLASS)
# A number token with a fraction or an exponent: a float, spelt differently by json and orjson. Text in a
# string may match too; that only sends the body the slow way.
_FLOAT = re.compile(rb"[:,\[]-?[0-9]+[.eE]")


def canonical_json(body: object) -> str:
    """The one text form a body is stored and hashed in (see the module docstring)."""
    return encoded(body)[0]


def encoded(body: object) -> tuple[str, object]:
    """(canonical text, the body as read back from it)."""
    try:
        data = orjson.dumps(body, option=_ORJSON)
    except TypeError:
        data = None
    if data is not None and not _FLOAT.search(data):
        back = orjson.loads(data)
        if back == body:
            return data.decode("utf-8"), back
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text, json.loads(text)


def decode_body(text: str) -> object:
    """A stored body as json.loads reads it (but for integers past 64 bits, see the module docstring)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)  # NaN, lone surrogates, deep nesting: json reads what orjson refuses.


def record_hash(prev_hash: str, seq: int, kind: str, key: str, at: str, actor: str, body: str) -> str:
    """sha256 over the netstring-framed fields (see the module docstring)."""
    return next(chained(kind, at, actor, seq - 1, prev_hash, [(key, body)]))[7]


def _framed(text: str) -> bytes:
    data = text.encode("utf-8")
    return b"%d:%s," % (len(data), data)


def chained(kind: str, at: str, actor: str, seq: int, prev_hash: str,
            items: Iterable[tuple[str, str]]) -> Iterator[tuple[int, str, str, str, str, str, str, str]]:
    """The stored rows (seq, kind, key, at, actor, body, prev_hash, hash) of (key, body text) items of one kind,
    time and actor, chained after the record (seq, prev_hash). The framing is written out in the loop rather than
    called for each field: a province's millions of records spent more time in those calls than in SHA-256."""
    sha256, kind_framed, middle = hashlib.sha256, None, b""
    for key, body in items:
        if kind_framed is None:  # at the first record: a kind that is not text is refused by its check (L410)
            kind_framed, middle = _framed(kind), _framed(at) + _framed(actor)
        seq += 1
        p, s, k, b = prev_hash.encode("utf-8"), b"%d" % seq, key.encode("utf-8"), body.encode("utf-8")
        digest = sha256(b"%d:%s,%d:%s,%s%d:%s,%s%d:%s," % (
            len(p), p, len(s), s, kind_framed, len(k), k, middle, len(b), b)).hexdigest()
        yield seq, kind, key, at, actor, body, prev_hash, digest
        prev_hash = digest


def ledger_problem(code: str, message: str, path: str | None = None, **kw) -> Problem:
    return Problem(code=code, message=message, file=path, **kw)


def text(data: bytes) -> str | bytes:
    """TEXT as str; bytes that are not UTF-8 (written around spotcheck) stay bytes for verify to name."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data


_HEAD = re.compile(r"([0-9]{1,18}):([0-9a-f]{64})")


def damaged(path: str, exc: sqlite3.Error) -> Problem:
    return ledger_problem("L413", f"台账文件结构被破坏（{database_reason(exc)}）", path, hint="从备份恢复台账，并查明改动原因")


def database_reason(exc: sqlite3.Error) -> str:
    """What SQLite found, in the officer's words (its own are English)."""
    text = str(exc)
    if m := re.match(r"no such (table|column): (\S+)", text):
        return f"缺少{'数据表' if m[1] == 'table' else '字段'} {m[2]}"
    if "not a database" in text:
        return "不是 SQLite 数据库文件"
    if "malformed" in text or "corrupt" in text:
        return "数据库文件已损坏"
    if "readonly" in text or "read-only" in text:
        return "台账文件只读，无法写入"
    if "unable to open" in text:
        return "无法打开数据库文件（路径不存在或没有权限）"
    return "数据库无法按台账读取"


def record_from_row(row: tuple) -> Record:
    seq, kind, key, at, actor, body, prev_hash, digest = row
    if not (type(seq) is int and type(kind) is str and type(key) is str and type(at) is str and type(actor) is str
            and type(body) is str and type(prev_hash) is str and type(digest) is str):
        raise SpotcheckError(ledger_problem("L413", f"记录 #{seq} 的字段类型不对（台账被直接改动）", None,
                                            hint="运行 spotcheck ledger verify 查看完整检查结果"))
    try:
        parsed = decode_body(body)
        if not isinstance(parsed, dict):
            raise ValueError("not an object")
    except (TypeError, ValueError) as exc:
        raise SpotcheckError(ledger_problem("L404", f"记录 #{seq} 的内容不是 JSON（台账被改动）", None,
                                            hint="运行 spotcheck ledger verify 查看完整检查结果")) from exc
    return Record(seq, kind, key, at, actor, parsed, prev_hash, digest)


def verify_chain(conn: sqlite3.Connection, path: str, anchors: Mapping[int, str] | None, own_snapshot: bool) -> VerifyReport:
    """Recompute the whole chain. `anchors` maps seq → a hash published earlier for that record; with
    `own_snapshot` the check runs in a read transaction of its own."""
    problems: list[Problem] = []
    bad: list[int] = []

    def report(seq: int, code: str, message: str, hint: str | None = None) -> None:
        bad.append(seq)
        problems.append(ledger_problem(code, message, path, where=f"记录 #{seq}", hint=hint))

    count, expected_seq, prev = 0, 1, (0, GENESIS_HASH)
    # Only what the later checks need is kept: a province's official year holds millions of records.
    wanted = set(anchors or ())
    hashes: dict[int, str] = {}
    history_seqs: list[int] = []
    if own_snapshot:
        # One read transaction: a consistent snapshot even while other processes append.
        conn.execute("BEGIN")
    try:
        for row in conn.execute("SELECT seq, kind, key, at, actor, body, prev_hash, hash FROM records ORDER BY seq"):
            seq, kind, key, at, actor, body, prev_hash, stored = row
            count += 1
            if not isinstance(seq, int) or not all(isinstance(v, str) for v in row[1:]):
                # Written around spotcheck: a number, a BLOB or bytes that are not UTF-8 where text belongs.
                at_seq = seq if isinstance(seq, int) else expected_seq
                report(at_seq, "L413", f"台账记录 #{at_seq} 的字段类型不对（应为文字，台账被直接改动）",
                       "从备份恢复台账，并查明改动原因")
                prev, expected_seq = (at_seq, stored if isinstance(stored, str) else ""), at_seq + 1
                continue
            if seq != expected_seq:
                missing = f"#{expected_seq}" if seq == expected_seq + 1 else f"#{expected_seq}–#{seq - 1}"
                report(expected_seq, "L405", f"台账链断裂：记录 {missing} 缺失（被删除）",
                       "从备份恢复台账，并查明删除原因")
            elif prev_hash != prev[1]:
                report(seq, "L406", f"台账链断裂：记录 #{seq} 的前序哈希应为 {prev[1]}，实为 {prev_hash}",
                       "从备份恢复台账，并查明改动原因")
            computed = record_hash(prev_hash, seq, kind, key, at, actor, body)
            if computed != stored:
                report(seq, "L404", f"台账链断裂：记录 #{seq} 的哈希应为 {computed}，实为 {stored}（记录被改动）",
                       "从备份恢复台账，并查明改动原因")
            if kind == "history":
                history_seqs.append(seq)
            if seq in wanted:
                hashes[seq] = stored
            prev, expected_seq = (seq, stored), seq + 1
        head_seq, head_hash = prev
        meta = conn.execute("SELECT value FROM meta WHERE name = 'head'").fetchone()
        marked = _HEAD.fullmatch(meta[0]) if meta is not None and isinstance(meta[0], str) else None
        if meta is not None and marked is None:
            report(head_seq, "L413", "台账的末条标记（meta head）被改动，无法读出", "从备份恢复台账，并查明改动原因")
        elif marked is not None:
            meta_seq, meta_hash = int(marked[1]), marked[2]
            if meta_seq > head_seq:
                report(head_seq + 1, "L405", f"台账链断裂：末尾记录 #{head_seq + 1}–#{meta_seq} 缺失（被删除）",
                       "从备份恢复台账，并查明删除原因")
            elif meta_seq < head_seq:
                report(meta_seq + 1, "L414", f"记录 #{meta_seq + 1}–#{head_seq} 不是由 spotcheck 追加的（末条标记为 #{meta_seq}）",
                       "从备份恢复台账，并查明来源")
            elif meta_hash != head_hash:
                report(head_seq, "L414", f"末条记录 #{head_seq} 被改写：记下的哈希为 {meta_hash}，现为 {head_hash}",
                       "从备份恢复台账；公布末条哈希（spotcheck ledger verify 输出）可发现此类改动")
        for seq, published in sorted((anchors or {}).items()):
            if hashes.get(seq) != published:
                found = hashes.get(seq, "（无此记录）")
                report(seq, "L412", f"记录 #{seq} 与公布的哈希不符：公布 {published}，台账中为 {found}",
                       "台账在公布之后被改动或截断，从备份恢复")
        _verify_history(conn, history_seqs, report)
    except sqlite3.Error as exc:
        raise SpotcheckError(damaged(path, exc)) from None
    finally:
        if own_snapshot and conn.in_transaction:
            conn.execute("COMMIT")
    return VerifyReport(count=count, head_seq=head_seq, head_hash=head_hash, problems=problems,
                        first_bad_seq=min(bad) if bad else None)


def _verify_history(conn: sqlite3.Connection, seqs: list[int], report: Callable[..., None]) -> None:
    """Each history record against its rows in the history table, one record at a time: held all at once, a
    province's year (millions of rows) took more memory than the machine has."""
    listed = set(seqs)
    orphans = [seq for (seq,) in conn.execute("SELECT DISTINCT seq FROM history") if seq not in listed]
    for seq in sorted(listed | set(orphans)):
        stored = []
        for row in conn.execute(
                "SELECT uscc, year, task_id, item_codes, tier, draw_id, visit_id, lead_inspector, checked_on"
                " FROM history WHERE seq = ? ORDER BY row_no", (seq,)):
            item = dict(zip(HISTORY_FIELDS, row))
            try:
                item["item_codes"] = json.loads(item["item_codes"])
            except (TypeError, ValueError):
                pass
            stored.append(item)
        body = conn.execute("SELECT body FROM records WHERE seq = ?", (seq,)).fetchone() if seq in listed else None
        try:
            expected = json.loads(body[0])["rows"] if body is not None else None
        except (ValueError, KeyError, TypeError):
            expected = None
        if stored != expected:
            report(seq, "L407", f"抽查历史表与台账记录 #{seq} 不一致", "历史表或该记录被直接改动；从备份恢复台账")
