"""Conditions: validation messages, reference semantics, words for officers, examples."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from spotcheck.rules import conditions as C
from spotcheck.rules import semantics as S
from spotcheck.rules import wording as W
from spotcheck.rules import examples as X
from spotcheck.rules.fields import ENTITY_FIELDS, INSPECTOR_FIELDS

SCOPE = {
    "all": [
        {"field": "type", "op": "eq", "value": "企业"},
        {"field": "status", "op": "in", "value": ["存续", "在营"]},
        {
            "any": [
                {"field": "labels", "op": "contains", "value": "加油站"},
                {"field": "labels", "op": "any_of", "value": ["集贸市场", "眼镜制配"]},
            ]
        },
        {"not": {"field": "tier", "op": "in", "value": ["A"]}},
        {"field": "established", "op": "lte", "value": "2020-12-31"},
    ]
}

CJK = re.compile(r"[\u4e00-\u9fff]")


def errors(data, **kw):
    with pytest.raises(ValidationError) as info:
        C.parse_condition(data, **kw)
    return info.value.errors()


def leaf(field, op, value):
    return {"field": field, "op": op, "value": value}


# ---------------------------------------------------------------------------------------------
# Strategies shared with test_rules: small value pools so that conditions often hold.

DATES = [dt.date(2019, 12, 31), dt.date(2020, 1, 1), dt.date(2020, 6, 30), dt.date(2020, 12, 31), dt.date(2021, 1, 1)]
POOLS = {
    "type": ["企业", "个体工商户", "农民专业合作社"],
    "status": ["存续", "在营", "注销", "吊销"],
    "tier": ["A", "B", "C", "D"],
    "district": ["东城区", "西城区", "朝阳区"],
    "address": ["北京路1号", "南京路", "人民大道2号"],
    "labels": ["加油站", "集贸市场", "眼镜制配", "电梯"],
    "established": DATES,
    "checks_this_year": [-1, 0, 1, 2],
}
SUBSTRINGS = ["路", "北京", "1号", "大道", "号"]
OPS_BY_KIND = {
    kind: [name for name, op in C.OPERATORS.items() if kind in op.kinds] for kind in ("str", "enum", "labels", "date", "int")
}


@st.composite
def leaves(draw):
    name = draw(st.sampled_from(sorted(POOLS)))
    kind = ENTITY_FIELDS[name].kind
    op = draw(st.sampled_from(OPS_BY_KIND[kind]))
    pool = POOLS[name]
    if op == "contains" and kind == "str":
        value = draw(st.sampled_from(SUBSTRINGS))
    elif C.OPERATORS[op].takes_list:
        value = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3))
    else:
        value = draw(st.sampled_from(pool))
    if kind == "date":
        value = [v.isoformat() for v in value] if isinstance(value, list) else value.isoformat()
    return leaf(name, op, value)


def condition_data(depth=3):
    if depth == 0:
        return leaves()
    inner = condition_data(depth - 1)
    return st.one_of(
        leaves(),
        st.lists(inner, min_size=1, max_size=3).map(lambda cs: {"all": cs}),
        st.lists(inner, min_size=1, max_size=3).map(lambda cs: {"any": cs}),
        inner.map(lambda c: {"not": c}),
    )


conditions = condition_data().map(C.parse_condition)


@st.composite
def entities(draw):
    entity = {}
    for name, pool in POOLS.items():
        if name == "labels":
            entity[name] = draw(st.one_of(st.none(), st.lists(st.sampled_from(pool), max_size=3)))
        elif draw(st.integers(0, 4)) > 0:
            entity[name] = draw(st.sampled_from(pool))
        else:
            entity[name] = draw(st.sampled_from([None, ""])) if ENTITY_FIELDS[name].kind in ("str", "enum") else None
    return entity


# ---------------------------------------------------------------------------------------------
# Validation


def test_policy_scope_parses_into_frozen_hashable_models():
    cond = C.parse_condition(SCOPE)
    assert isinstance(cond, C.AllOf)
    assert cond.all[1].value == ("存续", "在营")
    assert cond.all[4].value == dt.date(2020, 12, 31)
    assert isinstance(cond.all[3], C.Not)
    assert hash(cond) == hash(C.parse_condition(SCOPE))
    assert cond.model_dump(mode="json", by_alias=True)["all"][3] == {"not": leaf("tier", "in", ["A"])}


def test_unknown_field_suggests_the_close_name():
    (e,) = errors({"all": [leaf("type", "eq", "企业"), leaf("tyep", "eq", "企业")]})
    assert e["loc"] == ("all", 1, "field")
    assert e["type"] == "unknown_field"
    assert "未知字段 'tyep'" in e["msg"] and "是否想写 'type'（主体类型）" in e["msg"]


def test_unknown_field_written_in_chinese_suggests_the_field():
    (e,) = errors(leaf("信用等级", "eq", "A"))
    assert e["loc"] == ("field",)
    assert "是否想写 'tier'" in e["msg"]


def test_unknown_op_suggests_the_operator():
    (e,) = errors({"any": [leaf("status", "equal", "存续")]})
    assert e["loc"] == ("any", 0, "op")
    assert "未知运算符 'equal'" in e["msg"] and "'eq'" in e["msg"]
    (e,) = errors(leaf("established", ">=", "2020-01-01"))
    assert "是否想写 'gte'" in e["msg"]


@pytest.mark.parametrize(
    ("data", "loc"),
    [
        (leaf("tier", "contains", "A"), ("op",)),
        (leaf("status", "gte", "存续"), ("op",)),
        (leaf("labels", "eq", "加油站"), ("op",)),
        (leaf("established", "any_of", ["2020-01-01"]), ("op",)),
    ],
)
def test_op_must_suit_the_field_kind(data, loc):
    (e,) = errors(data)
    assert e["loc"] == loc and e["type"] == "op_not_for_field"
    assert "不适用于字段" in e["msg"]


def test_enum_value_outside_the_closed_set_is_located_at_the_item():
    found = errors({"not": leaf("tier", "in", ["A", "E", "b"])})
    assert [(e["loc"], e["type"]) for e in found] == [
        (("not", "value", 1), "value_not_in_enum"),
        (("not", "value", 2), "value_not_in_enum"),
    ]
    assert "'E' 不是信用风险等级的可选值" in found[0]["msg"] and "A、B、C、D" in found[0]["msg"]
    assert "是否想写 'B'" in found[1]["msg"]
    (e,) = errors(leaf("type", "eq", "公司"))
    assert e["loc"] == ("value",) and "主体类型" in e["msg"]


@pytest.mark.parametrize(
    ("data", "kind", "words"),
    [
        (leaf("status", "in", "存续"), "value_not_list", "应为列表"),
        (leaf("status", "eq", ["存续"]), "value_not_scalar", "改用 in"),
        (leaf("labels", "any_of", []), "value_empty_list", "不能为空"),
        (leaf("established", "lte", "2020-13-01"), "value_not_date", "YYYY-MM-DD"),
        (leaf("established", "lte", "20201231"), "value_not_date", "YYYY-MM-DD"),
        (leaf("checks_this_year", "gte", "1"), "value_not_int", "整数"),
        (leaf("checks_this_year", "gte", True), "value_not_int", "整数"),
        (leaf("district", "eq", 110101), "value_not_text", "加引号"),
        (leaf("district", "eq", ""), "value_empty", "不能为空"),
    ],
)
def test_value_must_fit_the_operator_and_field(data, kind, words):
    (e,) = errors(data)
    assert e["loc"] == ("value",) and e["type"] == kind and words in e["msg"]


def test_dates_may_be_given_as_date_objects():
    assert C.parse_condition(leaf("established", "lt", dt.date(2020, 1, 1))).value == dt.date(2020, 1, 1)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"field": "tier", "op": "eq"}, [(("value",), "缺少 'value'")]),
        (
            {"field": "tier", "op": "eq", "value": "A", "valeu": "B"},
            [(("valeu",), "不认识的键 'valeu'，是否想写 'value'")],
        ),
        ({"all": []}, [(("all",), "列表不能为空")]),
        ({"any": leaf("tier", "eq", "A")}, [(("any",), "应为列表")]),
        ({"all": [leaf("tier", "eq", "A")], "not": leaf("tier", "eq", "B")}, [(("not",), "不认识的键 'not'")]),
        ({"all": ["tier = A"]}, [(("all", 0), "条件应为映射")]),
        (["tier"], [((), "条件应为映射")]),
        ({"any": [{"not": {"field": 3, "op": "eq", "value": "A"}}]}, [(("any", 0, "not", "field"), "应为文字")]),
    ],
)
def test_structure_errors_are_chinese_and_located_without_union_tags(data, expected):
    found = errors(data)
    assert [(e["loc"], m) for e, (_, m) in zip(found, expected) if m in e["msg"]] == [
        (loc, m) for loc, m in expected
    ]


def test_every_message_is_chinese_in_a_policy_full_of_mistakes():
    bad = {
        "all": [
            leaf("tyep", "eq", "企业"),
            leaf("status", "equal", "存续"),
            leaf("tier", "in", ["A", "Z"]),
            {"field": "tier", "op": "eq", "value": "A", "extra": 1},
            {"any": []},
            {"not": 5},
            {"op": "eq"},
            {"all": "x"},
        ]
    }
    found = errors(bad)
    assert len(found) >= 8
    assert all(CJK.search(e["msg"]) for e in found), [e["msg"] for e in found]
    assert not any(tag in e["loc"] for e in found for tag in ("leaf",))


def test_conditions_embed_in_other_models_with_the_same_messages():
    class Task(BaseModel):
        scope: C.Condition

    with pytest.raises(ValidationError) as info:
        Task.model_validate({"scope": {"all": [leaf("tier", "eq", "E")]}})
    (e,) = info.value.errors()
    assert e["loc"] == ("scope", "all", 0, "value") and "信用风险等级" in e["msg"]


def test_another_vocabulary_can_be_passed_in_the_validation_context():
    data = leaf("specialties", "contains", "特种设备")
    assert C.parse_condition(data, vocabulary=INSPECTOR_FIELDS).field == "specialties"
    (e,) = errors(data)
    assert e["type"] == "unknown_field"


# ---------------------------------------------------------------------------------------------
# Semantics


ENTITY = {
    "type": "企业",
    "status": "存续",
    "labels": ["加油站", "洗车"],
    "tier": "B",
    "address": "北京路1号",
    "established": dt.date(2019, 5, 1),
    "checks_this_year": 1,
}


@pytest.mark.parametrize(
    ("data", "holds"),
    [
        (SCOPE, True),
        (leaf("status", "in", ["注销"]), False),
        (leaf("labels", "contains", "洗车"), True),
        (leaf("labels", "all_of", ["加油站", "洗车"]), True),
        (leaf("labels", "all_of", ["加油站", "电梯"]), False),
        (leaf("labels", "any_of", ["电梯", "洗车"]), True),
        (leaf("address", "contains", "北京"), True),
        (leaf("address", "contains", "上海"), False),
        (leaf("established", "gte", "2019-05-01"), True),
        (leaf("established", "gt", "2019-05-01"), False),
        (leaf("checks_this_year", "lt", 1), False),
        (leaf("checks_this_year", "lte", 1), True),
        ({"not": {"any": [leaf("tier", "eq", "A"), leaf("tier", "eq", "B")]}}, False),
    ],
)
def test_evaluate(data, holds):
    assert S.evaluate(C.parse_condition(data), ENTITY) is holds


@pytest.mark.parametrize(
    ("data", "holds"),
    [
        (leaf("district", "eq", "东城区"), False),
        (leaf("district", "ne", "东城区"), True),
        (leaf("district", "in", ["东城区"]), False),
        (leaf("district", "not_in", ["东城区"]), True),
        (leaf("district", "contains", "东"), False),
        (leaf("established", "gte", "2000-01-01"), False),
        (leaf("established", "lt", "2000-01-01"), False),
        ({"not": leaf("established", "lt", "2000-01-01")}, True),
        (leaf("established", "ne", "2000-01-01"), True),
        (leaf("labels", "any_of", ["加油站"]), False),
        ({"not": leaf("labels", "all_of", ["加油站"])}, True),
    ],
)
def test_missing_values_satisfy_only_negative_tests(data, holds):
    for missing in ({}, {"district": None, "established": None, "labels": None}, {"district": "", "labels": []}):
        assert S.evaluate(C.parse_condition(data), missing) is holds


def test_entity_values_of_the_wrong_type_are_programming_errors():
    with pytest.raises(TypeError):
        S.evaluate(C.parse_condition(leaf("established", "lt", "2020-01-01")), {"established": "2019-01-01"})
    with pytest.raises(TypeError):
        S.evaluate(C.parse_condition(leaf("labels", "contains", "加油站")), {"labels": "加油站"})
    assert S.evaluate(
        C.parse_condition(leaf("established", "lt", "2020-01-01")), {"established": dt.datetime(2019, 1, 1, 8)}
    )


def test_fields_read():
    assert S.fields_read(C.parse_condition(SCOPE)) == {"type", "status", "labels", "tier", "established"}


def test_literals_push_not_down_to_the_leaves():
    cond = C.parse_condition({"not": {"all": [leaf("tier", "eq", "A"), {"not": leaf("type", "eq", "企业")}]}})
    assert [[(lf.field, holds) for lf, holds in conj] for conj in S.literals(cond)] == [
        [("tier", False)],
        [("type", True)],
    ]


# ---------------------------------------------------------------------------------------------
# Words


def test_describe_the_policy_scope():
    assert W.describe(C.parse_condition(SCOPE)) == (
        "主体类型为企业，且登记状态为存续、在营之一，且（监管标签含加油站，或监管标签含集贸市场、眼镜制配之一），"
        "且信用风险等级不为A（低风险），且成立日期不晚于2020-12-31"
    )


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ({"not": leaf("established", "lte", "2020-12-31")}, "成立日期晚于2020-12-31或为空"),
        ({"not": leaf("labels", "any_of", ["加油站", "电梯"])}, "监管标签不含加油站、电梯中任一"),
        ({"not": leaf("labels", "all_of", ["加油站", "电梯"])}, "监管标签不同时含加油站、电梯"),
        (leaf("address", "contains", "路"), "住所包含“路”"),
        (leaf("checks_this_year", "lt", 2), "本年度已抽查次数少于2"),
        (leaf("status", "not_in", ["注销", "吊销"]), "登记状态不为注销、吊销中任一"),
        ({"not": {"any": [leaf("tier", "eq", "D"), leaf("type", "eq", "企业")]}}, "并非（信用风险等级为D（高风险），或主体类型为企业）"),
        ({"any": [{"all": [leaf("tier", "eq", "D")]}]}, "信用风险等级为D（高风险）"),
    ],
)
def test_describe(data, text):
    assert W.describe(C.parse_condition(data)) == text


def test_explain_marks_each_part():
    entity = dict(ENTITY, status="注销")
    lines = W.explain(C.parse_condition(SCOPE), entity)
    assert lines == [
        "✗ 以下全部满足（5 项中 4 项满足）：",
        "  ✓ 主体类型为企业（实际：企业）",
        "  ✗ 登记状态为存续、在营之一（实际：注销）",
        "  ✓ 以下任一满足（2 项中 1 项满足）：",
        "    ✓ 监管标签含加油站（实际：加油站、洗车）",
        "    ✗ 监管标签含集贸市场、眼镜制配之一（实际：加油站、洗车）",
        "  ✓ 信用风险等级不为A（低风险）（实际：B（一般风险））",
        "  ✓ 成立日期不晚于2020-12-31（实际：2019-05-01）",
    ]


@settings(max_examples=200, deadline=None)
@given(conditions, entities())
def test_explain_agrees_with_evaluate(cond, entity):
    lines = W.explain(cond, entity)
    assert lines[0].startswith("✓" if S.evaluate(cond, entity) else "✗")
    assert all(line.lstrip()[0] in "✓✗" for line in lines)


# ---------------------------------------------------------------------------------------------
# Examples


def test_example_satisfies_the_policy_scope_and_varies_with_the_seed():
    cond = C.parse_condition(SCOPE)
    found = [X.example(cond, seed) for seed in range(4)]
    assert all(S.evaluate(cond, e) for e in found)
    assert len({tuple(e["labels"]) for e in found}) > 1


@pytest.mark.parametrize(
    "data",
    [
        {"all": [leaf("type", "eq", "企业"), leaf("type", "ne", "企业")]},
        {"all": [leaf("established", "gt", "2020-01-01"), leaf("established", "lt", "2020-01-02")]},
        {"all": [leaf("labels", "contains", "加油站"), {"not": leaf("labels", "any_of", ["加油站", "电梯"])}]},
        {"all": [leaf("address", "contains", "北京路"), {"not": leaf("address", "contains", "京路")}]},
        {"all": [leaf("labels", "any_of", ["a", "b"]), {"not": leaf("labels", "any_of", ["a"])}, {"not": leaf("labels", "contains", "b")}]},
        {"all": [leaf("district", "in", ["东城区"]), leaf("district", "not_in", ["东城区", "西城区"])]},
    ],
)
def test_example_of_an_unsatisfiable_condition_is_none(data):
    assert X.example(C.parse_condition(data)) is None


@pytest.mark.parametrize(
    "data",
    [
        {"all": [leaf("established", "gt", "2020-01-01"), leaf("established", "lt", "2020-01-03")]},
        {"all": [leaf("checks_this_year", "not_in", [0, 1, 2]), leaf("checks_this_year", "gte", 0), leaf("checks_this_year", "lte", 3)]},
        {"all": [leaf("address", "contains", "北京"), leaf("address", "contains", "京路"), {"not": leaf("address", "contains", "北京路")}]},
        {"all": [leaf("labels", "any_of", ["a", "b"]), leaf("labels", "any_of", ["b", "c"]), {"not": leaf("labels", "all_of", ["a", "b"])}]},
        {"not": leaf("tier", "in", ["A", "B", "C"])},
        {"all": [leaf("name", "ne", "甲"), {"not": leaf("name", "contains", "乙")}]},
    ],
)
def test_example_of_a_tight_condition(data):
    cond = C.parse_condition(data)
    found = X.example(cond)
    assert found is not None and S.evaluate(cond, found)


@settings(max_examples=300, deadline=None)
@given(conditions, st.lists(entities(), min_size=1, max_size=5), st.integers(0, 3))
def test_example_satisfies_and_exists_whenever_some_entity_does(cond, sample, seed):
    found = X.example(cond, seed)
    if found is not None:
        assert S.evaluate(cond, found)
        assert set(found) <= S.fields_read(cond)
    # Directories never leave a required field empty, so only complete entities count.
    complete = [e for e in sample if all(e.get(f) not in (None, "") for f in e if ENTITY_FIELDS[f].required)]
    if any(S.evaluate(cond, e) for e in complete):
        assert found is not None


# ---------------------------------------------------------------------------------------------
# Dates relative to the draw


def test_a_relative_date_is_kept_as_written_and_resolved_for_the_draws_day():
    # 成立不满1年 / 许可证3个月内到期, as of a draw on 29 February.
    cond = C.parse_condition({"all": [{"field": "established", "op": "gt", "value": "抽取日前1年"},
                                      {"field": "expires", "op": "lt", "value": "抽取日后3个月"}]})
    assert cond.all[0].value == "抽取日前1年"
    assert W.describe(cond) and "抽取日前1年" in W.describe(cond)
    on = dt.date(2024, 2, 29)
    resolved = C.resolve_dates(cond, on)
    assert [c.value for c in resolved.all] == [dt.date(2023, 2, 28), dt.date(2024, 5, 29)]
    young = {"established": dt.date(2023, 3, 1), "expires": dt.date(2024, 4, 1)}
    assert S.evaluate(resolved, young)
    assert not S.evaluate(C.resolve_dates(cond, dt.date(2024, 3, 2)), young)  # a year old by then
    assert C.relative_date("抽取日前30日", on) == dt.date(2024, 1, 30)
    assert C.relative_date("抽取日后1个月", dt.date(2024, 1, 31)) == dt.date(2024, 2, 29)


@pytest.mark.parametrize("value", ["抽取日前一年", "抽取日前0年", "前1年", "抽取日前1周"])
def test_a_relative_date_written_otherwise_is_refused_with_the_forms_named(value):
    with pytest.raises(ValidationError) as exc:
        C.parse_condition({"field": "established", "op": "gt", "value": value})
    assert "抽取日前1年" in exc.value.errors()[0]["msg"]
