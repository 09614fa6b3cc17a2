"""Commit, then reveal: where a draw's randomness comes from.

Before the random value exists, the officer commits to the hashes of everything the draw reads (the
canonical policy, the entity directory, the history the caps read, the engine version) and names the
future public value that will seed it (a lottery result, a beacon round). Revealing that value then
fixes the draw; anyone holding the inputs can recompute it. A drill seed (`--seed`) skips the
commitment and is marked as a drill in every output.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from spotcheck.version import engine_version
from spotcheck.errors import Problem, SpotcheckError

FORMAT = "spotcheck-commitment/1"


def canonical(obj: object) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Seed:
    """The draw's key. `key` is the hex string every rank hash starts with."""

    source: str  # "drill" or "reveal"
    value: str  # the drill seed or the revealed public value, as given
    commitment_id: str | None
    key: str

    @property
    def drill(self) -> bool:
        return self.source == "drill"

    def to_dict(self) -> dict:
        return {"source": self.source, "value": self.value, "commitment_id": self.commitment_id, "key": self.key}


def drill_seed(value: str) -> Seed:
    return Seed("drill", value, None, sha256_text(f"spotcheck-drill|{value}"))


def revealed_seed(commitment_id: str, value: str) -> Seed:
    return Seed("reveal", value, commitment_id, sha256_text(f"spotcheck-reveal|{commitment_id}|{value}"))


def seed_from_dict(d: dict) -> Seed:
    if d.get("source") == "drill":
        return drill_seed(d["value"])
    return revealed_seed(d["commitment_id"], d["value"])


@dataclass(frozen=True)
class Commitment:
    id: str
    body: dict


def make_commitment(
    *, policy_sha256: str, entities_sha256: str, history_sha256: str, beacon: str, drawn_on: str, due: dict | None = None
) -> Commitment:
    """`due`: for a draw of what is due, the rounds it will draw and any approved override, fixed before the value is known."""
    if not beacon.strip():
        raise SpotcheckError(
            Problem("R501", "承诺必须写明将来公开的随机数来源", hint="用 --beacon 写明，如“中国福利彩票双色球2023130期开奖号码”")
        )
    body = {
        "format": FORMAT,
        "engine_version": engine_version(),
        "policy_sha256": policy_sha256,
        "entities_sha256": entities_sha256,
        "history_sha256": history_sha256,
        "beacon": beacon,
        "drawn_on": drawn_on,
    }
    if due is not None:
        body.update(due)
    return Commitment(sha256_text(canonical(body))[:16], body)


def check_inputs(body: dict, *, policy_sha256: str, entities_sha256: str, history_sha256: str) -> None:
    """Refuse a reveal whose inputs differ from what was committed, naming each one that changed."""
    names = {"policy_sha256": "策略", "entities_sha256": "检查对象名录", "history_sha256": "抽查历史"}
    now = {"policy_sha256": policy_sha256, "entities_sha256": entities_sha256, "history_sha256": history_sha256}
    problems = [
        Problem(
            "R502",
            f"{names[k]}与承诺时不一致（承诺 {body[k][:12]}…，现在 {now[k][:12]}…）",
            hint="揭示时必须使用承诺时的同一份输入；输入变更后须重新承诺",
        )
        for k in names
        if body.get(k) != now[k]
    ]
    if body.get("engine_version") != engine_version():
        problems.append(
            Problem("R503", f"承诺使用的引擎版本为 {body.get('engine_version')}，当前为 {engine_version()}",
                    hint="用承诺时的同一版本 spotcheck（同一发布、同一份代码）揭示；代码有任何改动都须重新承诺")
        )
    if problems:
        raise SpotcheckError(problems)
