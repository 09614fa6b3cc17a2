from click.testing import CliRunner
from spotcheck.cli import main


def test_demo_command_prints_where_things_are(tmp_path):
    result = CliRunner().invoke(main, ["demo", "--out", str(tmp_path / "d"), "--entities", "800", "--inspectors", "100"])
    assert result.exit_code == 0, result.output
    assert "演示完成" in result.output and "report.html" in result.output
