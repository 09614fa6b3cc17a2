"""Notices from policies: the five seeds' facts, choosing the notice, escaping, writing it (the parts each stage
builds are tested in test_notice_content, test_notice_templates, test_notice_announcements and test_docx_*)."""

import os
import re
import shutil
import unicodedata
from pathlib import Path

import pytest
from conftest import DEMO
from spotcheck.notices import api as notice
from spotcheck.errors import SpotcheckError
from spotcheck.policy.loader import load_policy
from spotcheck.resources import POLICIES

GOLDEN = Path(__file__).parents[1] / "golden" / "notices"


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


# ---------------------------------------------------------------- choosing, escaping, writing


def test_policy_text_is_never_a_template(demo_policy, demo_md):
    assert "原文中的 {{ 7*7 }} 与 A&B <b>x</b> 都是文字。" in demo_md
    html = notice.render(demo_policy, fmt="html")
    assert "原文中的 {{ 7*7 }} 与 A&amp;B &lt;b&gt;x&lt;/b&gt; 都是文字。" in html
    assert "<b>x</b>" not in html


def test_letter_document_and_kind_choice(demo_policy):
    md = notice.render(demo_policy, kind="campaign", fmt="md")
    assert md.startswith("# 示范市市场监督管理局\n\n示市监函〔2023〕12号")  # a 函: no “文件”
    assert notice.render(demo_policy, document="letter", fmt="md") == md
    with pytest.raises(SpotcheckError) as err:
        notice.render(demo_policy, kind="scheme", fmt="md")
    assert err.value.problems[0].code == "N805"
    with pytest.raises(SpotcheckError) as err:
        notice.render(demo_policy, document="letter", kind="plan", fmt="md")
    assert err.value.problems[0].code == "N805"
    with pytest.raises(SpotcheckError) as err:
        notice.render(demo_policy, kind="memo", fmt="md")
    assert err.value.problems[0].code == "N803"


def test_html_has_the_gbt9704_print_layout(demo_policy):
    html = notice.render(demo_policy, fmt="html")
    assert "size: A4" in html and "margin: 37mm 26mm 35mm 28mm" in html and "width: 156mm" in html
    assert '"— " counter(page) " —"' in html
    assert re.search(r'<p class="mark" style="font-size: [0-9.]+pt">示范市市场监督管理局文件</p>', html) and '<p class="number">示市监〔2023〕7号</p>' in html
    assert "<h2>一、检查时间</h2>" in html and "<h3>（一）抽查对象</h3>" in html
    letter = notice.render(demo_policy, kind="campaign", fmt="html")
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


def test_pdf_without_libreoffice_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    out = tmp_path / "plan.pdf"
    with pytest.raises(SpotcheckError) as err:
        notice.make_notice(DEMO, fmt="pdf", out=out)
    problem = err.value.problems[0]
    assert problem.code == "N830" and "LibreOffice" in problem.message
    assert "apt-get install libreoffice-writer fonts-noto-cjk fonts-arphic-ukai fonts-lxgw-wenkai" in problem.hint
    assert not out.exists() and list(tmp_path.iterdir()) == []
