"""A sample results file for a draw's visits, for demos and drills: the same for the same seed."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

from spotcheck.results.categories import CATEGORIES, NO_PROBLEM, UNREACHABLE
from spotcheck.draw.reader import load_draw
from spotcheck.draw.folder import write_output
from spotcheck.results.records import policy_for
from spotcheck.results.tables import table_bytes

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
    dates are working days on the calendar of the policy (by default the one the draw names)."""
    today = today or dt.date.today()
    folder = load_draw(draw_dir)
    calendar = policy_for(folder, policy_path).calendar
    digest = {vid: hashlib.sha256(f"{seed}|{vid}".encode()).hexdigest() for vid in folder.visits}
    unreachable = min(digest, key=digest.get) if digest else None
    rows: list[tuple[str, ...]] = []
    problems = 0
    for vid, visit in folder.visits.items():
        h = digest[vid]
        latest = min(visit.inspect_by or folder.drawn_on + dt.timedelta(days=30), today)
        span = calendar.working_days_between(folder.drawn_on, latest)
        # Checks are done on working days, so the sample's completion dates are too.
        done = (calendar.add_working_days(folder.drawn_on, 1 + int(h[8:16], 16) % span) if span > 0
                else folder.drawn_on).isoformat()
        if vid == unreachable:
            rows.append((vid, visit.name, visit.uscc, done, "实地检查", CATEGORIES[UNREACHABLE].name, "",
                         "按登记住所实地核查未找到该主体，登记电话无法接通", "列入经营异常名录", ""))
        elif int(h[:8], 16) % 100 < SAMPLE_PROBLEM_PERCENT and visit.item_codes:
            problems += 1
            code, finding, action = _SAMPLE_PROBLEMS[int(h[16:24], 16) % len(_SAMPLE_PROBLEMS)]
            bad = visit.item_codes[int(h[24:32], 16) % len(visit.item_codes)]
            for item in visit.item_codes:
                if item == bad:
                    rows.append((vid, visit.name, visit.uscc, done, "实地检查、书面检查", CATEGORIES[code].name, item,
                                 finding, action, ""))
                else:
                    rows.append((vid, visit.name, visit.uscc, done, "实地检查", CATEGORIES[NO_PROBLEM].name, item, "", "", ""))
        else:
            rows.append((vid, visit.name, visit.uscc, done, "实地检查", CATEGORIES[NO_PROBLEM].name, "", "", "", ""))
    out = Path(out)
    write_output(out, table_bytes(out.suffix.lower(), SAMPLE_HEADERS, rows))
    return SampleOutcome(out, len(rows), len(folder.visits), problems, unreachable)
