import csv
import datetime as dt
import io

import polars as pl
import pytest
from conftest import RESULTS
from conftest import RESULTS_POLICY as POLICY
from conftest import RESULTS_TODAY as TODAY
from spotcheck.notices import api as notice
from spotcheck.policy.loader import load_policy
from spotcheck.results import publish, reads
from spotcheck.results import records as results
from spotcheck.draw.reader import load_draw
from spotcheck.errors import SpotcheckError
from spotcheck.rules.fields import TIER_NAMES, TIERS
from spotcheck.ledger.store import Ledger


def approve(draw_dir, ledger, *ids):
    return results.approve(draw_dir, ledger_path=ledger, actor="审核员", visit_ids=list(ids) or None, on=TODAY)


def run(draw_dir, ledger, out, on=dt.date(2023, 10, 26)):
    return publish.publish(draw_dir, out, ledger_path=ledger, policy_path=POLICY, actor="公示员", on=on)


def read_csv(path):
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 only with the BOM
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_only_approved_results_are_published(tmp_path, draw_dir, results_ledger, visit_rows):
    v1, v2 = visit_rows[0]["visit_id"], visit_rows[1]["visit_id"]
    approve(draw_dir, results_ledger, v1, v2)
    out = run(draw_dir, results_ledger, tmp_path / "pub")
    assert out.published == (v1, v2)
    rows = read_csv(tmp_path / "pub" / "results-public.csv")
    assert tuple(rows[0]) == publish.PUBLIC_COLUMNS
    # V1 was one visit for two tasks: one row per task.
    assert [(r[0], r[2], r[6]) for r in rows[1:]] == [
        ("1", "001/广告发布行为的双随机抽查", visit_rows[0]["uscc"]),
        ("2", "001/广告发布行为的双随机抽查", visit_rows[1]["uscc"]),
        ("3", "002/产品质量的双随机抽查", visit_rows[0]["uscc"]),
    ]
    assert rows[1][3:5] == ["定向", "样例市东区市场监督管理局"]
    assert rows[1][7:9] == ["2023-09-25", "发现问题待后续处理（未按规定公示应当公示的信息）"]
    assert rows[1][1] == "fixture/results/2023/样例市市场监督管理局2023年度“双随机、一公开”抽查工作计划"
    with Ledger.open(results_ledger) as led:
        states = {t.visit.visit_id: t for t in results.tracks(load_draw(draw_dir), led)}
        mark = led.latest("result_states", load_draw(draw_dir).draw_id)
    assert [states[v["visit_id"]].state for v in visit_rows] == ["公示", "公示", "录入", "录入", "录入"]
    assert (mark.actor, mark.body) == ("公示员", {
        "draw_id": load_draw(draw_dir).draw_id, "on": "2023-10-26", "out": str(tmp_path / "pub"), "state": "公示",
        "results": [[v, states[v].result.seq] for v in (v1, visit_rows[1]["visit_id"])]})


def test_xlsx_holds_the_same_rows(tmp_path, draw_dir, results_ledger):
    approve(draw_dir, results_ledger)
    run(draw_dir, results_ledger, tmp_path / "pub")
    frame = pl.read_excel(tmp_path / "pub" / "results-public.xlsx", engine="calamine", infer_schema_length=0)
    rows = read_csv(tmp_path / "pub" / "results-public.csv")
    assert tuple(frame.columns) == tuple(rows[0])
    assert [[c or "" for c in r] for r in frame.iter_rows()] == rows[1:]


def test_risk_tiers_are_never_published(tmp_path, draw_dir, results_ledger, visit_rows):
    approve(draw_dir, results_ledger)
    run(draw_dir, results_ledger, tmp_path / "pub")
    rows = read_csv(tmp_path / "pub" / "results-public.csv")
    frame = pl.read_excel(tmp_path / "pub" / "results-public.xlsx", engine="calamine", infer_schema_length=0)
    headers = rows[0] + frame.columns
    assert not any("风险" in h or "等级" in h or "tier" in h.casefold() for h in headers)
    cells = [c for r in rows[1:] for c in r] + [c for r in frame.iter_rows() for c in r if c]
    leaked = {"A级", "B级", "C级", "D级", *TIER_NAMES.values()}
    assert not any(c in TIERS or any(word in c for word in leaked) for c in cells)
    for notice in (tmp_path / "pub").glob("results-notice-*.md"):
        text = notice.read_text("utf-8")
        assert not any(word in text for word in leaked)
    # The tier is in the draw_dir folder, so the test above could see it leak.
    assert {v["tier"] for v in visit_rows} == {"A", "B", "C", "D"}


def test_announcement_per_task(tmp_path, draw_dir, results_ledger):
    approve(draw_dir, results_ledger)
    out = run(draw_dir, results_ledger, tmp_path / "pub")
    names = sorted(p.name for p in out.notices)
    assert names == ["results-notice-001.docx", "results-notice-001.md", "results-notice-002.docx", "results-notice-002.md"]
    text = (tmp_path / "pub" / "results-notice-002.md").read_text("utf-8")
    assert "第002号抽查任务检查结果公告" in text and "样例市南湖包装材料有限公司" in text
    assert "样例市北辰电器制造有限公司" not in text  # drawn by task 001 only
    assert text.rstrip().splitlines()[-3:].count("2023年10月26日") == 1  # dated the day of publication
    assert (tmp_path / "pub" / "results-notice-001.docx").read_bytes()[:2] == b"PK"


def test_abnormal_candidates_go_to_the_draw_folder(tmp_path, draw_dir, results_ledger, visit_rows):
    approve(draw_dir, results_ledger)
    out = run(draw_dir, results_ledger, tmp_path / "pub")
    assert out.abnormal == 1
    rows = read_csv(draw_dir / publish.ABNORMAL_FILE)
    assert rows[1][:5] == [visit_rows[2]["uscc"], visit_rows[2]["name"], visit_rows[2]["visit_id"], "2023-09-27", "2023-10-26"]
    assert rows[1][6] == "通过登记的住所（经营场所）无法联系"


def test_nothing_approved_publishes_nothing(tmp_path, draw_dir, results_ledger):
    with Ledger.open(results_ledger) as led:
        before = led.head()
    with pytest.raises(SpotcheckError) as exc:
        run(draw_dir, results_ledger, tmp_path / "pub")
    assert [p.code for p in exc.value.problems] == ["S840"]
    assert not (tmp_path / "pub").exists()
    with Ledger.open(results_ledger) as led:
        assert led.head() == before


def test_a_second_batch_keeps_the_first_and_a_correction_waits_for_approval(tmp_path, draw_dir, results_ledger, visit_rows):
    v1, v2, v4 = (visit_rows[i]["visit_id"] for i in (0, 1, 3))
    approve(draw_dir, results_ledger, v2)
    run(draw_dir, results_ledger, tmp_path / "pub")
    # Correct V2 after publication: the public list keeps the published version until the correction is approved.
    lines = (RESULTS / "results-good.csv").read_text("utf-8").splitlines()
    fixed = [ln.replace(",R01,,,,", ",R03,,,责令改正,") if ln.startswith(v2) else ln for ln in lines]
    (tmp_path / "fixed.csv").write_text("\n".join(fixed) + "\n", "utf-8")
    results.import_results(tmp_path / "fixed.csv", draw_dir, ledger_path=results_ledger, today=TODAY)
    approve(draw_dir, results_ledger, v4)
    out = run(draw_dir, results_ledger, tmp_path / "pub", on=dt.date(2023, 11, 1))
    assert out.published == (v4,)
    rows = read_csv(tmp_path / "pub" / "results-public.csv")
    assert [(r[5], r[8]) for r in rows[1:]] == [("样例市北辰电器制造有限公司", "未发现问题"),
                                                ("样例市南湖包装材料有限公司", "未发现问题")]
    approve(draw_dir, results_ledger, v2)
    run(draw_dir, results_ledger, tmp_path / "pub", on=dt.date(2023, 11, 2))
    rows = read_csv(tmp_path / "pub" / "results-public.csv")
    assert [(r[5], r[8]) for r in rows[1:]] == [("样例市北辰电器制造有限公司", "发现问题已责令改正"),
                                                ("样例市南湖包装材料有限公司", "未发现问题")]
    assert v1 not in {r[6] for r in rows}
    # Nothing but the outputs in the folder and no staging leftovers beside it.
    assert sorted(p.name for p in (tmp_path / "pub").iterdir()) == sorted(
        ["results-public.csv", "results-public.xlsx", "results-notice-001.docx", "results-notice-001.md",
         "results-notice-002.docx", "results-notice-002.md"])
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".pub")] == []


def test_unknown_task_in_visits(tmp_path, draw_dir, results_ledger):
    approve(draw_dir, results_ledger)
    policy = tmp_path / "other.yaml"
    text = POLICY.read_text("utf-8").replace("item_lists: [items/results-2023.yaml]",
                                             f"item_lists: [{RESULTS / 'items' / 'results-2023.yaml'}]")
    policy.write_text(text.replace("  - id: t02", "  - id: t09"), "utf-8")
    with pytest.raises(SpotcheckError) as exc:
        publish.publish(draw_dir, tmp_path / "pub", ledger_path=results_ledger, policy_path=policy, on=TODAY)
    assert [p.code for p in exc.value.problems] == ["S841"]
    assert "t02" in exc.value.problems[0].message


def test_the_public_list_from_columns_is_the_list_of_public_rows(tmp_path, draw_dir, results_ledger, visit_rows):
    approve(draw_dir, results_ledger, visit_rows[1]["visit_id"])
    run(draw_dir, results_ledger, tmp_path / "pub")
    approve(draw_dir, results_ledger)
    with Ledger.open(results_ledger) as led:
        folder = load_draw(draw_dir)
        loaded = results.policy_for(folder, POLICY)
        table = publish.public_table(loaded, folder.visit_frame, reads.shown_frame(folder, led))
        want = publish.public_rows(loaded, [(s.visit, s.version) for s in reads.shown(folder, led)])
    assert len(want) > len(visit_rows)  # a merged visit is a row per task
    assert table.select(f"c{j}" for j in range(len(publish.PUBLIC_COLUMNS))).rows() == [r.cells() for r in want]
    assert table["task_id"].to_list() == [r.task_id for r in want]


@pytest.mark.parametrize("failing", ["files", "records"])
def test_a_failure_in_the_files_or_the_records_publishes_nothing(tmp_path, draw_dir, results_ledger, monkeypatch, failing):
    # The files are written on a thread beside the 公示 records: either failing leaves neither.
    approve(draw_dir, results_ledger)
    with Ledger.open(results_ledger) as led:
        before = led.head()

    def fail(*args, **kwargs):
        raise SpotcheckError(publish.Problem("S899", "测试"))

    monkeypatch.setattr(*((publish, "frame_docx") if failing == "files" else (results, "mark_published")), fail)
    with pytest.raises(SpotcheckError):
        run(draw_dir, results_ledger, tmp_path / "pub")
    assert not (tmp_path / "pub").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".pub")] == []
    with Ledger.open(results_ledger) as led:
        assert led.head() == before


# All five results: each task's rows checked by two bodies (a column of them). The first two, both checked by
# the east district: its body is stated once above each table.
@pytest.mark.parametrize("approved, bodies", [(None, {"001": 2, "002": 2}), (2, {"001": 1, "002": 1})])
def test_each_announcement_is_the_results_notice_of_its_tasks_rows(tmp_path, draw_dir, results_ledger, visit_rows,
                                                                  approved, bodies):
    approve(draw_dir, results_ledger, *(v["visit_id"] for v in visit_rows[:approved or 0]))
    on = dt.date(2023, 10, 26)
    run(draw_dir, results_ledger, tmp_path / "pub", on)
    rows = read_csv(tmp_path / "pub" / "results-public.csv")[1:]
    loaded = load_policy(POLICY)
    for no, task_id in (("001", "t01"), ("002", "t02")):
        mine = [{"task_id": task_id, "inspecting_body": r[4], "name": r[5], "uscc": r[6], "completed": r[7], "result": r[8],
                 "remarks": r[9]} for r in rows if r[2].startswith(f"{no}/")]
        assert len({r["inspecting_body"] for r in mine}) == bodies[no]
        assert (tmp_path / "pub" / f"results-notice-{no}.md").read_text("utf-8") == notice.render_results_notice(
            loaded, mine, "md", published_on=on)
