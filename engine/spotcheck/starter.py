"""`spotcheck init`: a starter repository for one jurisdiction's bureau.

The bureau keeps its policies in its own repository and installs spotcheck as a tool. The starter
has the layout the tool expects there, the same as this checkout's:

    policies/<province>/<city>/<year>.yaml         the policy, extending a bundled baseline by name
    policies/<province>/<city>/<year>.cases.yaml   its test cases
    policies/<province>/<city>/items/<year>.yaml   the bureau's own item list (one example item)
    (a province's own bureau: policies/<province>/<year>.yaml and the rest one folder up, no <city>)
    validators/*.schema.json                       the JSON Schemas the first lines point at
    templates/README.md                            where the bureau's own notice templates go
    .pre-commit-config.yaml                        the spotcheck-validate and spotcheck-test hooks
    .github/workflows/spotcheck.yml                the same checks in CI
    README.md                                      what to do next, in Chinese

Everything is built and checked in a hidden folder inside the target first (the policy must
validate and its cases pass), then moved into place; an existing file is never overwritten.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from spotcheck.calendar.deadlines import due
from spotcheck.directory.uscc import check_char, org_check_char
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.policy import references
from spotcheck.policy.cases import run_tests
from spotcheck.policy.loader import load_policy
from spotcheck.policy.schemas import export_schemas, exported
from spotcheck.policy.validate import validate_paths
from spotcheck.resources import BUNDLED_PREFIX, bundled_file
from spotcheck.version import __version__

_SLUG = re.compile(r"[a-z][a-z0-9-]*")
# A scalar written bare in YAML: Chinese text, letters, digits and the punctuation of names.
_BARE = re.compile(r"[\w\u3000-\u303f\u4e00-\u9fff（）、·-]+")
# (id, name, entry): the hooks of this repository's .pre-commit-hooks.yaml, run as local hooks.
HOOKS = (("spotcheck-validate", "spotcheck validate（检查抽查策略文件）", "spotcheck validate policies"),
         ("spotcheck-test", "spotcheck test（运行策略测试用例）", "spotcheck test policies"))


@dataclass(frozen=True)
class Starter:
    """Who the starter is for. `province` and `city` name the folders (and the policy id; a province's own
    bureau has no `city`); `region` is the place as officers write it (秦皇岛市); the bureau is
    `<region>市场监督管理局` unless `name` is given."""

    province: str
    city: str | None
    region: str
    code: str
    year: int
    level: str = "city"
    name: str | None = None
    short: str | None = None
    extends: str | None = None  # a bundled name; default: the province's baseline, else the national one
    districts: tuple[tuple[str, str], ...] = ()  # (code, name); default: the jurisdiction itself as one district

    @property
    def bureau(self) -> str:
        return self.name or f"{self.region}市场监督管理局"

    @property
    def folder(self) -> str:
        return f"policies/{self.province}" if self.level == "province" else f"policies/{self.province}/{self.city}"

    @property
    def policy_id(self) -> str:
        return self.folder.removeprefix("policies/")

    @property
    def up(self) -> str:
        """From the policy's folder to the repository's root, for the schemas the first lines point at."""
        return "../" * self.folder.count("/") + "../"

    @property
    def parent(self) -> str:
        if self.extends:
            return self.extends
        own = f"{BUNDLED_PREFIX}{self.province}/baseline"
        return own if (bundled_file(f"{self.province}/baseline") or Path()).is_file() else f"{BUNDLED_PREFIX}national/baseline"

    @property
    def district_rows(self) -> list[tuple[str, str, str]]:
        """(code, name, unit in charge): each district's own bureau, or this bureau for itself."""
        rows = self.districts or ((self.code, self.region),)
        return [(c, n, self.bureau if (c, n) == (self.code, self.region) else f"{n}市场监督管理局") for c, n in rows]

    @property
    def item_code(self) -> str:
        return f"{(self.city or self.province).upper()}-01"

    @property
    def subdivisions(self) -> str:
        return "下辖各市" if self.level == "province" else "下辖区县"

    @property
    def addressees(self) -> str:
        # A province's notice goes to the cities' bureaus, a city's or county's to its own offices and branches.
        return "[各市市场监督管理局, 省局机关各处室]" if self.level == "province" else "[局机关各科室, 各分局]"


def _problems(s: Starter) -> list[Problem]:
    found = []
    if s.level == "province" and s.city:
        found.append(Problem("P160", f"省级策略不分市级目录，不写 --city（收到 {s.city!r}）", where="--city",
                             hint=f"省局的策略写在 policies/{s.province}/ 下；去掉 --city，或改用 --level city"))
    elif s.level != "province" and not s.city:
        found.append(Problem("P160", "缺少 --city（本辖区目录名）", where="--city",
                             hint="如 --city qinhuangdao；省局自己的策略用 --level province"))
    for flag, value in (("--province", s.province), *((("--city", s.city),) if s.city else ())):
        if not _SLUG.fullmatch(value):
            found.append(Problem("P160", f"{flag} {value!r} 不能用作目录名", where=flag,
                                 hint="用小写拼音字母、数字和连字符，如 hebei、qinhuangdao"))
    for flag, code in (("--code", s.code), *(("--district", c) for c, _ in s.districts)):
        if not re.fullmatch(r"\d{6}", code):
            found.append(Problem("P160", f"{flag} {code!r} 不是6位行政区划代码", where=flag, hint="如 130300、130302=海港区"))
    if not 2000 <= s.year <= 2100:
        found.append(Problem("P160", f"--year {s.year} 不是有效的年度", where="--year", hint="如 2026"))
    for flag, value in (("--region", s.region), ("--name", s.name), ("--short", s.short),
                        *(("--district", n) for _, n in s.districts)):
        if value == "":
            found.append(Problem("P160", f"{flag} 缺少名称", where=flag, hint="写成 代码=名称，如 130302=海港区"))
        elif value is not None and not _BARE.fullmatch(value):
            found.append(Problem("P160", f"{flag} {value!r} 含有不能用在名称中的字符", where=flag,
                                 hint="只写汉字、字母、数字，如 秦皇岛市"))
    parent = s.parent
    if not parent.startswith(BUNDLED_PREFIX) or not references.resolve(parent, Path()).is_file():
        found.append(references.missing(parent, Path(parent), "extends"))
    return found


def _uscc(kind: str, code: str, n: int) -> str:
    """A valid 统一社会信用代码 for an example entity: kind 1 enterprise, 2 individual business."""
    body = f"MA{n:06d}"
    first17 = f"9{kind}{code}{body}{org_check_char(body)}"
    return first17 + check_char(first17)


def _policy(s: Starter) -> str:
    short = f"\n  short: {s.short}" if s.short else ""
    districts = "".join(f'\n    - {{code: "{c}", name: {n}, unit: {u}}}' for c, n, u in s.district_rows)
    prefix = s.short or s.bureau
    return f"""\
# yaml-language-server: $schema={s.up}validators/policy.schema.json
#
# {s.bureau}{s.year}年度“双随机、一公开”抽查工作计划（spotcheck init 生成的起始文件）。
# 上级策略 {s.parent} 随 spotcheck 安装（spotcheck {__version__}），规定了本级只能收紧、不能放宽的底线。
# 下面的任务、比例、事项和公文内容都是示例：按本局实际计划修改，再运行
#   spotcheck validate && spotcheck test
id: {s.policy_id}/{s.year}
extends: {s.parent}
year: {s.year}
jurisdiction:
  code: "{s.code}"
  name: {s.bureau}
  region: {s.region}{short}
  level: {s.level}
  # {s.subdivisions}及负责检查的单位（抽取按辖区统计，检查组由负责单位的执法人员组成）；按实际列出。
  districts:{districts}
# 本局自己的事项清单；也可以引用内置清单，如 spotcheck:hebei/items/2024（spotcheck validate 会列出可用名称）。
item_lists: [items/{s.year}.yaml]

tasks:
  - id: t01
    no: 1
    name: 企业公示信息抽查
    type: 不定向
    items: [{s.item_code}]
    scope:
      all:
        - {{field: type, op: eq, value: 企业}}
        - {{field: status, op: in, value: [存续, 在营, 开业, 在业]}}
    scope_text: 辖区内登记的企业
    sampling: {{ratio: "3%", at_least: true, stratify: [tier]}}
    draw_months: [4, 10]
    initiator: {s.bureau}
    inspecting_level: {s.bureau}

default_document: plan
documents:
  - id: plan
    kind: plan_notice
    number: {{prefix: {prefix}, year: {s.year}, seq: 1}}
    issuer: {s.bureau}
    title: {s.bureau}关于印发{s.year}年度“双随机、一公开”抽查工作计划的通知
    date: "{s.year}-01-15"
    addressees: {s.addressees}
    preamble:
      - 现将《{s.bureau}{s.year}年度“双随机、一公开”抽查工作计划》印发给你们，请认真贯彻落实。
    sections:
      - heading: 抽查任务
        include: tasks
      - heading: 工作要求
        text:
          - 按照“谁检查、谁录入、谁公开”的原则，在检查结束后20个工作日内录入检查结果并向社会公示。
    attachments:
      - {s.bureau}{s.year}年度“双随机、一公开”抽查工作计划
"""


def _items(s: Starter) -> str:
    return f"""\
# yaml-language-server: $schema=../{s.up}validators/item-list.schema.json
#
# {s.bureau}的随机抽查事项清单（示例：一个事项）。按本局公布的事项清单填写。
id: {s.policy_id}/items/{s.year}
name: {s.bureau}随机抽查事项清单（{s.year}年版）
issuer: {s.bureau}
year: {s.year}
items:
  - code: {s.item_code}
    name: 企业公示信息检查
    method: [书面检查]
    category: 重点
"""


def _cases(s: Starter, results_due: dt.date | None) -> str:
    district = s.district_rows[0][0]
    enterprise, individual, closed = (_uscc("1", district, 1), _uscc("2", district, 2), _uscc("1", district, 3))
    deadline = "" if results_due is None else f"""\
  - name: 检查结果自检查结束起20个工作日内公示
    deadline: {{id: results_public, from: "{s.year}-09-25"}}
    expect: {{date: "{results_due.isoformat()}"}}
"""
    return f"""\
# yaml-language-server: $schema={s.up}validators/cases.schema.json
#
# {s.year}.yaml 的测试用例：示例主体应得到的结果。改动策略时一并改动或增加用例，再运行 spotcheck test。
policy: {s.year}.yaml
cases:
  - name: 存续企业在企业公示信息抽查范围内
    entity: {{uscc: {enterprise}, name: 示例有限公司, type: 企业, status: 存续, district: "{district}", tier: B}}
    expect:
      in_scope: [t01]
      ratio: {{t01: "3%"}}
      visit_items: [{s.item_code}]
  - name: 个体工商户不在企业抽查范围内
    entity: {{uscc: {individual}, name: 示例商行, type: 个体工商户, status: 存续, district: "{district}", tier: A}}
    expect:
      not_in_scope: [t01]
  - name: 已注销企业不在范围内
    entity: {{uscc: {closed}, name: 示例贸易有限公司, type: 企业, status: 注销, district: "{district}", tier: C}}
    expect:
      not_in_scope: [t01]
{deadline}"""


def _hooks_config() -> str:
    hooks = "".join(f"""\
      - id: {hook}
        name: {name}
        entry: {entry}
        language: system
        files: ^policies/.*\\.yaml$
        pass_filenames: false
""" for hook, name, entry in HOOKS)
    return f"""\
# 提交前检查策略（pre-commit）：pip install pre-commit && pre-commit install
# 使用本机已安装的 spotcheck（与 CI 安装同一版本）。也可以改用 spotcheck 仓库提供的钩子：
#   - repo: <spotcheck 仓库地址>
#     rev: <版本标签>
#     hooks: [{{id: spotcheck-validate}}, {{id: spotcheck-test}}]
repos:
  - repo: local
    hooks:
{hooks}"""


def _workflow() -> str:
    return f"""\
# 每次提交检查策略文件：策略、事项清单和测试用例，以及 validators/ 是否与所装 spotcheck 一致。
# 其他 CI（GitLab、Gitee）运行同样的四条命令即可。
name: spotcheck
on: [push, pull_request]
jobs:
  policies:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with: {{python-version: "3.11"}}
      # 从贵局使用的来源安装与本仓库配套的版本（内部镜像、wheel 文件或 spotcheck 仓库的标签）。
      - run: pip install "spotcheck=={__version__}"
      - run: spotcheck validate --format github
      - run: spotcheck test
      - run: spotcheck schema check
"""


def _templates_readme() -> str:
    return """\
# 本局的公文模板

spotcheck 生成公文时先在这里找模板，找不到再用随 spotcheck 安装的模板。查找顺序（由近及远）：
本目录下与策略目录同名的子目录（如 `hebei/qinhuangdao/`）、其上级目录、本目录，然后是内置模板。

    spotcheck notice --list-templates policies/<省>/<市>/<年度>.yaml   # 列出每种公文实际使用的模板文件

要修改某种公文的版式，把内置模板复制到这里再改：文件名与内置模板相同（如 `plan_notice.md.j2`、
`docx/plan_notice.docx`）。模板只能读取公文内容 `doc`，不能读写其他文件。
"""


def _readme(s: Starter, policy: str) -> str:
    return f"""\
# {s.bureau}“双随机、一公开”抽查策略

本仓库保存{s.bureau}的抽查策略（每年一份 YAML 文件），由 spotcheck 检查、测试并生成公文。

| 路径 | 内容 |
|---|---|
| `{policy}` | {s.year}年度策略，继承内置的 `{s.parent}` |
| `{s.folder}/{s.year}.cases.yaml` | 策略的测试用例 |
| `{s.folder}/items/{s.year}.yaml` | 本局的随机抽查事项清单 |
| `validators/` | 编辑器提示用的 JSON Schema 和字段参考 `policy.reference.md`（`spotcheck schema export --out validators` 生成） |
| `templates/` | 本局自己的公文模板（可选，见其中的 README.md） |

## 日常使用

```sh
pip install "spotcheck=={__version__}"       # 安装 spotcheck（从贵局使用的来源）
spotcheck validate                             # 检查 policies/ 下全部文件，列出全部问题（文件:行:列）
spotcheck test                                 # 运行测试用例
spotcheck notice {policy} --format docx --out 通知.docx   # 生成公文
spotcheck diff {s.folder}/{s.year}.yaml {s.folder}/{s.year + 1}.yaml   # 新年度：复制上一年的文件改动后核对
```

上级策略用名称引用随 spotcheck 安装的基线（`extends: {s.parent}`），也可以写相对路径。
策略文件每个键的含义、可写的值和默认值见 `validators/policy.reference.md`。
升级 spotcheck 后运行 `spotcheck schema export --out validators` 更新 JSON Schema 和字段参考并提交。
chinese-calendar 尚未收录的年份（如国务院刚公布的下一年节假日安排），写成 `policies/calendars/<年份>.yaml`
即可，本仓库的策略都会读取（策略年度的日程缺失时 `spotcheck validate` 提醒 W924）；spotcheck 不会按“只有周末
休息”推算。

## 提交前检查

`pip install pre-commit && pre-commit install` 之后，每次提交都会运行 `spotcheck validate` 和
`spotcheck test`（配置见 `.pre-commit-config.yaml`）；CI 配置见 `.github/workflows/spotcheck.yml`。
"""


def starter_files(s: Starter, results_due: dt.date | None) -> dict[str, str]:
    """The text files of the starter (validators/ is exported separately), by path inside the repository."""
    policy = f"{s.folder}/{s.year}.yaml"
    return {
        policy: _policy(s),
        f"{s.folder}/{s.year}.cases.yaml": _cases(s, results_due),
        f"{s.folder}/items/{s.year}.yaml": _items(s),
        "templates/README.md": _templates_readme(),
        ".pre-commit-config.yaml": _hooks_config(),
        ".github/workflows/spotcheck.yml": _workflow(),
        "README.md": _readme(s, policy),
    }


def init(folder: Path, starter: Starter) -> list[Path]:
    """Write the starter repository into `folder` (created when missing); returns the files written.
    Raises SpotcheckError (nothing written) for bad input, a file already there, or a starter that
    would not validate or pass its own cases."""
    problems = _problems(starter)
    if problems:
        raise SpotcheckError(problems)
    names = [*starter_files(starter, None), *(f"validators/{name}" for name in exported())]
    taken = [n for n in names if (folder / n).exists()]
    if taken:
        raise SpotcheckError([Problem("P161", f"{folder / n} 已存在，spotcheck init 不覆盖已有文件", file=str(folder / n),
                                      hint="换一个空目录，或先移走该文件") for n in taken])
    folder.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".spotcheck-init.", dir=folder))
    try:
        export_schemas(stage / "validators")
        policy = stage / starter.folder / f"{starter.year}.yaml"
        _write(stage, starter_files(starter, None))
        loaded = load_policy(policy)
        try:
            results_due = due(loaded.policy.deadlines["results_public"], dt.date(starter.year, 9, 25), loaded.calendar)
        except SpotcheckError:  # a year the calendar does not know yet: the case is left out
            results_due = None
        _write(stage, starter_files(starter, results_due))
        problems = validate_paths([stage / "policies"])
        run = run_tests([stage / "policies"])
        if problems or not run.ok:
            raise SpotcheckError(problems or list(run.problems) or [Problem(
                "P162", "生成的测试用例未通过：" + "；".join(r.format() for r in run.results if not r.passed))])
        written = []
        for path in sorted(p for p in stage.rglob("*") if p.is_file()):
            target = folder / path.relative_to(stage)
            target.parent.mkdir(parents=True, exist_ok=True)
            path.replace(target)
            written.append(target)
        return written
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
