"""A results file checked by columns gives what the row-by-row reading gives: the same results for a clean file;
for a file with a problem, no results by columns and the same problems, by row and column."""

import csv
import random

import pytest
from conftest import RESULTS
from conftest import RESULTS_TODAY as TODAY
from spotcheck.draw.reader import load_draw
from spotcheck.errors import SpotcheckError
from spotcheck.results import columns, file, tables

DATES = ["2023-09-25", "2023/9/26", "2023年9月27日", "20231009", "45194", " 2023-10-10 ", "2023.10.31"]
BAD_DATES = ["2023-02-30", "下周", "2023-08-31", "2023-11-02"]
METHODS = ["实地检查", "实地检查、书面检查", "现场检查", "书面检查；检验检测", "网络监测、实地检查"]
CATEGORIES = ["未发现问题", "R01", "R0201", "发现问题已责令改正", "R03、R0201", "通过登记的住所（经营场所）无法联系", "R04"]
ACTIONS = ["责令改正", "列入经营异常名录", "移送区卫生健康局", "责令改正、移送区卫生健康局"]
TEXTS = ["商品价签不全", " 已当场整改 ", "A,B", '引号"文字', "第一行\n第二行"]
OPTIONAL = ["市场主体名称", "统一社会信用代码", "检查事项编码", "检查情况", "后续处置", "备注", "抽查任务编号"]


@pytest.fixture(scope="module")
def folder():
    return load_draw(RESULTS / "draw")


def _row(rng, visit, item=""):
    problem_found = rng.random() < 0.4
    return {"检查编号": visit.visit_id, "市场主体名称": visit.name, "统一社会信用代码": visit.uscc,
            "检查完成日期": rng.choice(DATES), "检查方式": rng.choice(METHODS),
            "检查结果": rng.choice(CATEGORIES[2:6] if problem_found else CATEGORIES[:2] + CATEGORIES[6:]),
            "检查事项编码": item, "检查情况": rng.choice(TEXTS) if rng.random() < 0.5 else "",
            "后续处置": rng.choice(ACTIONS) if problem_found and rng.random() < 0.7 else "",
            "备注": rng.choice(TEXTS) if rng.random() < 0.3 else "", "抽查任务编号": visit.task_ids[0]}


def _flaw(rng, rows, visits):
    """One thing an officer gets wrong (or writes differently but right), in a random row."""
    r = rng.choice(rows)
    other = rng.choice(visits)
    flaw = rng.randrange(18)
    if flaw == 0:
        r["检查编号"] = "V-nope"
    elif flaw == 1:
        r["检查编号"] = ""  # found by task and credit code instead
    elif flaw == 2:
        r["统一社会信用代码"] = other.uscc
    elif flaw == 3:
        r["统一社会信用代码"] = r["统一社会信用代码"].lower()
    elif flaw == 4:
        r["市场主体名称"] = rng.choice(["别的公司", r["市场主体名称"][:2] + " " + r["市场主体名称"][2:],
                                    r["市场主体名称"].replace("有限", "ｙ有限")])
    elif flaw == 5:
        r["检查完成日期"] = rng.choice(BAD_DATES + [""])
    elif flaw == 6:
        r["检查方式"] = rng.choice(["看了看", "", "实地检查、打电话"])
    elif flaw == 7:
        r["检查结果"] = rng.choice(["R01、R03", "瞎写", "", "未发现问题；R0201"])
    elif flaw == 8:
        r["检查结果"], r["后续处置"] = "R01", rng.choice(ACTIONS)
    elif flaw == 9:
        r["后续处置"] = "批评一下"
    elif flaw == 10:
        r["检查事项编码"] = rng.choice(["D01", *other.item_codes])
    elif flaw == 11:
        rows.append(dict(r))  # the same row twice
    elif flaw == 12:
        rows.append({**r, "检查结果": "R03"})  # twice, differently
    elif flaw == 13 and r["检查事项编码"]:
        rows.remove(r)  # an item left out
    elif flaw == 14:
        rows.append({**r, "检查事项编码": "" if r["检查事项编码"] else rng.choice(other.item_codes)})
    elif flaw == 15:
        r["检查完成日期"] = rng.choice(["2023-08-31", "2023-11-02"])  # the day before the draw, after today
    elif flaw == 16:
        r["检查事项编码"] = "D01" if r["检查事项编码"] else ""  # an item of no visit in a per-item visit
    else:
        r["检查完成日期"] = rng.choice(["2023-09-01", "2023-11-01"])  # the day of the draw, today: allowed


def _file(rng, tmp_path, visits, n):
    header = ["检查编号", "检查完成日期", "检查方式", "检查结果",
              *rng.sample(OPTIONAL, rng.randrange(len(OPTIONAL) + 1))]
    rng.shuffle(header)
    rows = []
    for visit in rng.sample(visits, rng.randrange(1, len(visits) + 1)):
        if rng.random() < 0.3:
            rows += [_row(rng, visit, item) for item in rng.sample(visit.item_codes, len(visit.item_codes))]
        else:
            rows.append(_row(rng, visit))
    for _ in range(rng.choice([0, 0, 1, 2])):
        _flaw(rng, rows, visits)
    lines = [header] + [[r[h] for h in header] for r in rows]
    for _ in range(rng.choice([0, 0, 1])):
        lines.insert(rng.randrange(1, len(lines) + 1), [" "] * len(header))  # a row of white space is skipped
    path = tmp_path / f"r{n}.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(lines)
    return path, all(r["检查编号"] for r in rows)


def _read(path, folder):
    try:
        return "results", file.read_results(path, folder, today=TODAY)
    except SpotcheckError as exc:
        return "problems", [(p.code, p.message, p.row, p.column, p.where, p.hint) for p in exc.problems]


def test_by_columns_or_row_by_row_a_file_reads_the_same(tmp_path, folder, monkeypatch):
    visits = list(folder.visits.values())
    rng = random.Random(20231101)
    clean = []
    spied = columns.clean_rows

    def spy(*args, **kwargs):
        found = spied(*args, **kwargs)
        clean.append(found is not None)
        return found

    outcomes = {"results": 0, "problems": 0}
    plain = 0
    for n in range(300):
        path, named = _file(rng, tmp_path, visits, n)
        with monkeypatch.context() as m:
            m.setattr(file, "clean_rows", spy)
            by_columns = _read(path, folder)
        with monkeypatch.context() as m:
            # Read from cells in Python lists, as a file with a quote is.
            m.setattr(file, "plain_rows", lambda path: None)
            from_lists = _read(path, folder)
        with monkeypatch.context() as m:
            m.setattr(file, "clean_rows", lambda *args, **kwargs: None)
            row_by_row = _read(path, folder)
        assert by_columns == from_lists == row_by_row, path.read_text("utf-8")
        outcomes[row_by_row[0]] += 1
        plain += tables.plain_rows(path) is not None
        if row_by_row[0] == "results":
            # A file with no problem and every visit named by its id is never left to the row-by-row reading.
            assert (True in clean) == named
        clean.clear()
    # Both kinds of file were read, many of each, and many files were plain text (no quote).
    assert min(outcomes.values()) > 60, outcomes
    assert plain > 60


def test_a_problem_in_one_column_sends_the_file_to_be_read_row_by_row(tmp_path, folder):
    v = list(folder.visits.values())[1]
    header = "检查编号,检查完成日期,检查方式,检查结果,后续处置"
    good, bad = f"{v.visit_id},2023-09-26,实地检查,R03,责令改正", f"{v.visit_id},2023-09-26,实地检查,R01,责令改正"
    values = {"visit_id": [v.visit_id], "completed_on": ["2023-09-26"], "methods": ["实地检查"]}
    for line, readable in ((good, True), (bad, False)):
        cells = dict(zip(header.split(","), line.split(",")))
        found = columns.clean_rows({**values, "categories": [cells["检查结果"]], "actions": [cells["后续处置"]]}, [2],
                                   folder.visit_frame, drawn_on=folder.drawn_on, today=TODAY, date=columns.parse_date)
        assert (found is not None) == readable
