"""A sample results file for a draw's visits, for demos and drills: the same for the same seed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import polars_hash as plh

from spotcheck.results.categories import CATEGORIES, NO_PROBLEM, UNREACHABLE
from spotcheck.draw.reader import load_draw
from spotcheck.draw.folder import write_output
from spotcheck.results.records import policy_for
from spotcheck.results.tables import frame_bytes

SAMPLE_HEADERS = ("检查编号", "市场主体名称", "统一社会信用代码", "检查完成日期", "检查方式", "检查结果", "检查事项编码",
                  "检查情况", "后续处置", "备注")
_SAMPLE_PROBLEMS = (
    ("R0201", "未按规定公示年度报告中的行政许可信息", "责令改正"),
    ("R0204", "经营场所未按规定明码标价", "立案查处"),
    ("R03", "产品标识不全，现场已责令改正", "责令改正"),
)
SAMPLE_PROBLEM_PERCENT = 15


@dataclass(frozen=True)
class SampleOutcome:
    path: Path
    rows: int
    visits: int
    problems: int
    unreachable: str | None


def sample_results(draw_dir: str | Path, out: str | Path, *, policy_path: str | Path | None = None, seed: str = "0",
                   today: dt.date | None = None) -> SampleOutcome:
    """A plausible results file for a draw's visits, the same for the same seed: most 未发现问题, about
    one in seven with a problem on one item (one row per item), and one unreachable address. Completion
    dates are working days on the calendar of the policy (by default the one the draw names).

    Each visit's choices come from sha256(seed|visit id): the date from hex digits 8–16, a problem when
    digits 0–8 modulo 100 fall under SAMPLE_PROBLEM_PERCENT, which problem from 16–24, which item from 24–32;
    the visit of the smallest digest is the unreachable one. Built column by column: a province's millions of
    visits are never Python objects."""
    today = today or dt.date.today()
    folder = load_draw(draw_dir)
    calendar = policy_for(folder, policy_path).calendar
    drawn_on = folder.drawn_on

    def hex_part(start: int) -> pl.Expr:
        return pl.col("h").str.slice(start, 8).str.to_integer(base=16).cast(pl.Int64)

    visits = folder.visit_frame.select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("n"), "visit_id", pl.col("name").fill_null(""),
        pl.col("uscc").fill_null(""), "item_codes",
        pl.min_horizontal(pl.col("inspect_by").fill_null(drawn_on + dt.timedelta(days=30)), pl.lit(today)).alias("latest"),
        plh.concat_str([pl.lit(f"{seed}|"), pl.col("visit_id")]).chash.sha2_256().alias("h"),
    )
    unreachable = visits.get_column("visit_id")[visits.get_column("h").arg_min()] if visits.height else None
    # Working days are counted once per distinct date and offset: a year has a few hundred of each.
    spans = {d: calendar.working_days_between(drawn_on, d) for d in visits.get_column("latest").unique().to_list()}
    visits = visits.with_columns(pl.col("latest").replace_strict(spans, return_dtype=pl.Int64).alias("span"))
    visits = visits.with_columns(
        pl.when(pl.col("span") > 0).then(1 + hex_part(8) % pl.col("span")).otherwise(0).alias("offset"))
    days = {k: calendar.add_working_days(drawn_on, k).isoformat() for k in visits.get_column("offset").unique().to_list()}
    visits = visits.with_columns(pl.col("offset").replace_strict(days, return_dtype=pl.String).alias("done"),
                                 pl.col("item_codes").list.len().alias("items"))
    problem = (hex_part(0) % 100 < SAMPLE_PROBLEM_PERCENT) & (pl.col("items") > 0) & (pl.col("visit_id") != unreachable)
    visits = visits.with_columns(problem.alias("problem"), (hex_part(16) % len(_SAMPLE_PROBLEMS)).alias("kind"),
                                 pl.col("item_codes").list.get(hex_part(24) % pl.col("items").clip(1), null_on_oob=True).alias("bad"))
    itemised = visits.filter("problem").explode("item_codes").rename({"item_codes": "item"})
    bad = pl.col("item") == pl.col("bad")

    def pick(j: int) -> pl.Expr:
        return pl.col("kind").replace_strict({k: p[j] for k, p in enumerate(_SAMPLE_PROBLEMS)}, return_dtype=pl.String)

    columns = ("visit_id", "name", "uscc", "done")
    rows = pl.concat([
        visits.filter(~pl.col("problem")).select(
            "n", pl.lit(0, dtype=pl.Int64).alias("k"), *columns,
            pl.lit("实地检查").alias("method"),
            pl.when(pl.col("visit_id") == unreachable).then(pl.lit(CATEGORIES[UNREACHABLE].name))
            .otherwise(pl.lit(CATEGORIES[NO_PROBLEM].name)).alias("result"),
            pl.lit("").alias("item"),
            pl.when(pl.col("visit_id") == unreachable).then(pl.lit("按登记住所实地核查未找到该主体，登记电话无法接通"))
            .otherwise(pl.lit("")).alias("finding"),
            pl.when(pl.col("visit_id") == unreachable).then(pl.lit("列入经营异常名录")).otherwise(pl.lit("")).alias("action"),
        ),
        itemised.select(
            "n", pl.int_range(pl.len(), dtype=pl.Int64).over("n").alias("k"), *columns,
            pl.when(bad).then(pl.lit("实地检查、书面检查")).otherwise(pl.lit("实地检查")).alias("method"),
            pl.when(bad).then(pick(0).replace_strict({c: CATEGORIES[c].name for c, _, _ in _SAMPLE_PROBLEMS}))
            .otherwise(pl.lit(CATEGORIES[NO_PROBLEM].name)).alias("result"),
            "item",
            pl.when(bad).then(pick(1)).otherwise(pl.lit("")).alias("finding"),
            pl.when(bad).then(pick(2)).otherwise(pl.lit("")).alias("action"),
        ),
    ]).sort("n", "k").select(pl.exclude("n", "k"), pl.lit("").alias("remark"))
    out = Path(out)
    write_output(out, frame_bytes(out.suffix.lower(), list(SAMPLE_HEADERS),
                                  rows.rename({c: f"c{j}" for j, c in enumerate(rows.columns)})))
    return SampleOutcome(out, rows.height, visits.height, itemised.get_column("n").n_unique(), unreachable)
