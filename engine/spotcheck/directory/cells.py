"""Normalising and checking a directory's cells, as polars expressions.

Each field's canonical column is an expression over its raw text (export spellings of types,
statuses and tiers; dates as officers write them; codes with stray spaces), and each kind of cell
problem is a `CellCheck`: an expression that flags rows, and a function that words the problem for the
few rows listed. They are expressions rather than Python per row so that `directory` can run all of
them in one streaming pass over ten million rows, and, for few-valued columns, once per distinct
value (`normalise_per_value`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

import polars as pl
from spotcheck.directory import uscc
from spotcheck.directory.headers import readable_fields
from spotcheck.rules.fields import (
    ENTITY_FIELDS,
    ENTITY_STATUSES,
    ENTITY_TYPES,
    INSPECTOR_FIELDS,
    LABEL_SEPARATORS,
    RECUSAL_FIELDS,
    REGISTRATION_KINDS,
    TIER_NAMES,
    Field,
)

# A directory read for a policy: its kinds of object and its risk scales are the policy's vocabulary,
# checked against the policy row by row after loading (directory/kinds.py); here they are only
# normalised, and a kind of object without a scale needs no tier.
OBJECT_FIELDS = {
    **ENTITY_FIELDS,
    "type": replace(ENTITY_FIELDS["type"], values=()),
    "tier": replace(ENTITY_FIELDS["tier"], values=(), blanks_allowed=True),
}

# A directory of a policy some of whose kinds have no USCC of their own (kinds → identified_by): the code
# may be blank (a person's certificate) or repeat (a holder's several 库点); directory/kinds.py checks each
# row against its kind's identity and the objects' keys for repeats.
NUMBERED_FIELDS = {
    **OBJECT_FIELDS,
    "uscc": replace(ENTITY_FIELDS["uscc"], blanks_allowed=True),
    # The number such an object is known by: a person's certificate, or a site's under its holder.
    "object_id": Field("object_id", "str", "对象编号", ("对象编号", "库点编号", "证书编号", "证件编号", "资格证书编号")),
}

# "长期" and friends are how exports write an open-ended term.
OPEN_ENDED = ("长期", "永久", "长期有效", "无固定期限", "不约定期限")

# Characters XML cannot hold (so no Word notice can print them), and the invisible C0/C1 controls and
# noncharacters that copy-and-paste from other systems brings along. Tab and line breaks are written text.
CONTROL_CHARACTERS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff"
CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")
_DATE_HINT = "日期请写成 2023-01-05、2023/1/5、20230105 或 2023年1月5日"
_USCC_HINT = "统一社会信用代码为 18 位，不使用字母 I、O、S、V、Z（常见错误：数字 0 写成字母 O）；请与营业执照核对"
_EXCEL_NUMBER_HINT = "；Excel 中 18 位数字会被当作数值而丢失末几位，请把该列设为“文本”格式后重新填写"


@dataclass(frozen=True)
class CellCheck:
    """One kind of cell problem: rows where `bad` is true get a Problem built by `describe`."""

    code: str
    field: str
    bad: pl.Expr
    describe: Callable[[dict], tuple[str, str]]  # row values → (message, hint)
    extra: tuple[pl.Expr, ...] = ()  # named row-wise expressions the messages need, computed on listed rows only
    # Named row-wise expressions `bad` reads, computed once per row for all checks that share them:
    # polars works a subexpression out again wherever it appears.
    shared: tuple[pl.Expr, ...] = ()
    duplicates: bool = False  # listed rows also get `_first`, the row where their value first appears
    quotes_cell: bool = False  # listed rows also get `raw_<field>`, the cell as written


def raw_cell(name: str) -> pl.Expr:
    return pl.col(f"raw_{name}")


def trimmed(col: str) -> pl.Expr:
    """Trimmed text; an empty cell is null."""
    s = pl.col(col).str.strip_chars()
    return pl.when(s == "").then(None).otherwise(s)


def _normalise_uscc(raw: pl.Expr) -> pl.Expr:
    # Nearly every code is written right already, and testing for that is cheaper than rewriting it.
    written_right = ~raw.str.contains(f"[^{uscc.CHARSET}]")
    return pl.when(written_right).then(raw).otherwise(raw.str.replace_all(r"\s", "").str.to_uppercase())


def _tier(raw: pl.Expr) -> pl.Expr:
    names = {name: tier for tier, name in TIER_NAMES.items()}
    key = raw.str.to_uppercase().str.strip_chars_end("级类")
    mapping = {**{t: t for t in TIER_NAMES}, **names}
    return key.replace_strict(mapping, default=None, return_dtype=pl.String)


def _entity_type(raw: pl.Expr) -> pl.Expr:
    # Exports spell out the legal form ("有限责任公司（自然人独资）", "个人独资企业"); the plan only
    # distinguishes the three registration kinds.
    return (
        pl.when(raw.is_in(list(ENTITY_TYPES)))
        .then(raw)
        .when(raw.str.contains("个体"))
        .then(pl.lit("个体工商户"))
        .when(raw.str.contains("合作社"))
        .then(pl.lit("农民专业合作社"))
        .when(raw.str.contains("公司") | raw.str.contains("企业"))
        .then(pl.lit("企业"))
    )


def _object_kind(raw: pl.Expr) -> pl.Expr:
    # A GB 32100 kind is taken as written before any legal-form guess: "民办非企业单位" contains 企业
    # and is not one.
    known = list(dict.fromkeys([*ENTITY_TYPES, *REGISTRATION_KINDS.values()]))
    return pl.when(raw.is_in(known)).then(raw).otherwise(pl.coalesce(_entity_type(raw), raw))


def _object_tier(raw: pl.Expr) -> pl.Expr:
    return pl.coalesce(_tier(raw), raw)


def _entity_status(raw: pl.Expr) -> pl.Expr:
    # The national system writes "存续（在营、开业、在册）" and "吊销，未注销" / "吊销，已注销".
    key = raw.str.replace_all(r"\s", "").str.strip_prefix("已")
    chain = pl.when(key.is_in(list(ENTITY_STATUSES))).then(key)
    chain = chain.when(key.str.contains("已注销")).then(pl.lit("注销"))
    for status in sorted(ENTITY_STATUSES, key=len, reverse=True):
        chain = chain.when(key.str.starts_with(status)).then(pl.lit(status))
    return chain.otherwise(None)


def _enum(field: Field, aliases: dict[str, str] | None = None) -> Callable[[pl.Expr], pl.Expr]:
    mapping = {v: v for v in field.values} | (aliases or {})
    return lambda raw: raw.replace_strict(mapping, default=None, return_dtype=pl.String)


def _labels(raw: pl.Expr) -> pl.Expr:
    separators = "[" + "".join(re.escape(s) for s in LABEL_SEPARATORS) + "]"
    items = raw.str.replace_all(separators, "\x1f").str.split("\x1f")
    items = items.list.eval(pl.element().str.strip_chars()).list.eval(pl.element().filter(pl.element() != ""))
    return items.list.unique(maintain_order=True).fill_null(pl.lit([], dtype=pl.List(pl.String)))


_DATE_COMPACT = r"^(\d{4})(\d{2})(\d{2})$"
# Any of - / . 年月日 between the parts; a midnight time part is how Excel date cells arrive as text.
_DATE_YMD = r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"


def _date(raw: pl.Expr) -> pl.Expr:
    # Rewritten to Y-M-D then parsed once; chrono takes 1- or 2-digit months and days, and
    # rejects impossible dates such as 2023-02-30 (null, reported as a bad date).
    iso = raw.str.replace(_DATE_COMPACT, "${1}-${2}-${3}").str.replace(_DATE_YMD, "${1}-${2}-${3}")
    return iso.str.to_date("%Y-%m-%d", strict=False)


def _open_ended(raw: pl.Expr) -> pl.Expr:
    return raw.is_in(list(OPEN_ENDED))


_ENUM_NORMALISERS: dict[tuple[str, str], Callable[[pl.Expr], pl.Expr]] = {
    ("entity", "tier"): _tier,
    ("entity", "type"): _entity_type,
    ("entity", "status"): _entity_status,
    ("object", "type"): _object_kind,
    ("object", "tier"): _object_tier,
    ("object", "status"): _entity_status,
    ("inspector", "status"): _enum(INSPECTOR_FIELDS["status"], {"在职": "在岗"}),
    ("inspector", "role"): _enum(INSPECTOR_FIELDS["role"], {"行政执法人员": "执法人员", "第三方": "第三方机构"}),
}


def _dtype(field: Field) -> pl.DataType:
    if field.kind == "labels":
        return pl.List(pl.String)
    if field.kind == "date":
        return pl.Date
    # The global categories, so that columns of different files compare and join with each other.
    return pl.Categorical() if field.few_values else pl.String


def typed_column(field: Field, kind: str, present: bool) -> pl.Expr:
    """The canonical column for `field` from its raw text column (or a typed null when the file lacks it)."""
    if not present:
        if field.kind == "labels":
            return pl.lit([], dtype=pl.List(pl.String)).alias(field.name)
        return pl.lit(None, dtype=_dtype(field)).alias(field.name)
    raw = raw_cell(field.name)
    if field.name == "uscc":
        expr = _normalise_uscc(raw)
    elif field.kind == "enum":
        expr = _ENUM_NORMALISERS.get((kind, field.name), _enum(field))(raw)
    elif field.kind == "labels":
        expr = _labels(raw)
    elif field.kind == "date":
        expr = _date(raw)
    else:
        expr = raw
    return expr.cast(_dtype(field)).alias(field.name)


def _common_checks(fields: dict[str, Field], kind: str, present: set[str]) -> list[CellCheck]:
    checks: list[CellCheck] = []
    for field in readable_fields(fields):
        if field.name not in present:
            continue
        raw, value = raw_cell(field.name), pl.col(field.name)
        # A code is checked for its own characters (D206).
        if field.kind in ("str", "labels") and field.name != "uscc":
            checks.append(
                CellCheck(
                    "D220",
                    field.name,
                    raw.str.contains(f"[{CONTROL_CHARACTERS}]"),
                    lambda r, f=field: _control_character(f, r[f"raw_{f.name}"]),
                    quotes_cell=True,
                )
            )
        if field.required and not field.blanks_allowed:
            checks.append(
                CellCheck(
                    "D205",
                    field.name,
                    raw.is_null(),
                    lambda r, f=field: (f"必填项「{f.title}」为空", f"请填写{f.title}"),
                )
            )
        if field.kind == "enum" and field.values:
            checks.append(
                CellCheck(
                    "D209",
                    field.name,
                    raw.is_not_null() & value.is_null(),
                    lambda r, f=field: (
                        f"'{r[f'raw_{f.name}']}' 不是有效的{f.title}",
                        f"{f.title}应为 {'、'.join(f.values)} 之一",
                    ),
                    quotes_cell=True,
                )
            )
        elif field.kind == "date":
            bad = raw.is_not_null() & value.is_null()
            if field.name.endswith("expires"):
                bad = bad & ~_open_ended(raw)
            checks.append(
                CellCheck(
                    "D210",
                    field.name,
                    bad,
                    lambda r, f=field: (f"'{r[f'raw_{f.name}']}' 不是有效的{f.title}", _DATE_HINT),
                    quotes_cell=True,
                )
            )
    return checks


def _control_character(field: Field, written: str) -> tuple[str, str]:
    found = CONTROL.search(written)
    at = found.start() + 1 if found else 0
    char = f"U+{ord(found.group()):04X}" if found else ""
    return (
        f"「{field.title}」第 {at} 个字符是看不见的控制字符 {char}，无法写入通知书等公文",
        "这类字符多是从其他系统复制时带入的；请在原系统或 Excel 中删除它后重新导出",
    )


def _uscc_checks(excel: bool) -> list[CellCheck]:
    code = pl.col("uscc")
    remainder = (uscc.remainders_expr(code).alias("_remainder"),)  # null unless 18 legal characters
    expected = uscc.check_char_expr(code)
    extra_hint = _EXCEL_NUMBER_HINT if excel else ""

    def shape(r: dict) -> tuple[str, str]:
        value = r["uscc"]
        if len(value) != 18:
            return f"统一社会信用代码 '{value}' 应为 18 位，此处为 {len(value)} 位", _USCC_HINT + extra_hint
        illegal = next(c for c in value if c not in uscc.CHARSET)
        return f"统一社会信用代码 '{value}' 含有不允许的字符 '{illegal}'", _USCC_HINT

    def check(r: dict) -> tuple[str, str]:
        value = r["uscc"]
        return (
            f"统一社会信用代码 '{value}' 校验位错误：按前 17 位计算应为 '{r['_expected']}'，此处为 '{value[17]}'",
            "请与营业执照核对；前 17 位抄错时校验位也对不上" + (extra_hint if value.isdigit() else ""),
        )

    def duplicate(r: dict) -> tuple[str, str]:
        return (
            f"统一社会信用代码 '{r['uscc']}' 重复：第 {r['_first']} 行与第 {r['_row']} 行",
            "同一市场主体只能出现一次，请删除重复行或核对代码",
        )

    return [
        CellCheck("D206", "uscc", code.is_not_null() & pl.col("_remainder").is_null(), shape, shared=remainder),
        CellCheck("D207", "uscc", pl.col("_remainder") != 0, check, (expected.alias("_expected"),), shared=remainder),
        _duplicate_check("D208", "uscc", duplicate),
    ]


def _duplicate_check(code: str, field: str, describe: Callable[[dict], tuple[str, str]]) -> CellCheck:
    value = pl.col(field)
    return CellCheck(code, field, value.is_not_null() & ~value.is_first_distinct(), describe, duplicates=True)


def entity_checks(present: set[str], excel: bool) -> list[CellCheck]:
    checks = _common_checks(ENTITY_FIELDS, "entity", present)
    if "uscc" in present:
        checks += _uscc_checks(excel)
    return checks


def object_checks(present: set[str], excel: bool) -> list[CellCheck]:
    checks = _common_checks(OBJECT_FIELDS, "object", present)
    if "uscc" in present:
        checks += _uscc_checks(excel)
    return checks


def numbered_checks(present: set[str], excel: bool) -> list[CellCheck]:
    checks = _common_checks(NUMBERED_FIELDS, "object", present)
    if "uscc" in present:
        checks += [c for c in _uscc_checks(excel) if c.code != "D208"]
    return checks


def inspector_checks(present: set[str], excel: bool) -> list[CellCheck]:
    checks = _common_checks(INSPECTOR_FIELDS, "inspector", present)
    if "inspector_id" in present:
        checks.append(
            _duplicate_check(
                "D211",
                "inspector_id",
                lambda r: (
                    f"执法人员编号 '{r['inspector_id']}' 重复：第 {r['_first']} 行与第 {r['_row']} 行",
                    "每名人员只能出现一次，请删除重复行或核对编号",
                ),
            )
        )
    return checks


def recusal_checks(present: set[str], excel: bool) -> list[CellCheck]:
    checks = _common_checks(RECUSAL_FIELDS, "recusal", present)
    if "uscc" in present:
        # The same pair listed twice is harmless; only the code itself must be right.
        checks += [c for c in _uscc_checks(excel) if c.code != "D208"]
    return checks


def any_filled(not_blank: list[pl.Expr]) -> pl.Expr:
    return (pl.any_horizontal(not_blank) if not_blank else pl.lit(False)).alias("any_filled")


def normalise_per_value(cells: pl.Series, field: Field, kind: str, checks: list[CellCheck]) -> pl.DataFrame:
    """`field`'s typed column, `_blank` and its checks' `_bad{i}` flags, each worked out once per distinct cell.

    The distinct cells are the column's own categories, and a null for empty cells; a row takes the
    results of its category by the category's physical code.
    """
    distinct = cells.dtype.categories.to_series()
    mine = {i: c for i, c in enumerate(checks) if c.field == field.name and not c.duplicates}
    table = (
        # In one chunk: gathering lists from a table in pieces is many times slower.
        pl.DataFrame({"raw_cell": pl.concat([distinct, pl.Series([None], dtype=pl.String)], rechunk=True)})
        .select(trimmed("raw_cell").alias(f"raw_{field.name}"))
        .with_columns(typed_column(field, kind, True))
        .select(
            field.name,
            raw_cell(field.name).is_null().alias("_blank"),
            *[c.bad.fill_null(False).alias(f"_bad{i}") for i, c in mine.items()],
        )
    )
    codes = cells.to_physical().fill_null(distinct.len())
    # A flag holds for few categories if any (blank cells, values in error): looking those up is
    # several times faster than gathering the flag for every row.
    return pl.DataFrame(
        [
            table.get_column(field.name).gather(codes),
            *[codes.is_in(table.get_column(flag).arg_true().implode()).alias(flag) for flag in table.columns[1:]],
        ]
    )


def duplicate_rows(work: pl.DataFrame, check: CellCheck) -> pl.Series:
    # Equal values have equal 64-bit hashes, so when the hashes are all distinct no value repeats;
    # counting them is several times faster than comparing the text of millions of codes, which only
    # a file with a repeat (or, very rarely, a hash collision) needs.
    if work.select(pl.col(check.field).hash().n_unique()).item() == work.height:
        return pl.repeat(False, work.height, eager=True)
    return work.select(check.bad.fill_null(False)).to_series()
