"""Notice templates: overrides from the most specific jurisdiction folder, the Jinja sandbox, and errors
that name the template file and line."""

import pytest
from spotcheck.notices import api as notice
from spotcheck.notices import templates as notice_templates
from spotcheck.errors import SpotcheckError
from spotcheck.policy.loader import load_policy
from spotcheck.resources import POLICIES, TEMPLATES


def test_override_from_the_most_specific_folder(demo_policy, template_root):
    city = template_root / "demo" / "city"
    city.mkdir(parents=True)
    (city / "plan_notice.md.j2").write_text("本市模板：{{ doc.title }}\n", "utf-8")
    (template_root / "demo" / "plan_notice.md.j2").write_text("本省模板\n", "utf-8")
    (template_root / "demo" / "campaign_notice.md.j2").write_text("本省函：{{ doc.number }}\n", "utf-8")
    assert notice.render(demo_policy, fmt="md", root=template_root) == "本市模板：示范市市场监督管理局关于印发2023年度双随机抽查工作计划的通知\n"
    assert notice.render(demo_policy, kind="campaign", fmt="md", root=template_root) == "本省函：示市监函〔2023〕12号\n"
    used = {(k, f): p for k, f, p in notice_templates.list_templates(demo_policy, template_root)}
    assert used["plan_notice", "md"] == city / "plan_notice.md.j2"
    assert used["campaign_notice", "md"] == template_root / "demo" / "campaign_notice.md.j2"
    assert used["plan_notice", "html"] == template_root / "plan_notice.html.j2"
    assert used["results_notice", "pdf"] == template_root / "docx" / "results_notice.docx"


def test_an_override_may_replace_a_shared_macro(demo_policy, template_root):
    city = template_root / "demo" / "city"
    city.mkdir(parents=True)
    macros = (template_root / "_macros.md.j2").read_text("utf-8")
    (city / "_macros.md.j2").write_text(macros.replace("{{ doc.signature }}\n", "（盖章）{{ doc.signature }}\n"), "utf-8")
    assert "（盖章）示范市市场监督管理局" in notice.render(demo_policy, fmt="md", root=template_root)


def test_missing_variable_names_template_file_and_line(demo_policy, template_root):
    city = template_root / "demo" / "city"
    city.mkdir(parents=True)
    (city / "plan_notice.md.j2").write_text("{{ doc.title }}\n\n{{ doc.no_such_field }}\n", "utf-8")
    with pytest.raises(SpotcheckError) as err:
        notice.render(demo_policy, fmt="md", root=template_root)
    problem = err.value.problems[0]
    assert problem.code == "N807" and "no_such_field" in problem.message
    assert problem.file.endswith("demo/city/plan_notice.md.j2") and problem.line == 3


def test_missing_variable_in_a_shared_template_names_that_file(demo_policy, template_root):
    base = template_root / "_document.md.j2"
    lines = base.read_text("utf-8").splitlines()
    lines.insert(5, "{{ doc.missing_here }}")
    base.write_text("\n".join(lines) + "\n", "utf-8")
    with pytest.raises(SpotcheckError) as err:
        notice.render(demo_policy, fmt="md", root=template_root)
    problem = err.value.problems[0]
    assert problem.file.endswith("_document.md.j2") and problem.line == 6


def test_sandbox_refuses_python_internals(demo_policy, template_root):
    (template_root / "plan_notice.md.j2").write_text("{{ doc.__class__.__init__.__globals__ }}\n", "utf-8")
    with pytest.raises(SpotcheckError) as err:
        notice.render(demo_policy, fmt="md", root=template_root)
    assert err.value.problems[0].code in ("N807", "N808")


def test_template_syntax_error_names_file_and_line(demo_policy, template_root):
    (template_root / "plan_notice.md.j2").write_text("{{ doc.title }}\n{% if %}\n", "utf-8")
    with pytest.raises(SpotcheckError) as err:
        notice.render(demo_policy, fmt="md", root=template_root)
    problem = err.value.problems[0]
    assert problem.code == "N809" and problem.file.endswith("plan_notice.md.j2") and problem.line == 2


def test_jurisdiction_path_follows_the_policy_folder(demo_policy):
    assert str(notice_templates.jurisdiction_path(demo_policy)) == "demo/city"  # outside policies/: from its id
    loaded = load_policy(POLICIES / "shanxi/shuozhou/2021.yaml")
    assert str(notice_templates.jurisdiction_path(loaded)) == "shanxi/shuozhou"
    assert notice_templates.search_path(loaded)[:2] == [TEMPLATES / "shanxi" / "shuozhou", TEMPLATES / "shanxi"]


def test_html_titles_carry_their_lines():
    html = notice.render(load_policy(POLICIES / "shanxi/shuozhou/2021.yaml"), fmt="html")
    assert ('<h1>朔州市市场监督管理局关于印发<span class="nobr">2021年度</span><br><span class="nobr">双随机</span>'
            '抽查工作计划的通知</h1>'
            in html)
    # The landscape annex's title fits its 225 mm line whole.
    assert '<h1>朔州市市场监管局<span class="nobr">2021年度</span><span class="nobr">双随机</span>抽查工作计划</h1>' in html
    markdown = notice.render(load_policy(POLICIES / "shanxi/shuozhou/2021.yaml"), fmt="md")
    assert "朔州市市场监督管理局关于印发2021年度双随机抽查工作计划的通知" in markdown
