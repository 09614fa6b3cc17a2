"""The announcements that list entities: the task notice of a draw folder and the results notice of a task."""

import csv
import datetime as dt
import json
import re
import shutil

import lxml.html
import pytest
from click.testing import CliRunner
from conftest import NOTICE_DRAW as DRAW
from conftest import open_docx
from spotcheck.notices import api as notice
from spotcheck.notices import content as notice_content
from spotcheck.notices.announcements import task_span
from spotcheck.cli import main
from spotcheck.errors import SpotcheckError
from spotcheck.policy.loader import load_policy
from spotcheck.resources import POLICIES

# ---------------------------------------------------------------- task notice from a draw folder


@pytest.fixture(scope="module")
def task_md(demo_policy) -> str:
    return notice.render(demo_policy, kind="task", fmt="md", draw_dir=DRAW)


def drawn_rows() -> list[dict]:
    with (DRAW / "draws.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_task_notice_lists_drawn_entities_per_district_matching_the_summary(task_md):
    summary = json.loads((DRAW / "summary.json").read_text("utf-8"))
    announcement = task_md
    for n, task in enumerate(summary["tasks"], 1):
        part = announcement.split(f"### {notice_content.cn_number(n)}、", 1)[1].split("\n### ", 1)[0]
        assert f"抽取数量 | {task['drawn']}户" in part and f"符合条件的市场主体 | {task['eligible']}户" in part
        for district, count in task["by_district"].items():
            listed = part.split(f"{district}（{count}户）", 1)[1].split("\n\n", 2)[1]
            assert sum(1 for line in listed.splitlines() if re.match(r"^\| \d+ \|", line)) == count
        for row in (r for r in drawn_rows() if r["task_id"] == task["task_id"]):
            assert f"| {row['name']} | {row['uscc']} |" in part
    assert "| A级（低风险） | 40 | 1 |" in announcement and "| 东区 | 20 | 1 |" in announcement
    assert "第2轮（8月）" in announcement  # a twice-a-year task shows its rounds


@pytest.fixture(scope="module")
def letters_md(demo_policy) -> str:
    return notice.render(demo_policy, kind="letter", fmt="md", draw_dir=DRAW)


def visit_rows() -> list[dict]:
    with (DRAW / "visits.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_the_announcement_holds_no_letters(task_md):
    assert "随机抽查通知书" not in task_md and "你单位" not in task_md


def test_one_letter_per_visit_with_every_item_of_its_tasks(letters_md):
    letters = letters_md.split("# 随机抽查通知书")[1:]
    assert len(letters) == len(visit_rows()) == 7
    both = next(n for n in letters if "示范东区甲贸易有限公司" in n)
    assert "抽查任务编号：第001号、第002号　检查编号：V01" in both
    assert "登记事项检查（经营场所检查，注册资本实缴情况检查）" in both and "A&B <产品> 质量检查" in both
    assert "根据《市场主体登记管理条例》、《企业信息公示暂行条例》等规定" in both
    # Items checked in different ways: each item names its own method, none is said for them all.
    assert "登记事项检查（经营场所检查，注册资本实缴情况检查）（检查方式：实地检查）" in both
    assert "公示信息检查（检查方式：书面检查、网络监测）" in both and "质量检查（检查方式：检验检测）" in both
    assert "检查方式为" not in both
    assert "示范市东区市场监督管理局将于2023年11月13日至12月31日期间对你单位进行检查" in both
    assert "统一社会信用代码：`91990102MA5H8UNDXA`" in both  # a line of its own


def test_a_letter_lists_the_items_of_its_visit_not_every_item_of_its_tasks(demo_policy, tmp_path):
    # The plan keeps on a visit only the items that apply to its entity (e.g. 注册资本实缴 only for 实缴制
    # companies); the letter must say exactly those.
    planned = tmp_path / "draw"
    shutil.copytree(DRAW, planned)
    visits = planned / "visits.csv"
    visits.write_text(visits.read_text("utf-8").replace(",t01|t02,D01|D02|D03,", ",t01|t02,D01|D03,"), "utf-8")
    letters = notice.render(demo_policy, kind="letter", fmt="md", draw_dir=planned).split("# 随机抽查通知书")[1:]
    both = next(n for n in letters if "示范东区甲贸易有限公司" in n)
    assert "登记事项检查" in both and "A&B <产品> 质量检查" in both and "公示信息检查" not in both


def test_letters_are_signed_by_the_inspecting_unit_with_its_contact_and_team(letters_md):
    letters = letters_md.split("# 随机抽查通知书")[1:]
    east = next(n for n in letters if "示范东区乙食品店" in n)
    assert "检查人员：张伟（执法证号 E-990102-0001）、李娜（执法证号 E-990102-0002）（检查时出示执法证件）" in east
    assert "联系人：赵六　联系电话：0000-7654321\n\n电子邮箱：dongqu.jianguan@example.cn" in east
    assert "示范市东区市场监督管理局\n\n2023年11月13日" in east
    west = next(n for n in letters if "示范西区丙科技有限公司" in n)
    # The west bureau declared no contact: its team's lead, never the city's plan contact.
    assert "联系人：王芳（主查）" in west and "张三" not in west and "0000-1234567" not in west
    assert "示范市西区市场监督管理局\n\n2023年11月13日" in west
    unstaffed = next(n for n in letters if "示范西区庚餐饮店" in n)
    assert "检查人员：另行通知" in unstaffed


def test_letters_need_the_plan(demo_policy, tmp_path):
    bare = tmp_path / "draw"
    shutil.copytree(DRAW, bare)
    (bare / "visits.csv").unlink()
    with pytest.raises(SpotcheckError) as err:
        notice.render(demo_policy, kind="letter", fmt="md", draw_dir=bare)
    assert err.value.problems[0].code == "N815" and "spotcheck plan" in err.value.problems[0].hint


def test_drill_draws_are_marked_on_every_notice(task_md, letters_md, demo_policy, tmp_path):
    letters = letters_md.split("# 随机抽查通知书")[1:]
    assert all(n.startswith("（演练）") for n in letters)
    assert letters_md.count("【演练】本文件由演练抽取生成") == len(letters)
    assert "抽查任务公告（演练）" in task_md and task_md.count("【演练】本文件由演练抽取生成") == 1
    real = tmp_path / "draw"
    shutil.copytree(DRAW, real)
    transcript = json.loads((real / "transcript.json").read_text("utf-8"))
    (real / "transcript.json").write_text(json.dumps({**transcript, "drill": False}), "utf-8")
    official = notice.render(demo_policy, kind="task", fmt="md", draw_dir=real)
    assert "演练" not in official
    assert "演练" not in notice.render(demo_policy, kind="letter", fmt="md", draw_dir=real)


def test_draw_list_that_disagrees_with_the_summary_is_refused(demo_policy, tmp_path):
    broken = tmp_path / "draw"
    shutil.copytree(DRAW, broken)
    lines = (broken / "draws.csv").read_text("utf-8").splitlines()
    (broken / "draws.csv").write_text("\n".join(lines[:-1]) + "\n", "utf-8")
    with pytest.raises(SpotcheckError) as err:
        notice.render(demo_policy, kind="task", fmt="md", draw_dir=broken)
    assert err.value.problems[0].code == "R512" and "t02" in err.value.problems[0].message


def test_draw_folder_problems_are_all_reported(demo_policy, tmp_path):
    with pytest.raises(SpotcheckError) as err:
        notice.render(demo_policy, kind="task", fmt="md", draw_dir=tmp_path)
    assert sorted(p.code for p in err.value.problems) == ["R510", "R510", "R510"]
    with pytest.raises(SpotcheckError) as err:
        notice.render(demo_policy, kind="task", fmt="md")
    assert err.value.problems[0].code == "N804"


@pytest.mark.parametrize("kind", ["task", "letter"])
def test_draw_of_another_policy_is_refused(tmp_path, kind):
    other = load_policy(POLICIES / "shanxi/shuozhou/2021.yaml")
    with pytest.raises(SpotcheckError) as err:
        notice.render(other, kind=kind, fmt="md", draw_dir=DRAW)
    assert [p.code for p in err.value.problems] == ["N814"]
    with pytest.raises(SpotcheckError) as err:
        notice.write_letters(POLICIES / "shanxi/shuozhou/2021.yaml", DRAW, tmp_path / "letters", fmt="md")
    assert [p.code for p in err.value.problems] == ["N814"] and not (tmp_path / "letters").exists()


def test_task_notice_from_a_real_draw(tmp_path):
    """The draw stage's own folder: counts per district in the notice equal its summary.json."""
    policy = POLICIES / "hebei/qinhuangdao/2023.yaml"
    runner = CliRunner()
    done = runner.invoke(main, ["synth", str(policy), "--entities", "1500", "--seed", "notice", "--out", str(tmp_path / "dir")])
    assert done.exit_code == 0, done.output
    done = runner.invoke(main, ["draw", str(policy), "--entities", str(tmp_path / "dir" / "entities.csv"), "--seed", "n1",
                                "--date", "2023-11-13", "--out", str(tmp_path / "draw"), "--ledger", str(tmp_path / "l.db")])
    assert done.exit_code == 0, done.output
    md = notice.render(load_policy(policy), kind="task", fmt="md", draw_dir=tmp_path / "draw")
    summary = json.loads((tmp_path / "draw" / "summary.json").read_text("utf-8"))
    for task in summary["tasks"]:
        for district, count in task["by_district"].items():
            assert f"{district}（{count}户）" in md
    assert "随机抽查通知书" not in md


# ---------------------------------------------------------------- results notice


RESULT_ROWS = [
    {"task_id": "t01", "name": "示范东区甲贸易有限公司", "uscc": "91990102MA5H8UNDXA", "completed": "2023-12-01",
     "result": "未发现问题", "tier": "D"},
    {"task_id": "t01", "name": "示范东区丁A&B工作室", "uscc": "91990102MA9HU4Q090", "completed": dt.date(2023, 12, 8),
     "result": "发现问题已责令改正", "remarks": "已整改", "inspecting_body": "示范市东区市场监督管理局"},
]


def tables(content: str | bytes, fmt: str) -> list[list[list[str]]]:
    """Every table of a rendered notice as rows of cell texts, header first."""
    if fmt == "docx":
        return [[[c.text for c in r.cells] for r in t.rows] for t in open_docx(content).tables]
    if fmt == "html":
        return [[[c.text_content() for c in r.iter("th", "td")] for r in t.iter("tr")]
                for t in lxml.html.fromstring(content).iter("table")]
    blocks = re.findall(r"(?:^\|.*\|\n)+", content, flags=re.M)
    return [[[c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]]
             for line in block.splitlines() if not line.startswith("| ---")] for block in blocks]


def text_of(content: str | bytes, fmt: str) -> str:
    if fmt == "docx":
        doc = open_docx(content)
        return "\n".join([p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells])
    return lxml.html.fromstring(content).text_content() if fmt == "html" else content


PLAN = ("示市监〔2023〕7号", "示范市市场监督管理局关于印发2023年度双随机抽查工作计划的通知")
FACTS = [["项目", "内容"], ["抽查计划编号", PLAN[0]], ["抽查计划名称", PLAN[1]], ["抽查任务编号", "001"],
         ["抽查任务名称", "企业登记事项抽查"], ["抽查类型", "定向"]]


@pytest.mark.parametrize("fmt", ["md", "html", "docx"])
def test_results_notice_states_the_tasks_facts_once_and_lists_each_entity(demo_policy, fmt):
    one_body = [{**r, "inspecting_body": None} for r in RESULT_ROWS]
    content = notice.render_results_notice(demo_policy, one_body, fmt, published_on=dt.date(2023, 12, 20))
    assert tables(content, fmt) == [
        [*FACTS, ["检查机关", "市、区两级市场监管部门"]],
        [["序号", "市场主体名称", "统一社会信用代码", "检查完成日期", "检查结果", "备注"],
         ["1", "示范东区甲贸易有限公司", "91990102MA5H8UNDXA", "2023年12月1日", "未发现问题", ""],
         ["2", "示范东区丁A&B工作室", "91990102MA9HU4Q090", "2023年12月8日", "发现问题已责令改正", "已整改"]],
    ]
    text = text_of(content, fmt)
    # Once in the whole announcement: the plan's number, the task's type, the inspecting body.
    assert [text.count(t) for t in (PLAN[0], "定向", "市、区两级市场监管部门")] == [1, 1, 1]
    assert "示范市市场监督管理局2023年度第001号抽查任务检查结果公告" in text
    # Dated the day it is published, not by its last completed check (2023-12-08).
    assert "2023年12月20日" in text


@pytest.mark.parametrize("fmt", ["md", "html", "docx"])
def test_results_notice_has_a_column_of_inspecting_bodies_when_they_differ(demo_policy, fmt):
    content = notice.render_results_notice(demo_policy, RESULT_ROWS, fmt, published_on=dt.date(2023, 12, 20))
    assert tables(content, fmt) == [
        FACTS,
        [["序号", "检查机关", "市场主体名称", "统一社会信用代码", "检查完成日期", "检查结果", "备注"],
         ["1", "市、区两级市场监管部门", "示范东区甲贸易有限公司", "91990102MA5H8UNDXA", "2023年12月1日", "未发现问题", ""],
         ["2", "示范市东区市场监督管理局", "示范东区丁A&B工作室", "91990102MA9HU4Q090", "2023年12月8日", "发现问题已责令改正",
          "已整改"]],
    ]


def test_results_notice_never_shows_a_risk_tier(demo_policy):
    for fmt in ("md", "html"):
        text = notice.render_results_notice(demo_policy, RESULT_ROWS, fmt)
        assert "风险" not in text and "D级" not in text and "信用等级" not in text


def test_results_notice_is_one_task(demo_policy):
    with pytest.raises(SpotcheckError) as err:
        notice.render_results_notice(demo_policy, [*RESULT_ROWS, {**RESULT_ROWS[0], "task_id": "t02"}], "md")
    assert err.value.problems[0].code == "N820" and "t01、t02" in err.value.problems[0].hint
    with pytest.raises(SpotcheckError):
        notice.render_results_notice(demo_policy, [], "md")


def test_a_task_in_batches_spans_its_batches():
    loaded = load_policy(POLICIES / "anhui/wuwei/2023.yaml")
    assert task_span(loaded.policy, [loaded.task("grain-storage")]) == "2023年7月至10月"  # never an empty 期间


# ---------------------------------------------------------------- unlisted tasks, and the announcement per unit


def test_a_task_whose_list_is_not_published_is_announced_without_it(unlisted_site):
    """The announcement is the public one (主动公开): as on the public site, t02's counts and no list."""
    from conftest import SITE_POLICY
    from spotcheck.notices.announcements import UNLISTED

    policy = load_policy(unlisted_site / "policies" / SITE_POLICY.relative_to(SITE_POLICY.parents[2]))
    md = notice.render(policy, kind="task", fmt="md", draw_dir=unlisted_site / "draw")
    with (unlisted_site / "draw" / "draws.csv").open(encoding="utf-8") as f:
        drawn = list(csv.DictReader(f))
    hidden = {r["uscc"] for r in drawn if r["task_id"] == "t02"} - {r["uscc"] for r in drawn if r["task_id"] != "t02"}
    assert hidden and not any(u in md for u in hidden)
    assert md.count(UNLISTED) == 1
    listed = {r["uscc"] for r in drawn if r["task_id"] != "t02"}
    assert all(u in md for u in listed)


def test_the_announcement_per_unit_lists_each_drawn_entity_once_in_its_units_file(unlisted_site, tmp_path):
    import polars as pl
    from conftest import SITE_POLICY

    path = unlisted_site / "policies" / SITE_POLICY.relative_to(SITE_POLICY.parents[2])
    policy = load_policy(path).policy
    district_unit = {d.name: d.unit for d in policy.jurisdiction.districts}
    out = tmp_path / "by-unit"
    done = CliRunner().invoke(main, ["notice", str(path), "--kind", "task", "--draw", str(unlisted_site / "draw"), "--format", "md",
                                     "--per-unit", "--out", str(out)])
    assert done.exit_code == 0, done.output
    drawn = pl.read_csv(unlisted_site / "draw" / "draws.csv", infer_schema=False).filter(pl.col("task_id") != "t02")
    files = {p.stem: p.read_text("utf-8") for p in out.glob("*.md")}
    assert len(files) >= 2 and all("（演练）" in text for text in files.values())
    for task_id, uscc, district in drawn.select("task_id", "uscc", "district").iter_rows():
        no = f"第{int(task_id[1:]):03d}号"
        unit = district_unit.get(district) or policy.jurisdiction.name
        # In its unit's file, under its task; in no other unit's file.
        holding = [u for u, text in files.items() if no in text and uscc in text.split(no, 1)[1].split("号抽查任务：", 1)[0]]
        assert holding == [unit], (task_id, uscc, holding)
    listed = sum(int(line.split("\t")[1]) for line in done.stdout.splitlines())
    assert listed == drawn.height


def test_the_announcement_names_the_unit_the_plan_sends(tmp_path):
    # Changzhi: row 1 is 市抽市查 by the 烟草 unit, rows 2-3 市抽市查 for 市级 agencies and the county's unit
    # for the rest. Each listed entity is in the file of the unit whose officers the plan sends to it.
    import polars as pl
    from spotcheck.draw import pipeline
    from spotcheck.plan import workplan

    policy = POLICIES / "shanxi/changzhi/2024.yaml"
    pipeline.synthesize(policy, 3000, 200, "units", tmp_path / "dirs")
    pipeline.draw(policy, tmp_path / "dirs/entities.csv", tmp_path / "d", ledger_path=tmp_path / "l.db", seed="u",
                  drawn_on=dt.date(2024, 3, 4))
    workplan.plan(tmp_path / "d", inspectors_path=tmp_path / "dirs/inspectors.csv", ledger_path=tmp_path / "l.db")
    files = notice.write_task_notices(policy, tmp_path / "d", tmp_path / "by-unit", fmt="md")
    texts = {name.stem: (tmp_path / "by-unit" / name).read_text("utf-8") for name, _ in files}
    visits = pl.read_csv(tmp_path / "d/visits.csv", infer_schema=False).filter(~pl.col("task_ids").str.contains("[|,;]"))
    sent = visits.filter(pl.col("method").fill_null("") == "").select("task_ids", "uscc", "inspecting_unit").unique()
    units = set(sent["inspecting_unit"])
    assert len(units) >= 3 and "长治市烟草专卖局" in units  # a department's own unit and districts' units
    for task_id, uscc, unit in sent.iter_rows():
        task = load_policy(policy).task(task_id)
        if not task.publish_drawn:
            continue
        no = f"第{task.no:03d}号"
        holding = [u for u, text in texts.items() if no in text and uscc in text.split(no, 1)[1].split("号抽查任务：", 1)[0]]
        assert holding == [unit], (task_id, uscc, unit, holding)
