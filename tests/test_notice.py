"""Notices from policies: the five seeds' facts, generated parts, templates, draws, results, output."""

import csv
import datetime as dt
import json
import os
import re
import shutil
import unicodedata
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner
from spotcheck import notice, notice_content, notice_model, notice_templates
from spotcheck.cli import main
from spotcheck.errors import SpotcheckError
from spotcheck.loader import load_policy
from spotcheck.paths import POLICIES, ROOT, TEMPLATES

FIXTURES = Path(__file__).parent / "fixtures" / "notice"
DEMO = FIXTURES / "policies" / "demo" / "city" / "2023.yaml"
DRAW = FIXTURES / "draw"
GOLDEN = Path(__file__).parent / "golden" / "notices"


def norm(text: str) -> str:
    """Compare text as read: no whitespace, full-width punctuation folded to half-width (seeds mix both)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


# ---------------------------------------------------------------- the five seeds
# Each list is copied from the seed file in /work/shared/seeds (line breaks inside a phrase removed).

SEED_FACTS = {
    # 000_d95a32026ca91ea3.txt
    "hebei/qinhuangdao/2023": [
        "秦皇岛市市场监督管理局", "秦市监函〔2023〕453号", "2023年11月14日", "2023年11月13日至12月31日。",
        "各县区市场监督管理局，开发区、北戴河新区分局，机关各有关科室：",
        "秦皇岛市市场监督管理局 关于开展2023年秦皇岛市市场监管系统内部 联合信用风险分级分类“双随机、一公开” 抽查的通知",
        "《秦皇岛市市场监管系统2023年“双随机、一公开”监管工作实施方案》（秦市监函〔2023〕51号）",
        "《河北省市场监督管理局随机抽查事项清单（2023年版）》",
        "自愿性认证活动及结果监督检查", "检验检测机构检查", "工业产品生产许可证生产企业检查",
        "工业产品生产许可资格检查", "工业产品生产许可证获证企业条件检查", "产品质量监督检查",
        "生产、流通领域产品质量监督抽查", "食品相关产品质量安全监督检查", "计量标准监督检查",
        "重大变更、直销员报酬支付、信息报备和披露的情况的检查", "广告行为检查", "面向中小学生的校外培训广告的检查",
        "药品、医疗器械、保健食品、特殊医学用途配方食品广告主发布相关广告的审查批准情况的检查",
        "广告经营者、广告发布者建立、健全广告业务的承接登记、审核、档案管理制度情况的检查",
        "对医疗美容机构未经审查发布医疗广告以及篡改审查内容发布医疗广告行为的检查", "团体标准自我声明监督检查",
        "商标使用行为的检查", "集体商标、证明商标(含地理标志)使用行为的检查", "商标印制行为的检查",
        "商标代理行为的检查", "专利真实性监督检查", "专利证书、专利文件或专利申请文件真实性的检查",
        "产品专利宣传真实性的检查", "上述抽查事项所涉及的全市已成立状态的相关市场主体。", "按照总体不低于 3%的比例抽取",
        "A、B、C、D 四个风险等级", "河北省双随机执法监管平台", "自抽查检查结束之日起20个工作日内", "经营异常名录",
        "副局长王文杰任组长", "《河北省市场监管部门随机抽查工作指引》（2020年8月版）", "联系人：段志鹏", "电话：3875180",
        "（信息公开类型：主动公开）",
    ],
    # 001_2e1159f6682e404b.txt
    "hebei/qinhuangdao/2024": [
        "秦市监函〔2024〕58号", "2024年2月27日", "各县区市场监管局，各派出机构，机关各有关科室：",
        "秦皇岛市市场监督管理局 关于印发《秦皇岛市市场监管系统2024年 “双随机、一公开”监管工作实施方案》的 通知",
        "秦皇岛市市场监管系统 2024 年 “双随机、一公开”监管工作实施方案",
        "随机抽查次数占总抽查次数的比例不低于 85%", "全系统年度抽查企业占比不低于 3%", "抽查结果按时公示率 100%",
        "后续处置率 100%", "于1月底前完成抽查工作计划的制定、上报和公示", "在检查结束后20个工作日内录入检查结果并向社会公示",
        "专家库", "省局将于7-8月组织开展对大型企业逾期尚未支付中小企业款项年报公示信息专项抽查",
        "《保障中小企业款项支付条例》", "“一业一查”", "李晶", "段志鹏", "8550811", "3875180", "qhdjgqd@163.com",
        "2024 年度由省局组织的全系统随机抽查工作计划", "2024 年度由省局相关业务处室组织的随机抽查工作计划",
        "秦皇岛市市场监督管理局 2024 年全市系统随机抽查工作计划", "（信息公开类型：主动公开）",
    ],
    # 002_102c5ca29228a0cf.txt
    "shanxi/shuozhou/2021": [
        "朔州市市场监督管理局文件", "朔市监〔2021〕26号", "2021年3月5日",
        "朔州市市场监督管理局 关于印发2021年度双随机抽查工作计划 的通知",
        "各县（市、区）市场监管局、开发区分局，市局机关各科室，各直属事业单位：", "（晋市监发〔2021〕23号）",
        "会商发起、联查邀约及“1+X”模式", "“进一次门、查多项事”", "在检查完成之日起 20 个工作日内",
        "应当于 12 月 20 日前全部完成", "抽查企业覆盖率达 3%以上", "检查结果公示率达 100%", "联系人：贾一英",
        "2021100", "szsxyjg@163.com", "朔州市市场监管局 2021 年度双随机抽查工作计划",
        # the 9-column table
        "序号", "抽查任务名称", "抽查类型", "抽查事项", "抽查对象范围", "抽查比例/数量", "抽取日期", "发起主体/指导单位",
        "抽查检查主体",
        "对在用计量器具的监督抽查", "对法定计量检定机构的专项监督检查", "对计量单位使用情况的监督抽查",
        "对拍卖企业拍卖活动经营资格的双随机抽查",
        "对广告经营者、广告发布者建立、健全广告业务的承接登记、审核、档案管理制度情况的双随机抽查",
        "对电子商务经营行为的双随机抽查", "对广告发布登记情况的双随机抽查", "对工业产品生产许可证获证企业资格、条件的双随机抽查",
        "对食品相关产品质量安全的双随机抽查", "对商标代理机构的双随机抽查", "专利真实性监督检查", "商标使用行为的检查",
        "集体商标、证明商标（含地理标志）使用行为的检查", "对直销企业服务网点、经销商的双随机抽查",
        "对自愿性认证活动的双随机抽查", "对强制性产品认证活动的双随机抽查", "对省级资质认定的检验检测机构双随机抽查",
        "特种设备使用单位监督检查", "对高风险企业的双随机抽查", "对重点企业的双随机抽查", "对企业的不定向双随机抽查",
        "不低于5%", "不低于30%", "100%", "50%", "不低于10%", "不低于1%", "不低于20%", "不低于3%",
        "不低于5%，2次/年", "不低于1%，1次/年", "不低于1%，2次/年",
        "4月-11月", "6月-8月", "7月-10月", "6月-11月", "8月-12月", "3月-12月", "2月-12月", "4月-10月",
        "各县区局组织发起/计量科指导", "市局组织发起/计量科指导", "市局组织发起/消保市场科指导",
        "市局广告监管科、各市区县局组织发起/市局广告监管科指导", "市局组织发起/市局信用指导",
        "市、县(区)级市场监管部门", "市级市场监管部门", "县（区）级市场监管部门", "市市场监管局",
        "本辖区集贸市场、加油站、眼镜制配店、医疗机构、检验检测单位", "全市拍卖企业", "全市高风险企业",
        "全市超出经营期限企业", "全市范围内在业状态的企业", "省局抽取后的市辖区区内电子商务平台",
        "加油站向社会做出公开诚信计量自我承诺情况",
    ],
    # 003_2a38ef7e53bea528.txt
    "shandong/qingdao/2020": [
        "局函〔2020〕277号", "2020年10月23日", "各区市局",
        "关于印发《2020年度全市市场监管系统工业 产品生产许可证生产企业经营行为 “双随机、一公开”抽查工作 实施方案》的通知",
        "青岛市市场监督管理局", "全市在营工业产品生产许可证获证企业，抽查比例为20%",
        "全市在营食品相关产品企业，抽查比例为20%", "从2020年10月20日开始至2020年11月30日结束", "应在11月30日前",
        "自收到本方案之日起5个工作日内", "在获取名单后5个工作日内完成检查对象与检查人员的随机匹配",
        "原则上不得随意更换检查人员", "经本单位分管领导同意后", "对于不同任务中重复抽取的检查对象，检查其涉及相关任务的全部检查内容",
        "此次抽查工作要于11月15日前", "国家企业信用信息公示系统（山东）", "2019年度年报未报送的企业、个体工商户",
        "审计、验资、评估、检验检测等第三方验证活动", "质量监管处栾华", "85730602",
    ],
    # 004_8b0e4d33e7a5d62f.txt
    "zhejiang/wenzhou/longwan/2023": [
        "关于做好2023年度“双随机、一公开”监管工作的通知", "局属各单位:", "龙湾区市场监督管理局", "2023年2月24日",
        "在每个月5日前下发任务(遇节假日适当延期)",
        "A99.通用检查事项(公示信息检查-对企业、个体工商户、农民专业合作社经营场所及存续状态年度报告公示信息的检查)",
        "A100.通用检查事项(价格行为检查-对违反明码标价规定行为的行政检查)",
        "A101.通用检查事项(市场类标准监督检查-对企业履行标准自我声明公开义务的监督检查)", "等7个抽查事项融入到每个随机抽查任务之中",
        "抽查企业比例不低于3%", "抽查事项覆盖率达到100%", "双随机抽查次数占比达到40%以上", "信用风险分类结果应用率达到100%",
        "对低风险企业的抽查次数原则上不超过2次", "部门联合随机抽查率达到30%以上", "掌上执法应用率100%",
        "计划任务和抽查结果公示率100%", "后续处置率达到100%", "确保10月底前完成各项指标", "信用监管科", "陈茹", "85626803",
        "浙江省市场监管部门2023年度双随机抽查事项清单", "浙江省市场监管部门2023年度双随机抽查计划任务表",
        "龙湾区市场监督管理局2023年度随机抽查计划任务表", "龙湾区市场监督管理局2023年度跨部门联合随机抽查工作计划表",
        "市场监管分类监管标签内容",
    ],
}
SEEDS = sorted(SEED_FACTS)


@pytest.fixture(scope="module")
def seed_notices() -> dict[str, str]:
    return {sid: notice.render(load_policy(POLICIES / f"{sid}.yaml"), fmt="md") for sid in SEEDS}


@pytest.mark.parametrize("sid", SEEDS)
def test_seed_notice_holds_every_fact_of_the_seed(seed_notices, sid):
    facts = SEED_FACTS[sid]
    assert len(facts) >= 15
    text = norm(seed_notices[sid])
    missing = [f for f in facts if norm(f) not in text]
    assert not missing, f"{sid}: missing {missing}"


def test_seed_002_table_has_all_21_tasks_in_order(seed_notices):
    rows = [line for line in seed_notices["shanxi/shuozhou/2021"].splitlines() if re.match(r"^\| \d+ \|", line)]
    assert [int(r.split("|")[1]) for r in rows] == list(range(1, 22))
    assert all(r.count("|") == 10 for r in rows)  # 9 columns


@pytest.mark.parametrize("sid", SEEDS)
def test_seed_notice_matches_golden(seed_notices, sid):
    path = GOLDEN / f"{sid.replace('/', '_')}.md"
    if os.environ.get("SPOTCHECK_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(seed_notices[sid], "utf-8")
    assert seed_notices[sid] == path.read_text("utf-8"), "run with SPOTCHECK_UPDATE_GOLDEN=1 after checking the diff"


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


@pytest.fixture(scope="module")
def demo():
    return load_policy(DEMO)


@pytest.fixture(scope="module")
def demo_md(demo) -> str:
    return notice.render(demo, fmt="md")


def section(md: str, heading: str) -> str:
    """The text under one ### heading of a rendered notice."""
    return md.split(f"### {heading}", 1)[1].split("\n### ", 1)[0]


def test_head_title_addressees_signature(demo_md):
    assert demo_md.startswith("# 示范市市场监督管理局文件\n\n示市监〔2023〕7号\n\n## 示范市市场监督管理局关于印发")
    assert "各区市场监督管理局，市局机关各科室：" in demo_md
    assert "示范市市场监督管理局\n\n2023年11月10日\n\n（信息公开类型：主动公开）" in demo_md
    assert "附件：1. 示范市2023年度抽查任务表\n\n　　　2. 示范市2023年度抽查事项清单" in demo_md
    assert "抄送：省市场监督管理局，市政府办公室。" in demo_md
    assert "示范市市场监督管理局办公室　　2023年11月10日印发" in demo_md


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
    part = section(demo_md, "三、抽查对象和比例")
    assert "按照总体不低于3%的比例抽取" in part
    assert "企业登记事项抽查：不低于5%，其中D级（高风险）50%" in part  # the task's own tier ratio wins
    assert "产品质量抽查：10户，2次/年" in part
    assert "A、B、C、D四个风险等级" in part
    assert "A级（低风险）：按任务抽查比例的0.5倍抽取（最高100%），同一年度抽查不超过2次" in part
    assert "D级（高风险）：抽查比例100%" in part
    assert "1.全市在营企业，抽查比例为不低于5%；" in part


def test_task_table_columns(demo_md):
    part = section(demo_md, "四、抽查任务")
    assert "| 序号 | 抽查任务名称 | 抽查类型 | 抽查事项 | 抽查对象范围 | 抽查比例/数量 | 抽取日期 | 发起主体/指导单位 | 抽查检查主体 |" in part
    assert "| 1 | 企业登记事项抽查 | 定向 | 1. 登记事项检查；2. 公示信息检查 | 全市在营企业 | 不低于5% | 6月-11月 | 市局组织发起/信用科指导 | 市、区两级市场监管部门 |" in part
    assert "| 2 | 产品质量抽查 | 不定向 | A&B <产品> 质量检查 | 全市产品生产企业 | 10户，2次/年 | 6月-8月 |  |  |" in part


def test_deadlines_counted_on_the_working_calendar(demo_md):
    part = section(demo_md, "五、时限要求")
    # 2023-11-10 (Fri) + 5 working days; then 5 more from that date; 2023-12-31 + 20 across New Year 2024.
    assert "以成文日期2023年11月10日起算5个工作日，至2023年11月17日" in part
    assert "以上一期限届满日2023年11月17日起算5个工作日，至2023年11月24日" in part
    assert "以检查时间截止日2023年12月31日起算20个工作日，至2024年1月29日" in part
    assert "抽查任务应当于12月20日前全部完成；" in part  # the date is already in the text: not repeated
    # the 5th of each month, postponed past weekends, 清明 (4-5) and onto the 10-7 make-up working day
    assert "1月5日、2月6日、3月6日、4月6日、5月5日、6月5日、7月5日、8月7日、9月5日、10月7日、11月6日、12月5日" in part


def test_targets_steps_pools_contacts(demo_md):
    assert "1.年度抽查企业占比：不低于3%；\n\n2.抽查结果按时公示率：100%。\n\n以上目标于2023年10月31日前完成。" in demo_md
    assert "1.制定方案；\n\n2.随机抽取检查对象。市局统一抽取后派发各区。" in demo_md
    assert "1.专家库：计量、特种设备（按需抽取）；\n\n2.第三方机构库：检验检测。" in demo_md
    contacts = section(demo_md, "十、联系方式")
    assert "联系人：信用科张三" in contacts and "电话：0000-1234567" in contacts and "邮箱：zhangsan@example.cn" in contacts
    assert demo_md.count("联系人：") == 1  # spliced where included, not repeated at the end


def test_policy_text_is_never_a_template(demo, demo_md):
    assert "原文中的 {{ 7*7 }} 与 A&B <b>x</b> 都是文字。" in demo_md
    html = notice.render(demo, fmt="html")
    assert "原文中的 {{ 7*7 }} 与 A&amp;B &lt;b&gt;x&lt;/b&gt; 都是文字。" in html
    assert "<b>x</b>" not in html


def test_letter_document_and_kind_choice(demo):
    md = notice.render(demo, kind="campaign", fmt="md")
    assert md.startswith("# 示范市市场监督管理局\n\n示市监函〔2023〕12号")  # a 函: no “文件”
    assert notice.render(demo, document="letter", fmt="md") == md
    with pytest.raises(SpotcheckError) as err:
        notice.render(demo, kind="scheme", fmt="md")
    assert err.value.problems[0].code == "N805"
    with pytest.raises(SpotcheckError) as err:
        notice.render(demo, document="letter", kind="plan", fmt="md")
    assert err.value.problems[0].code == "N805"
    with pytest.raises(SpotcheckError) as err:
        notice.render(demo, kind="memo", fmt="md")
    assert err.value.problems[0].code == "N803"


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


# ---------------------------------------------------------------- templates: overrides, sandbox, errors


@pytest.fixture
def template_root(tmp_path) -> Path:
    root = tmp_path / "templates"
    shutil.copytree(TEMPLATES, root)
    return root


def test_override_from_the_most_specific_folder(demo, template_root):
    city = template_root / "demo" / "city"
    city.mkdir(parents=True)
    (city / "plan_notice.md.j2").write_text("本市模板：{{ doc.title }}\n", "utf-8")
    (template_root / "demo" / "plan_notice.md.j2").write_text("本省模板\n", "utf-8")
    (template_root / "demo" / "campaign_notice.md.j2").write_text("本省函：{{ doc.number }}\n", "utf-8")
    assert notice.render(demo, fmt="md", root=template_root) == "本市模板：示范市市场监督管理局关于印发2023年度双随机抽查工作计划的通知\n"
    assert notice.render(demo, kind="campaign", fmt="md", root=template_root) == "本省函：示市监函〔2023〕12号\n"
    used = {(k, f): p for k, f, p in notice_templates.list_templates(demo, template_root)}
    assert used["plan_notice", "md"] == city / "plan_notice.md.j2"
    assert used["campaign_notice", "md"] == template_root / "demo" / "campaign_notice.md.j2"
    assert used["plan_notice", "html"] == template_root / "plan_notice.html.j2"
    assert used["results_notice", "pdf"] == template_root / "docx" / "results_notice.docx"


def test_an_override_may_replace_a_shared_macro(demo, template_root):
    city = template_root / "demo" / "city"
    city.mkdir(parents=True)
    macros = (template_root / "_macros.md.j2").read_text("utf-8")
    (city / "_macros.md.j2").write_text(macros.replace("{{ doc.signature }}\n", "（盖章）{{ doc.signature }}\n"), "utf-8")
    assert "（盖章）示范市市场监督管理局" in notice.render(demo, fmt="md", root=template_root)


def test_missing_variable_names_template_file_and_line(demo, template_root):
    city = template_root / "demo" / "city"
    city.mkdir(parents=True)
    (city / "plan_notice.md.j2").write_text("{{ doc.title }}\n\n{{ doc.no_such_field }}\n", "utf-8")
    with pytest.raises(SpotcheckError) as err:
        notice.render(demo, fmt="md", root=template_root)
    problem = err.value.problems[0]
    assert problem.code == "N807" and "no_such_field" in problem.message
    assert problem.file.endswith("demo/city/plan_notice.md.j2") and problem.line == 3


def test_missing_variable_in_a_shared_template_names_that_file(demo, template_root):
    base = template_root / "_document.md.j2"
    lines = base.read_text("utf-8").splitlines()
    lines.insert(5, "{{ doc.missing_here }}")
    base.write_text("\n".join(lines) + "\n", "utf-8")
    with pytest.raises(SpotcheckError) as err:
        notice.render(demo, fmt="md", root=template_root)
    problem = err.value.problems[0]
    assert problem.file.endswith("_document.md.j2") and problem.line == 6


def test_sandbox_refuses_python_internals(demo, template_root):
    (template_root / "plan_notice.md.j2").write_text("{{ doc.__class__.__init__.__globals__ }}\n", "utf-8")
    with pytest.raises(SpotcheckError) as err:
        notice.render(demo, fmt="md", root=template_root)
    assert err.value.problems[0].code in ("N807", "N808")


def test_template_syntax_error_names_file_and_line(demo, template_root):
    (template_root / "plan_notice.md.j2").write_text("{{ doc.title }}\n{% if %}\n", "utf-8")
    with pytest.raises(SpotcheckError) as err:
        notice.render(demo, fmt="md", root=template_root)
    problem = err.value.problems[0]
    assert problem.code == "N809" and problem.file.endswith("plan_notice.md.j2") and problem.line == 2


def test_jurisdiction_path_follows_the_policy_folder(demo):
    assert str(notice_templates.jurisdiction_path(demo)) == "demo/city"  # outside policies/: from its id
    loaded = load_policy(POLICIES / "shanxi/shuozhou/2021.yaml")
    assert str(notice_templates.jurisdiction_path(loaded)) == "shanxi/shuozhou"
    assert notice_templates.search_path(loaded)[:2] == [TEMPLATES / "shanxi" / "shuozhou", TEMPLATES / "shanxi"]


# ---------------------------------------------------------------- task notice from a draw folder


@pytest.fixture(scope="module")
def task_md(demo) -> str:
    return notice.render(demo, kind="task", fmt="md", draw_dir=DRAW)


def drawn_rows() -> list[dict]:
    with (DRAW / "draws.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_task_notice_lists_drawn_entities_per_district_matching_the_summary(task_md):
    summary = json.loads((DRAW / "summary.json").read_text("utf-8"))
    announcement = task_md.split("## 随机抽查通知书")[0]
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


def test_one_notice_per_entity_and_month_with_every_item_of_its_tasks(task_md):
    visits = {(r["uscc"], r["month"]) for r in drawn_rows()}
    notices = task_md.split("## 随机抽查通知书")[1:]
    assert len(notices) == len(visits) == 7
    both = next(n for n in notices if "示范东区甲贸易有限公司" in n)
    assert "抽查任务编号：第001号、第002号" in both
    assert "登记事项检查（经营场所检查，注册资本实缴情况检查）" in both and "A&B <产品> 质量检查" in both
    assert "根据《市场主体登记管理条例》、《企业信息公示暂行条例》等规定" in both
    assert "检查方式为实地检查、书面检查、网络监测、检验检测" in both
    assert "示范市东区市场监督管理局将于2023年11月13日至12月31日期间对你单位进行检查" in both
    assert "联系人：信用科张三　电话：0000-1234567　邮箱：zhangsan@example.cn" in both
    assert "示范市东区市场监督管理局\n\n2023年11月13日" in both  # signed by the district that checks


def test_drill_draws_are_marked_on_every_notice(task_md, demo, tmp_path):
    notices = task_md.split("## 随机抽查通知书")[1:]
    assert all(n.startswith("（演练）") for n in notices)
    assert task_md.count("【演练】本文件由演练抽取生成") == len(notices) + 1
    assert "抽查任务公告（演练）" in task_md
    real = tmp_path / "draw"
    shutil.copytree(DRAW, real)
    transcript = json.loads((real / "transcript.json").read_text("utf-8"))
    (real / "transcript.json").write_text(json.dumps({**transcript, "drill": False}), "utf-8")
    official = notice.render(demo, kind="task", fmt="md", draw_dir=real)
    assert "演练" not in official


def test_draw_list_that_disagrees_with_the_summary_is_refused(demo, tmp_path):
    broken = tmp_path / "draw"
    shutil.copytree(DRAW, broken)
    lines = (broken / "draws.csv").read_text("utf-8").splitlines()
    (broken / "draws.csv").write_text("\n".join(lines[:-1]) + "\n", "utf-8")
    with pytest.raises(SpotcheckError) as err:
        notice.render(demo, kind="task", fmt="md", draw_dir=broken)
    assert err.value.problems[0].code == "N813" and "t02" in err.value.problems[0].message


def test_draw_folder_problems_are_all_reported(demo, tmp_path):
    with pytest.raises(SpotcheckError) as err:
        notice.render(demo, kind="task", fmt="md", draw_dir=tmp_path)
    assert sorted(p.code for p in err.value.problems) == ["N810", "N810", "N810"]
    with pytest.raises(SpotcheckError) as err:
        notice.render(demo, kind="task", fmt="md")
    assert err.value.problems[0].code == "N804"


def test_draw_of_another_policy_is_refused(tmp_path):
    other = load_policy(POLICIES / "shanxi/shuozhou/2021.yaml")
    with pytest.raises(SpotcheckError) as err:
        notice.render(other, kind="task", fmt="md", draw_dir=DRAW)
    assert err.value.problems[0].code == "N814"


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
    rows = list(csv.DictReader((tmp_path / "draw" / "draws.csv").open(encoding="utf-8")))
    assert md.count("## 随机抽查通知书（演练）") == len({(r["uscc"], r["month"]) for r in rows})


# ---------------------------------------------------------------- results notice


RESULT_ROWS = [
    {"task_id": "t01", "name": "示范东区甲贸易有限公司", "uscc": "91990102MA5H8UNDXA", "completed": "2023-12-01",
     "result": "未发现问题", "tier": "D"},
    {"task_id": "t01", "name": "示范东区丁A&B工作室", "uscc": "91990102MA9HU4Q090", "completed": dt.date(2023, 12, 8),
     "result": "发现问题已责令改正", "remarks": "已整改", "inspecting_body": "示范市东区市场监督管理局"},
]


def test_results_notice_title_and_national_columns(demo):
    md = notice.render_results_notice(demo, RESULT_ROWS, "md")
    assert "## 示范市市场监督管理局2023年度第001号抽查任务检查结果公告" in md
    assert ("| 序号 | 抽查计划编号/名称 | 抽查任务编号/名称 | 抽查类型 | 检查机关 | 市场主体名称 | 统一社会信用代码 | "
            "检查完成日期 | 检查结果 | 备注 |") in md
    assert ("| 1 | 示市监〔2023〕7号/示范市市场监督管理局关于印发2023年度双随机抽查工作计划的通知 | 001/企业登记事项抽查 | 定向 | "
            "市、区两级市场监管部门 | 示范东区甲贸易有限公司 | 91990102MA5H8UNDXA | 2023年12月1日 | 未发现问题 |  |") in md
    assert "| 示范市东区市场监督管理局 | 示范东区丁A&B工作室 | 91990102MA9HU4Q090 | 2023年12月8日 | 发现问题已责令改正 | 已整改 |" in md
    assert "示范市市场监督管理局\n\n2023年12月8日" in md


def test_results_notice_never_shows_a_risk_tier(demo):
    for fmt in ("md", "html"):
        text = notice.render_results_notice(demo, RESULT_ROWS, fmt)
        assert "风险" not in text and "D级" not in text and "信用等级" not in text


def test_results_notice_is_one_task(demo):
    with pytest.raises(SpotcheckError) as err:
        notice.render_results_notice(demo, [*RESULT_ROWS, {**RESULT_ROWS[0], "task_id": "t02"}], "md")
    assert err.value.problems[0].code == "N820" and "t01、t02" in err.value.problems[0].hint
    with pytest.raises(SpotcheckError):
        notice.render_results_notice(demo, [], "md")


# ---------------------------------------------------------------- html, output, pdf


def test_html_has_the_gbt9704_print_layout(demo):
    html = notice.render(demo, fmt="html")
    assert "size: A4" in html and "margin: 37mm 26mm 35mm 28mm" in html and "width: 156mm" in html
    assert '"— " counter(page) " —"' in html
    assert '<p class="mark">示范市市场监督管理局文件</p>' in html and '<p class="number">示市监〔2023〕7号</p>' in html
    assert "<h2>一、检查时间</h2>" in html and "<h3>（一）抽查对象</h3>" in html
    letter = notice.render(demo, kind="campaign", fmt="html")
    assert '<body class="letter">' in letter and "@page :first" in letter


def test_make_notice_writes_atomically_and_leaves_nothing_on_error(tmp_path, template_root):
    out = tmp_path / "out" / "plan.md"
    content = notice.make_notice(DEMO, fmt="md", out=out)
    assert out.read_text("utf-8") == content
    (template_root / "plan_notice.md.j2").write_text("{{ doc.nothing }}\n", "utf-8")
    with pytest.raises(SpotcheckError):
        notice.make_notice(DEMO, fmt="md", out=out, root=template_root)
    assert out.read_text("utf-8") == content  # the old file stands
    fresh = tmp_path / "fresh.md"
    with pytest.raises(SpotcheckError):
        notice.make_notice(DEMO, fmt="md", out=fresh, root=template_root)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "templates"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["plan.md"]


def test_pdf_without_libreoffice_says_what_to_install(demo, monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    out = tmp_path / "plan.pdf"
    with pytest.raises(SpotcheckError) as err:
        notice.make_notice(DEMO, fmt="pdf", out=out)
    problem = err.value.problems[0]
    assert problem.code == "N830" and "LibreOffice" in problem.message
    assert "apt-get install libreoffice-writer fonts-noto-cjk" in problem.hint
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not (shutil.which("soffice") or shutil.which("libreoffice")), reason="LibreOffice (soffice) is not installed")
def test_pdf_through_libreoffice(demo):
    pdf = notice.render(demo, fmt="pdf")
    assert pdf.startswith(b"%PDF-") and len(pdf) > 10_000


def test_templates_readme_names_every_variable_a_template_gets():
    readme = (ROOT / "templates" / "README.md").read_text("utf-8")
    for name in notice_model.Notice.__dataclass_fields__:
        assert f"doc.{name}" in readme, name
