import io
from pathlib import Path

from click.testing import CliRunner
from docx import Document
from spotcheck.cli import main
from spotcheck.resources import POLICIES

FIXTURES = Path(__file__).parents[1] / "fixtures" / "notice"
DEMO = FIXTURES / "policies" / "demo" / "city" / "2023.yaml"
SHUOZHOU = POLICIES / "shanxi" / "shuozhou" / "2021.yaml"


def run(*args):
    return CliRunner().invoke(main, ["notice", *map(str, args)])


def test_plan_notice_to_docx_with_the_21_row_table(tmp_path):
    out = tmp_path / "plan.docx"
    result = run(SHUOZHOU, "--format", "docx", "--out", out)
    assert result.exit_code == 0, result.output
    doc = Document(io.BytesIO(out.read_bytes()))
    (table,) = doc.tables
    assert len(table.rows) == 22 and table.rows[21].cells[1].text == "对企业的不定向双随机抽查"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.docx"]


def test_markdown_to_stdout_by_default():
    result = run(DEMO)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# 示范市市场监督管理局文件\n\n示市监〔2023〕7号")


def test_html_to_file(tmp_path):
    out = tmp_path / "n.html"
    assert run(DEMO, "--format", "html", "--out", out).exit_code == 0
    assert out.read_text("utf-8").startswith("<!DOCTYPE html>")


def test_letters_from_a_draw_folder():
    result = run(DEMO, "--kind", "letter", "--draw", FIXTURES / "draw")
    assert result.exit_code == 0, result.output
    assert result.stdout.count("# 随机抽查通知书（演练）") == 7


def test_task_notice_from_a_draw_folder():
    result = run(DEMO, "--kind", "task", "--draw", FIXTURES / "draw")
    assert result.exit_code == 0, result.output
    assert "随机抽查通知书" not in result.stdout
    assert "东区（3户）" in result.stdout and "西区（1户）" in result.stdout
    assert run(DEMO, "--draw", FIXTURES / "draw").stdout == result.stdout  # --draw alone means the task notice


def test_document_and_kind_options():
    assert run(DEMO, "--document", "letter").stdout.startswith("# 示范市市场监督管理局\n\n示市监函〔2023〕12号")
    result = run(DEMO, "--kind", "scheme")
    assert result.exit_code == 1 and "N805" in result.stderr


def test_binary_formats_need_out():
    result = run(DEMO, "--format", "docx")
    assert result.exit_code == 2 and "--out" in result.output


def test_problems_exit_1_and_leave_no_file(tmp_path):
    out = tmp_path / "task.docx"
    result = run(DEMO, "--kind", "task", "--format", "docx", "--out", out)
    assert result.exit_code == 1 and "N804" in result.stderr and "--draw" in result.stderr
    assert not out.exists()


def test_list_templates_names_the_file_for_every_kind_and_format():
    result = run("--list-templates", SHUOZHOU)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "templates/shanxi/shuozhou" in lines[0]
    assert len(lines) == 1 + 7 * 4
    plan_md = next(line for line in lines if line.startswith("plan_notice") and " md " in line)
    assert plan_md.rstrip().endswith("templates/plan_notice.md.j2")
    assert any(line.startswith("task_notice") and line.rstrip().endswith("docx/task_notice.docx") for line in lines)


def test_letters_per_unit_and_month_hold_one_letter_per_visit(tmp_path):
    import polars as pl

    out = tmp_path / "letters"
    result = run(DEMO, "--kind", "letter", "--draw", FIXTURES / "draw", "--format", "docx", "--per-unit", "--out", out)
    assert result.exit_code == 0, result.output
    visits = pl.read_csv(FIXTURES / "draw" / "visits.csv", infer_schema=False)
    where = {}
    for path in sorted(out.rglob("*.docx")):
        texts = [p.text for p in Document(str(path)).paragraphs]
        for visit_id in (t.removeprefix("检查编号：") for t in texts if t.startswith("检查编号：")):
            assert visit_id not in where, visit_id
            where[visit_id] = (path.parent.name, path.stem)
    expected = {v: (unit, f"2023年{int(m):02d}月") for v, unit, m in visits.select("visit_id", "inspecting_unit", "month").iter_rows()}
    assert where == expected
    assert result.stdout.splitlines()[0] == "示范市东区市场监督管理局/2023年06月.docx\t3"
    # The folder is new or nothing: a second run refuses and leaves the first alone.
    again = run(DEMO, "--kind", "letter", "--draw", FIXTURES / "draw", "--format", "docx", "--per-unit", "--out", out)
    assert again.exit_code != 0 and len(list(out.rglob("*.docx"))) == 4


def test_per_unit_is_for_letters_and_the_task_announcement_only(tmp_path):
    result = run(DEMO, "--kind", "plan", "--draw", FIXTURES / "draw", "--per-unit", "--out", tmp_path / "x")
    assert result.exit_code == 2 and "--kind letter" in result.output and not (tmp_path / "x").exists()
    result = run(DEMO, "--kind", "task", "--draw", FIXTURES / "draw", "--per-entity", "--out", tmp_path / "x")
    assert result.exit_code == 2 and not (tmp_path / "x").exists()
    result = run(DEMO, "--kind", "task", "--draw", FIXTURES / "draw", "--per-unit", "--format", "docx", "--out", tmp_path / "x")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == sorted(line.split("\t")[0] for line in result.stdout.splitlines())


def test_per_entity_files_are_word_only(tmp_path):
    result = run(DEMO, "--kind", "letter", "--draw", FIXTURES / "draw", "--format", "pdf", "--per-entity", "--out", tmp_path / "x")
    assert result.exit_code == 1 and "N852" in result.output and "LibreOffice" in result.output
    assert not (tmp_path / "x").exists()
    result = run(DEMO, "--kind", "letter", "--draw", FIXTURES / "draw", "--format", "docx", "--per-entity", "--out", tmp_path / "y")
    assert result.exit_code == 0, result.output
    assert sorted(p.suffix for p in (tmp_path / "y").rglob("*.*")) == [".zip"] * 4
