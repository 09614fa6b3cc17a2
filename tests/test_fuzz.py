"""A seeded corpus of broken inputs, for every kind of file an officer hands spotcheck: policies,
directories, results files and ledgers. Each must give SpotcheckError with located Chinese problems (or
be accepted), never a traceback, and leave nothing written. Seeds are fixed, so a failure reproduces;
the corpus is small enough to run in CI on every change."""

from __future__ import annotations

import random
import re
import sqlite3
import tempfile
from pathlib import Path

import pytest
from conftest import RESULTS, RESULTS_TODAY
from spotcheck.directory.load import load_entities
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.ledger.store import Ledger
from spotcheck.policy.loader import load_policy
from spotcheck.results import records as results

CJK = re.compile(r"[\u4e00-\u9fff]")
# Three English words in a row: a library's message reached the officer untranslated.
ENGLISH = re.compile(r"[A-Za-z]{2,}[ _'`][a-z]{2,}[ _'`][a-z]{2,}")
HOSTILE = ['"NaN"', '"sNaN"', '"1e999999999"', '"\\ud800"', '"\\x01"', "99999999999999999999", "-1", "0",
           '"9999-12-31"', '"０%"', "null", "[]", "{}", "&a [*a]", "[" * 80, '"0%"', '" 5% "', '"1_000"', "''",
           "yes", "2023-13-45", '"=HYPERLINK(1)"', "!!python/object:os.system", "*undefined", "\t", '"\\uffff"']
SCALAR = re.compile(r"(?<=: )[^\s{}\[\],#][^,}\]\n#]*")


def snapshot(folder: Path) -> set[tuple[str, int]]:
    return {(str(p.relative_to(folder)), p.stat().st_size) for p in folder.rglob("*") if p.is_file()}


def check_refusal(problems: list[Problem], *, lines: bool) -> None:
    assert problems
    for p in problems:
        assert re.fullmatch(r"[A-Z][0-9]{3}", p.code), p
        assert CJK.search(p.message) and not ENGLISH.search(p.message), p
        if lines and p.code not in ("P105", "P191"):
            assert p.file and (p.line is not None or p.code in ("P100",)), p


def mutate_text(rng: random.Random, text: str) -> str:
    lines = text.split("\n")
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(lines))
        move = rng.randrange(6)
        if move == 0:
            del lines[i]
        elif move == 1:
            lines.insert(i, lines[rng.randrange(len(lines))])
        elif move == 2 and (spots := list(SCALAR.finditer(lines[i]))):
            m = rng.choice(spots)
            lines[i] = lines[i][:m.start()] + rng.choice(HOSTILE) + lines[i][m.end():]
        elif move == 3:
            lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)]
        elif move == 4:
            lines[i] = " " * rng.randint(0, 5) + lines[i]
        else:
            lines[i] += rng.choice(["\x00", "\ufeff", ":", " #", " &x", " *x", "\u3000"])
    return "\n".join(lines)


@pytest.mark.parametrize("seed", range(6))
def test_broken_policies_give_located_problems(policy_tree, seed):
    rng = random.Random(seed)
    path = policy_tree / "city" / "2023.yaml"
    original = path.read_text("utf-8")
    before = snapshot(Path.cwd())
    for _ in range(25):
        path.write_text(mutate_text(rng, original), "utf-8")
        try:
            load_policy(path)
        except SpotcheckError as exc:
            check_refusal(exc.problems, lines=True)
    path.write_text(original, "utf-8")
    assert snapshot(Path.cwd()) == before


DIRECTORY = ("统一社会信用代码,企业名称,主体类型,登记状态,所属辖区,信用风险等级,监管标签,成立日期\n"
             "91350102MA2XYZ0001,福州甲商贸有限公司,企业,存续,鼓楼区,A,加油站,2023-01-05\n"
             "92350102MA2XYZ0002,鼓楼区乙便利店,个体工商户,在营,鼓楼区,B,,2023/1/5\n")
CELLS = ["", "\x00", "\x1b[31m", "\ufffe", "=1+1", "9" * 40, '"', '"a,b', "\r", "第一行\n第二行", "，", "null"]


def mutate_rows(rng: random.Random, text: str) -> bytes:
    rows = [line.split(",") for line in text.strip("\n").split("\n")]
    for _ in range(rng.randint(1, 3)):
        row = rng.choice(rows)
        move = rng.randrange(5)
        if move == 0 and len(row) > 1:
            del row[rng.randrange(len(row))]
        elif move == 1:
            row.insert(rng.randrange(len(row) + 1), rng.choice(CELLS))
        elif move == 2:
            row[rng.randrange(len(row))] = rng.choice(CELLS)
        elif move == 3:
            rows.insert(0, ["某某市市场主体名录（2023年）"])
        else:
            rows.append(list(row))
    data = "\n".join(",".join(r) for r in rows).encode("utf-8")
    cut = rng.randrange(4)
    if cut == 0:
        data = data[: rng.randrange(len(data))]
    elif cut == 1:
        data = rng.randbytes(rng.randint(0, 60)) + data
    elif cut == 2:
        data = data.decode("utf-8").encode("gb18030", "replace")
    return data


@pytest.mark.parametrize("seed", range(4))
def test_broken_directories_give_problems_with_rows(tmp_path, monkeypatch, seed):
    rng = random.Random(seed)
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    work = tmp_path / "work"
    work.mkdir()
    for k in range(30):
        path = work / f"e{k}.{rng.choice(['csv', 'csv', 'xlsx'])}"
        path.write_bytes(mutate_rows(rng, DIRECTORY))
        before = snapshot(work)
        try:
            load_entities(path)
        except SpotcheckError as exc:
            check_refusal(exc.problems, lines=False)
            assert all(p.file for p in exc.problems)
        assert snapshot(work) == before and list(temp.iterdir()) == []


@pytest.mark.parametrize("seed", range(3))
def test_broken_results_files_are_refused_whole(tmp_path, draw_dir, visit_ledger, seed):
    rng = random.Random(seed)
    good = (RESULTS / "results-good.csv").read_text("utf-8")
    with Ledger.open(visit_ledger) as led:
        head = led.head()
    for k in range(12):
        path = tmp_path / f"r{k}.{rng.choice(['csv', 'csv', 'xlsx'])}"
        path.write_bytes(mutate_rows(rng, good))
        try:
            results.import_results(path, draw_dir, ledger_path=visit_ledger, today=RESULTS_TODAY)
        except SpotcheckError as exc:
            check_refusal(exc.problems, lines=False)
            with Ledger.open(visit_ledger) as led:
                assert led.head() == head and led.verify().ok
        else:
            with Ledger.open(visit_ledger) as led:
                head = led.head()


def fill_ledger(path: Path, n: int) -> None:
    with Ledger.open(path, actor="tester") as led, led.transaction() as tx:
        for i in range(n):
            tx.append("visit", f"k{i}", {"i": i, "名称": f"企业{i}"})


TAMPER = [
    "UPDATE records SET {col} = {value} WHERE seq = {seq}",
    "DELETE FROM records WHERE seq = {seq}",
    "UPDATE meta SET value = {value} WHERE name = 'head'",
    "UPDATE history SET {hcol} = {value}",
    "DROP TABLE {table}",
]
VALUES = ["NULL", "''", "X'ff00fe'", "CAST('{}' AS BLOB)", "42", "-1", "'9:zz'", "'\u0000'", "9223372036854775807"]


@pytest.mark.parametrize("seed", range(3))
def test_tampered_ledgers_are_named_never_a_traceback(tmp_path, seed):
    rng = random.Random(seed)
    for k in range(15):
        path = tmp_path / f"l{k}.db"
        fill_ledger(path, 6)
        sql = rng.choice(TAMPER).format(
            col=rng.choice(["kind", "key", "at", "actor", "body", "prev_hash", "hash", "seq"]),
            hcol=rng.choice(["uscc", "year", "item_codes"]), value=rng.choice(VALUES), seq=rng.randint(1, 6),
            table=rng.choice(["records", "meta", "history"]))
        db = sqlite3.connect(path, isolation_level=None)
        try:
            db.execute(sql)
        except sqlite3.Error:
            continue  # a constraint kept this edit out
        finally:
            db.close()
        try:
            with Ledger.open(path) as led:
                report = led.verify()
                found = report.problems
                led.find()
        except SpotcheckError as exc:
            found = exc.problems
        if found:
            check_refusal(found, lines=False)
