"""`spotcheck site`: the public static website (一公开) built from the ledger and the draw folders.

Four tabs as the provincial portals have them — 抽查事项清单 | 抽查计划公告 | 抽查任务公告 | 抽查结果公告 —
with search and, on every task page, the "验证本次抽取" panel. Pages are plain HTML in one folder; the
data the pages compute with are JavaScript files (`SC.put(name, value)`) loaded by <script> tags, so
the site works from a web server, a USB stick or file://, offline, with nothing fetched from elsewhere.
The folder is built aside and swapped in whole.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from spotcheck.draw.folder import staged, sweep
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.notices.announcements import RESULT_COLUMNS, plan_identity
from spotcheck.notices.content import plan_document, plan_tables
from spotcheck.policy.loaded import LoadedPolicy
from spotcheck.policy.model import TIERS
from spotcheck.policy.sampling import size_rule, stratum_ratio
from spotcheck.resources import TEMPLATES
from spotcheck.site import disclosure
from spotcheck.site.search import Index
from spotcheck.site.sources import DrawSource, Sources, read

DRAWN_PER_PIECE = 2000
ELIGIBLE_PER_PIECE = 10000
RESULTS_PER_PAGE = 500
MARKER = ".spotcheck-site"
BEIJING = dt.timezone(dt.timedelta(hours=8))


@dataclass(frozen=True)
class Site:
    out: Path
    pages: int
    data_files: int
    largest: tuple[str, int]  # (file, bytes)
    tasks: int
    searchable: int
    head_seq: int
    head_hash: str


def _policy_slug(loaded: LoadedPolicy) -> str:
    return f"plan-{loaded.policy.id.replace('/', '-')}-v{loaded.policy.version}-{loaded.sha256[:8]}"


def _cn_time(at: dt.datetime) -> str:
    b = at.astimezone(BEIJING)
    return f"{b.year}年{b.month}月{b.day}日 {b:%H:%M}（北京时间）"


def _script(name: str, value: object) -> bytes:
    return f"SC.put({json.dumps(name)},{json.dumps(value, ensure_ascii=False, separators=(',', ':'))});\n".encode("utf-8")


class _Writer:
    """The site's files, in memory until the whole site is ready."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def page(self, name: str, html: str) -> None:
        self.files[name] = html.encode("utf-8")

    def data(self, name: str, value: object) -> None:
        self.files[f"data/{name}.js"] = _script(name, value)


def _clause(source: DrawSource, view: disclosure.TaskView) -> dict:
    """The plan's clause as the count check reads it: the bound, the ratios it allows for these strata,
    and, where a total is shared among the strata, that total."""
    s, risk = view.task.sampling, source.loaded.policy.risk.tiers
    strata = view.data["strata"]
    eligible = sum(x["eligible"] + x.get("earlier", 0) for x in strata)  # a split batch: the year counts earlier batches' too
    rule = size_rule(s, eligible, source.loaded.policy.year)
    ratios: list[str] = []
    if rule.ratio is not None:
        tiers = TIERS if "tier" in s.stratify else (None,)
        for tier in tiers:
            for klass in (s.classes or [None]):
                r = stratum_ratio(s, risk, rule.ratio, tier, klass)[0]
                if f"{r.numerator}/{r.denominator}" not in ratios:
                    ratios.append(f"{r.numerator}/{r.denominator}")
    total = source.counts(view.task.id).sampling.get("total")
    if total is None and all(x["ratio"] is None for x in strata) and rule.min_count is not None:
        total = min(eligible, rule.min_count)  # 按比例不足最少户数：按各层户数分配最少户数
    return {**view.data["clause"], "bound": rule.bound, "ratios": ratios, "total": total, "upper": rule.bound == "不高于"}


def _task_files(w: _Writer, source: DrawSource, view: disclosure.TaskView, index: Index) -> None:
    data = dict(view.data)
    data["clause"] = _clause(source, view)
    page = f"task-{view.slug}.html"
    units = disclosure.authorities(source)
    drawn = view.drawn.with_columns(pl.col("district").replace_strict(units, default=pl.col("district")).alias("authority"))
    named = sorted(set(drawn["authority"]))
    data["authorities"] = named
    at = {a: i for i, a in enumerate(named)}
    strata = view.strata_index
    rows = [list(r) for r in zip(drawn["round"].to_list(), drawn["uscc"].to_list(), drawn["name"].to_list(),
                                 [at[a] for a in drawn["authority"].to_list()],
                                 [strata.get(s, -1) for s in drawn["stratum"].to_list()], strict=True)]
    if not view.task.publish_drawn:
        # Nothing ties an entity to this task: no list, no search entry (its result, once published, is public).
        rows = []
    else:
        index.add_many(drawn.select("uscc", "name", "authority"), page, f"第{view.no:03d}号抽查任务（{view.task.name}）抽中")
    pieces = [rows[i:i + DRAWN_PER_PIECE] for i in range(0, len(rows), DRAWN_PER_PIECE)]
    data["drawn_pieces"] = len(pieces)
    for k, piece in enumerate(pieces):
        w.data(f"task/{view.slug}/d{k}", piece)
    if view.disclosure == "public":
        lists = disclosure.eligible_codes(source.folder, view.task.id)
        for s in data["strata"]:
            codes = lists.get(s["name"], [])
            chunks = [codes[i:i + ELIGIBLE_PER_PIECE] for i in range(0, len(codes), ELIGIBLE_PER_PIECE)]
            s["pieces"] = len(chunks)
            for k, chunk in enumerate(chunks):
                w.data(f"task/{view.slug}/e{view.strata_index[s['name']]}-{k}", chunk)
    w.data(f"task/{view.slug}", data)


def _results_pages(w: _Writer, env: Environment, ctx: dict, source: DrawSource, views: dict[str, disclosure.TaskView],
                   index: Index) -> list[dict]:
    by_task: dict[str, list] = {}
    for r in source.results:
        by_task.setdefault(r.row.task_id, []).append(r)
    listed = []
    for task_id, rows in by_task.items():
        view = views[task_id]
        rows.sort(key=lambda r: r.row.uscc)
        pages = [rows[i:i + RESULTS_PER_PAGE] for i in range(0, len(rows), RESULTS_PER_PAGE)]
        names = [f"results-{view.slug}-{k + 1}.html" for k in range(len(pages))]
        for k, (name, chunk) in enumerate(zip(names, pages, strict=True)):
            by_result: dict[str, list] = {}
            for r in chunk:
                by_result.setdefault(r.row.result, []).append(r.row)
            for result, said in by_result.items():
                entities = pl.DataFrame({"uscc": [x.uscc for x in said], "name": [x.name for x in said], "authority": [""] * len(said)})
                index.add_many(entities, name, f"第{view.no:03d}号抽查任务检查结果：{result}")
            w.page(name, env.get_template("results_task.html").render(
                ctx, tab="results", view=view, rows=chunk, columns=RESULT_COLUMNS, page=k + 1, pages=names,
                first_no=k * RESULTS_PER_PAGE + 1))
        listed.append({"view": view, "count": len(rows), "first": names[0]})
    return listed


def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(str(TEMPLATES / "site")), autoescape=True, undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True)


def _plan(loaded: LoadedPolicy, draws: list[DrawSource]) -> dict:
    """A plan page's data: its tables as the plan document prints them (the bureau's columns, merged cells)."""
    number, title = plan_identity(loaded.policy)
    return {"slug": _policy_slug(loaded), "number": number, "title": title, "loaded": loaded,
            "tables": plan_tables(loaded, plan_document(loaded.policy)), "draws": draws}


def _render(sources: Sources, built: dt.datetime) -> tuple[_Writer, int, int]:
    env = _environment()
    w = _Writer()
    regions = sorted({p.policy.jurisdiction.name for p in sources.policies})
    ctx = {
        "site_region": "、".join(regions), "site_title": "、".join(regions) + "“双随机、一公开”公示",
        "built_at": _cn_time(built), "built_utc": built.astimezone(dt.timezone.utc).isoformat(timespec="seconds"),
        "head_seq": sources.head_seq, "head_hash": sources.head_hash, "ledger_name": sources.ledger_path.name,
        "drills": any(s.drill for s in sources.draws),
    }
    index = Index()
    item_lists, seen = [], set()
    for loaded in sources.policies:
        for item_list in loaded.item_lists:
            if (item_list.id, item_list.version) not in seen:
                seen.add((item_list.id, item_list.version))
                item_lists.append(item_list)
    w.page("index.html", env.get_template("items.html").render(ctx, tab="items", item_lists=item_lists))

    plans = []
    for loaded in sources.policies:
        plan = _plan(loaded, [s for s in sources.draws if s.loaded is loaded])
        plans.append(plan)
        w.page(f"{plan['slug']}.html", env.get_template("plan.html").render(ctx, tab="plans", plan=plan))
    w.page("plans.html", env.get_template("plans.html").render(ctx, tab="plans", plans=plans))

    tasks, results = [], []
    for source in sources.draws:
        views = {v.task.id: v for v in disclosure.views(source)}
        plan_slug = _policy_slug(source.loaded)
        for view in views.values():
            _task_files(w, source, view, index)
            units = source.units.get(view.task.id) or [view.task.inspecting_level or source.loaded.policy.jurisdiction.name]
            w.page(f"task-{view.slug}.html", env.get_template("task.html").render(
                ctx, tab="tasks", view=view, units=units, plan_slug=plan_slug, data=view.data))
            tasks.append({"view": view, "units": units})
        results += _results_pages(w, env, ctx, source, views, index)
    w.page("tasks.html", env.get_template("tasks.html").render(ctx, tab="tasks", tasks=tasks))
    w.page("results.html", env.get_template("results.html").render(ctx, tab="results", results=results))
    w.page("search.html", env.get_template("search.html").render(ctx, tab="search"))
    for name, value in index.files().items():
        w.data(name, value)
    for asset in sorted((TEMPLATES / "site" / "assets").iterdir()):
        w.files[f"assets/{asset.name}"] = asset.read_bytes()
    w.files[MARKER] = f"{sources.head_seq} {sources.head_hash}\n".encode()
    return w, len(tasks), index.count()


def _swap(out_dir: Path, files: dict[str, bytes]) -> None:
    """Write the site aside and swap it in whole; an existing folder is replaced only if it is a site."""
    sweep(out_dir)
    exists = out_dir.exists() and any(out_dir.iterdir())
    if exists and not (out_dir / MARKER).is_file():
        raise SpotcheckError(Problem("W906", f"输出目录 {out_dir} 不为空，也不是 spotcheck 生成的网站，不会覆盖",
                                     hint="换一个 --out 目录，或先移走其中的文件"))
    with staged(out_dir, adding=exists) as stage:
        # A rebuild starts empty: a page of a task no longer in the ledger must not linger.
        for child in stage.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        for name, content in files.items():
            path = stage / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        os.chmod(stage, 0o755)


def build(ledger_path: Path, out_dir: Path, *, policies_dir: Path | None = None, drills: bool = False,
          now: dt.datetime | None = None) -> Site:
    """Build the public site from the ledger; on any problem nothing is written (W901–W906)."""
    built = now or dt.datetime.now(dt.timezone.utc)
    sources = read(ledger_path, policies_dir, drills=drills)
    w, tasks, searchable = _render(sources, built)
    _swap(Path(out_dir), w.files)
    largest = max(w.files.items(), key=lambda kv: len(kv[1]))
    return Site(Path(out_dir), sum(1 for n in w.files if n.endswith(".html")), sum(1 for n in w.files if n.startswith("data/")),
                (largest[0], len(largest[1])), tasks, searchable, sources.head_seq, sources.head_hash)
