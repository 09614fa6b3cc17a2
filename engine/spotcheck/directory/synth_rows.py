"""The rows of synthetic directories: entities, inspectors and recusals, each a polars frame built from
the random streams (spotcheck.directory.synth_random) with realistic names, places and mixes."""

from __future__ import annotations

import math
from datetime import date
from functools import reduce
from typing import Any, Mapping, Sequence

import polars as pl
from spotcheck.directory import uscc
from spotcheck.directory.synth_random import below, choose, seed_int, u32, weighted
from spotcheck.directory.synth_spec import (
    CORE_PER_UNIT,
    PLANTED_PER_DISTRICT,
    SynthSpec,
    as_date,
    first_value,
    profile_districts,
)
from spotcheck.rules.fields import ENTITY_FIELDS, INSPECTOR_FIELDS, Field

_SEP = "\x1f"  # joins list items internally; never part of a label


# ---------------------------------------------------------------------------------------------
# Vocabulary for realistic rows

TIER_MIX = {"A": 700, "B": 200, "C": 70, "D": 30}
TYPE_MIX = {"企业": 350, "个体工商户": 620, "农民专业合作社": 30}
# Each further kind of object a policy scopes: this many per thousand market entities.
EXTRA_KIND_WEIGHT = 20
# Per thousand entities carrying each label. In a real city a sector label (加油站, 拍卖企业, 医疗机构 …)
# is on well under 1% of the directory, so a label-scoped task's scope is a small share of it; the
# dense mix (`--dense`, for stress tests) puts every label on 4%, so entities carry several labels
# and are drawn by many tasks at once.
LABELS_PER_THOUSAND = 5
DENSE_LABELS_PER_THOUSAND = 40
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
# Entities


def _nulls(name: str, n: int) -> pl.Series:
    return pl.repeat(None, n, dtype=pl.Int32, eager=True).alias(name)


def _spread(count: int, n: int) -> list[int]:
    """`count` distinct row positions spread evenly over n rows (count <= n)."""
    return [(j * n) // count for j in range(count)]


def entity_rows(spec: SynthSpec, n: int, key: bytes, dense: bool = False) -> pl.DataFrame:
    return entity_chunk(spec, entity_streams(spec, n, key, dense), key)


def _universe(spec: SynthSpec) -> list[str]:
    return list(dict.fromkeys([*spec.labels, *(lb for p in spec.profiles for lb in p.get("labels") or ())]))


def entity_streams(spec: SynthSpec, n: int, key: bytes, dense: bool = False) -> pl.DataFrame:
    """Every random number the entity rows are made of, one row per entity: `entity_chunk` of any slice
    of it gives those rows exactly as of the whole. A label's stream is kept only as whether the row
    carries the label (a bit, not 32), so a province's streams fit in memory."""
    universe = _universe(spec)

    # Planted rows: each (profile, district) pair gets up to PLANTED_PER_DISTRICT rows.
    pairs = [(p, d) for p, prof in enumerate(spec.profiles) for d in profile_districts(spec, prof)]
    copies = max(1, min(PLANTED_PER_DISTRICT, n // max(1, len(pairs))))
    slots = [pair for pair in pairs for _ in range(copies)]
    positions = _spread(len(slots), n)
    planted_profile = _nulls("profile", n).scatter(positions, [p for p, _ in slots])
    planted_district = _nulls("planted_district", n).scatter(positions, [d for _, d in slots])

    purposes = ["district", "type", "status", "tier", "age", "term", "has_term", "industry", "word", "z1", "z2",
                "place", "suffix", "road", "number", "grid", "checked", "check_age"]
    purposes += ["scale"] if spec.scales else []
    per_thousand = DENSE_LABELS_PER_THOUSAND if dense else LABELS_PER_THOUSAND
    # One stream at a time, each reduced to its bits before the next is drawn.
    carries = [pl.select(below(pl.lit(u32(key, f"entity.label.{label}", n)), 1000) < per_thousand).to_series()
               .alias(f"carries.{label}") for label in universe]
    return pl.DataFrame([u32(key, f"entity.{p}", n) for p in purposes]).with_columns(
        pl.int_range(n, dtype=pl.UInt64).alias("i"), planted_profile, planted_district, *carries
    )


def entity_chunk(spec: SynthSpec, frame: pl.DataFrame, key: bytes) -> pl.DataFrame:
    """The entity rows of these streams (`entity_streams`, or any slice of them)."""
    districts = spec.districts
    universe = _universe(spec)

    def u(purpose: str) -> pl.Expr:
        return pl.col(f"u_entity.{purpose}")

    def override(name: str, base: pl.Expr) -> pl.Expr:
        chain = None
        for p, profile in enumerate(spec.profiles):
            # Labels are added, not replaced; the district is placed by the planting itself.
            if name in profile and name not in ("labels", "district"):
                value = first_value(profile[name])
                if ENTITY_FIELDS[name].kind == "date":
                    lit = pl.lit(as_date(value) if value is not None else None, dtype=pl.Date)
                else:
                    lit = pl.lit(value, dtype=pl.String)
                cond = pl.col("profile") == p
                chain = (pl.when(cond) if chain is None else chain.when(cond)).then(lit)
        return (base if chain is None else chain.otherwise(base)).alias(name)

    cats = [c for c, *_ in INDUSTRIES]
    frame = frame.with_columns(
        pl.coalesce(pl.col("planted_district"), below(u("district"), len(districts)).cast(pl.Int32)).alias("d"),
        override("type", weighted(u("type"), {**TYPE_MIX, **dict.fromkeys(spec.extra_kinds, EXTRA_KIND_WEIGHT)})),
    )
    established = pl.lit(spec.as_of) - pl.duration(days=below(u("age"), 30 * 365) + 1)
    frame = frame.with_columns(
        override(
            "status",
            pl.when(pl.col("type") == "个体工商户")
            .then(weighted(u("status"), INDIVIDUAL_STATUS_MIX))
            .otherwise(weighted(u("status"), ENTERPRISE_STATUS_MIX)),
        ),
        override("tier", _tiers(spec, weighted(u("tier"), TIER_MIX), u("scale") if spec.scales else None)),
        override(
            "industry",
            pl.when(pl.col("type") == "农民专业合作社")
            .then(pl.lit("农、林、牧、渔业"))
            .otherwise(weighted(u("industry"), {c: w for c, w, *_ in INDUSTRIES})),
        ),
        override("established", established),
    )
    # Enterprises mostly register "长期"; those with a term whose end has passed are 超出经营期限.
    term_end = pl.col("established").dt.offset_by(weighted(u("term"), OPEN_TERMS))
    last = pl.lit(spec.as_of) - pl.duration(days=below(u("check_age"), 3 * 365) + 1)
    frame = frame.with_columns(
        override("expires", pl.when((pl.col("type") == "企业") & (below(u("has_term"), 100) < 45)).then(term_end)),
        override(
            "last_checked",
            pl.when(below(u("checked"), 100) < 25).then(pl.max_horizontal(last, pl.col("established"))),
        ),
        _labels(universe, spec.profiles),
    )

    district_name = pl.col("d").replace_strict({i: d.name for i, d in enumerate(districts)})
    district_short = pl.col("d").replace_strict({i: _short(d.name) for i, d in enumerate(districts)})
    district_unit = pl.col("d").replace_strict({i: d.unit for i, d in enumerate(districts)})
    district_code = pl.col("d").replace_strict({i: d.code for i, d in enumerate(districts)})
    category = pl.col("industry").replace_strict({c: i for i, c in enumerate(cats)}, default=None)
    company_word = reduce(
        lambda acc, item: acc.when(category == item[0]).then(choose(u("word"), item[1][2])),
        enumerate(INDUSTRIES[1:], 1),
        pl.when(category == 0).then(choose(u("word"), INDUSTRIES[0][2])),
    ).otherwise(pl.col("industry"))
    shop_word = reduce(
        lambda acc, item: acc.when(category == item[0]).then(choose(u("word"), item[1][3])),
        enumerate(INDUSTRIES[1:], 1),
        pl.when(category == 0).then(choose(u("word"), INDUSTRIES[0][3])),
    ).otherwise(pl.lit("便利"))
    trade_name = choose(u("z1"), TRADE_NAME_CHARS) + choose(u("z2"), TRADE_NAME_CHARS)
    place = pl.when(below(u("place"), 100) < 60).then(pl.lit(_short(spec.jurisdiction))).otherwise(district_short)
    name = (
        pl.when(pl.col("type") == "个体工商户")
        .then(pl.concat_str(district_name, trade_name, shop_word, pl.lit("店")))
        .when(pl.col("type") == "农民专业合作社")
        .then(pl.concat_str(place, trade_name, choose(u("word"), COOP_PRODUCTS), pl.lit("专业合作社")))
        .when(pl.col("type").is_in(list(spec.extra_kinds)))
        .then(pl.concat_str(place, trade_name, pl.col("type")))
        .otherwise(
            pl.concat_str(
                place, trade_name, company_word, choose(u("suffix"), ("有限公司",) * 8 + ("有限责任公司", "股份有限公司"))
            )
        )
    )
    address = pl.concat_str(
        pl.lit(spec.jurisdiction), district_name, choose(u("road"), ROADS),
        (below(u("number"), 999) + 1).cast(pl.String), pl.lit("号"),
    )
    grid = pl.concat_str(district_name, pl.lit("第"), (below(u("grid"), 8) + 1).cast(pl.String), pl.lit("网格"))
    frame = frame.with_columns(
        override("name", name),
        override("registration_authority", district_unit),
        override("office", district_unit),
        override("grid", grid),
        override("address", address),
        _uscc(frame, key, district_code, spec),
        district_name.alias("district"),
    )
    if not spec.numbered:
        return frame.select(f.name for f in readable(ENTITY_FIELDS))
    # Objects known by a number: the row's own (digits, unique by row); a person has no USCC at all.
    numbered = pl.col("type").is_in([k for k, _ in spec.numbered])
    personal = pl.col("type").is_in([k for k, code in spec.numbered if code is None])
    return frame.with_columns(
        pl.when(personal).then(None).otherwise(pl.col("uscc")).alias("uscc"),
        pl.when(numbered).then(pl.col("i").cast(pl.String).str.zfill(10)).alias("object_id"),
    ).select(*(f.name for f in readable(ENTITY_FIELDS)), "object_id")


def _tiers(spec: SynthSpec, a_to_d: pl.Expr, u: pl.Expr | None) -> pl.Expr:
    """Each row's tier on its kind's scale: A–D unless the spec gives the kind another scale or none."""
    chain = None
    for kind, values in spec.scales:
        tier = choose(u, values) if values and u is not None else pl.lit(None, dtype=pl.String)
        chain = (pl.when(pl.col("type") == kind) if chain is None else chain.when(pl.col("type") == kind)).then(tier)
    return a_to_d if chain is None else chain.otherwise(a_to_d)


def _labels(universe: list[str], profiles: Sequence[Mapping[str, Any]]) -> pl.Expr:
    """Each label the row's stream says it carries (`entity_streams`), plus the labels of the profile planted in the row."""
    carried = [pl.when(pl.col(f"carries.{label}")).then(pl.lit(label)) for label in universe]
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


def _uscc(frame: pl.DataFrame, key: bytes, district_code: pl.Expr, spec: SynthSpec) -> pl.Series:
    """Unique valid codes: the organisation code is a bijection of the row index, so no two rows collide.

    Enterprises registered before the 2015 reform keep their 8-digit organisation code; later ones
    (and all individual businesses and co-operatives) carry a new 'MA…' code. The two shapes cannot
    collide (digits vs a leading 'M'). Each step is materialised: the check expressions slice their
    input 17 times, and an unmaterialised input would be recomputed for every slice.
    """
    i = pl.col("i")
    ma_mod, old_mod = 31**6, 10**8
    ma_a = _coprime(seed_int(key, "uscc.ma.a") % ma_mod, ma_mod)
    old_a = _coprime(seed_int(key, "uscc.old.a") % old_mod, old_mod)
    ma_x = ((i * ma_a + seed_int(key, "uscc.ma.b") % ma_mod) % ma_mod).alias("x")
    old_x = (i * old_a + seed_int(key, "uscc.old.b") % old_mod) % old_mod
    digits = {k: c for k, c in enumerate(uscc.CHARSET)}
    ma_body = pl.concat_str(
        pl.lit("MA"),
        *[((pl.col("x") // 31**k) % 31).replace_strict(digits, return_dtype=pl.String) for k in range(5, -1, -1)],
    )
    old_body = old_x.cast(pl.String).str.zfill(8)
    old_style = (pl.col("type") == "企业") & (pl.col("established") < date(2015, 10, 1))
    # A site carries its holder's code (an enterprise's when the policy allows several).
    prefixes = {**uscc.TYPE_PREFIX, **{kind: code or "91" for kind, code in spec.numbered}}
    prefix = pl.col("type").replace_strict(prefixes, return_dtype=pl.String)
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


def inspector_rows(spec: SynthSpec, m: int, key: bytes) -> pl.DataFrame:
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
    frame = pl.DataFrame([u32(key, f"inspector.{p}", m) for p in purposes]).with_columns(
        pl.int_range(m, dtype=pl.UInt64).alias("i"), core_unit, core_member
    )

    def u(purpose: str) -> pl.Expr:
        return pl.col(f"u_inspector.{purpose}")

    is_core = pl.col("core_unit").is_not_null()
    # About a fifth at the city bureau, the rest spread over the district bureaus.
    random_unit = pl.when(below(u("unit"), 100) < 20).then(pl.lit(city)).otherwise(below(u("district"), city))
    frame = frame.with_columns(pl.coalesce(pl.col("core_unit"), random_unit.cast(pl.Int32)).alias("k"))
    frame = frame.with_columns(
        pl.when(is_core).then(pl.lit("执法人员")).otherwise(weighted(u("role"), ROLE_MIX)).alias("role"),
        pl.when(is_core).then(pl.lit("在岗")).otherwise(weighted(u("status"), INSPECTOR_STATUS_MIX)).alias("status"),
    )
    officer = pl.col("role") == "执法人员"
    unit_code = pl.col("k").replace_strict({k: code for k, (code, _, _) in enumerate(units)})
    person = pl.concat_str(
        choose(u("surname"), SURNAMES),
        choose(u("g1"), GIVEN_CHARS),
        pl.when(below(u("two"), 100) < 70).then(choose(u("g2"), GIVEN_CHARS)).otherwise(pl.lit("")),
    )
    agency = pl.concat_str(
        pl.lit(_short(spec.jurisdiction)), choose(u("z1"), TRADE_NAME_CHARS), choose(u("z2"), TRADE_NAME_CHARS),
        pl.lit("检测技术有限公司"),
    )
    serial = (pl.col("i") + 1).cast(pl.String).str.zfill(6)
    # About 8% of certificates have lapsed; a core member's never has.
    expired = ~is_core & (below(u("expired"), 1000) < 80)
    days = pl.when(expired).then(-1 - below(u("cert"), 700).cast(pl.Int64)).otherwise(
        30 + below(u("cert"), 5 * 365).cast(pl.Int64)
    )
    grid = pl.when(pl.col("k") < city).then(
        pl.concat_str(
            pl.col("k").replace_strict({k: name for k, (_, name, _) in enumerate(units)}),
            pl.lit("第"), (below(u("grid"), 8) + 1).cast(pl.String), pl.lit("网格"),
        )
    )
    # Core member c holds specialty j when c is j or j+1 (mod core): every specialty twice per unit.
    specialties = []
    for j, s in enumerate(needed):
        core_has = pl.col("core_member").is_in([j % core, (j + 1) % core])
        specialties.append(
            pl.when(pl.when(is_core).then(core_has).otherwise(below(u(f"specialty.{s}"), 100) < 15)).then(pl.lit(s))
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
    return frame.select(f.name for f in readable(INSPECTOR_FIELDS))


# ---------------------------------------------------------------------------------------------
# Recusals


def recusal_picks(entities: int, inspectors: int, key: bytes) -> pl.DataFrame:
    """About one recusal per 20 inspectors (at most 500): which inspector (a), which entity (b) and why."""
    count = min(500, max(1, inspectors // 20))
    picks = pl.DataFrame([u32(key, f"recusal.{p}", count) for p in ("inspector", "entity", "reason")])
    return picks.select(
        below(pl.col("u_recusal.inspector"), inspectors).alias("a"),
        below(pl.col("u_recusal.entity"), entities).alias("b"),
        choose(pl.col("u_recusal.reason"), RECUSAL_REASONS).alias("reason"),
    )


def recusal_rows(entities: pl.DataFrame, inspectors: pl.DataFrame, key: bytes) -> pl.DataFrame:
    """Each recusal naming a real inspector and a real entity."""
    picks = recusal_picks(entities.height, inspectors.height, key)
    return recusals_of(picks, entities["uscc"].gather(picks["b"]), inspectors)


def recusals_of(picks: pl.DataFrame, codes: pl.Series, inspectors: pl.DataFrame) -> pl.DataFrame:
    """The recusals of `recusal_picks`, given the picked entities' codes (in the picks' order)."""
    return pl.DataFrame(
        {
            "inspector_id": inspectors["inspector_id"].gather(picks["a"]),
            "uscc": codes,
            "reason": picks["reason"],
        }
    ).unique(subset=["inspector_id", "uscc"], keep="first", maintain_order=True)


def readable(fields: dict[str, Field]) -> list[Field]:
    return [f for f in fields.values() if f.headers]

