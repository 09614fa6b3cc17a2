"""A clean file's one-row visits, written as record text over columns, are the records written one by one."""

import csv
import datetime as dt
import random
import shutil

import polars as pl
import pytest
from conftest import RESULTS
from conftest import RESULTS_TODAY as TODAY
from spotcheck.draw.reader import load_draw
from spotcheck.ledger.chain import canonical_json
from spotcheck.ledger.store import Ledger
from spotcheck.results import bodies, file, records

DATES = ["2023-09-25", "2023/9/26", "2023年9月27日", "20231009", "45194", " 2023-10-10 "]
METHODS = ["实地检查", "书面检查、实地检查", "现场检查", "书面检查；检验检测"]
CATEGORIES = ["未发现问题", "R01", "R03、R0201", "发现问题已责令改正", "通过登记的住所（经营场所）无法联系"]
ACTIONS = ["", "责令改正", "责令改正、移送区卫生健康局", "责令改正、责令改正", "移送区卫生健康局"]
# Text json.dumps escapes (quotes, backslashes, tabs, line breaks) and text it leaves alone.
TEXTS = ["", "商品价签不全", '引号"文字', "反斜杠\\n不是换行", "制表\t符", "第一行\r\n第二行", "😀 U+2028\u2028", "A,B"]


def _files(rng, tmp_path, visits, count):
    """Random clean results files, each a random part of the visits in random order, some per item."""
    for n in range(count):
        rows = []
        for visit in rng.sample(visits, rng.randrange(1, len(visits) + 1)):
            items = rng.sample(visit.item_codes, len(visit.item_codes)) if rng.random() < 0.3 else [""]
            for item in items:
                category = rng.choice(CATEGORIES)
                rows.append([visit.visit_id, visit.name, rng.choice(DATES), rng.choice(METHODS), category, item,
                             rng.choice(TEXTS), "" if category in CATEGORIES[:2] else rng.choice(ACTIONS), rng.choice(TEXTS)])
        path = tmp_path / f"r{n}.csv"
        with path.open("w", encoding="utf-8", newline="") as out:
            csv.writer(out).writerows([["检查编号", "市场主体名称", "检查完成日期", "检查方式", "检查结果", "检查事项编码",
                                        "检查情况", "后续处置", "备注"], *rows])
        yield path


@pytest.fixture(scope="module")
def folder():
    return load_draw(RESULTS / "draw")


def test_a_visits_text_is_its_records_canonical_json(tmp_path, folder):
    """Visits given in one row, and visits given item by item (their items, results, methods, actions and
    remarks merged), written by columns as canonical_json writes their Results."""
    rng = random.Random(20261206)
    written = {"alone": 0, "several": 0}
    for path in _files(rng, tmp_path, list(folder.visits.values()), 120):
        read = file.read_file(path, folder, today=TODAY)
        for part, texts, results in (
                ("alone", bodies.alone_records(read.alone, folder.draw_id, "名单.csv", "ab" * 32),
                 file.alone_results(read.alone, folder.draw_id)),
                ("several", bodies.several_records(read.several, folder.draw_id, "名单.csv", "ab" * 32),
                 file.several_results(read.several, folder.draw_id))):
            texts, results = list(texts), list(results)
            assert [(r.rows[0], r.visit_id) for r in results] == [(row, vid) for row, vid, _ in texts]
            for result, (_, _, text) in zip(results, texts, strict=True):
                assert text == canonical_json({**result.content(), "source": {"file": "名单.csv", "sha256": "ab" * 32,
                                                                              "rows": list(result.rows)}})
            written[part] += len(texts)
    assert written["alone"] > 200 and written["several"] > 100


def _records(ledger):
    """(seq, kind, key, body) of every record, but for the hash a correction names (the two ledgers' times differ)."""
    with Ledger.open(ledger) as led:
        return [(r.seq, r.kind, r.key, {**r.body, "replaces": r.body["replaces"]["seq"]} if "replaces" in r.body else r.body)
                for r in led.find()]


def test_imports_by_columns_write_the_records_written_one_by_one(tmp_path, draw_dir, visit_ledger, monkeypatch):
    """First imports, corrections of some visits and files imported again, into two ledgers: by columns, and
    with every visit read as a Result; the records and what each import says are the same."""
    rng = random.Random(6)
    one_by_one = shutil.copyfile(visit_ledger, tmp_path / "one-by-one.db")
    folder = load_draw(draw_dir)
    paths = list(_files(rng, tmp_path, list(folder.visits.values()), 12))
    for path in [*paths, paths[0], paths[3]]:
        by_columns = records.import_results(path, draw_dir, ledger_path=visit_ledger, today=TODAY)
        with monkeypatch.context() as m:
            m.setattr(records, "read_file", lambda path, drawn, **k: file.Read(
                file.read_file(path, drawn, **k).alone.clear(), file.read_results(path, drawn, today=k["today"]), folder.draw_id))
            assert records.import_results(path, draw_dir, ledger_path=one_by_one, today=TODAY) == by_columns
    assert _records(visit_ledger) == _records(one_by_one)
    assert {r[1] for r in _records(visit_ledger)} == {"visit", "result"}


@pytest.mark.parametrize("out", [None, "/公示/结果", '/公示/"引号"\\反斜杠\t制表\n换行'])
def test_a_state_marks_text_is_its_records_canonical_json(monkeypatch, out):
    monkeypatch.setattr(bodies, "STATES_PER_RECORD", 3)  # several records, the last one short
    ids = [*TEXTS, "V-0001", "控制\x01\x1f", "删除\x7f"]
    results = pl.DataFrame({"visit_id": ids, "seq": [2**40 + n for n in range(len(ids))]})
    on = dt.date(2023, 10, 26)
    pairs = [list(row) for row in results.iter_rows()]
    for state in (records.APPROVED, records.PUBLISHED):
        made = {"draw_id": "d-\"1\"", "on": on.isoformat(), "state": state, **({} if out is None else {"out": out})}
        assert list(bodies.state_batches(results, state, on, 'd-"1"', out)) == [
            ('d-"1"', canonical_json({**made, "results": pairs[k:k + 3]})) for k in range(0, len(pairs), 3)]


def test_a_folder_name_that_is_not_utf8_is_refused_as_the_ledger_refuses_it():
    """Not stored with U+FFFD in place of the lone surrogate: as a body written one by one, it cannot be hashed."""
    results = pl.DataFrame({"visit_id": ["V-0001"], "seq": [1]})
    with pytest.raises(UnicodeEncodeError):
        list(bodies.state_batches(results, records.PUBLISHED, dt.date(2023, 10, 26), "d1", "/公示/\udcff"))
