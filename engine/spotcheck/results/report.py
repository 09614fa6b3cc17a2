"""The year's KPIs against the policy's targets, from the ledger and the draw folders.

Each metric is an exact fraction (numerator / denominator) beside its target, with the shortfall
named in Chinese. A metric the data cannot give says why (不可从台账计算) rather than showing a number:
the ledger records only the random checks, so e.g. the share of random checks among all checks needs
the other checks to be in the ledger's history too.

"Inspected" means a result was entered with a completion date in the policy's year. Publication is on
time when a visit's first publication came by its due date; a result not published past its due date
(or, not yet entered, past the plan's results_due_by) is overdue.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import jinja2
import polars as pl
from markupsafe import Markup
from spotcheck.results import reads
from spotcheck.results import records as results
from spotcheck.directory.kinds import load_for
from spotcheck.directory.load import EntityDirectory, Sheet, load_known, load_sheet
from spotcheck.draw.reader import DrawFolder, checked, load_draw, read_folder
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.rules.fields import OPERATING_STATUSES, TIER_NAMES, TIERS
from spotcheck.draw.folder import staged, sweep, write_files
from spotcheck.ledger.history import checks_of_year
from spotcheck.ledger.store import Ledger
from spotcheck.notices.announcements import plan_identity
from spotcheck.policy.loaded import LoadedPolicy
from spotcheck.policy.loader import load_policy
from spotcheck.resources import TEMPLATES
from spotcheck.policy.model import METRIC_NAMES, coverage_kinds, percent_fraction
from spotcheck.version import engine_version

NOT_COMPUTABLE = "不可从台账计算"
COMPUTED = ("enterprise_coverage", "risk_based_share", "joint_share", "double_random_share", "item_coverage",
            "on_time_publication", "follow_up")
# What one more unit of the numerator is, for "还差 N …".
UNITS = {
    "enterprise_coverage": "户企业", "risk_based_share": "户次分级抽取", "joint_share": "次联合检查",
    "double_random_share": "次双随机抽查", "item_coverage": "项事项", "on_time_publication": "条按时公示的结果",
    "follow_up": "条办结的后续处置",
}
_UNTRACKED = {
    "risk_classification_use": "台账不记录信用风险分类结果在抽查以外的应用",
    "plan_publication": "台账不记录抽查计划和任务的公示情况",
    "mobile_enforcement": "台账不记录是否使用掌上执法终端",
}


def percent_text(value: Fraction, places: int = 2) -> str:
    """An exact fraction as a percentage rounded half up: Fraction(1, 3) -> "33.33%"."""
    scaled = math.floor(value * 100 * 10**places + Fraction(1, 2))
    return f"{Decimal(scaled).scaleb(-places):f}%"


def target_text(value: Fraction) -> str:
    """A target as policies write it: Fraction(3, 100) -> "3%", Fraction(1, 200) -> "0.5%"."""
    digits = percent_text(value, 4).removesuffix("%")
    return digits.rstrip("0").rstrip(".") + "%"


@dataclass(frozen=True)
class Metric:
    metric: str
    numerator: int | None
    denominator: int | None
    target: Fraction | None
    target_text: str | None
    basis: str  # how it is counted
    reason: str | None = None  # why it cannot be computed

    @property
    def name(self) -> str:
        return METRIC_NAMES[self.metric]

    @property
    def value(self) -> Fraction | None:
        if self.reason or not self.denominator:
            return None
        return Fraction(self.numerator, self.denominator)

    @property
    def met(self) -> bool | None:
        return None if self.value is None or self.target is None else self.value >= self.target

    @property
    def shortfall(self) -> str | None:
        """The gap to the target in Chinese, None when met or not measurable."""
        if not self.met and self.met is not None:
            gap = percent_text(self.target - self.value).removesuffix("%")
            more = math.ceil(self.target * self.denominator) - self.numerator
            return f"未达目标：比目标低 {gap} 个百分点，按当前基数还差 {more} {UNITS.get(self.metric, '')}"
        return None

    @property
    def verdict(self) -> str:
        if self.reason:
            return f"{NOT_COMPUTABLE}：{self.reason}"
        if self.target is None:
            return "未设目标"
        return "达到目标" if self.met else self.shortfall

    def to_dict(self) -> dict:
        value = self.value
        return {
            "metric": self.metric, "name": self.name,
            "computable": self.reason is None,
            "numerator": self.numerator, "denominator": self.denominator,
            "value": percent_text(value) if value is not None else None,
            "fraction": f"{value.numerator}/{value.denominator}" if value is not None else None,
            "target": target_text(self.target) if self.target is not None else None,
            "target_text": self.target_text, "met": self.met, "shortfall": self.shortfall,
            "verdict": self.verdict, "basis": self.basis, "reason": self.reason,
        }


@dataclass(frozen=True)
class Share:
    label: str
    numerator: int
    denominator: int

    def to_dict(self) -> dict:
        value = Fraction(self.numerator, self.denominator) if self.denominator else None
        return {"label": self.label, "numerator": self.numerator, "denominator": self.denominator,
                "value": percent_text(value) if value is not None else None}


@dataclass(frozen=True)
class Timeliness:
    unit: str
    on_time: int = 0
    late: int = 0
    overdue: int = 0
    pending: int = 0

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Report:
    policy_id: str
    jurisdiction: str
    year: int
    today: dt.date
    draws: list[dict]
    metrics: list[Metric]
    by_district: list[Share]
    by_tier: list[Share]
    timeliness: list[Timeliness]
    notes: list[str] = field(default_factory=list)
    plan: str = ""  # the plan's title as officers name it (the page shows it, not the policy id)

    def to_dict(self) -> dict:
        return {
            "policy": self.policy_id, "jurisdiction": self.jurisdiction, "year": self.year,
            "as_of": self.today.isoformat(), "draws": self.draws, "metrics": [m.to_dict() for m in self.metrics],
            "coverage_by_district": [s.to_dict() for s in self.by_district],
            "coverage_by_tier": [s.to_dict() for s in self.by_tier],
            "publication_timeliness": [t.to_dict() for t in self.timeliness], "notes": self.notes,
        }


def _target(loaded: LoadedPolicy, metric: str) -> tuple[Fraction | None, str | None]:
    t = loaded.policy.targets.get(metric)
    return (percent_fraction(t.value), t.text) if t else (None, None)


def compute(loaded: LoadedPolicy, folders: list[DrawFolder], entities: pl.DataFrame | Callable[[], pl.DataFrame],
            progress: reads.Progress, ledger: Ledger, today: dt.date) -> Report:
    """The KPIs of the policy's year. Pure but for reading the ledger.

    Column by column: a province's year is millions of visits, each with its result read as a few fields
    (reads.read_progress, reads.progress_frame), never a Python object per visit. `entities` (the directory's
    ENTITY_COLUMNS) may be a function giving them, asked once the ledger is read."""
    year = loaded.policy.year
    tracks = reads.progress_frame(folders, progress, _carried)
    if callable(entities):
        entities = entities()
    in_year = pl.col("completed_on").dt.year() == year
    done = tracks.filter(pl.col("completed_on").is_not_null() & in_year)
    metrics: dict[str, Metric] = {}

    def put(metric: str, num: int | None, den: int | None, basis: str, reason: str | None = None) -> None:
        target, text = _target(loaded, metric)
        if reason is None and not den:
            reason = "分母为零：" + basis
        metrics[metric] = Metric(metric, num, den, target, text, basis, reason)

    inspected = done.get_column("uscc").unique()
    # Looked up once, the directory's codes among the inspected ones: a province's ten million codes are never
    # made a set to look the inspected up in (5.5-6.2 s of CPU against 2.5-2.6 s this way).
    entities = entities.with_columns(pl.col("uscc").is_in(inspected.implode()).alias("_inspected"))
    operating = entities.filter(pl.col("type").is_in(list(coverage_kinds(loaded.policy))) & pl.col("status").is_in(list(OPERATING_STATUSES)))
    put("enterprise_coverage", int(operating["_inspected"].sum()), operating.height,
        "本年度已录入结果的在营企业户数 / 名录中在营企业户数")

    risk_num = risk_den = 0
    for f in folders:
        flags = _risk_based_tasks(f, loaded)
        drawn = f.drawn_columns("task_id") if (f.path / "draws.csv").is_file() \
            else f.visit_frame.select(pl.col("task_ids").explode().drop_nulls().alias("task_id"))
        risk_den += drawn.height
        risk_num += drawn.filter(pl.col("task_id").is_in([t for t, on in flags.items() if on])).height
    put("risk_based_share", risk_num, risk_den, "按信用风险等级分层抽取的户次 / 全部抽取户次")

    put("joint_share", int(done["joint"].sum()), done.height, "联合检查次数 / 已录入结果的检查次数")

    drawn_checks, others = checks_of_year(ledger, year)
    if others:
        put("double_random_share", drawn_checks, drawn_checks + others, "台账抽查历史中随机抽取产生的检查 / 全部检查")
    else:
        put("double_random_share", None, None, "双随机抽查次数 / 全部抽查次数",
            "台账只记录双随机抽取的检查，其他方式的检查次数不在台账中")

    items = set(loaded.items)
    covered = items & set(done.select(pl.col("item_codes").explode().drop_nulls().unique()).to_series().to_list())
    put("item_coverage", len(covered), len(items), "已检查（已录入结果）的事项数 / 策略事项清单中的事项数",
        None if items else "策略没有事项清单")

    timeliness = _timeliness(tracks, results.publication_dues(loaded), today, year)
    on_time = sum(t.on_time for t in timeliness)
    due_count = sum(t.on_time + t.late + t.overdue for t in timeliness)
    put("on_time_publication", on_time, due_count, "期限内公示的结果 / （已公示 + 逾期未公示）的结果")

    needing = done.filter(pl.col("needs_follow_up"))
    put("follow_up", needing["follow_up_closed_on"].count(), needing.height,
        "已办结的后续处置 / 发现问题需后续处置的结果",
        None if needing.height else "本年度没有发现需要后续处置的问题")

    for metric, why in _UNTRACKED.items():
        if metric in loaded.policy.targets:
            put(metric, None, None, METRIC_NAMES[metric], why)

    by_district = [Share(d, int(g["_inspected"].sum()), g.height)
                   for (d,), g in sorted(operating.group_by("district"), key=lambda kv: str(kv[0][0]))]
    by_tier = [Share(f"{tier}级（{TIER_NAMES[tier]}）", int(g["_inspected"].sum()), g.height)
               for tier in TIERS if (g := operating.filter(pl.col("tier") == tier)).height]
    notes = []
    if any(f.drill for f in folders):
        notes.append("包含演练抽取，演练结果不是正式抽查结果，不得对外公布")
    unknown = inspected.len() - entities.filter(pl.col("_inspected")).get_column("uscc").n_unique()
    if unknown:
        notes.append(f"{unknown} 户已检查主体不在名录中，未计入企业覆盖率")
    order = [m for m in METRIC_NAMES if m in metrics]
    return Report(
        policy_id=loaded.policy.id, jurisdiction=loaded.policy.jurisdiction.name, year=year, today=today,
        draws=[{"draw_id": f.draw_id, "drawn_on": f.drawn_on.isoformat(), "drill": f.drill, "visits": f.visit_frame.height,
                "path": str(f.path)} for f in folders],
        metrics=[metrics[m] for m in order], by_district=by_district, by_tier=by_tier,
        timeliness=timeliness, notes=notes, plan=plan_identity(loaded.policy)[1],
    )


# What the report reads of a directory: only these columns are kept of a province's millions of rows.
ENTITY_COLUMNS = ("uscc", "type", "status", "district", "tier")


def _carried(visits: pl.DataFrame) -> list[pl.Expr]:
    """What the report needs of each visit besides its result, as reader.Visit gives it (a column the file
    lacks is empty)."""
    present = set(visits.columns)

    def text(name: str) -> pl.Expr:
        return pl.col(name).fill_null("") if name in present else pl.lit("", pl.String)

    return [
        text("uscc").alias("uscc"),
        # Visit.unit: the body that inspects, enters and publishes the result.
        pl.when(text("inspecting_unit") != "").then(text("inspecting_unit"))
        .when(text("lead_unit") != "").then(text("lead_unit")).otherwise(pl.lit("（未指定检查机关）")).alias("unit"),
        (pl.col("joint").fill_null(False) if "joint" in present else pl.lit(False)).alias("joint"),
        pl.col("item_codes"),
        (pl.col("results_due_by") if "results_due_by" in present else pl.lit(None, pl.Date)).alias("results_due_by"),
    ]


def _risk_based_tasks(folder: DrawFolder, loaded: LoadedPolicy) -> dict[str, bool]:
    """Which tasks of a draw sampled by tier: as the draw's summary recorded it, else as the policy says."""
    flags = {t.task_id: t.risk_based for t in folder.summary.tasks}
    for task in loaded.policy.tasks:
        flags.setdefault(task.id, "tier" in task.sampling.stratify)
    return flags


_KINDS = ("on_time", "late", "overdue", "pending")


def _timeliness(tracks: pl.DataFrame, due_of: Callable[[dt.date], dt.date], today: dt.date, year: int) -> list[Timeliness]:
    """Per unit, its results published on time or late, and those not published: overdue or not yet due.

    A result once published counts by its first publication, against the due date of the completion date
    of the version published; one not yet published against that of its latest version; a visit without a
    result against the plan's results_due_by. Those of another year do not count."""
    first, latest, planned = pl.col("first_completed"), pl.col("completed_on"), pl.col("results_due_by")
    # Its due date counts from this completion date (counted once per day: a year is a few hundred days).
    basis = pl.when(first.is_not_null()).then(first).otherwise(latest)
    dated = tracks.select("unit", first, latest, "first_published_on", planned, basis.alias("basis"))
    days = dated.filter(pl.col("basis").dt.year() == year).get_column("basis").unique().sort()
    dues = pl.DataFrame({"basis": days, "due": [due_of(d) for d in days.to_list()]}, schema={"basis": pl.Date, "due": pl.Date})
    today_ = pl.lit(today, pl.Date)
    of_year = pl.col("basis").dt.year() == year
    kind = (
        pl.when(first.is_not_null()).then(
            pl.when(~of_year).then(None)
            .when(pl.col("first_published_on") <= pl.col("due")).then(pl.lit("on_time")).otherwise(pl.lit("late")))
        .when(latest.is_not_null()).then(
            pl.when(~of_year).then(None).when(today_ > pl.col("due")).then(pl.lit("overdue")).otherwise(pl.lit("pending")))
        .otherwise(
            pl.when(planned.is_null() | (planned.dt.year() != year)).then(None)
            .when(today_ > planned).then(pl.lit("overdue")).otherwise(pl.lit("pending")))
    )
    counts = dated.join(dues, on="basis", how="left", maintain_order="left").select("unit", kind.alias("kind")) \
        .filter(pl.col("kind").is_not_null()) \
        .group_by("unit").agg(*[(pl.col("kind") == k).sum().alias(k) for k in _KINDS]).sort("unit")
    return [Timeliness(unit, *map(int, n)) for unit, *n in counts.iter_rows()]


# ---------------------------------------------------------------- HTML with inline SVG charts

_BAR_COLOUR = "#1f5fa8"
_TIMELINESS = (("on_time", "按时公示", "#2e7d32"), ("late", "逾期公示", "#ef8f00"),
               ("overdue", "逾期未公示", "#c62828"), ("pending", "未到期", "#9e9e9e"))


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _label_width(labels: Iterable[str]) -> int:
    # 13px text: a CJK character is about one em wide, Latin about half.
    return max([sum(14 if ord(ch) > 0x2E80 else 8 for ch in label) for label in labels] + [60]) + 12


def _svg_open(title: str, width: int, height: int) -> str:
    # No xmlns: inline SVG in HTML needs none, and the page must hold no URL at all.
    return (f'<svg class="chart" role="img" aria-label="{_esc(title)}" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}"><text x="0" y="18" class="chart-title">{_esc(title)}</text>')


def bar_chart(title: str, shares: list[Share], target: Fraction | None) -> Markup:
    """Horizontal bars of exact shares, with the target as a dashed line."""
    label_w, bar_w, row_h, top = _label_width(s.label for s in shares), 360, 28, 34
    height = top + row_h * max(len(shares), 1) + 24
    values = [Fraction(s.numerator, s.denominator) for s in shares if s.denominator]
    scale = max([*values, target or Fraction(0), Fraction(1, 100)]) * Fraction(5, 4)
    parts = [_svg_open(title, label_w + bar_w + 160, height)]
    if target is not None:
        # Drawn first, so the values written over it stay readable.
        x = label_w + float(target / scale * bar_w)
        bottom = top + row_h * max(len(shares), 1)
        parts.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{bottom}" stroke="#c62828" '
                     f'stroke-dasharray="4 3" stroke-width="1.5"/>')
        parts.append(f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle" class="target">'
                     f'目标 {_esc(target_text(target))}</text>')
    for i, s in enumerate(shares):
        y = top + i * row_h
        value = Fraction(s.numerator, s.denominator) if s.denominator else Fraction(0)
        w = float(value / scale * bar_w)
        parts.append(f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end">{_esc(s.label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row_h - 10}" fill="{_BAR_COLOUR}"/>')
        text = f"{s.numerator}/{s.denominator}（{percent_text(value)}）" if s.denominator else "无"
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 17}" class="val">{_esc(text)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def timeliness_chart(rows: list[Timeliness]) -> Markup:
    """One stacked bar per unit: on time, late, overdue, not yet due."""
    label_w, bar_w, row_h, top = _label_width(r.unit for r in rows), 360, 28, 56
    height = top + row_h * max(len(rows), 1) + 10
    longest = max([sum(getattr(r, k) for k, _, _ in _TIMELINESS) for r in rows] + [1])
    parts = [_svg_open("各单位结果公示及时性", label_w + bar_w + 60, height)]
    for i, (_, name, colour) in enumerate(_TIMELINESS):
        parts.append(f'<rect x="{i * 110}" y="30" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{i * 110 + 16}" y="41">{name}</text>')
    for i, r in enumerate(rows):
        y, x = top + i * row_h, label_w
        parts.append(f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end">{_esc(r.unit)}</text>')
        for key, name, colour in _TIMELINESS:
            n = getattr(r, key)
            if n:
                w = n / longest * bar_w
                parts.append(f'<rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{row_h - 10}" fill="{colour}">'
                             f'<title>{name} {n}</title></rect>')
                if w >= 16:
                    parts.append(f'<text x="{x + w / 2:.1f}" y="{y + 17}" text-anchor="middle" class="on-bar">{n}</text>')
                x += w
    parts.append("</svg>")
    return Markup("".join(parts))


def render_html(report: Report, loaded: LoadedPolicy) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    coverage_target, _ = _target(loaded, "enterprise_coverage")
    return env.get_template("report.html.j2").render(
        report=report, metrics=[m.to_dict() for m in report.metrics], not_computable=NOT_COMPUTABLE,
        district_chart=bar_chart("在营企业抽查覆盖率（按辖区）", report.by_district, coverage_target),
        tier_chart=bar_chart("在营企业抽查覆盖率（按信用风险等级）", report.by_tier, coverage_target),
        timeliness_chart=timeliness_chart(report.timeliness),
    )


def _reader(loaded: LoadedPolicy, draw_dirs: list[str | Path]) -> Callable[[str | Path, Sheet], EntityDirectory]:
    """How the report reads its directory: only the columns it needs when the file is one a draw of the year
    read under this policy and this engine (the draw checked it clean then, as load_sheet would now);
    otherwise, or if a folder cannot be read here (load_draw says why later), checked whole."""
    checked = set()
    for d in draw_dirs:
        try:
            transcript = read_folder(d).transcript
        except SpotcheckError:
            continue
        if transcript.policy.sha256 == loaded.sha256 and transcript.engine_version == engine_version():
            checked.add(transcript.entities.sha256)
    if not checked:
        return load_sheet

    def read(path: str | Path, sheet: Sheet) -> EntityDirectory:
        fields = [*ENTITY_COLUMNS, *(f for f in ("object_id",) if f in sheet.fields)]
        return load_known(path, sheet, fields, checked) or load_sheet(path, sheet)

    return read


def _year_folders(planned: list[Future[DrawFolder]], ledger: Ledger, year: int) -> list[DrawFolder]:
    """The draw folders read beside the ledger's scan, checked against the ledger (S832) and the year (S850)."""
    folders = [checked(f.result(), ledger) for f in planned]
    wrong = [Problem("S850", f"抽取日期 {f.drawn_on} 不在策略年度 {year} 年内", file=str(f.path), hint="只给出本年度的抽取目录")
             for f in folders if f.drawn_on.year != year]
    if wrong:
        raise SpotcheckError(wrong)
    return folders


def make_report(policy_path: str | Path, draw_dirs: Iterable[str | Path], entities_path: str | Path, *,
                ledger_path: str | Path, out_dir: str | Path, today: dt.date | None = None) -> Report:
    """Compute the year's KPIs and write OUT/report.json and OUT/report.html (self-contained, offline)."""
    today = today or dt.date.today()
    draw_dirs = list(draw_dirs)
    loaded = load_policy(policy_path)
    read = _reader(loaded, draw_dirs)
    # The directory and the folders' visits are read (polars) while the ledger is scanned (SQLite): all let go of
    # Python's lock, and none needs another (a province's visits.csv is 20 s of reading, the scan 35 s of one core).
    with ThreadPoolExecutor(max_workers=2) as pool:
        entities = pool.submit(lambda: load_for(loaded.policy, entities_path, read).frame.select(ENTITY_COLUMNS))
        planned = [pool.submit(load_draw, d) for d in draw_dirs]
        try:
            with Ledger.open(ledger_path, create=False) as ledger:
                try:
                    progress = reads.read_progress(ledger)
                except SpotcheckError:
                    _year_folders(planned, ledger, loaded.policy.year)  # their problems come before the ledger's
                    raise
                report = compute(loaded, _year_folders(planned, ledger, loaded.policy.year), entities.result, progress,
                                 ledger, today)
        except SpotcheckError:
            entities.result()  # the directory's problems come first, as when it was read before the rest
            raise
    files = {
        "report.json": (json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n").encode("utf-8"),
        "report.html": render_html(report, loaded).encode("utf-8"),
    }
    out_dir = Path(out_dir)
    sweep(out_dir)
    with staged(out_dir, adding=out_dir.is_dir() and any(out_dir.iterdir())) as stage:
        write_files(stage, files)
    return report
