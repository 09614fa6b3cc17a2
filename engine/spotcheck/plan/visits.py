"""Visits: a draw's (task, entity) pairs merged into one visit per entity per merge window.

“进一次门、查多项事”: every task that drew an entity within one window is served by one visit that
carries the union of those tasks' items (with the 1+X items and, where the policy fuses them, the
general items: `LoadedPolicy.visit_items`).

Merge windows (policy.merge.window), each a key the draw's rows are grouped by with the entity:
  - campaign: the tasks of one campaign, round by round (a task's campaign, else the policy's only
    campaign, else the plan as a whole). Round k of every task of the campaign is one visit.
  - month: the draw month. Tasks of any campaign whose rounds fall in the same month merge.
  - year: the whole year's draw, round by round, as for a campaign spanning every task.
A task that drew the same entity twice inside one window (two rounds in one month) keeps the second
draw as a visit of its own (`|2` after the window): merging would silently drop a check the plan
requires.

Who leads: the policy's pairing rules (merge.pairings) are conditions over the visit's fields
(fields.VISIT_FIELDS); the first pairing, in policy order, whose tasks the visit holds names the lead
unit. Without one, the first task (policy order) that names a lead_unit, else a lead department,
else a guide, else an initiator leads; when no task names a unit, the inspecting unit leads
(谁检查、谁录入、谁公开). The units taking part are the lead, each task's own unit and its 配合部门.

Which items, which departments, who inspects (spotcheck.plan.participants): items whose condition the
entity does not meet are left out (applies.csv of the draw); items of a method the policy schedules
without a site visit become a check of their own (`method`, its visit id suffixed with the method);
`departments` are the departments taking part, `department_units` the unit of each, under the mode
(市抽市查 …) the tasks give for this entity; `joint` (跨部门联合) needs two or more distinct bodies,
the bureau's 科室 counting as one (the work plan keeps it only for visits that were staffed).

Deadlines (policy.deadlines on the policy's calendar, the draw date standing for scheme_received):
  - list_fetched_by / inspectors_matched_by: the rules with those ids, where the policy has them;
  - inspect_by, the planned end of the check: the earliest over the visit's tasks of the task's
    window end, else its campaign's window end, else (month windows) the end of the draw month, else
    the `tasks_done` date, else 31 December; never later than `tasks_done`;
  - results_due_by: the `results_public` rule (else the first rule counted from check_completed)
    counted from inspect_by. The results stage recomputes it from the actual completion date;
  - issue_by: the policy's monthly rule (seed 004 “每个月5日前下发任务”) for the draw month.
A year the calendar does not know raises C301 from the calendar: no date is guessed.
"""

from __future__ import annotations

import calendar as pycalendar
import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import polars as pl
import polars_hash as plh
from spotcheck.rules import engine as rules
from spotcheck.rules.classes import matches_by_class
from spotcheck.rules.conditions import parse_condition
from spotcheck.calendar.deadlines import due, resolve
from spotcheck.errors import Problem
from spotcheck.rules.fields import VISIT_FIELDS
from spotcheck.policy.loaded import LoadedPolicy
from spotcheck.policy.model import Task
from spotcheck.policy.vocabulary import unit_name
from spotcheck.draw.records import Coordination
from spotcheck.plan import participants

DRAWS_SCHEMA = {
    "task_id": pl.String, "round": pl.Int64, "month": pl.Int64, "uscc": pl.String, "name": pl.String,
    "district": pl.String, "tier": pl.String, "stratum": pl.String, "rank": pl.Int64, "hash": pl.String,
}
TASKS_DONE = "tasks_done"
RESULTS = "results_public"
DEADLINE_COLUMNS = ("list_fetched_by", "inspectors_matched_by", "inspect_by", "results_due_by", "issue_by")
# visits.csv: the columns later stages read first, then the ones that explain them.
CSV_COLUMNS = (
    "visit_id", "uscc", "name", "district", "tier", "task_ids", "item_codes", "lead_unit", "units", "joint",
    "staffed", "reason", "list_fetched_by", "inspectors_matched_by", "inspect_by", "results_due_by",
    "issue_by", "window", "month", "inspecting_unit", "method", "departments", "department_units",
)
_LIST = pl.List(pl.String)
COLUMNS = (
    "visit_id", "window", "month", "uscc", "name", "district", "tier", "task_ids", "item_codes",
    "lead_unit", "units", "joint", "inspecting_unit", *DEADLINE_COLUMNS, "method", "departments", "department_units",
)


@dataclass(frozen=True)
class Visits:
    """A draw's visits. `frame` has one row per visit in output order, columns `COLUMNS`."""

    frame: pl.DataFrame
    pairs: int  # (task, round, entity) rows of the draw
    window: str  # policy.merge.window
    left_out: tuple[Problem, ...] = ()  # C301 of each later year whose holidays are unknown; its deadlines left empty

    def summary(self, coordination: Coordination | None = None) -> dict:
        """Counts for summary.json: visits saved by merging, joint visits, per inspecting unit."""
        f = self.frame
        by_unit = f.group_by(pl.col("inspecting_unit").fill_null("（未指定）")).agg(pl.len()).sort("inspecting_unit")
        out = {
            "window": self.window,
            "visits": f.height,
            "task_entity_pairs": self.pairs,
            "saved_by_merging": self.pairs - f.height,
            "merged_visits": f.filter(pl.col("task_ids").list.len() > 1).height,
            "joint_visits": f.filter(pl.col("joint")).height,
            "by_inspecting_unit": dict(by_unit.iter_rows()),
        }
        if coordination:
            out["coordination"] = _coordination_saving(coordination)
        if self.left_out:
            out["deadlines_left_out"] = [f"{p.code} {p.message}；{p.hint}" for p in self.left_out]
        return out


def _coordination_saving(coordination: Coordination) -> dict:
    """What coordinating the tasks' draws saved, from the draw's own count of the alternative.

    The draw counts distinct entities under the coordination used and under the other one; each
    distinct entity is at least one visit, so the difference is the visits coordination saved (or,
    when tasks drew independently, what joint coordination would have saved).
    """
    counts = dict(coordination.distinct_entities)
    used = "+".join(coordination.used)
    mine = counts.pop(used, None)
    if mine is None or len(counts) != 1:
        return {"used": used, "distinct_entities": dict(coordination.distinct_entities)}
    other, theirs = next(iter(counts.items()))
    return {
        "used": used,
        "distinct_entities": mine,
        f"distinct_entities_if_{other}": theirs,
        "visits_saved": theirs - mine if used == "joint" else mine - theirs,
        "note": "两种样本协调方式下抽中的不同主体数之差；每个主体至少一次上门检查",
    }


def visit_id(draw_id: str, window: str, uscc: str) -> str:
    return "V" + hashlib.sha256(f"{draw_id}|{window}|{uscc}".encode()).hexdigest()[:16]


def build(loaded: LoadedPolicy, drawn: pl.DataFrame, *, draw_id: str, drawn_on: dt.date,
          applies: Mapping[str, frozenset[str]] | None = None) -> Visits:
    """Merge a draw's rows into visits; pure. `applies`: uscc → the entity rules that hold (applies.csv)."""
    policy = loaded.policy
    tasks = {t.id: t for t in policy.tasks}
    order = {t.id: i for i, t in enumerate(policy.tasks)}
    only = policy.campaigns[0].id if len(policy.campaigns) == 1 else None
    campaign_of = {t.id: t.campaign or only or "" for t in policy.tasks}
    merge = policy.merge.window

    rows = drawn.select("task_id", "round", "month", "uscc", "name", "district", "tier")
    if merge == "campaign":
        base = pl.concat_str(
            pl.lit("campaign:"), pl.col("task_id").replace_strict(campaign_of, return_dtype=pl.String),
            pl.lit("|round:"), pl.col("round").cast(pl.String),
        )
    elif merge == "month":
        base = pl.format("month:{}-{}", pl.lit(policy.year), pl.col("month").cast(pl.String).str.zfill(2))
    else:
        base = pl.concat_str(pl.lit(f"year:{policy.year}|round:"), pl.col("round").cast(pl.String))
    rows = rows.with_columns(base.alias("window"))
    # A task that drew an entity twice in one window: its later draws are visits of their own. Rare, and
    # ranking rounds within every (window, entity, task) costs seconds at a province's size: only then.
    if rows.select(pl.struct("window", "uscc", "task_id").is_duplicated().any()).item():
        rows = rows.with_columns(pl.col("round").rank("ordinal").over(["window", "uscc", "task_id"]).alias("_k")).with_columns(
            pl.when(pl.col("_k") > 1).then(pl.format("{}|{}", pl.col("window"), pl.col("_k"))).otherwise(pl.col("window")).alias("window"))
    rows = rows.with_columns(pl.col("task_id").replace_strict(order, return_dtype=pl.Int64).alias("_o"))
    # Visits are ordered as their strings sort; integer keys that sort the same way are several times cheaper.
    code_keys = _code_keys(rows["uscc"])
    codes = [k.name for k in code_keys]
    rows = rows.with_columns(_ordinal(rows["window"]).alias("_w"), *code_keys)
    # Sorted, an entity's rows of one window are one run: numbering the runs groups them without hashing the keys.
    grouped = (
        rows.sort(["_w", *codes, "_o"])
        .group_by(pl.struct("_w", *codes).rle_id().alias("_run"), maintain_order=True)
        .agg(
            *(pl.col(c).first() for c in ["_w", *codes]), pl.col("window").first(), pl.col("uscc").first(),
            pl.col("name").first(), pl.col("district").first(), pl.col("tier").first(),
            pl.col("month").min(), pl.col("task_id").alias("task_ids"),
        )
    )
    said = {u: "|".join(sorted(r)) for u, r in (applies or {}).items()}
    grouped = grouped.with_columns(
        pl.col("task_ids").list.join("|").alias("_tasks"),
        pl.col("uscc").replace_strict(said, default="", return_dtype=pl.String).alias("_rules"),
        _ordinal(grouped["district"]).alias("_d"),
    )
    keys = ["_tasks", "_rules", "district"]
    grouped = grouped.join(_units(loaded, grouped), on=keys, how="left", nulls_equal=True).explode("_checks").unnest("_checks")
    own_check = pl.when(pl.col("method") != "").then(pl.lit("|") + pl.col("method")).otherwise(pl.lit(""))
    grouped = grouped.with_columns(
        (pl.lit("V") + plh.concat_str([pl.lit(f"{draw_id}|"), pl.col("window"), pl.lit("|"), pl.col("uscc"), own_check])
         .chash.sha2_256().str.slice(0, 16)).alias("visit_id"),
    )
    unknown: list[Problem] = []
    grouped = grouped.join(_deadlines(loaded, grouped, drawn_on, tasks, campaign_of, unknown), on=["_tasks", "month"],
                           how="left")
    # Sorted as by window, district, uscc, method.
    frame = grouped.with_columns(_ordinal(grouped["method"]).alias("_m")).sort(["_w", "_d", *codes, "_m"]).select(COLUMNS)
    return Visits(frame, drawn.height, merge, tuple(unknown))


def _task_unit(loaded: LoadedPolicy, task: Task) -> str | None:
    dept = participants.lead_department(loaded, [task])
    return task.lead_unit or (dept.name if dept is not None else None) or task.guide or task.initiator


_CHECK = pl.Struct({"method": pl.String, "item_codes": _LIST, "departments": _LIST, "department_units": _LIST,
                    "joint": pl.Boolean})


def _units(loaded: LoadedPolicy, grouped: pl.DataFrame) -> pl.DataFrame:
    """Per distinct (tasks, entity rules, district): the checks, lead unit, units taking part, inspecting unit.

    Pairing rules go through spotcheck.rules.engine: the visits are projected onto the fields the rules
    read and each distinct combination is evaluated once.
    """
    policy = loaded.policy
    pairings = policy.merge.pairings
    rule_list = [
        rules.Rule(f"pairing:{i}", parse_condition({"field": "tasks", "op": "all_of", "value": list(p.tasks)}, VISIT_FIELDS))
        for i, p in enumerate(pairings)
    ]
    classes = grouped.select("_tasks", "task_ids").unique("_tasks", maintain_order=True)
    matched: dict[str, list[str]] = {key: [] for key in classes["_tasks"]}
    if rule_list:
        facts = classes.select(pl.col("task_ids").alias("tasks"))
        hits = matches_by_class(rule_list, facts, VISIT_FIELDS)
        for key, ids in zip(classes["_tasks"], hits["rules"].to_list()):
            matched[key] = ids
    tasks = {t.id: t for t in policy.tasks}
    declared = {d.id: d for d in policy.departments}
    out = []
    for key, said, district in grouped.select("_tasks", "_rules", "district").unique(maintain_order=True).iter_rows():
        ts = [tasks[t] for t in key.split("|")]
        held = frozenset(said.split("|")) if said else frozenset()
        firsts = sorted(matched[key], key=lambda r: int(r.split(":")[1]))
        lead = pairings[int(firsts[0].split(":")[1])].lead if firsts else next((u for t in ts if (u := _task_unit(loaded, t))), None)
        # Counted by the declared unit a cell names: "质量监管库" in one row and "质量监管科" in another are one unit.
        parts = [unit_name(policy, u) for u in [lead, *(_task_unit(loaded, t) for t in ts), *(d for t in ts for d in t.departments)] if u]
        how = participants.mode(ts, held)
        inspecting = participants.unit_of(loaded, participants.lead_department(loaded, ts), how, district)
        out.append({
            "_tasks": key, "_rules": said, "district": district,
            "_checks": [
                {"method": c.method, "item_codes": list(c.item_codes), "departments": list(c.departments),
                 "department_units": [participants.unit_of(loaded, declared[d], how, district) or "" for d in c.departments],
                 "joint": c.joint}
                for c in participants.checks(loaded, ts, held)
            ],
            # No task names a unit: the unit that inspects leads (谁检查、谁录入、谁公开).
            "lead_unit": lead if lead is not None else inspecting,
            "units": list(dict.fromkeys(parts)) or ([inspecting] if inspecting is not None else []),
            "inspecting_unit": inspecting,
        })
    schema = {"_tasks": pl.String, "_rules": pl.String, "district": pl.String, "_checks": pl.List(_CHECK),
              "lead_unit": pl.String, "units": _LIST, "inspecting_unit": pl.String}
    return pl.DataFrame(out, schema=schema)


def _ordinal(column: pl.Series) -> pl.Series:
    """Each value's place among the column's distinct values as polars sorts them (nulls first): sorting
    by it sorts as by the column, with the strings compared once per distinct value."""
    values = column.unique().sort().to_frame().with_row_index("_i")
    return column.to_frame().join(values, on=column.name, how="left", nulls_equal=True, maintain_order="left")["_i"]


def _code_keys(codes: pl.Series) -> list[pl.Series]:
    """Columns that sort as the codes sort: when every code is 18 bytes (a USCC), its bytes as three
    big-endian integers (8, 8 and 2 bytes: the same order as comparing the bytes); else the codes'
    places among their distinct values."""
    if codes.len() and codes.null_count() == 0 and (codes.str.len_bytes() == 18).all():
        raw = np.frombuffer(pl.select(pl.lit(codes).str.join("").cast(pl.Binary)).item(), dtype=np.uint8).reshape(-1, 18)
        return [pl.Series(f"_u{i}", np.ascontiguousarray(raw[:, a:b]).view(t).ravel().astype(t.lstrip(">")))
                for i, (a, b, t) in enumerate(((0, 8, ">u8"), (8, 16, ">u8"), (16, 18, ">u2")))]
    return [_ordinal(codes).alias("_u")]


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, pycalendar.monthrange(year, month)[1])


def _deadlines(loaded: LoadedPolicy, grouped: pl.DataFrame, drawn_on: dt.date, tasks: dict[str, Task],
               campaign_of: dict[str, str], unknown: list[Problem]) -> pl.DataFrame:
    """Per (task combination, draw month): the visit's deadlines. One counted into a later year whose holidays
    are not known yet (results due 20 working days after year-end checks, planned before the State Council's
    notice for the next year) is left empty and its problem added to `unknown`: the plan is not refused for it."""
    policy = loaded.policy
    rules_ = policy.deadlines
    cal = loaded.calendar
    campaigns = {c.id: c for c in policy.campaigns}
    done_rule = rules_.get(TASKS_DONE)
    done = done_rule.on if done_rule is not None else None
    results_id = RESULTS if RESULTS in rules_ else next((k for k, r in rules_.items() if r.after == "check_completed"), None)
    monthly = next((r for r in rules_.values() if r.monthly is not None), None)
    year_end = dt.date(policy.year, 12, 31)
    # Only a later year may be unknown: the plan's own year, and the draw's, must be known.
    later_only = {policy.year, drawn_on.year} <= set(cal.known_years())

    def task_end(task: Task, month: int) -> dt.date:
        if task.window is not None:
            return task.window.end
        campaign = campaigns.get(campaign_of[task.id])
        if campaign is not None:
            return campaign.window.end
        if policy.merge.window == "month":
            return _month_end(policy.year, month)
        return done or year_end

    resolved: dict[dt.date, dict[str, dt.date]] = {}
    out = []
    for key, ids, month in grouped.select("_tasks", "task_ids", "month").unique(["_tasks", "month"], maintain_order=True).iter_rows():
        end = min(task_end(tasks[t], month) for t in ids)
        if done is not None:
            end = min(end, done)
        if end not in resolved:
            resolved[end] = resolve(rules_, {"scheme_received": drawn_on, "check_completed": end}, cal,
                                    unknown=unknown if later_only else None) if rules_ else {}
        got = resolved[end]
        out.append({
            "_tasks": key,
            "month": month,
            "list_fetched_by": got.get("list_fetched"),
            "inspectors_matched_by": got.get("inspectors_matched"),
            "inspect_by": end,
            "results_due_by": got.get(results_id) if results_id else None,
            "issue_by": _monthly(monthly, policy.year, month, cal),
        })
    schema = {"_tasks": pl.String, "month": pl.Int64, **{c: pl.Date for c in DEADLINE_COLUMNS}}
    return pl.DataFrame(out, schema=schema)


def _monthly(rule, year: int, month: int, cal) -> dt.date | None:
    return None if rule is None else due(rule, dt.date(year, month, 1), cal)


def csv_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """visits.csv's columns: lists joined with '|' (dates are written ISO, booleans true/false)."""
    return frame.with_columns(
        pl.col("task_ids").list.join("|"),
        pl.col("item_codes").list.join("|"),
        pl.col("units").list.join("|"),
        pl.col("departments").list.join("|"),
        pl.col("department_units").list.join("|"),
    ).select(CSV_COLUMNS)
