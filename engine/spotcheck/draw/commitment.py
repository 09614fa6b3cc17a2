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
import re
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


# ---------------------------------------------------------------- the revealed value's format
#
# The commitment fixes how the public value is written, and a reveal is normalised to that form, so
# whoever types it cannot choose among spellings ("03 07 … + 09", "3,7,…+9") that would give different
# draws. Two forms: a lottery result, "numbers:6+1" (six numbers, then one special number, in the
# order published), and a beacon round's output, "hex:128" (that many hexadecimal digits).

_NUMBERS = re.compile(r"^numbers:(\d{1,2})(?:\+(\d{1,2}))?$")
_HEX = re.compile(r"^hex:(\d{1,3})$")
_SEPARATORS = re.compile(r"[\s,，、;；|]+")
FORMAT_EXAMPLES = "numbers:6+1（双色球：6 个红球号码 + 1 个蓝球号码）、numbers:7（七乐彩基本号码）、hex:128（随机数信标一轮的十六进制输出）"


def reveal_format(spec: str | None) -> str:
    """The format a commitment fixes, checked: numbers:N, numbers:N+M or hex:N."""
    text = (spec or "").strip().lower()
    numbers, hexed = _NUMBERS.match(text), _HEX.match(text)
    if (numbers and int(numbers.group(1)) > 0) or (hexed and int(hexed.group(1)) > 0):
        return text
    raise SpotcheckError(Problem(
        "R508", f"随机数格式写法不对：{spec!r}" if spec else "承诺须写明公布的随机数的格式",
        hint=f"用 --reveal-format 写明，如 {FORMAT_EXAMPLES}；揭示时输入的随机数按此格式核对并统一写法"))


def normalize_reveal(spec: str, value: str) -> str:
    """The revealed value in the one form the commitment fixed; SpotcheckError R509 for anything else."""
    numbers, hexed = _NUMBERS.match(spec), _HEX.match(spec)
    if hexed:
        digits = re.sub(r"\s+", "", value).lower()
        if re.fullmatch(f"[0-9a-f]{{{hexed.group(1)}}}", digits):
            return digits
        expected = f"{hexed.group(1)} 位十六进制数字（0-9、a-f）"
    else:
        main, special = int(numbers.group(1)), int(numbers.group(2) or 0)
        text = value.replace("＋", "+").strip()
        groups = [g for g in text.split("+")]
        parts = [[p for p in _SEPARATORS.split(g.strip()) if p] for g in groups]
        flat = [p for g in parts for p in g]
        shaped = (len(groups) == 1 and len(flat) == main + special) or (
            special and len(groups) == 2 and [len(g) for g in parts] == [main, special])
        if shaped and all(p.isdigit() and len(p) <= 2 for p in flat):
            nums = [f"{int(p):02d}" for p in flat]
            return " ".join(nums[:main]) + (f" + {' '.join(nums[main:])}" if special else "")
        expected = f"{main} 个号码" + (f"，再加“+”和 {special} 个特别号码" if special else "") + "，按开奖公告的顺序"
    raise SpotcheckError(Problem(
        "R509", f"揭示的随机数 {value!r} 不符合承诺时确定的格式 {spec}：应为{expected}",
        hint="照公布的原样输入；号码之间可用空格或逗号分隔，两位数不足补 0 也可"))


@dataclass(frozen=True)
class Commitment:
    id: str
    body: dict


def make_commitment(
    *, policy_sha256: str, entities_sha256: str, history_sha256: str, beacon: str, drawn_on: str, reveal_as: str,
    due: dict | None = None, lookback_sha256: str | None = None,
) -> Commitment:
    """`due`: for a draw of what is due, the rounds it will draw and any approved override, fixed before the value is known.
    `reveal_as`: the format the revealed value must have (see `reveal_format`). `lookback_sha256`: the past
    checks of earlier years the plan's frequency rules read, when they read any."""
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
        "reveal_format": reveal_format(reveal_as),
        "drawn_on": drawn_on,
    }
    if lookback_sha256 is not None:
        body["lookback_sha256"] = lookback_sha256
    if due is not None:
        body.update(due)
    return Commitment(sha256_text(canonical(body))[:16], body)


def check_inputs(body: dict, *, policy_sha256: str, entities_sha256: str, history_sha256: str,
                 lookback_sha256: str | None = None) -> None:
    """Refuse a reveal whose inputs differ from what was committed, naming each one that changed."""
    names = {"policy_sha256": "策略", "entities_sha256": "检查对象名录", "history_sha256": "抽查历史",
             "lookback_sha256": "往年抽查记录"}
    now = {"policy_sha256": policy_sha256, "entities_sha256": entities_sha256, "history_sha256": history_sha256,
           "lookback_sha256": lookback_sha256}
    problems = [
        Problem(
            "R502",
            f"{names[k]}与承诺时不一致（承诺 {str(body.get(k))[:12]}…，现在 {str(now[k])[:12]}…）",
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
