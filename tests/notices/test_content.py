"""A policy's own documents as notices: numbers and dates as GB/T 9704 notices write them, and the parts
generated from the policy's tasks, tiers, deadlines, targets and contacts (the demo fixture policy)."""

import datetime as dt
import re
from fractions import Fraction

import pytest
from conftest import DEMO
from spotcheck.notices import api as notice
from spotcheck.notices import content as notice_content
from spotcheck.notices import model as notice_model
from spotcheck.errors import SpotcheckError
from spotcheck.policy.loader import load_policy
from spotcheck.resources import POLICIES

# ---------------------------------------------------------------- words and numbers


@pytest.mark.parametrize(("n", "text"), [(1, "一"), (10, "十"), (11, "十一"), (20, "二十"), (21, "二十一"), (99, "九十九")])
def test_cn_number(n, text):
    assert notice_content.cn_number(n) == text


def test_heading_numbers_by_depth():
    assert [notice_content.heading_number(d, 2) for d in (1, 2, 3, 4)] == ["二、", "（二）", "2.", "（2）"]


def test_dates_as_seeds_write_them():
    assert notice_content.cn_date(dt.date(2023, 11, 14)) == "2023年11月14日"
    assert notice_content.cn_window(dt.date(2023, 11, 13), dt.date(2023, 12, 31)) == "2023年11月13日至12月31日"
    assert notice_content.cn_window(dt.date(2023, 12, 1), dt.date(2024, 1, 5)) == "2023年12月1日至2024年1月5日"


def test_percent_text_is_exact():
    assert notice_content.percent_text(Fraction(7, 100)) == "7%"
    assert notice_content.percent_text(Fraction(1, 200)) == "0.5%"
    assert notice_content.percent_text(Fraction(1, 1)) == "100%"


# ---------------------------------------------------------------- generated content (fixture policy)


def section(md: str, heading: str) -> str:
    """The text under one ### heading of a rendered notice."""
    return md.split(f"### {heading}", 1)[1].split("\n### ", 1)[0]


def missing(text: str, *passages: str) -> list[str]:
    """The passages `text` lacks: a failure lists every one of them, not just the first."""
    return [p for p in passages if p not in text]


def test_head_title_addressees_signature(demo_md):
    assert demo_md.startswith("# 示范市市场监督管理局文件\n\n示市监〔2023〕7号\n\n## 示范市市场监督管理局关于印发")
    assert not missing(
        demo_md,
        "各区市场监督管理局，市局机关各科室：",
        "示范市市场监督管理局\n\n2023年11月10日\n\n（信息公开类型：主动公开）",
        "附件：1. 示范市2023年度抽查任务表\n\n　　　2. 示范市2023年度抽查事项清单",
        "抄送：省市场监督管理局，市政府办公室。",
        "示范市市场监督管理局办公室　　2023年11月10日印发",
    )


def test_sections_numbered_by_depth(demo_md):
    headings = re.findall(r"^### (\S+?、)", demo_md, flags=re.M)
    assert headings == [f"{notice_content.cn_number(i)}、" for i in range(1, 11)]
    assert "#### （三）信用风险分级" in demo_md
    assert "**（一）加强领导。**各区要加强组织领导。" in demo_md  # a sentence heading runs into its paragraph
    assert "（二）第一项没有标题的要求。" in demo_md and "（三）第二项没有标题的要求。" in demo_md


def test_window_and_items(demo_md):
    assert section(demo_md, "一、检查时间").strip() == "2023年11月13日至12月31日。"
    assert "1.登记事项检查（经营场所检查，注册资本实缴情况检查）；\n\n2.公示信息检查；\n\n3.A&B <产品> 质量检查。" in demo_md


def test_sampling_and_tiers(demo_md):
    assert not missing(
        section(demo_md, "三、抽查对象和比例"),
        "按照总体不低于3%的比例抽取",
        "企业登记事项抽查：不低于5%，其中D级（高风险）50%",  # the task's own tier ratio wins
        "产品质量抽查：10户，2次/年",
        "A、B、C、D四个风险等级",
        "A级（低风险）：按任务抽查比例的0.5倍抽取（最高100%），同一年度抽查不超过2次",
        "D级（高风险）：抽查比例100%",
        "1.全市在营企业，抽查比例为不低于5%；",
    )


def test_task_table_columns(demo_md):
    assert not missing(
        section(demo_md, "四、抽查任务"),
        "| 序号 | 抽查任务名称 | 抽查类型 | 抽查事项 | 抽查对象范围 | 抽查比例/数量 | 抽取日期 | 发起主体/指导单位 | 抽查检查主体 |",
        "| 1 | 企业登记事项抽查 | 定向 | 1. 登记事项检查；2. 公示信息检查 | 全市在营企业 | 不低于5% | 6月-11月 | 市局组织发起/信用科指导 | 市、区两级市场监管部门 |",
        "| 2 | 产品质量抽查 | 不定向 | A&B <产品> 质量检查 | 全市产品生产企业 | 10户，2次/年 | 6月-8月 |  |  |",
    )


def test_deadlines_counted_on_the_working_calendar(demo_md):
    assert not missing(
        section(demo_md, "五、时限要求"),
        # 2023-11-10 (Fri) + 5 working days; then 5 more from that date; 2023-12-31 + 20 across New Year 2024.
        "以成文日期2023年11月10日起算5个工作日，至2023年11月17日",
        "以上一期限届满日2023年11月17日起算5个工作日，至2023年11月24日",
        "以检查时间截止日2023年12月31日起算20个工作日，至2024年1月29日",
        "抽查任务应当于12月20日前全部完成；",  # the date is already in the text: not repeated
        # the 5th of each month, postponed past weekends, 清明 (4-5) and onto the 10-7 make-up working day
        "1月5日、2月6日、3月6日、4月6日、5月5日、6月5日、7月5日、8月7日、9月5日、10月7日、11月6日、12月5日",
    )


def test_targets_steps_pools_contacts(demo_md):
    assert not missing(
        demo_md,
        "1.年度抽查企业占比：不低于3%；\n\n2.抽查结果按时公示率：100%。\n\n以上目标于2023年10月31日前完成。",
        "1.制定方案；\n\n2.随机抽取检查对象。市局统一抽取后派发各区。",
        "1.专家库：计量、特种设备（按需抽取）；\n\n2.第三方机构库：检验检测。",
    )
    assert not missing(section(demo_md, "十、联系方式"), "联系人：信用科张三", "电话：0000-1234567", "邮箱：zhangsan@example.cn")
    assert demo_md.count("联系人：") == 1  # spliced where included, not repeated at the end


def test_plan_notice_without_the_table_in_its_body_gets_it_as_annex():
    loaded = load_policy(POLICIES / "shanxi/shuozhou/2021.yaml")
    chosen = notice.choose_notice(loaded)
    assert chosen.kind == "plan_notice" and not any(isinstance(b, notice_model.Table) for b in chosen.body)
    (annex,) = chosen.annexes
    assert annex.label == "附件" and annex.landscape
    assert annex.title == "朔州市市场监管局2021年度双随机抽查工作计划"
    (table,) = annex.blocks
    assert table.columns == notice_content.PLAN_COLUMNS and len(table.rows) == 21


def test_include_with_nothing_to_insert_is_reported_at_its_line(tmp_path):
    text = DEMO.read_text("utf-8").replace("      - {name: 张三, unit: 信用科, phone: \"0000-1234567\", email: zhangsan@example.cn}\n", "")
    text = re.sub(r"\nsteps:\n(  - .*\n)+", "\n", text.replace("    contacts:\n", ""))
    policy = tmp_path / "2023.yaml"
    policy.write_text(text.replace("../items/2023.yaml", str(DEMO.parent.parent / "items" / "2023.yaml")), "utf-8")
    with pytest.raises(SpotcheckError) as err:
        notice.render(load_policy(policy), fmt="md")
    lines = policy.read_text("utf-8").splitlines()
    found = {(p.code, lines[p.line - 1].strip()) for p in err.value.problems}
    assert found == {("N802", "include: steps"), ("N802", "include: contacts")}


def test_plan_generated_from_tasks_alone_is_undated():
    loaded = load_policy(POLICIES / "hebei/qinhuangdao/2023.yaml")  # carries a campaign notice, no plan
    md = notice.render(loaded, kind="plan", fmt="md")
    assert "## 秦皇岛市市场监督管理局关于印发2023年度“双随机、一公开”抽查工作计划的通知" in md
    assert "秦皇岛市市场监督管理局\n\n（信息公开类型：主动公开）" in md  # no invented date
    rows = [line for line in md.splitlines() if re.match(r"^\| \d+ \|", line)]
    assert len(rows) == 11 and all("| 不低于3% | 11月-12月 |" in r for r in rows)  # months of the campaign window


def test_include_window_without_any_window_names_the_policy_line(tmp_path):
    text = DEMO.read_text("utf-8")
    text = re.sub(r"campaigns:\n(  .*\n|    .*\n)+", "", text).replace("    campaign: c1\n", "")
    policy = tmp_path / "demo" / "city" / "2023.yaml"
    policy.parent.mkdir(parents=True)
    policy.write_text(text.replace("../items/2023.yaml", str(DEMO.parent.parent / "items" / "2023.yaml")), "utf-8")
    with pytest.raises(SpotcheckError) as err:
        notice.render(load_policy(policy), fmt="md")
    problem = err.value.problems[0]
    assert problem.code == "N801" and problem.file.endswith("2023.yaml") and problem.line is not None
    line = policy.read_text("utf-8").splitlines()[problem.line - 1]
    assert "include: window" in line


def test_a_plan_of_several_tables_prints_each_under_its_title_numbered_from_1():
    loaded = load_policy(POLICIES / "examples/doumen/2023.yaml")  # the joint table, then the bureau's own
    blocks = notice.choose_notice(loaded, kind="plan").annexes[0].blocks
    assert [type(b).__name__ for b in blocks] == ["Table", "Para", "Table"]
    joint, title, own = blocks
    assert title.text == "珠海市斗门区市场监督管理局2023年度双随机抽查工作计划"
    assert [(r[0], r[1]) for r in joint.rows] == [("1", "校园食品安全联合检查"), ("2", "斗门区企业登记事项定向抽查"),
                                                  ("3", "机动车检验检测机构专项抽查")]
    assert [(r[0], r[1]) for r in own.rows] == [("1", "广告行为检查")]
    md = notice.render(loaded, kind="plan", fmt="md")
    assert md.index("| 3 | 机动车检验检测机构专项抽查 |") < md.index("珠海市斗门区市场监督管理局2023年度双随机抽查工作计划\n") < md.index("| 1 | 广告行为检查 |")


def test_a_documents_columns_for_one_table_leave_the_others_its_default(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    text = path.read_text("utf-8").replace("  - id: t02\n", "  - id: t02\n    table: 本局抽查计划表\n").replace("campaigns:\n", """documents:
  - id: plan
    kind: plan_notice
    issuer: 示范市市场监督管理局
    title: 示范市2023年度双随机抽查工作计划
    date: "2023-03-01"
    table: [{title: 编号, source: no}, {title: 任务, source: name}]
    tables:
      - title: 本局抽查计划表
        columns: [{title: 抽查计划编号, source: no}, {title: 名称, source: name}, {title: 类型, source: type}]
campaigns:
""")
    path.write_text(text, "utf-8")
    loaded = load_policy(path)
    tables = notice_content.plan_tables(loaded, loaded.policy.documents[0])
    assert [(title, t.columns, [r[0] for r in t.rows]) for title, t in tables] == [
        (None, ("编号", "任务"), ["1", "3"]), ("本局抽查计划表", ("抽查计划编号", "名称", "类型"), ["2"])]
