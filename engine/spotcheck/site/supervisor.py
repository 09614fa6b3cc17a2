"""What goes to the supervisor (纪检组 or whichever body the bureau names): the whole draw.

The public site leaves out tiers, labels and internal eligible lists; the supervisor gets them all, with
the commitment, in one folder that `spotcheck verify` checks end to end: the directory the draw read,
eligible.csv (every stratum's list), draws.csv with strata and rank hashes, the history the caps read,
and commitment.json (the ledger's commitment and draw records), which verify checks against the
transcript (V720–V723).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from spotcheck.draw.commitment import canonical, revealed_seed, sha256_text
from spotcheck.draw.folder import staged, write_files
from spotcheck.draw.reader import read_folder
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.ledger.store import Ledger
from spotcheck.policy.loader import load_policy
from spotcheck.policy.yamlsource import display
from spotcheck.resources import policy_file

COMMITMENT_FILE = "commitment.json"
REQUIRED = ("transcript.json", "draws.csv", "eligible.csv", "history.csv", "summary.json")
# What later stages add to a draw folder: the supervisor checks the draw, which `verify` recomputes
# from the directory alone (visits and teams would also need the inspector directory).
LATER = frozenset({"visits.csv", "teams.csv", "previous_leads.csv", "workplan.json", "abnormal-candidates.csv"})
SUPERVISOR = "纪检监察机构"


@dataclass(frozen=True)
class Lodged:
    out: Path
    supervisor: str
    entities: str  # the directory's file name inside `out`
    named_by: str  # where the supervisor's name came from, for the officer to check


def supervisor_of(policy_id: str, policy_path: Path | None) -> tuple[str, str]:
    """The supervisor the draw's policy names (the given file, else policies/<id>.yaml when there is one),
    and where the name came from; the generic body when the policy names none."""
    path = Path(policy_path) if policy_path is not None else policy_file(policy_id)
    if policy_path is None and not path.is_file():
        return SUPERVISOR, f"未找到策略 {policy_id}，按通用名称"
    policy = load_policy(path).policy
    if policy.supervisor:
        return policy.supervisor, f"策略 {display(path)} 的 supervisor"
    return SUPERVISOR, f"策略 {display(path)} 未写 supervisor，按通用名称"


def _file_sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def lodge(draw_dir: Path, entities_path: Path, out_dir: Path, *, ledger_path: Path, supervisor: str | None = None,
          policy_path: Path | None = None) -> Lodged:
    """A new folder with everything the supervisor needs to recompute the draw (W910–W912), for the
    supervisor given, else the one the draw's policy names."""
    draw_dir, entities_path = Path(draw_dir), Path(entities_path)
    problems = [Problem("W910", f"抽取结果目录中缺少 {name}", file=str(draw_dir / name)) for name in REQUIRED
                if not (draw_dir / name).is_file()]
    if problems:
        raise SpotcheckError(problems)
    transcript = read_folder(draw_dir).transcript
    if _file_sha256(entities_path) != transcript.entities.sha256:
        raise SpotcheckError(Problem("W911", f"{entities_path} 不是这次抽取读取的名录（SHA-256 不同）", file=str(entities_path),
                                     hint=f"报送抽取时使用的名录文件 {transcript.entities.file}"))
    draw_id = transcript.draw_id
    named_by = "--to"
    if supervisor is None:
        supervisor, named_by = supervisor_of(transcript.policy.id, policy_path)
    with Ledger.open(ledger_path, create=False) as ledger:
        drawn = ledger.latest("draw", draw_id) or ledger.latest("drill", draw_id)
        cid = transcript.seed.commitment_id
        committed = ledger.latest("commitment", cid) if cid else None
        head = ledger.head()
    if drawn is None:
        raise SpotcheckError(Problem("W912", f"台账 {ledger_path} 中没有抽取 {draw_id} 的记录", file=str(ledger_path),
                                     hint="用记录这次抽取的台账报送"))
    records = {"draw": drawn.to_dict(), "commitment": committed.to_dict() if committed else None,
               "ledger_head": {"seq": head[0], "hash": head[1]}}
    name = transcript.entities.file
    with staged(out_dir) as stage:
        for file in sorted(draw_dir.iterdir()):
            if file.is_file() and file.name not in LATER:
                shutil.copyfile(file, stage / file.name)
        shutil.copyfile(entities_path, stage / name)
        write_files(stage, {
            COMMITMENT_FILE: (json.dumps(records, ensure_ascii=False, indent=2) + "\n").encode("utf-8"),
            "说明.txt": (f"本目录报送{supervisor}，含抽取 {draw_id} 的全部内部资料（检查对象名录含信用风险等级和监管标签，"
                       f"符合条件名单 eligible.csv，抽中名单 draws.csv，承诺记录 {COMMITMENT_FILE}），不得公开。\n"
                       f"核验：spotcheck verify <本目录> --entities <本目录>/{name}\n").encode("utf-8"),
        })
    return Lodged(Path(out_dir), supervisor, name, named_by)


def check_commitment(folder: Path, transcript: dict) -> list[Problem]:
    """A lodged folder's commitment against its transcript: same inputs, same beacon value, same key."""
    path = Path(folder) / COMMITMENT_FILE
    if not path.is_file():
        return []
    records = json.loads(path.read_text("utf-8"))
    seed = transcript["seed"]
    if seed.get("source") == "drill":
        return []
    record = records.get("commitment")
    if not record:
        return [Problem("V720", "正式抽取缺少承诺记录", file=str(path))]
    body = {k: v for k, v in record["body"].items() if k != "policy"}
    problems = []
    if sha256_text(canonical(body))[:16] != seed.get("commitment_id") or record["key"] != seed.get("commitment_id"):
        problems.append(Problem("V721", f"承诺记录与抽取所揭示的承诺编号 {seed.get('commitment_id')} 不符", file=str(path)))
    wanted = {"policy_sha256": transcript["policy"]["sha256"], "entities_sha256": transcript["entities"]["sha256"],
              "history_sha256": transcript["history"]["sha256"], "drawn_on": transcript["drawn_on"]}
    if "lookback" in transcript:
        wanted["lookback_sha256"] = transcript["lookback"]["sha256"]
    for key, value in wanted.items():
        if body.get(key) != value:
            problems.append(Problem("V722", f"承诺中的 {key} 与抽取记录不一致（承诺 {str(body.get(key))[:12]}…，抽取 {value[:12]}…）",
                                    file=str(path)))
    if revealed_seed(seed["commitment_id"], seed["value"]).key != seed.get("key") or record["at"] >= records["draw"]["at"]:
        problems.append(Problem("V723", "抽取密钥不由承诺编号和公布的随机数算出，或承诺记录晚于抽取", file=str(path)))
    return problems
