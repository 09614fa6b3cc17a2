"""The ledger: an append-only, hash-chained record of everything a campaign commits to and does.

Commitments, draws, visits, teams, team reassignments, results and their state changes, refused
redraw attempts: each stage appends records here, and every record is chained to the one before it,
so an edited, deleted or reordered record is found by `Ledger.verify`.

Storage is one SQLite file (default `spotcheck-ledger.db`) in WAL mode. Every write runs under
`BEGIN IMMEDIATE`, which takes the database's single write lock before the head of the chain is read:
two processes appending at once queue behind each other (up to `busy_timeout`) instead of forking the
chain. A transaction lands whole or not at all; a process killed mid-transaction leaves the ledger as
it was.

The record hash and the chain check are in spotcheck.ledger.chain; history rows are appended by
spotcheck.ledger.history.append_history.

Record kinds in use: commitment, claim, refused_redraw, draw, history, visit, team,
team_reassignment, result, result_states (result_state in ledgers begun before it). A commitment id can be committed once and claimed for a
draw once (`claim_commitment`): one commitment, one draw, and a second attempt is itself recorded.
"""

from __future__ import annotations

import getpass
import itertools
import json
import os
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import cache
from pathlib import Path

from spotcheck.errors import Problem, SpotcheckError
from spotcheck.ledger.chain import (
    GENESIS_HASH,
    HISTORY_FIELDS,
    Record,
    VerifyReport,
    chained,
    damaged,
    encoded,
    database_reason,
    ledger_problem,
    record_from_row,
    record_hash,
    text,
    verify_chain,
)

DEFAULT_PATH = "spotcheck-ledger.db"
_INSERT = "INSERT INTO records(seq, kind, key, at, actor, body, prev_hash, hash) VALUES(?,?,?,?,?,?,?,?)"
# Rows to one INSERT at most (fewer where SQLite allows fewer variables to a statement). Each statement lets go of
# Python's lock while SQLite steps it and takes it back after; while a publication's files are made on other
# threads, taking it back waits up to the switch interval (5 ms): at 64 rows to a statement a province's 2.6
# million marks waited minutes.
ROWS_PER_INSERT = 2048
BATCH_ROWS = 1 << 13
# Outside the chain: a work list of committed folders still to be renamed into place, written in the
# transaction that commits their records, so a crash between the two is finished by the next command.
_PENDING = "CREATE TABLE IF NOT EXISTS pending(stage TEXT PRIMARY KEY, out TEXT NOT NULL, adding INTEGER NOT NULL)"
# "SPCH": marks the file as a spotcheck ledger in the SQLite header, so a foreign database is refused
# before anything is written to it.
APPLICATION_ID = 0x53504348
SCHEMA_VERSION = 1
CACHE_KIB = 256 * 1024
# Of a new ledger; one begun before keeps its own (fixed once the file is in WAL mode). A province's import appends
# 2.6 million results of about 700 bytes: with SQLite's default 4 KiB pages each page holds five, and the B-tree
# split and copied pages five times as often (10M import 46.9, 41.5 → 35.1, 32.9 s, the file 7 % smaller).
PAGE_BYTES = 16 * 1024
WAL_KEPT_BYTES = 64 << 20

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records(
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    body TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_kind_key ON records(kind, key, seq);
CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS history(
    seq INTEGER NOT NULL,
    row_no INTEGER NOT NULL,
    uscc TEXT NOT NULL,
    year INTEGER NOT NULL,
    task_id TEXT,
    item_codes TEXT NOT NULL,
    tier TEXT,
    draw_id TEXT,
    visit_id TEXT,
    lead_inspector TEXT,
    checked_on TEXT,
    PRIMARY KEY(seq, row_no)
);
CREATE INDEX IF NOT EXISTS history_uscc ON history(uscc, year);
CREATE INDEX IF NOT EXISTS history_year ON history(year);
"""


def _is_busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


class Ledger:
    """An open ledger file. One per process or thread; use it as a context manager or call `close`."""

    def __init__(self, conn: sqlite3.Connection, path: str, actor: str, busy_timeout: float,
                 clock: Callable[[], datetime]) -> None:
        self._conn = conn
        self.path = path
        self.actor = actor
        self.busy_timeout = busy_timeout
        self._clock = clock
        self._tx: Transaction | None = None

    # ---- opening -------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike = DEFAULT_PATH, *, create: bool = True, actor: str | None = None,
             busy_timeout: float = 30.0, clock: Callable[[], datetime] | None = None) -> Ledger:
        """Open (and with `create`, make) a ledger. Raises SpotcheckError L401 for anything else."""
        spath = os.fspath(path)
        if not create and not Path(spath).is_file():
            raise SpotcheckError(ledger_problem("L401", "台账文件不存在", spath,
                                                hint="检查 --ledger 路径；台账在第一次写入时创建"))
        try:
            conn = sqlite3.connect(spath, timeout=busy_timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise SpotcheckError(ledger_problem("L401", f"无法打开台账文件：{database_reason(exc)}", spath)) from exc
        conn.text_factory = text
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            ready = cls._check_identity(conn, spath, create)
            if not ready:
                conn.execute(f"PRAGMA page_size = {PAGE_BYTES}")  # before WAL mode writes the file's first page
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            # A province's results append millions of records whose keys (visit ids) are random: each lands
            # on another page of the (kind, key) index. With SQLite's default 2 MiB of cache those pages are
            # written out and read back again and again within one transaction; the cache is only used as
            # pages are touched, so a small ledger costs no more.
            conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            # A province's command writes gigabytes to the WAL; SQLite deletes it when the last connection closes,
            # but while another stays open (a reader, a site being built) the file kept its whole size until then:
            # the first commit after a checkpoint now cuts it back to this.
            conn.execute(f"PRAGMA journal_size_limit = {WAL_KEPT_BYTES}")
            if not ready:
                cls._create_schema(conn, spath, create)
        except sqlite3.Error as exc:
            conn.close()
            if _is_busy(exc):
                raise _locked_error(spath, busy_timeout) from exc
            raise SpotcheckError(ledger_problem("L401", f"不是 spotcheck 台账文件（{database_reason(exc)}）", spath,
                                                hint="确认 --ledger 指向抽查台账（.db）")) from exc
        except SpotcheckError:
            conn.close()
            raise
        return cls(conn, spath, actor or _default_actor(), busy_timeout, clock or _utc_now)

    @classmethod
    def _create_schema(cls, conn: sqlite3.Connection, path: str, create: bool) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-checked under the write lock: another process may have created it meanwhile.
            cls._check_identity(conn, path, create)
            # One statement at a time: executescript would commit the IMMEDIATE transaction first.
            for statement in filter(str.strip, _SCHEMA.split(";")):
                conn.execute(statement)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    @staticmethod
    def _check_identity(conn: sqlite3.Connection, path: str, create: bool) -> bool:
        """Refuse anything but a ledger (or, with `create`, an empty file); True when the schema is current."""
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        fresh = app_id == 0 and tables == 0
        if app_id != APPLICATION_ID and not (fresh and create):
            raise SpotcheckError(ledger_problem("L401", "不是 spotcheck 台账文件", path,
                                                hint="确认 --ledger 指向抽查台账（.db）"))
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise SpotcheckError(ledger_problem("L411", f"台账格式版本 {version} 比本程序支持的 {SCHEMA_VERSION} 新", path,
                                                hint="升级 spotcheck 后再打开"))
        return app_id == APPLICATION_ID and version == SCHEMA_VERSION

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- writing -------------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """All appends inside land together at the end of the block, or none do if it raises."""
        if self._tx is not None:
            raise RuntimeError("ledger transactions do not nest")
        self._run(lambda: self._conn.execute("BEGIN IMMEDIATE"))
        tx = Transaction(self)
        self._tx = tx
        try:
            yield tx
        except BaseException:
            tx._rollback()
            raise
        if tx.closed:
            return
        try:
            if tx.appended:
                self._conn.execute("INSERT OR REPLACE INTO meta(name, value) VALUES('head', ?)",
                                   (f"{tx.head_seq}:{tx.head_hash}",))
            self._run(lambda: self._conn.execute("COMMIT"))
        except BaseException:
            tx._rollback()
            raise
        tx._close()

    def _run(self, step: Callable[[], object]) -> object:
        try:
            return step()
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):
                raise _locked_error(self.path, self.busy_timeout) from exc
            raise

    def _now(self) -> str:
        return self._clock().astimezone(timezone.utc).isoformat(timespec="microseconds")

    # ---- reading (inside a transaction these see its own appends) ------------------------------

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads inside see one state of the ledger while other processes append: a transaction's own inside
        one, else a read transaction of their own."""
        if self._conn.in_transaction:
            yield
            return
        self._conn.execute("BEGIN")
        try:
            yield
        finally:
            if self._conn.in_transaction:  # not after an error that ended it
                self._conn.execute("COMMIT")

    def head(self) -> tuple[int, str]:
        """(seq, hash) of the last record; (0, 64 zeros) when empty. Publish it to anchor the chain."""
        row = self._conn.execute("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()
        return (row[0], row[1]) if row else (0, GENESIS_HASH)

    def iter(self, kind: str | None = None, key: str | None = None, *,
             fields: Mapping[str, str] | None = None) -> Iterator[Record]:
        """Records in chain order, optionally only one kind and/or key, and only those whose body has
        these text `fields` (compared by SQLite, so other draws' records are never decoded)."""
        sql, args = "SELECT seq, kind, key, at, actor, body, prev_hash, hash FROM records", []
        conds = []
        if kind is not None:
            conds.append("kind = ?")
            args.append(kind)
        if key is not None:
            conds.append("key = ?")
            args.append(key)
        for name, value in (fields or {}).items():
            conds.append("json_extract(body, ?) = ?")
            args += [f'$."{name}"', value]
        if conds:
            sql += " WHERE " + " AND ".join(conds)
        try:
            rows = self._conn.execute(sql + " ORDER BY seq", args).fetchall()
        except sqlite3.Error as exc:
            raise SpotcheckError(damaged(self.path, exc)) from None
        for row in rows:
            yield record_from_row(row)

    def fields(self, kind: str, names: Iterable[str], *, where: Mapping[str, str] | None = None) -> list[tuple]:
        """(seq, key, *the body's `names`) of each record of a kind in chain order, read by SQLite without
        decoding bodies in Python (a missing name is None); `where` as for `iter`."""
        names = list(names)
        sql = "SELECT seq, key" + "".join(", json_extract(body, ?)" for _ in names) + " FROM records WHERE kind = ?"
        args: list[object] = [f'$."{n}"' for n in names] + [kind]
        for name, value in (where or {}).items():
            sql += " AND json_extract(body, ?) = ?"
            args += [f'$."{name}"', value]
        try:
            return self._conn.execute(sql + " ORDER BY seq", args).fetchall()
        except sqlite3.Error as exc:
            raise SpotcheckError(damaged(self.path, exc)) from None

    def chunks(self, sql: str, args: Sequence[object] = (), size: int = 200_000) -> Iterator[list[tuple]]:
        """The rows of a read-only query a chunk at a time: a province's year is millions of rows, never all
        Python tuples at once."""
        conn = self._conn
        try:
            cursor = conn.execute(sql, args)
            while True:
                # TEXT as str by SQLite itself, not a Python call per value (millions of them): text that is
                # not UTF-8 is then an error here, as a damaged ledger.
                factory, conn.text_factory = conn.text_factory, str
                try:
                    rows = cursor.fetchmany(size)
                finally:
                    conn.text_factory = factory
                if not rows:
                    return
                yield rows
        except sqlite3.Error as exc:
            raise SpotcheckError(damaged(self.path, exc)) from None

    def find(self, kind: str | None = None, key: str | None = None, *,
             fields: Mapping[str, str] | None = None) -> list[Record]:
        return list(self.iter(kind, key, fields=fields))

    def latest(self, kind: str, key: str) -> Record | None:
        row = self._conn.execute(
            "SELECT seq, kind, key, at, actor, body, prev_hash, hash FROM records"
            " WHERE kind = ? AND key = ? ORDER BY seq DESC LIMIT 1", (kind, key)).fetchone()
        return record_from_row(row) if row else None

    def history(self, year: int | None = None, usccs: Iterable[str] | None = None) -> list[dict]:
        """Past checks (rows written by `append_history`), in the order they were recorded."""
        sql = ("SELECT seq, row_no, uscc, year, task_id, item_codes, tier, draw_id, visit_id, lead_inspector,"
               " checked_on FROM history")
        conds, args = [], []
        if year is not None:
            conds.append("year = ?")
            args.append(year)
        if usccs is not None:
            conds.append("uscc IN (SELECT value FROM json_each(?))")
            args.append(json.dumps(list(usccs), ensure_ascii=False))
        if conds:
            sql += " WHERE " + " AND ".join(conds)
        out = []
        for row in self._conn.execute(sql + " ORDER BY seq, row_no", args):
            item = dict(zip(("seq", "row_no") + HISTORY_FIELDS, row))
            item["item_codes"] = json.loads(item["item_codes"])
            out.append(item)
        return out

    # ---- checking ------------------------------------------------------------------------------

    def verify(self, anchors: Mapping[int, str] | None = None) -> VerifyReport:
        """Recompute the whole chain. `anchors` maps seq → a hash published earlier for that record."""
        return verify_chain(self._conn, self.path, anchors, own_snapshot=self._tx is None)


class Transaction:
    """The write side of `Ledger.transaction()`. Holds the ledger's write lock until the block ends."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.head_seq, self.head_hash = ledger.head()
        self.appended = 0
        self.closed = False

    def append(self, kind: str, key: str, body: dict, *, actor: str | None = None, text: str | None = None) -> Record:
        """Chain one record after the current head. Raises SpotcheckError L409/L410 without writing.

        `text`: the body's canonical text when the caller has made it (history rows, whose types are checked),
        so a body of millions of characters is not encoded and read back a second time."""
        if text is None:
            text, back = self._encoded(kind, key, body)
        else:
            self._checked(kind, key, body)
            back = body
        led = self.ledger
        if kind == "commitment" and led.latest("commitment", key) is not None:
            # A second commitment under one id would let a draw pick whichever suits it after the fact.
            raise SpotcheckError(ledger_problem("L409", f"承诺编号 '{key}' 已存在，不能重复承诺", led.path,
                                                hint="新的抽取使用新的承诺编号"))
        row = self._chained([(kind, key, text, actor or led.actor, led._now())])[0]
        led._run(lambda: led._conn.execute(_INSERT, row))
        self._moved(row)
        return Record(row[0], kind, key, row[3], row[4], back, row[6], row[7])

    def extend(self, kind: str, items: Iterable[tuple[str, dict]], *, actor: str | None = None) -> int:
        """Chain one record per (key, body), in order, all stamped with one time; returns how many.

        The rows are made (bodies encoded, hashes chained) in a thread of their own a batch ahead, while
        SQLite inserts the batch before, so a province's millions of records take both cores; they are
        never all in memory at once. A problem with any body (L410) writes none of them.
        """
        return self.extend_texts(kind, ((key, self._encoded(kind, key, body)[0]) for key, body in items), actor=actor)

    def extend_texts(self, kind: str, items: Iterable[tuple[str, str]], *, actor: str | None = None) -> int:
        """`extend` for bodies given as their canonical text (`canonical_json`), as a stage that makes a
        province's bodies over whole columns writes them: never a dict per record. The text is stored and
        hashed as given; the caller answers for it being the canonical text of its body."""
        if self.closed:
            raise RuntimeError("this ledger transaction has already ended")
        if kind == "commitment":
            # A commitment is checked against the earlier ones (L409) as it is appended: one at a time.
            raise RuntimeError("commitments are appended one at a time")
        led = self.ledger
        rows = chained(kind, led._now(), actor or led.actor, self.head_seq, self.head_hash, items)
        conn, last, count = led._conn, None, 0
        conn.execute("SAVEPOINT extend")
        try:
            for batch in _ahead(rows, BATCH_ROWS):
                led._run(lambda: _insert(conn, batch))
                last, count = batch[-1], count + len(batch)
        except BaseException:
            conn.execute("ROLLBACK TO extend")
            conn.execute("RELEASE extend")
            raise
        conn.execute("RELEASE extend")
        if last is not None:
            self._moved(last, count)
        return count

    def _encoded(self, kind: str, key: str, body: dict) -> tuple[str, object]:
        self._checked(kind, key, body)
        try:
            return encoded(body)
        except (TypeError, ValueError) as exc:
            raise SpotcheckError(ledger_problem("L410", f"记录内容无法写成 JSON：{exc}", self.ledger.path,
                                                where=f"{kind} '{key}'",
                                                hint="日期写成 ISO 文字，比例写成分数文字")) from exc

    def _checked(self, kind: str, key: str, body: dict) -> None:
        if self.closed:
            raise RuntimeError("this ledger transaction has already ended")
        led = self.ledger
        problems = []
        if not isinstance(kind, str) or not kind:
            problems.append(ledger_problem("L410", "记录类型不能为空", led.path))
        if not isinstance(key, str):
            problems.append(ledger_problem("L410", f"记录键必须是文字，收到 {type(key).__name__}", led.path))
        if not isinstance(body, dict):
            problems.append(ledger_problem("L410", f"记录内容必须是键值表，收到 {type(body).__name__}", led.path))
        if problems:
            raise SpotcheckError(problems)

    def _chained(self, fields: list[tuple[str, str, str, str, str]], after: tuple | None = None) -> list[tuple]:
        """The rows of these (kind, key, body text, actor, at), chained after the head (or the row `after`)."""
        rows = []
        seq, prev = (self.head_seq, self.head_hash) if after is None else (after[0], after[7])
        for kind, key, body, who, at in fields:
            seq += 1
            digest = record_hash(prev, seq, kind, key, at, who, body)
            rows.append((seq, kind, key, at, who, body, prev, digest))
            prev = digest
        return rows

    def _moved(self, last: tuple, count: int = 1) -> None:
        """The head after rows that are now written."""
        self.head_seq, self.head_hash = last[0], last[7]
        self.appended += count

    # ---- folders that land with this transaction (spotcheck.draw.folder.committed) -------------

    def add_pending(self, stage: str, out: str, adding: bool) -> None:
        """Name a finished staging folder that becomes `out` once this transaction commits."""
        conn = self.ledger._conn
        conn.execute(_PENDING)
        conn.execute("INSERT INTO pending(stage, out, adding) VALUES(?,?,?)", (stage, out, int(adding)))

    def pending(self) -> list[tuple[str, str, bool]]:
        """(stage, out, adding) of every committed folder not yet moved into place."""
        conn = self.ledger._conn
        conn.execute(_PENDING)
        return [(stage, out, bool(adding)) for stage, out, adding in conn.execute(
            "SELECT stage, out, adding FROM pending ORDER BY rowid")]

    def clear_pending(self, stage: str) -> None:
        self.ledger._conn.execute("DELETE FROM pending WHERE stage = ?", (stage,))

    def _rollback(self) -> None:
        if not self.closed:
            try:
                self.ledger._conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # SQLite already rolled back (e.g. after an I/O error); nothing is left to undo.
            self._close()

    def _close(self) -> None:
        self.closed = True
        self.ledger._tx = None


def _insert(conn: sqlite3.Connection, rows: list[tuple]) -> None:
    # Bound row by row, not as one JSON array read by json_each: SQLite 3.40 parses a row's array again for
    # each of its eight fields, which cost a quarter more CPU (263,000 visit records: 3.2-3.4 s against 4.2-4.4).
    # Many rows to a statement: each statement costs sqlite3 a reset, a step, and Python's lock let go and taken back
    # (263,586 marks into a table in memory: 1.6 s of CPU one at a time, 0.9 s 64 at a time).
    per = min(ROWS_PER_INSERT, conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // len(rows[0]))
    whole = len(rows) - len(rows) % per
    if whole:
        values, width = list(itertools.chain.from_iterable(rows[:whole])), len(rows[0]) * per
        conn.executemany(_insert_many(per), [values[i:i + width] for i in range(0, len(values), width)])
    conn.executemany(_INSERT, rows[whole:])


@cache
def _insert_many(rows: int) -> str:
    # OR FAIL: a statement of many rows failing midway would otherwise need SQLite's statement journal (a copy of
    # every page the statement changes, written out); `extend_texts` rolls back to its savepoint in any case.
    return _INSERT.replace("INSERT", "INSERT OR FAIL", 1).replace("VALUES(?,?,?,?,?,?,?,?)", "VALUES" + ",".join(
        ["(?,?,?,?,?,?,?,?)"] * rows))


def _ahead(rows: Iterator[tuple], size: int) -> Iterator[list[tuple]]:
    """`rows` in lists of `size`, made in a thread while the caller works on the list before. The caller
    leaving early (an error) stops the thread; an error making the rows is raised to the caller."""
    ready: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()

    def make() -> None:
        try:
            while not stop.is_set():
                batch = list(itertools.islice(rows, size))  # taken by C, not a Python step per row
                ready.put((batch, None))
                if len(batch) < size:
                    return
        except BaseException as exc:  # handed to the caller's thread, where it is raised
            ready.put((None, exc))

    thread = threading.Thread(target=make, name="ledger-rows", daemon=True)
    thread.start()
    try:
        while True:
            batch, exc = ready.get()
            if exc is not None:
                raise exc
            if batch:
                yield batch
            if len(batch) < size:
                return
    finally:
        stop.set()
        while thread.is_alive():  # a thread waiting to hand over a batch is let go
            try:
                ready.get(timeout=0.05)
            except queue.Empty:
                pass
        thread.join()


def named_actor(actor: str | None, what: str) -> str:
    """Who does what the ledger must name a person for (an official commitment or draw, an approval): given,
    not blank, never the login account by default."""
    if not (actor or "").strip():
        raise SpotcheckError(Problem(
            "R513", f"{what}须记录操作人", hint="用 --actor 写明操作人（姓名或工号），或设置环境变量 SPOTCHECK_ACTOR"))
    return actor.strip()


def claim_commitment(tx: Transaction, commitment_id: str, *, actor: str | None = None) -> dict:
    """Use a commitment for a draw, once. Returns its body.

    Call it first in the draw's transaction: the `claim` record commits with the draw, so a draw that
    fails leaves the commitment unused. A second claim rolls back `tx` (ending it), commits a
    `refused_redraw` record in a transaction of its own, so the attempt stays on record, and raises L402.
    """
    led = tx.ledger
    commitment = led.latest("commitment", commitment_id)
    if commitment is None:
        raise SpotcheckError(ledger_problem("L408", f"承诺 '{commitment_id}' 不存在", led.path,
                                            hint="先发布承诺（目录、政策、历史的哈希），再抽取"))
    prior = led.latest("claim", commitment_id)
    if prior is None:
        tx.append("claim", commitment_id,
                  {"commitment_id": commitment_id, "commitment_seq": commitment.seq,
                   "commitment_hash": commitment.hash}, actor=actor)
        return commitment.body
    tx._rollback()
    with led.transaction() as refusal:
        refusal.append("refused_redraw", commitment_id,
                       {"commitment_id": commitment_id, "claim_seq": prior.seq}, actor=actor)
    raise SpotcheckError(ledger_problem("L402", "该承诺已用于抽取，不能重复抽取", led.path,
                                        where=f"承诺 '{commitment_id}'（已于记录 #{prior.seq} 用于抽取）",
                                        hint="重新抽取须先发布新的承诺；本次尝试已记入台账"))


def _locked_error(path: str, timeout: float) -> SpotcheckError:
    return SpotcheckError(ledger_problem("L403", f"台账被其他程序占用超过 {timeout:g} 秒", path,
                                         hint="等待其他抽取或录入完成后重试"))


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)
