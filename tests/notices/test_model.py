from spotcheck.notices import model as notice_model
from conftest import ROOT


def test_templates_readme_names_every_variable_a_template_gets():
    readme = (ROOT / "templates" / "README.md").read_text("utf-8")
    for name in notice_model.Notice.__dataclass_fields__:
        assert f"doc.{name}" in readme, name
