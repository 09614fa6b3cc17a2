"""Notice templates: where each kind and format is looked up, and the sandbox Markdown and HTML render in.

Templates are looked up from the policy's own folder up to templates/ (templates/shanxi/shuozhou/,
templates/shanxi/, templates/), so a city restyles one kind without copying the rest. A bureau's own
repository (the folder holding its policies/) may have a templates/ folder of its own: it is searched
the same way before the bundled templates. Lookups stay inside these template roots. Templates render
in a sandboxed Jinja environment with StrictUndefined; any error names the template file and line.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from markupsafe import Markup, escape
from jinja2 import (
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateSyntaxError,
    UndefinedError,
)
from jinja2.sandbox import SandboxedEnvironment, SecurityError
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.policy.loaded import LoadedPolicy
from spotcheck.notices.content import cn_date
from spotcheck.notices.docx_styles import BLOCK_W, TITLE_PT
from spotcheck.notices.model import KINDS, Notice
from spotcheck.resources import TEMPLATES, repository_root
from spotcheck.policy.yamlsource import display
from spotcheck.notices.titles import capacity, title_lines

FORMATS = ("md", "html", "docx", "pdf")


def jurisdiction_path(loaded: LoadedPolicy) -> PurePosixPath:
    """The policy's folder under its policies/ folder (shanxi/shuozhou); from its id when it lives elsewhere.
    Only plain folder names count, so a lookup never climbs out of a template root."""
    folders = loaded.path.resolve().parent
    root = next((f for f in (folders, *folders.parents) if f.name == "policies"), None)
    parts = folders.relative_to(root).parts if root is not None else PurePosixPath(loaded.policy.id).parent.parts
    return PurePosixPath(*(p for p in parts if p not in ("", ".", "..") and "/" not in p and "\\" not in p))


def template_roots(loaded: LoadedPolicy, root: Path = TEMPLATES) -> list[Path]:
    """The bureau's templates/ beside its policies/ (when it has one and it is not `root`), then `root`."""
    own = repository_root(loaded.path) / "templates"
    return [own, root] if own.is_dir() and own.resolve() != root.resolve() and own.resolve() != TEMPLATES.resolve() else [root]


def search_path(loaded: LoadedPolicy, root: Path = TEMPLATES) -> list[Path]:
    """Template folders, most specific first: for each template root, root/shanxi/shuozhou, root/shanxi, root."""
    parts = jurisdiction_path(loaded).parts
    return [base.joinpath(*parts[:i]) for base in template_roots(loaded, root) for i in range(len(parts), -1, -1)]


def template_name(kind: str, fmt: str) -> str:
    return f"docx/{kind}.docx" if fmt in ("docx", "pdf") else f"{kind}.{fmt}.j2"


def find_template(loaded: LoadedPolicy, kind: str, fmt: str, root: Path = TEMPLATES) -> Path:
    name = template_name(kind, fmt)
    roots = template_roots(loaded, root)
    for folder in search_path(loaded, root):
        path = folder / name
        # A link that leads out of the template roots is not a template.
        if path.is_file() and any(path.resolve().is_relative_to(r.resolve()) for r in roots):
            return path
    raise SpotcheckError(Problem("N806", f"找不到模板 {name}", file=display(roots[0]),
                                 hint=f"在 {'或'.join(display(r) for r in roots)} 或其下的辖区目录中放置 {name}"))


def list_templates(loaded: LoadedPolicy, root: Path = TEMPLATES) -> list[tuple[str, str, Path | None]]:
    """(kind, format, the file that will be used or None) for every kind and format."""
    out = []
    for kind in KINDS:
        for fmt in FORMATS:
            try:
                out.append((kind, fmt, find_template(loaded, kind, fmt, root)))
            except SpotcheckError:
                out.append((kind, fmt, None))
    return out


def _environment(folders: Sequence[Path], html: bool) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=FileSystemLoader([str(f) for f in folders]), undefined=StrictUndefined, autoescape=html,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )
    env.filters.update(cn_date=cn_date, md_cell=lambda s: str(s).replace("|", "\\|").replace("\n", " "),
                       unbroken=unbroken, title_lines=html_title, mark_size=mark_size)
    return env


# Runs a line must not break inside: codes, numbers with their unit or percent sign ("30%", "2021年度"), and
# the fixed phrases of these documents. Chinese has no spaces, so a browser would break anywhere.
_UNBROKEN = re.compile(
    r"双随机、一公开|双随机|一公开|(?:不低于|不少于|不超过|不高于)?[0-9A-Za-z][0-9A-Za-z.%％@_\-/]*(?:年度|年|月|日|号|户|个)?")


def unbroken(text: object) -> Markup:
    """HTML with each run that must stay on one line in a nowrap span; the rest escaped as usual."""
    text = str(text)
    out, at = [], 0
    for m in _UNBROKEN.finditer(text):
        out.append(escape(text[at:m.start()]))
        out.append(Markup('<span class="nobr">') + escape(m.group()) + Markup("</span>"))
        at = m.end()
    out.append(escape(text[at:]))
    return Markup("").join(out)


def html_title(title: object, issuer: str | None = None, width_mm: float = BLOCK_W.mm) -> Markup:
    """A title's lines (notices.titles) in a text block `width_mm` wide, a <br> between them, each set as `unbroken`."""
    lines = title_lines(str(title), capacity(width_mm, TITLE_PT), issuer)
    return Markup("<br>").join(unbroken(line) for line in lines)


def mark_size(text: object, points: float = 42, width_pt: float = 440) -> str:
    """The issuing-body mark's size in points: its nominal 42 pt, smaller when the name would overflow
    the 156 mm text block (a clipped “…管理局文件” in print)."""
    return f"{min(points, int(width_pt / max(len(str(text)), 1) * 10) / 10):g}pt"


def template_problem(exc: Exception, template: Path) -> Problem:
    """Name the template file and line of a rendering error (jinja keeps template lines in tracebacks)."""
    file, line = str(template), getattr(exc, "lineno", None)
    if isinstance(exc, TemplateSyntaxError) and exc.filename:
        file = exc.filename
    else:
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if frame.filename.endswith((".j2", ".css")) or frame.filename == "<template>":
                file = frame.filename if frame.filename != "<template>" else str(template)
                line = frame.lineno
                break
    what = {UndefinedError: ("N807", "模板引用了不存在的变量"), SecurityError: ("N808", "模板执行了不允许的操作")}
    code, message = next((v for k, v in what.items() if isinstance(exc, k)), ("N809", "模板有错误"))
    return Problem(code, f"{message}：{exc.message or exc}", file=display(file), line=line,
                   hint="模板只能使用 doc（文件内容）及其字段；可用变量见 templates/README.md")


def render_text(notice: Notice, fmt: str, template: Path, folders: Sequence[Path]) -> str:
    """Render a Markdown or HTML template; it may extend or include others found along the same folders."""
    env = _environment(folders, html=fmt == "html")
    try:
        text = env.get_template(template_name(notice.kind, fmt)).render(doc=notice)
    except TemplateError as exc:
        raise SpotcheckError(template_problem(exc, template)) from None
    # Markdown templates stay readable with one block per line; the blank lines they leave are folded.
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n" if fmt == "md" else text
