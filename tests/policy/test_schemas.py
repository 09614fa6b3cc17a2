import json
from pathlib import Path

import jsonschema
import pytest
from spotcheck.policy.files import SCHEMA_FILES, file_kind
from spotcheck.resources import SCHEMAS
from spotcheck.policy.schemas import MODELS, export_schemas, reference_name, schema_drift
from spotcheck.policy.yamlsource import parse_yaml

FIXTURES = Path(__file__).parents[1] / "fixtures" / "policies"


def validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def test_checked_in_schemas_match_the_models():
    # Fails when a model changed without `spotcheck schema export`.
    assert schema_drift() == []


def test_drift_is_detected(tmp_path):
    written = export_schemas(tmp_path)
    assert sorted(p.name for p in written) == sorted([*MODELS, *(reference_name(name) for name in MODELS)])
    assert schema_drift(tmp_path) == []
    path = tmp_path / "policy.schema.json"
    path.write_text(path.read_text(encoding="utf-8").replace("抽查任务名称", "任务名称"), encoding="utf-8")
    (tmp_path / "cases.schema.json").unlink()
    (tmp_path / "item-list.reference.md").write_text("手改过", encoding="utf-8")
    assert [(p.code, Path(p.file).name) for p in schema_drift(tmp_path)] == [
        ("P191", "policy.schema.json"), ("P191", "item-list.reference.md"), ("P191", "cases.schema.json")]


@pytest.mark.parametrize("path", sorted(FIXTURES.rglob("*.yaml")), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture_files_satisfy_their_schema(path):
    doc, problems = parse_yaml(path)
    assert problems == []
    errors = list(validator(SCHEMA_FILES[file_kind(path)]).iter_errors(doc.data))
    assert errors == []


def test_schema_refuses_what_the_model_refuses():
    doc, _ = parse_yaml(FIXTURES / "city" / "2023.yaml")
    data = json.loads(json.dumps(doc.data))
    data["tasks"][0]["sampling"] = {"ratoi": "5%"}
    data["tasks"][1]["type"] = "直接"
    data["tasks"][2]["sampling"]["ratio"] = 0.05
    errors = sorted(validator("policy.schema.json").iter_errors(data), key=lambda e: list(e.absolute_path))
    assert [list(e.absolute_path)[:3] for e in errors] == [["tasks", 0, "sampling"], ["tasks", 1, "type"],
                                                             ["tasks", 2, "sampling"]]


def test_schemas_carry_the_chinese_titles():
    schema = json.loads((SCHEMAS / "policy.schema.json").read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["tasks"]["title"] == "抽查任务"
    assert schema["$defs"]["Task"]["properties"]["name"]["title"] == "抽查任务名称"
    cases = json.loads((SCHEMAS / "cases.schema.json").read_text(encoding="utf-8"))
    assert cases["$defs"]["Entity"]["properties"]["tier"]["title"] == "信用风险等级"
    assert "from" in cases["$defs"]["DeadlineQuery"]["properties"]


def test_hover_text_is_chinese():
    import re

    from spotcheck.policy.schemas import MODELS, schema

    def texts(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("title", "description") and isinstance(value, str):
                    yield value
                elif key not in ("default", "const", "enum", "examples"):
                    yield from texts(value)
        elif isinstance(node, list):
            for value in node:
                yield from texts(value)

    for model in MODELS.values():
        shown = list(texts(schema(model)))
        assert shown and all(re.search(r"[\u4e00-\u9fff]", t) for t in shown), [t for t in shown if not re.search(r"[\u4e00-\u9fff]", t)]
    assert schema(MODELS["policy.schema.json"])["title"] == "抽查策略"
