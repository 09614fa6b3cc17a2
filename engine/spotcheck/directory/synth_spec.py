"""What a synthetic directory must contain (the spec), and the checks a spec must pass before anything is made."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Mapping, NamedTuple

from spotcheck.errors import Problem
from spotcheck.rules.fields import ENTITY_FIELDS


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
    # Kinds known by a number of their own (policy kinds → identified_by), among extra_kinds: (kind,
    # the holder's registration code, or None for objects without any USCC such as a person).
    numbered: tuple[tuple[str, str | None], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "districts", tuple(District(*d) for d in self.districts))
        object.__setattr__(self, "profiles", tuple(dict(p) for p in self.profiles))
        object.__setattr__(self, "labels", tuple(self.labels))
        object.__setattr__(self, "specialties", tuple(self.specialties))
        object.__setattr__(self, "department_units", tuple(tuple(u) for u in self.department_units))
        object.__setattr__(self, "extra_kinds", tuple(self.extra_kinds))
        object.__setattr__(self, "scales", tuple((k, tuple(v)) for k, v in self.scales))


# Each profile is planted this many times per district (fewer when there are too few entities).
PLANTED_PER_DISTRICT = 3
# Units staffed with this many in-post, certified, regular inspectors who cover every specialty
# between them, so every unit can send a two-person team on any item.
CORE_PER_UNIT = 4
# New-style organisation codes are "MA" + 6 base-31 characters; old-style ones 8 digits.
MAX_ENTITIES = 10**8


def check_spec(spec: SynthSpec, entities: int, inspectors: int) -> list[Problem]:
    """Every problem with the spec and the requested sizes (D290), before anything is made."""
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
                if first_value(value) not in names:
                    bad(f"画像指定的区县 '{first_value(value)}' 不在合成规格的区县中", where)
            elif f.kind == "labels":
                if not (isinstance(value, (list, tuple)) and all(isinstance(v, str) and v for v in value)):
                    bad(f"画像的{f.title}应为标签列表，此处为 {value!r}", where)
            elif f.kind == "enum" and first_value(value) not in f.values:
                bad(f"画像的{f.title} '{first_value(value)}' 无效", where, f"应为 {'、'.join(f.values)} 之一")
            elif f.kind == "date" and as_date(first_value(value)) is None:
                bad(f"画像的{f.title} '{first_value(value)}' 不是有效日期", where, "日期写成 2023-01-05")
    units = len(spec.districts) + 1
    planted = sum(len(profile_districts(spec, p)) for p in spec.profiles)
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


def first_value(value: Any) -> Any:
    return value[0] if isinstance(value, (list, tuple)) and value else value


def as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def profile_districts(spec: SynthSpec, profile: Mapping[str, Any]) -> list[int]:
    if profile.get("district") is not None:
        wanted = first_value(profile["district"])
        return [i for i, d in enumerate(spec.districts) if wanted in (d.name, d.code)]
    return list(range(len(spec.districts)))
