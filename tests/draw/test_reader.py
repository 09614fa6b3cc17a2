import datetime as dt
import json
from pathlib import Path

import pytest
from conftest import QINGDAO, edit
from spotcheck.draw import pipeline
from spotcheck.draw.reader import DRAWS, load_draw, read_folder
from spotcheck.draw.transcript import json_bytes
from spotcheck.errors import SpotcheckError
from spotcheck.ledger.store import Ledger


def test_visits_csv_edited_after_the_ledger_recorded_it(draw_dir, visit_ledger):
    edit(draw_dir / "visits.csv", "t01|t02,B01|C01|A01", "t01|t02,B01|C01")
    with Ledger.open(visit_ledger) as led, pytest.raises(SpotcheckError) as exc:
        load_draw(draw_dir, led)
    assert [p.code for p in exc.value.problems] == ["S832"]
    assert "检查事项" in exc.value.problems[0].message



def _ledger_of(path, records: list[tuple[str, dict]]) -> Path:
    with Ledger.open(path, actor="安排人") as led, led.transaction() as tx:
        for key, body in records:
            tx.append("visit", key, body)
    return path


def _plan_body(row: dict) -> dict:
    """A visits.csv row as the plan records it: lists as lists."""
    return {**row, "task_ids": row["task_ids"].split("|"), "item_codes": row["item_codes"].split("|")}


def test_every_visit_the_ledger_disagrees_with_is_named_in_the_order_first_recorded(draw_dir, visit_rows, tmp_path):
    first, second, third = (_plan_body(r) for r in visit_rows[:3])
    ledger = _ledger_of(tmp_path / "l.db", [
        (third["visit_id"], {**third, "uscc": "91149901MA0000000X"}),
        (first["visit_id"], {**first, "item_codes": list(reversed(first["item_codes"]))}),  # the same set
        (second["visit_id"], {**second, "task_ids": ["t09"], "item_codes": ["Z99"]}),
        (first["visit_id"], {**first, "task_ids": []}),  # the latest of the first visit: this one is compared
    ])
    with Ledger.open(ledger) as led, pytest.raises(SpotcheckError) as exc:
        load_draw(draw_dir, led)
    assert [(p.code, p.where, p.message) for p in exc.value.problems] == [
        ("S832", f"检查 '{third['visit_id']}'", f"visits.csv 中检查 {third['visit_id']} 的统一社会信用代码与台账记录 #1 不一致"),
        ("S832", f"检查 '{first['visit_id']}'", f"visits.csv 中检查 {first['visit_id']} 的抽查任务与台账记录 #4 不一致"),
        ("S832", f"检查 '{second['visit_id']}'", f"visits.csv 中检查 {second['visit_id']} 的抽查任务、检查事项与台账记录 #3 不一致"),
    ]


def test_a_visits_latest_record_decides_and_a_field_it_lacks_is_not_compared(draw_dir, visit_rows, tmp_path):
    first, second = (_plan_body(r) for r in visit_rows[:2])
    partial = {k: v for k, v in second.items() if k not in ("uscc", "task_ids")}
    ledger = _ledger_of(tmp_path / "l.db", [
        (first["visit_id"], {**first, "task_ids": ["t09"]}),
        (first["visit_id"], first),
        (second["visit_id"], partial | {"item_codes": "|".join(second["item_codes"]) + "| "}),
        ("V-not-in-this-folder", {**first, "uscc": "x"}),
    ])
    with Ledger.open(ledger) as led:
        assert load_draw(draw_dir, led).draw_id
    with Ledger.open(ledger) as led, led.transaction() as tx:
        tx.append("visit", second["visit_id"], {**second, "uscc": None})
    with Ledger.open(ledger) as led, pytest.raises(SpotcheckError) as exc:
        load_draw(draw_dir, led)
    assert [(p.code, p.message) for p in exc.value.problems] == [
        ("S832", f"visits.csv 中检查 {second['visit_id']} 的统一社会信用代码与台账记录 #5 不一致")]

def test_draw_folder_without_transcript_or_visits(tmp_path):
    with pytest.raises(SpotcheckError) as exc:
        load_draw(tmp_path)
    assert [(p.code, p.file) for p in exc.value.problems] == [
        ("R510", str(tmp_path / "transcript.json")), ("R510", str(tmp_path / "summary.json")),
        ("R510", str(tmp_path / "visits.csv"))]


def test_a_written_draw_reads_back_to_the_same_bytes(qingdao_dirs, tmp_path):
    folder = tmp_path / "draw"
    pipeline.draw(QINGDAO, qingdao_dirs / "entities.csv", folder, ledger_path=tmp_path / "l.db", seed="read-back",
                  drawn_on=dt.date(2020, 10, 23))
    read = read_folder(folder, needs=(DRAWS,))
    assert json_bytes(read.transcript.to_json()) == (folder / "transcript.json").read_bytes()
    assert json_bytes(read.summary.to_json()) == (folder / "summary.json").read_bytes()
    assert read.draw_id == read.transcript.draw_id and read.seed.key == read.transcript.seed.key
    assert read.drawn.height == sum(t.drawn for t in read.summary.tasks)



def test_a_draws_columns_read_alone_are_its_drawn_lists_columns(qingdao_dirs, tmp_path):
    folder = tmp_path / "draw"
    pipeline.draw(QINGDAO, qingdao_dirs / "entities.csv", folder, ledger_path=tmp_path / "l.db", seed="columns",
                  drawn_on=dt.date(2020, 10, 23))
    whole = read_folder(folder, needs=(DRAWS,)).drawn
    alone = read_folder(folder, needs=(DRAWS,)).drawn_columns("uscc", "round", "task_id")
    assert alone.columns == ["uscc", "round", "task_id"] and alone.equals(whole.select("uscc", "round", "task_id"))
    # The columns not asked for are not read at all: a hash no notice prints costs nothing.
    text = (folder / DRAWS).read_text("utf-8").splitlines()
    (folder / DRAWS).write_text("\n".join([text[0], *(",".join([*r.split(",")[:8], "x", ""]) for r in text[1:])]) + "\n", "utf-8")
    assert read_folder(folder, needs=(DRAWS,)).drawn_columns("uscc", "round", "task_id").equals(alone)
    with pytest.raises(SpotcheckError):
        read_folder(folder, needs=(DRAWS,)).drawn  # noqa: B018

def test_a_transcript_not_in_the_draws_shape_is_refused_with_the_path(draw_dir):
    transcript = json.loads((draw_dir / "transcript.json").read_text("utf-8"))
    transcript["entities"]["rows"] = "many"
    del transcript["seed"]["value"]
    (draw_dir / "transcript.json").write_text(json.dumps(transcript), "utf-8")
    with pytest.raises(SpotcheckError) as exc:
        read_folder(draw_dir)
    assert sorted((p.code, p.where) for p in exc.value.problems) == [("R511", "entities → rows"), ("R511", "seed → value")]


def test_a_visit_listed_twice_in_visits_csv_is_refused_with_its_row(draw_dir):
    lines = (draw_dir / "visits.csv").read_text("utf-8").splitlines()
    (draw_dir / "visits.csv").write_text("\n".join([*lines, lines[1]]) + "\n", "utf-8")
    with pytest.raises(SpotcheckError) as exc:
        load_draw(draw_dir)
    assert [(p.code, p.row) for p in exc.value.problems] == [("R511", len(lines) + 1)]


def test_each_empty_or_repeated_visit_id_is_refused_in_row_order(draw_dir):
    lines = (draw_dir / "visits.csv").read_text("utf-8").splitlines()
    vid, blank = lines[1].split(",", 1)[0], "," + lines[2].split(",", 1)[1]
    (draw_dir / "visits.csv").write_text("\n".join([*lines, blank, lines[1], blank, lines[1]]) + "\n", "utf-8")
    with pytest.raises(SpotcheckError) as exc:
        load_draw(draw_dir)
    n = len(lines)
    assert [(p.code, p.row, p.column, p.message) for p in exc.value.problems] == [
        ("R511", n + 1, "visit_id", "visits.csv 中检查编号为空"), ("R511", n + 2, "visit_id", f"visits.csv 中检查编号 {vid} 重复"),
        ("R511", n + 3, "visit_id", "visits.csv 中检查编号为空"), ("R511", n + 4, "visit_id", f"visits.csv 中检查编号 {vid} 重复")]


@pytest.mark.parametrize("tamper", [
    lambda t, s: t["policy"].update(id="../../../../etc/passwd"),
    lambda t, s: t["policy"].update(id="fixture/results/[0-9]*"),
    lambda t, s: s["tasks"][0].update(task_id="../t01"),
    lambda t, s: s.update(draw_id="../../x"),
    lambda t, s: s.update(policy="/etc/passwd"),
])
def test_a_tampered_id_never_reaches_a_path(draw_dir, tamper):
    transcript = json.loads((draw_dir / "transcript.json").read_text("utf-8"))
    summary = json.loads((draw_dir / "summary.json").read_text("utf-8"))
    tamper(transcript, summary)
    (draw_dir / "transcript.json").write_text(json.dumps(transcript, ensure_ascii=False), "utf-8")
    (draw_dir / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), "utf-8")
    with pytest.raises(SpotcheckError) as exc:
        read_folder(draw_dir)
    (problem,) = exc.value.problems
    assert problem.code == "R511" and "标识" in problem.message + (problem.hint or "")
