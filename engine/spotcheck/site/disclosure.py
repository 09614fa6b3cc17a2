"""What each drawn task shows the public, and what stays internal.

Anyone holding the draw's key (public once the committed random value is revealed) can compute any
entity's rank hash. So whatever the site says about a stratum is, for every entity, a statement about
where its hash falls; a stratum's membership must never follow from it when the membership is internal.
Each task therefore gets one of four disclosures, decided from the fields its scope and strata read:

- `public` — the scope reads only fields of the public registration (type, status, district, dates…),
  the strata are at most districts and no frequency cap removed anyone: the eligible list is published
  and the browser recomputes the whole draw.
- `scope` — the scope reads internal fields (监管标签, grid, history) but not the risk tier, and the
  strata are at most districts: each stratum is published with its name, counts and cut-off (the
  largest rank hash drawn), and every drawn entity with its stratum; the eligible list stays internal.
- `tier` — the scope or the strata read the credit-risk tier (or a class of the clause is picked out by
  an internal field): strata are published as 第1层, 第2层… with
  their counts and ratios only, in an order that does not follow the tiers; no drawn entity is tied to
  a stratum and no per-stratum cut-off is published (it would tell, for every drawn entity, which tiers
  its hash fits). With a campaign key shared by all strata (coordination: joint) the task's largest
  cut-off is published as a bound every drawn entity must meet.

- `unlisted` — the policy does not publish the task's drawn list (`publish_drawn: false`): strata as for
  `tier`, no list, no cut-off, no bound and no search entry; the page checks the commitment and the
  counts only. (A drawn list also follows from a published eligible list or cut-offs, so none is published.)

Tiers, labels and the eligible lists of `scope`, `tier` and `unlisted` tasks go to the supervisor (supervisor.py).
"""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from spotcheck.draw.commitment import canonical, sha256_text
from spotcheck.draw.records import TaskCounts, TaskRecord
from spotcheck.notices.announcements import stratum_label
from spotcheck.notices.content import task_no
from spotcheck.policy.cadence import shares
from spotcheck.policy.model import Task, sampling_text
from spotcheck.rules.semantics import fields_read
from spotcheck.site.sources import DrawSource

PUBLIC_FIELDS = frozenset({"uscc", "name", "type", "status", "district", "registration_authority", "industry",
                           "address", "established", "expires"})
DISCLOSURES = {
    "public": "抽查范围和名单全部公开：页面重算整个抽取",
    "scope": "抽查范围含内部标注，名单不公开：页面核对每个被抽中主体的排序值与所在层的截止值",
    "tier": "按信用风险等级分层，分层属内部信息：页面核对承诺、数量和排序值上界，分层明细由监督机构核验",
    "unlisted": "按计划不公开抽中名单：页面核对承诺和数量，名单和排序值由监督机构核验",
}


def disclosure(task: Task, counts: TaskCounts) -> str:
    if not task.publish_drawn:
        return "unlisted"
    classes = frozenset().union(*(fields_read(c.when) for c in task.sampling.classes))
    read = fields_read(task.scope) | set(task.sampling.stratify) | classes
    # Classes are strata too: one picked out by an internal field is as internal as a tier.
    if "tier" in read or classes - PUBLIC_FIELDS:
        return "tier"
    if read - PUBLIC_FIELDS or counts.excluded_by_cap:
        return "scope"
    return "public"


@dataclass(frozen=True)
class TaskView:
    """One drawn task as the site shows it: the page's facts and the verify panel's data."""

    source: DrawSource
    task: Task
    disclosure: str
    data: dict  # the verify panel's data, written as the task's data file
    drawn: pl.DataFrame  # round, uscc, name, district, stratum, hash, in public order (round, then code): never by stratum
    strata_index: dict[str, int]  # stratum name → index in data["strata"]; empty for a `tier` task

    @property
    def slug(self) -> str:
        return f"{self.source.id}-{self.task.id}"

    @property
    def no(self) -> int:
        return task_no(self.source.loaded.policy, self.task)


def authorities(source: DrawSource) -> dict[str, str]:
    """登记机关 by district: the district's market-supervision bureau, as the policy names it."""
    return {d.name: d.unit for d in source.loaded.policy.jurisdiction.districts}


def commitment_view(source: DrawSource) -> dict | None:
    record = source.commitment
    if record is None:
        return None
    # The commitment id hashes the body as committed; the ledger adds the policy id beside it.
    body = {k: v for k, v in record.body.items() if k != "policy"}
    return {
        "id": record.key, "sha256": sha256_text(canonical(body)), "body": body, "at": record.at,
        "seq": record.seq, "record_hash": record.hash, "draw_at": source.record.at,
    }


def _percent(ratio: str | None) -> str:
    """"1/20" as officers write it (5%); a share of a fixed total has no ratio of its own."""
    if ratio is None:
        return "按总数分配"
    num, den = (int(x) for x in ratio.split("/"))
    return f"{(Decimal(num * 100) / Decimal(den)).quantize(Decimal('0.01')).normalize():f}%"


def _order(strata: list[dict]) -> list[dict]:
    # Largest first, ties by a digest of the (internal) eligible list: an order the tiers cannot be read from.
    return sorted(strata, key=lambda s: (-s["eligible"], -s["drawn"], hashlib.sha256(s["eligible_sha256"].encode()).hexdigest()))


def task_view(source: DrawSource, entry: TaskRecord) -> TaskView:
    task = source.loaded.task(entry.task_id)
    kind = disclosure(task, source.counts(task.id))
    drawn = source.drawn.filter(pl.col("task_id") == task.id).drop("task_id").sort("round", "uscc")
    cutoffs: dict[str, dict[str, str]] = {}
    for stratum, rnd, top in drawn.group_by("stratum", "round", maintain_order=True).agg(pl.col("hash").max()).iter_rows():
        cutoffs.setdefault(stratum, {})[str(rnd)] = top
    split = task.batch_mode == "split" and bool(task.batches)
    years = _split_years(source.counts(task.id)) if split else {}
    per_round = {(st, rnd): n for st, rnd, n in drawn.group_by("stratum", "round").len().iter_rows()}
    strata = []
    for s in entry.strata:
        shown = {"eligible": s.eligible, "ratio": s.ratio, "ratio_text": _percent(s.ratio), "wanted": s.wanted,
                 "drawn": s.drawn, "eligible_sha256": s.eligible_sha256, "name": s.stratum}
        if split:
            # What the count check recomputes a split batch from: the year's count and what earlier batches drew.
            year, earlier = years[s.stratum]
            shown |= {"year_wanted": year, "earlier": earlier,
                      "by_round": {str(r.round): per_round.get((s.stratum, r.round), 0) for r in entry.rounds}}
        strata.append(shown)
    if kind in ("tier", "unlisted"):
        strata = _order(strata)
        for k, s in enumerate(strata, 1):
            s["label"] = f"第{k}层"
            del s["name"], s["eligible_sha256"]
        index: dict[str, int] = {}
    else:
        for s in strata:
            s["label"] = "全部" if s["name"] == "全部" else stratum_label(s["name"])
            s["cutoff"] = cutoffs.get(s["name"], {})
            if kind != "public":
                del s["eligible_sha256"]
        index = {s["name"]: k for k, s in enumerate(strata)}
    joint = entry.coordination == "joint" and entry.campaign is not None
    data = {
        "draw": source.id, "task": task.id, "no": task_no(source.loaded.policy, task), "name": task.name,
        "disclosure": kind, "disclosure_text": DISCLOSURES[kind], "list_published": task.publish_drawn, "drill": source.drill,
        "seed": source.transcript.seed.to_json(), "drawn_on": source.transcript.drawn_on.isoformat(),
        "commitment": commitment_view(source), "coordination": "joint" if joint else "independent",
        "rounds": [r.to_json() for r in entry.rounds], "strata": strata,
        "clause": {"text": sampling_text(task.sampling), "count": task.sampling.count},
        "drawn_total": drawn.height,
    }
    if split:
        data["batches"] = {"shares": [f"{f.numerator}/{f.denominator}" for f in shares(task.batches)],
                           "names": [b.name for b in task.batches]}
        if task.publish_drawn:
            # Earlier batches' lists were published with their draws; the page checks this one repeats none of them.
            data["earlier_drawn"] = earlier_codes(source.folder, task.id)
    if kind == "tier" and joint:
        data["bound"] = {str(rnd): top for rnd, top in drawn.group_by("round").agg(pl.col("hash").max()).iter_rows()}
    return TaskView(source, task, kind, data, drawn, index)


def _split_years(counts: TaskCounts) -> dict[str, tuple[int, int]]:
    """Each stratum's year count and what earlier batches drew of it, from summary.json's `batch_counts`;
    a folder drawn before that field existed states them only in words
    ("东区：全年应抽23户，截至第二批累计应抽23户，前批已抽12户，本次抽11户")."""
    typed = counts.sampling.get("batch_counts")
    if typed is not None:
        return {stratum: (n["year"], n["earlier"]) for stratum, n in typed.items()}
    out = {}
    for words in counts.sampling["batches"][2:]:
        stratum, said = words.split("：", 1)
        year = re.match(r"全年应抽(\d+)户", said)
        earlier = re.search(r"前批已抽(\d+)户", said)
        if year and earlier:
            out[stratum] = (int(year.group(1)), int(earlier.group(1)))
    return out


def views(source: DrawSource) -> list[TaskView]:
    return [task_view(source, entry) for entry in source.transcript.tasks]


def eligible_codes(folder: Path, task_id: str) -> dict[str, list[str]]:
    """A `public` task's eligible lists, stratum by stratum, in the order the transcript hashed them."""
    frame = (
        pl.scan_csv(folder / "eligible.csv", schema={"task_id": pl.String, "stratum": pl.String, "uscc": pl.String})
        .filter(pl.col("task_id") == task_id)
        .collect()
    )
    out: dict[str, list[str]] = {}
    for stratum, codes in frame.group_by("stratum", maintain_order=True).agg("uscc").iter_rows():
        out[stratum] = codes
    return out


def earlier_codes(folder: Path, task_id: str) -> list[str]:
    """The entities earlier batches of a split task drew, as the draw read them from the ledger (history.csv)."""
    path = folder / "history.csv"
    if not path.is_file():
        return []
    frame = pl.scan_csv(path, schema_overrides={"uscc": pl.String, "task_id": pl.String}).filter(pl.col("task_id") == task_id)
    return sorted(frame.select("uscc").unique().collect()["uscc"].to_list())
