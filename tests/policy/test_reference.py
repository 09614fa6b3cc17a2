import re

from spotcheck.policy.model import Policy
from spotcheck.policy.reference import reference
from spotcheck.policy.schemas import schema


def test_every_key_of_every_object_is_listed_under_its_object():
    exported = schema(Policy)
    text = reference(exported, "policy.schema.json")
    sections = dict(re.findall(r'<a id="(\w+)"></a>\n\n## [^\n]+\n\n(.*?)(?=\n<a id=|\Z)', text, flags=re.S))
    for name, node in exported["$defs"].items():
        for key in node.get("properties", {}):
            assert f"| `{key}` |" in sections[name.lower()], (name, key)


def test_links_lead_to_sections_and_say_what_a_value_may_be():
    text = reference(schema(Policy), "policy.schema.json")
    anchors = set(re.findall(r'<a id="(\w+)"></a>', text))
    assert set(re.findall(r"\]\(#(\w+)\)", text)) <= anchors
    sampling = text.split('<a id="sampling"></a>')[1].split("<a id=")[0]
    assert "| `stratify` | 分层 | 列表（每项：取值：\"tier\"、\"district\"、\"type\"、\"industry\"、\"office\"、\"grid\"） |" in sampling
    assert "| `at_most` | 不高于 | true/false | 可省略 |" in sampling
    assert re.search(r"\| `times_per_year` \| 每年次数 \| 整数（≥1，≤12） \|", sampling)
    tasks = text.split("## 抽查策略\n")[1].split("<a id=")[0]
    assert "| `tasks` | 抽查任务 | 列表（每项：[抽查任务](#task)） |" in tasks
    assert "| `id` | 策略标识 | 文字 | 必填 |" in tasks
