"""Synthetic directories: realistic entity and inspector directories and a recusal list from a seed.

Used to try a policy before real exports arrive and to test the pipeline at a city's scale. Every
random choice comes from SHAKE-256 streams keyed by (seed, purpose); value i of a stream depends only
on the seed, the purpose and i, so the same seed gives the same rows on any machine and version
(numpy's and Python's generators promise no such thing) and byte-identical files. The arithmetic
on those numbers is vectorised in polars: a million entities take seconds.

Every profile of the spec (one per policy task, derived from its scope) is planted in every district
a few times, so every task of the policy has a non-empty scope in every district.
"""

from __future__ import annotations

import array
import hashlib
import math
import os
import secrets
import sys
from dataclasses import dataclass, field
from datetime import date
from functools import reduce
from pathlib import Path
from typing import Any, Mapping, NamedTuple, Sequence

import polars as pl
import pyarrow as pa
from spotcheck.directory import uscc
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.rules.fields import (
    ENTITY_FIELDS,
    INSPECTOR_FIELDS,
    LABEL_SEPARATORS,
    RECUSAL_FIELDS,
    Field,
)


class District(NamedTuple):
    code: str  # 6-digit administrative division code, also the region part of its entities' USCCs
    name: str  # "鼓楼区"
    unit: str  # the district's market-regulation bureau, which registers and inspects its entities


@dataclass(frozen=True)
class SynthSpec:
    """What the synthetic directories must contain.

    `profiles`: entity field values that must each be represented, e.g.
    {"type": "企业", "labels": ["加油站"], "status": "存续"}. Labels are added to the entity's own;
    a list for any other field means "any of these" and the first is used; None leaves an optional
    field empty; a "district" value (name or code) confines the profile to that district, otherwise
    it is planted in every district. Derived fields (checks_this_year) come from the ledger, not from
    a directory, and are ignored here.
    """

    region: str  # 6-digit code of the jurisdiction (the city)
    jurisdiction: str  # "福州市"
    city_unit: str  # the city-level bureau; about a fifth of the inspectors work there
    districts: tuple[District, ...]
    as_of: date  # "today" for the synthetic data: dates, expiries and last checks are relative to it
    profiles: tuple[Mapping[str, Any], ...] = ()
    labels: tuple[str, ...] = ()  # the label universe; profiles' labels are added to it
    specialties: tuple[str, ...] = ()  # needed by the policy's items; every unit gets each of them
    # Joint plans: the department the bureau's own officers belong to, and the other departments'
    # units (department id, district code, district name, unit), each staffed by its own officers.
    bureau_department: str | None = None
    department_units: tuple[tuple[str, str, str, str], ...] = ()
    # Kinds of object beyond 企业, 个体工商户 and 农民专业合作社 (事业单位, 民办非企业单位 …), each given a
    # small share of the rows, with USCCs of their registration code; and kinds graded on a scale other
    # than A–D, with that scale's values (none: the kind is 不涉及信用风险分类 and has no tier).
    extra_kinds: tuple[str, ...] = ()
    scales: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "districts", tuple(District(*d) for d in self.districts))
        object.__setattr__(self, "profiles", tuple(dict(p) for p in self.profiles))
        object.__setattr__(self, "labels", tuple(self.labels))
        object.__setattr__(self, "specialties", tuple(self.specialties))
        object.__setattr__(self, "department_units", tuple(tuple(u) for u in self.department_units))
        object.__setattr__(self, "extra_kinds", tuple(self.extra_kinds))
        object.__setattr__(self, "scales", tuple((k, tuple(v)) for k, v in self.scales))


@dataclass(frozen=True, eq=False)
class SynthResult:
    """The three synthetic tables, columns named as in fields.py."""

    spec: SynthSpec
    seed: int | str
    entities: pl.DataFrame
    inspectors: pl.DataFrame
    recusals: pl.DataFrame = field(repr=False)


# Each profile is planted this many times per district (fewer when there are too few entities).
PLANTED_PER_DISTRICT = 3
# Units staffed with this many in-post, certified, regular inspectors who cover every specialty
# between them, so every unit can send a two-person team on any item.
CORE_PER_UNIT = 4
# New-style organisation codes are "MA" + 6 base-31 characters; old-style ones 8 digits.
MAX_ENTITIES = 10**8

_DOMAIN = b"spotcheck-synth-v1"
_SEP = "\x1f"  # joins list items internally; never part of a label


# ---------------------------------------------------------------------------------------------
# Public API


def synthesize(spec: SynthSpec, entities: int, inspectors: int, seed: int | str) -> SynthResult:
    """Entity and inspector directories and a recusal list, all derived from `seed` alone."""
    problems = _check_spec(spec, entities, inspectors)
    if problems:
        raise SpotcheckError(problems)
    key = str(seed).encode("utf-8")
    ent = _entities(spec, entities, key)
    ins = _inspectors(spec, inspectors, key)
    return SynthResult(spec, seed, ent, ins, _recusals(ent, ins, key))


def write(result: SynthResult, out_dir: str | Path) -> dict[str, Path]:
    """Write entities.csv, inspectors.csv and recusals.csv (UTF-8, Chinese headers), each atomically."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, frame, fields in (
        ("entities", result.entities, ENTITY_FIELDS),
        ("inspectors", result.inspectors, INSPECTOR_FIELDS),
        ("recusals", result.recusals, RECUSAL_FIELDS),
    ):
        paths[name] = _write_csv(_for_export(frame, fields), out / f"{name}.csv")
    return paths


# ---------------------------------------------------------------------------------------------
# Random streams


def _u32(key: bytes, purpose: str, n: int) -> pl.Series:
    """n uniform 32-bit integers; value i depends only on (key, purpose, i)."""
    digest = hashlib.shake_256(_DOMAIN + b"\x00" + key + b"\x00" + purpose.encode("utf-8")).digest(4 * n)
    words = array.array("I")
    if words.itemsize != 4:
        words = array.array("L")
    words.frombytes(digest)
    if sys.byteorder == "big":
        words.byteswap()  # the stream is little-endian by definition, so files match across machines
    arrow = pa.Array.from_buffers(pa.uint32(), n, [None, pa.py_buffer(words)])
    return pl.Series(f"u_{purpose}", pl.from_arrow(arrow))


def _int(key: bytes, purpose: str) -> int:
    return int.from_bytes(hashlib.blake2b(_DOMAIN + b"\x00" + key + b"\x00" + purpose.encode()).digest()[:8], "big")


def _below(u: pl.Expr, k: int) -> pl.Expr:
    """Integer in [0, k) from a uniform 32-bit column, by multiply-shift (no modulo bias worth speaking of)."""
    return (u.cast(pl.UInt64) * k) // (1 << 32)


def _choose(u: pl.Expr, values: Sequence[Any]) -> pl.Expr:
    return _below(u, len(values)).replace_strict(dict(enumerate(values)))


def _weighted(u: pl.Expr, weights: Mapping[str, int]) -> pl.Expr:
    x = _below(u, sum(weights.values()))
    bound, chain = 0, None
    for value, weight in weights.items():
        bound += weight
        chain = (pl.when(x < bound) if chain is None else chain.when(x < bound)).then(pl.lit(value))
    return chain.otherwise(None)


# ---------------------------------------------------------------------------------------------
# Vocabulary for realistic rows

TIER_MIX = {"A": 700, "B": 200, "C": 70, "D": 30}
TYPE_MIX = {"企业": 350, "个体工商户": 620, "农民专业合作社": 30}
# Each further kind of object a policy scopes: this many per thousand market entities.
EXTRA_KIND_WEIGHT = 20
ENTERPRISE_STATUS_MIX = {"存续": 860, "吊销": 50, "注销": 50, "迁出": 15, "停业": 10, "歇业": 5, "清算": 10}
INDIVIDUAL_STATUS_MIX = {"在营": 780, "开业": 80, "吊销": 50, "注销": 70, "歇业": 20}
INSPECTOR_STATUS_MIX = {"在岗": 880, "退休": 40, "调离": 40, "借调": 20, "病休": 20}
ROLE_MIX = {"执法人员": 950, "专家": 30, "第三方机构": 20}
# (行业类别, weight, words for company names, words for shop names)
INDUSTRIES = (
    ("批发和零售业", 30, ("商贸", "贸易", "百货"), ("便利", "超市", "五金", "服装", "烟酒", "水果", "日杂")),
    ("住宿和餐饮业", 20, ("餐饮管理", "酒店管理"), ("小吃", "餐馆", "面馆", "快餐", "茶饮")),
    ("居民服务、修理和其他服务业", 12, ("家政服务", "物业服务"), ("理发", "家电维修", "洗衣", "汽车修理")),
    ("制造业", 8, ("机械制造", "食品", "服装制造", "电子科技"), ("加工", "食品加工", "家具加工")),
    ("信息传输、软件和信息技术服务业", 6, ("信息技术", "网络科技", "软件"), ("电脑维修", "手机维修")),
    ("租赁和商务服务业", 6, ("商务咨询", "广告", "企业管理"), ("广告制作", "图文")),
    ("建筑业", 5, ("建设工程", "装饰工程"), ("装修",)),
    ("交通运输、仓储和邮政业", 5, ("物流", "运输"), ("货运", "快递代办")),
    ("农、林、牧、渔业", 4, ("农业发展", "生态农业"), ("农资", "养殖")),
    ("文化、体育和娱乐业", 2, ("文化传播", "体育发展"), ("文具", "书店")),
    ("房地产业", 2, ("房地产开发", "置业"), ("房产中介",)),
)
COOP_PRODUCTS = ("茶叶种植", "蔬菜种植", "水果种植", "生猪养殖", "水产养殖", "食用菌种植", "中药材种植")
TRADE_NAME_CHARS = tuple(
    "鑫源华盛泰达隆兴恒宏嘉福瑞祥丰德顺安宝金利通远大新海天和美佳汇诚信万荣昌博创晨辉凯龙鹏东明光益众合聚康乐欣悦旺锦正永润"
)
ROADS = ("人民路", "解放路", "中山路", "建设路", "和平路", "文化路", "工业路", "新华路", "胜利路", "五一路", "八一路", "滨江路")
SURNAMES = tuple("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴莫孔汤")
GIVEN_CHARS = tuple("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红鹏辉建文斌宇浩凯晨欣怡子涵思雨佳琪俊峰志国海燕")
RECUSAL_REASONS = ("近亲属在该主体任职", "曾在该主体任职未满三年", "与该主体存在经济往来", "与该主体负责人存在其他利害关系")
OPEN_TERMS = {"10y": 150, "20y": 350, "30y": 350, "50y": 150}


def _short(place: str) -> str:
    """'鼓楼区' → '鼓楼', as trade names write the place."""
    for suffix in ("自治县", "市", "区", "县"):
        if place.endswith(suffix) and len(place) > len(suffix) + 1:
            return place[: -len(suffix)]
    return place


# ---------------------------------------------------------------------------------------------
# Checking the spec


def _check_spec(spec: SynthSpec, entities: int, inspectors: int) -> list[Problem]:
    problems: list[Problem] = []

    def bad(message: str, where: str | None = None, hint: str | None = None) -> None:
        problems.append(Problem("D290", message, where=where, hint=hint))

    if not (len(spec.region) == 6 and spec.region.isdigit()):
        bad(f"辖区行政区划代码应为 6 位数字，此处为 '{spec.region}'", "合成规格 → region")
    if not spec.districts:
        bad("合成规格没有任何区县", "合成规格 → districts", "至少列出一个区县（代码、名称、所属单位）")
    for d in spec.districts:
        if not (len(d.code) == 6 and d.code.isdigit()):
            bad(f"区县 '{d.name}' 的行政区划代码应为 6 位数字，此处为 '{d.code}'", f"合成规格 → 区县 '{d.name}'")
    # Streets or 市监所 grids of one district share its code; their names tell them apart.
    if len({d.name for d in spec.districts}) != len(spec.districts):
        bad("区县名称重复", "合成规格 → districts")
    names = {d.name for d in spec.districts} | {d.code for d in spec.districts}
    for i, profile in enumerate(spec.profiles, 1):
        where = f"合成规格 → 画像 {i}"
        for name, value in profile.items():
            f = ENTITY_FIELDS.get(name)
            if f is not None and not f.headers:
                continue
            if f is None or name == "uscc":
                bad(f"画像不能指定字段 '{name}'", where, f"可用字段：{'、'.join(_profile_fields())}")
                continue
            if value is None:
                if f.required:
                    bad(f"画像不能让必填字段{f.title}为空", where)
            elif name == "district":
                if _first(value) not in names:
                    bad(f"画像指定的区县 '{_first(value)}' 不在合成规格的区县中", where)
            elif f.kind == "labels":
                if not (isinstance(value, (list, tuple)) and all(isinstance(v, str) and v for v in value)):
                    bad(f"画像的{f.title}应为标签列表，此处为 {value!r}", where)
            elif f.kind == "enum" and _first(value) not in f.values:
                bad(f"画像的{f.title} '{_first(value)}' 无效", where, f"应为 {'、'.join(f.values)} 之一")
            elif f.kind == "date" and _as_date(_first(value)) is None:
                bad(f"画像的{f.title} '{_first(value)}' 不是有效日期", where, "日期写成 2023-01-05")
    units = len(spec.districts) + 1
    planted = sum(len(_profile_districts(spec, p)) for p in spec.profiles)
    if entities < max(1, planted):
        bad(
            f"合成主体数 {entities} 太少：每个画像在每个区县至少要有 1 户，共需 {max(1, planted)} 户",
            hint="增加主体数，或减少画像/区县",
        )
    if entities > MAX_ENTITIES:
        bad(f"合成主体数 {entities} 超过上限 {MAX_ENTITIES}")
    if inspectors < 2 * units:
        bad(
            f"合成执法人员数 {inspectors} 太少：{units} 个单位每个至少需要 2 名在岗执法人员",
            hint=f"至少 {2 * units} 名",
        )
    return problems


def _profile_fields() -> list[str]:
    return [name for name, f in ENTITY_FIELDS.items() if f.headers and name != "uscc"]


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, (list, tuple)) and value else value


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _profile_districts(spec: SynthSpec, profile: Mapping[str, Any]) -> list[int]:
    if profile.get("district") is not None:
        wanted = _first(profile["district"])
        return [i for i, d in enumerate(spec.districts) if wanted in (d.name, d.code)]
    return list(range(len(spec.districts)))


# ---------------------------------------------------------------------------------------------
# Entities


def _nulls(name: str, n: int) -> pl.Series:
    return pl.repeat(None, n, dtype=pl.Int32, eager=True).alias(name)


def _spread(count: int, n: int) -> list[int]:
    """`count` distinct row positions spread evenly over n rows (count <= n)."""
    return [(j * n) // count for j in range(count)]


def _entities(spec: SynthSpec, n: int, key: bytes) -> pl.DataFrame:
    districts = spec.districts
    universe = list(dict.fromkeys([*spec.labels, *(lb for p in spec.profiles for lb in p.get("labels") or ())]))

    # Planted rows: each (profile, district) pair gets up to PLANTED_PER_DISTRICT rows.
    pairs = [(p, d) for p, prof in enumerate(spec.profiles) for d in _profile_districts(spec, prof)]
    copies = max(1, min(PLANTED_PER_DISTRICT, n // max(1, len(pairs))))
    slots = [pair for pair in pairs for _ in range(copies)]
    positions = _spread(len(slots), n)
    planted_profile = _nulls("profile", n).scatter(positions, [p for p, _ in slots])
    planted_district = _nulls("planted_district", n).scatter(positions, [d for _, d in slots])

    purposes = ["district", "type", "status", "tier", "age", "term", "has_term", "industry", "word", "z1", "z2",
                "place", "suffix", "road", "number", "grid", "checked", "check_age"]
    purposes += [f"label.{label}" for label in universe]
    purposes += ["scale"] if spec.scales else []
    frame = pl.DataFrame([_u32(key, f"entity.{p}", n) for p in purposes]).with_columns(
        pl.int_range(n, dtype=pl.UInt64).alias("i"), planted_profile, planted_district
    )

    def u(purpose: str) -> pl.Expr:
        return pl.col(f"u_entity.{purpose}")

    def override(name: str, base: pl.Expr) -> pl.Expr:
        chain = None
        for p, profile in enumerate(spec.profiles):
            # Labels are added, not replaced; the district is placed by the planting itself.
            if name in profile and name not in ("labels", "district"):
                value = _first(profile[name])
                if ENTITY_FIELDS[name].kind == "date":
                    lit = pl.lit(_as_date(value) if value is not None else None, dtype=pl.Date)
                else:
                    lit = pl.lit(value, dtype=pl.String)
                cond = pl.col("profile") == p
                chain = (pl.when(cond) if chain is None else chain.when(cond)).then(lit)
        return (base if chain is None else chain.otherwise(base)).alias(name)

    cats = [c for c, *_ in INDUSTRIES]
    frame = frame.with_columns(
        pl.coalesce(pl.col("planted_district"), _below(u("district"), len(districts)).cast(pl.Int32)).alias("d"),
        override("type", _weighted(u("type"), {**TYPE_MIX, **dict.fromkeys(spec.extra_kinds, EXTRA_KIND_WEIGHT)})),
    )
    established = pl.lit(spec.as_of) - pl.duration(days=_below(u("age"), 30 * 365) + 1)
    frame = frame.with_columns(
        override(
            "status",
            pl.when(pl.col("type") == "个体工商户")
            .then(_weighted(u("status"), INDIVIDUAL_STATUS_MIX))
            .otherwise(_weighted(u("status"), ENTERPRISE_STATUS_MIX)),
        ),
        override("tier", _tiers(spec, _weighted(u("tier"), TIER_MIX), u("scale") if spec.scales else None)),
        override(
            "industry",
            pl.when(pl.col("type") == "农民专业合作社")
            .then(pl.lit("农、林、牧、渔业"))
            .otherwise(_weighted(u("industry"), {c: w for c, w, *_ in INDUSTRIES})),
        ),
        override("established", established),
    )
    # Enterprises mostly register "长期"; those with a term whose end has passed are 超出经营期限.
    term_end = pl.col("established").dt.offset_by(_weighted(u("term"), OPEN_TERMS))
    last = pl.lit(spec.as_of) - pl.duration(days=_below(u("check_age"), 3 * 365) + 1)
    frame = frame.with_columns(
        override("expires", pl.when((pl.col("type") == "企业") & (_below(u("has_term"), 100) < 45)).then(term_end)),
        override(
            "last_checked",
            pl.when(_below(u("checked"), 100) < 25).then(pl.max_horizontal(last, pl.col("established"))),
        ),
        _labels(universe, spec.profiles, u),
    )

    district_name = pl.col("d").replace_strict({i: d.name for i, d in enumerate(districts)})
    district_short = pl.col("d").replace_strict({i: _short(d.name) for i, d in enumerate(districts)})
    district_unit = pl.col("d").replace_strict({i: d.unit for i, d in enumerate(districts)})
    district_code = pl.col("d").replace_strict({i: d.code for i, d in enumerate(districts)})
    category = pl.col("industry").replace_strict({c: i for i, c in enumerate(cats)}, default=None)
    company_word = reduce(
        lambda acc, item: acc.when(category == item[0]).then(_choose(u("word"), item[1][2])),
        enumerate(INDUSTRIES[1:], 1),
        pl.when(category == 0).then(_choose(u("word"), INDUSTRIES[0][2])),
    ).otherwise(pl.col("industry"))
    shop_word = reduce(
        lambda acc, item: acc.when(category == item[0]).then(_choose(u("word"), item[1][3])),
        enumerate(INDUSTRIES[1:], 1),
        pl.when(category == 0).then(_choose(u("word"), INDUSTRIES[0][3])),
    ).otherwise(pl.lit("便利"))
    trade_name = _choose(u("z1"), TRADE_NAME_CHARS) + _choose(u("z2"), TRADE_NAME_CHARS)
    place = pl.when(_below(u("place"), 100) < 60).then(pl.lit(_short(spec.jurisdiction))).otherwise(district_short)
    name = (
        pl.when(pl.col("type") == "个体工商户")
        .then(pl.concat_str(district_name, trade_name, shop_word, pl.lit("店")))
        .when(pl.col("type") == "农民专业合作社")
        .then(pl.concat_str(place, trade_name, _choose(u("word"), COOP_PRODUCTS), pl.lit("专业合作社")))
        .when(pl.col("type").is_in(list(spec.extra_kinds)))
        .then(pl.concat_str(place, trade_name, pl.col("type")))
        .otherwise(
            pl.concat_str(
                place, trade_name, company_word, _choose(u("suffix"), ("有限公司",) * 8 + ("有限责任公司", "股份有限公司"))
            )
        )
    )
    address = pl.concat_str(
        pl.lit(spec.jurisdiction), district_name, _choose(u("road"), ROADS),
        (_below(u("number"), 999) + 1).cast(pl.String), pl.lit("号"),
    )
    grid = pl.concat_str(district_name, pl.lit("第"), (_below(u("grid"), 8) + 1).cast(pl.String), pl.lit("网格"))
    frame = frame.with_columns(
        override("name", name),
        override("registration_authority", district_unit),
        override("office", district_unit),
        override("grid", grid),
        override("address", address),
        _uscc(frame, key, district_code),
        district_name.alias("district"),
    )
    return frame.select(f.name for f in _readable(ENTITY_FIELDS))


def _tiers(spec: SynthSpec, a_to_d: pl.Expr, u: pl.Expr | None) -> pl.Expr:
    """Each row's tier on its kind's scale: A–D unless the spec gives the kind another scale or none."""
    chain = None
    for kind, values in spec.scales:
        tier = _choose(u, values) if values and u is not None else pl.lit(None, dtype=pl.String)
        chain = (pl.when(pl.col("type") == kind) if chain is None else chain.when(pl.col("type") == kind)).then(tier)
    return a_to_d if chain is None else chain.otherwise(a_to_d)


def _labels(universe: list[str], profiles: Sequence[Mapping[str, Any]], u) -> pl.Expr:
    """Each label carried by about 4% of entities, plus the labels of the profile planted in the row."""
    carried = [pl.when(_below(u(f"label.{label}"), 1000) < 40).then(pl.lit(label)) for label in universe]
    for p, profile in enumerate(profiles):
        carried += [pl.when(pl.col("profile") == p).then(pl.lit(label)) for label in profile.get("labels") or ()]
    return _list_of(carried).list.unique(maintain_order=True).alias("labels")


def _list_of(items: list[pl.Expr]) -> pl.Expr:
    """A list column of the non-null items. Joining and splitting a string is many times faster than
    concat_list over when/then columns."""
    if not items:
        return pl.lit([], dtype=pl.List(pl.String))
    joined = pl.concat_str(items, separator=_SEP, ignore_nulls=True)
    return pl.when(joined == "").then(pl.lit([], dtype=pl.List(pl.String))).otherwise(joined.str.split(_SEP))


def _uscc(frame: pl.DataFrame, key: bytes, district_code: pl.Expr) -> pl.Series:
    """Unique valid codes: the organisation code is a bijection of the row index, so no two rows collide.

    Enterprises registered before the 2015 reform keep their 8-digit organisation code; later ones
    (and all individual businesses and co-operatives) carry a new 'MA…' code. The two shapes cannot
    collide (digits vs a leading 'M'). Each step is materialised: the check expressions slice their
    input 17 times, and an unmaterialised input would be recomputed for every slice.
    """
    i = pl.col("i")
    ma_mod, old_mod = 31**6, 10**8
    ma_a = _coprime(_int(key, "uscc.ma.a") % ma_mod, ma_mod)
    old_a = _coprime(_int(key, "uscc.old.a") % old_mod, old_mod)
    ma_x = ((i * ma_a + _int(key, "uscc.ma.b") % ma_mod) % ma_mod).alias("x")
    old_x = (i * old_a + _int(key, "uscc.old.b") % old_mod) % old_mod
    digits = {k: c for k, c in enumerate(uscc.CHARSET)}
    ma_body = pl.concat_str(
        pl.lit("MA"),
        *[((pl.col("x") // 31**k) % 31).replace_strict(digits, return_dtype=pl.String) for k in range(5, -1, -1)],
    )
    old_body = old_x.cast(pl.String).str.zfill(8)
    old_style = (pl.col("type") == "企业") & (pl.col("established") < date(2015, 10, 1))
    prefix = pl.col("type").replace_strict(uscc.TYPE_PREFIX, return_dtype=pl.String)
    codes = (
        frame.select(i, "type", "established", district_code.alias("region"), ma_x)
        .with_columns(pl.when(old_style).then(old_body).otherwise(ma_body).alias("body"))
        .select(pl.concat_str(prefix, "region", "body", uscc.org_check_char_expr(pl.col("body"))).alias("first17"))
        .select(pl.concat_str("first17", uscc.check_char_expr(pl.col("first17"))).alias("uscc"))
    )
    return codes["uscc"]


def _coprime(a: int, modulus: int) -> int:
    """The nearest multiplier at or above `a` that makes i ↦ a·i + b a bijection modulo `modulus`."""
    a = max(a, 1)
    while math.gcd(a, modulus) != 1:
        a += 1
    return a


# ---------------------------------------------------------------------------------------------
# Inspectors


def _inspectors(spec: SynthSpec, m: int, key: bytes) -> pl.DataFrame:
    units = [(d.code, d.name, d.unit) for d in spec.districts] + [(spec.region, spec.jurisdiction, spec.city_unit)]
    city = len(units) - 1
    # Other departments' units come after the bureau's: only their core officers work there.
    departments = {k: spec.bureau_department for k in range(len(units))}
    for dept, code, name, unit in spec.department_units:
        departments[len(units)] = dept
        units.append((code, name, unit))
    core = min(CORE_PER_UNIT, m // len(units))
    positions = _spread(core * len(units), m)
    core_unit = _nulls("core_unit", m).scatter(positions, [j // core for j in range(len(positions))])
    core_member = _nulls("core_member", m).scatter(positions, [j % core for j in range(len(positions))])
    needed = list(spec.specialties)
    purposes = ["unit", "district", "status", "role", "surname", "g1", "g2", "two", "cert", "expired", "grid"]
    purposes += ["z1", "z2"]
    purposes += [f"specialty.{s}" for s in needed]
    frame = pl.DataFrame([_u32(key, f"inspector.{p}", m) for p in purposes]).with_columns(
        pl.int_range(m, dtype=pl.UInt64).alias("i"), core_unit, core_member
    )

    def u(purpose: str) -> pl.Expr:
        return pl.col(f"u_inspector.{purpose}")

    is_core = pl.col("core_unit").is_not_null()
    # About a fifth at the city bureau, the rest spread over the district bureaus.
    random_unit = pl.when(_below(u("unit"), 100) < 20).then(pl.lit(city)).otherwise(_below(u("district"), city))
    frame = frame.with_columns(pl.coalesce(pl.col("core_unit"), random_unit.cast(pl.Int32)).alias("k"))
    frame = frame.with_columns(
        pl.when(is_core).then(pl.lit("执法人员")).otherwise(_weighted(u("role"), ROLE_MIX)).alias("role"),
        pl.when(is_core).then(pl.lit("在岗")).otherwise(_weighted(u("status"), INSPECTOR_STATUS_MIX)).alias("status"),
    )
    officer = pl.col("role") == "执法人员"
    unit_code = pl.col("k").replace_strict({k: code for k, (code, _, _) in enumerate(units)})
    person = pl.concat_str(
        _choose(u("surname"), SURNAMES),
        _choose(u("g1"), GIVEN_CHARS),
        pl.when(_below(u("two"), 100) < 70).then(_choose(u("g2"), GIVEN_CHARS)).otherwise(pl.lit("")),
    )
    agency = pl.concat_str(
        pl.lit(_short(spec.jurisdiction)), _choose(u("z1"), TRADE_NAME_CHARS), _choose(u("z2"), TRADE_NAME_CHARS),
        pl.lit("检测技术有限公司"),
    )
    serial = (pl.col("i") + 1).cast(pl.String).str.zfill(6)
    # About 8% of certificates have lapsed; a core member's never has.
    expired = ~is_core & (_below(u("expired"), 1000) < 80)
    days = pl.when(expired).then(-1 - _below(u("cert"), 700).cast(pl.Int64)).otherwise(
        30 + _below(u("cert"), 5 * 365).cast(pl.Int64)
    )
    grid = pl.when(pl.col("k") < city).then(
        pl.concat_str(
            pl.col("k").replace_strict({k: name for k, (_, name, _) in enumerate(units)}),
            pl.lit("第"), (_below(u("grid"), 8) + 1).cast(pl.String), pl.lit("网格"),
        )
    )
    # Core member c holds specialty j when c is j or j+1 (mod core): every specialty twice per unit.
    specialties = []
    for j, s in enumerate(needed):
        core_has = pl.col("core_member").is_in([j % core, (j + 1) % core])
        specialties.append(
            pl.when(pl.when(is_core).then(core_has).otherwise(_below(u(f"specialty.{s}"), 100) < 15)).then(pl.lit(s))
        )
    frame = frame.with_columns(
        pl.concat_str(unit_code, serial).alias("inspector_id"),
        pl.when(pl.col("role") == "第三方机构").then(agency).otherwise(person).alias("name"),
        pl.col("k").replace_strict({k: unit for k, (_, _, unit) in enumerate(units)}).alias("unit"),
        pl.col("k").replace_strict({k: name for k, (_, name, _) in enumerate(units)}).alias("district"),
        pl.when(officer)
        .then(pl.concat_str(pl.lit(spec.region[:2]), unit_code.str.slice(2, 4), serial))
        .alias("certificate"),
        pl.when(officer).then(pl.lit(spec.as_of) + pl.duration(days=days)).alias("certificate_expires"),
        _list_of(specialties).alias("specialties"),
        grid.alias("grid"),
        pl.col("k").replace_strict(departments, return_dtype=pl.String).alias("department"),
    )
    return frame.select(f.name for f in _readable(INSPECTOR_FIELDS))


# ---------------------------------------------------------------------------------------------
# Recusals


def _recusals(entities: pl.DataFrame, inspectors: pl.DataFrame, key: bytes) -> pl.DataFrame:
    """About one recusal per 20 inspectors (at most 500), each naming a real inspector and a real entity."""
    count = min(500, max(1, inspectors.height // 20))
    picks = pl.DataFrame([_u32(key, f"recusal.{p}", count) for p in ("inspector", "entity", "reason")])
    picks = picks.select(
        _below(pl.col("u_recusal.inspector"), inspectors.height).alias("a"),
        _below(pl.col("u_recusal.entity"), entities.height).alias("b"),
        _choose(pl.col("u_recusal.reason"), RECUSAL_REASONS).alias("reason"),
    )
    return pl.DataFrame(
        {
            "inspector_id": inspectors["inspector_id"].gather(picks["a"]),
            "uscc": entities["uscc"].gather(picks["b"]),
            "reason": picks["reason"],
        }
    ).unique(subset=["inspector_id", "uscc"], keep="first", maintain_order=True)


# ---------------------------------------------------------------------------------------------
# Writing


def _readable(fields: dict[str, Field]) -> list[Field]:
    return [f for f in fields.values() if f.headers]


def _for_export(frame: pl.DataFrame, fields: dict[str, Field]) -> pl.DataFrame:
    exprs = []
    for f in _readable(fields):
        col = pl.col(f.name)
        if f.kind == "labels":
            col = pl.when(col.list.len() > 0).then(col.list.join(LABEL_SEPARATORS[0]))
        elif f.kind == "date":
            col = col.dt.strftime("%Y-%m-%d")
        exprs.append(col.alias(f.headers[0]))
    return frame.select(exprs)


def _write_csv(frame: pl.DataFrame, path: Path) -> Path:
    # Opened by name (not mkstemp) so the file gets the usual permissions rather than 0600.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "xb") as fh:
            frame.write_csv(fh)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
