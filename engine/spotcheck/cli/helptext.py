"""Help pages set as Chinese is set. click counts characters and breaks at spaces, so a line of Han characters
(two columns each) ran past the terminal, headings took an ASCII colon, a list like plan_notice、…、work_notice was cut inside a word
("work_noti" / "ce"), and a command's one-line help was cut to "……teams.csv...". Here a line is measured
in columns, may end between any two Han characters or at a space but never inside an ASCII word (a code,
an option, a path), never begins with a closing mark (，。、）…) nor ends with an opening one (（《“…)."""

from __future__ import annotations

import ast
import re

import click
from spotcheck.terminal import columns

# White space, click's [必填] or [默认：…] whole, an ASCII word, or one other character.
_PIECE = re.compile(r"\s+|\[[^\s\]]+\]|[!-~]+|.", re.S)
_CLOSING = frozenset("，。、；：？！）》」』”’…%)]}")
_OPENING = frozenset("（《「『“‘([{")


def _units(text: str) -> list[str]:
    """What a line may break between: an ASCII word or one character, with the closing marks after it and the
    opening marks before it (and any space between); a space stands for any other white space."""
    units: list[str] = []
    opening = ""
    for piece in _PIECE.findall(text):
        space = piece.isspace()
        if opening:
            opening += " " if space else piece
            if not space and piece not in _OPENING:
                units.append(opening)
                opening = ""
        elif space:
            units.append(" ")
        elif piece in _OPENING:
            opening = piece
        elif (piece in _CLOSING or piece[0] in ".,;:!?") and any(unit != " " for unit in units):
            while units[-1] == " ":
                units.pop()
                piece = " " + piece
            units[-1] += piece
        else:
            units.append(piece)
    if opening:
        units.append(opening)
    return units


def _joined(lines: list[str]) -> str:
    """A paragraph's source lines as one: no space where a line break fell between two Han characters."""
    text = ""
    for line in (line.strip() for line in lines):
        if text and line:
            text += "" if columns(text[-1]) == 2 and columns(line[0]) == 2 else " "
        text += line
    return text


def wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` columns (a unit wider than a line stands alone on its line); its
    paragraphs (blank-line separated) kept, a paragraph starting with \\b kept line for line, as click does."""
    out: list[str] = []
    for k, paragraph in enumerate(re.split(r"\n[ \t]*\n", text.strip("\n"))):
        if k:
            out.append("")
        lines = paragraph.splitlines()
        if lines and lines[0].strip() == "\b":
            out.extend(line.rstrip() for line in lines[1:])
            continue
        line, used, space = "", 0, False
        for unit in _units(_joined(lines)):
            if unit == " ":
                space = bool(line)
                continue
            size = columns(unit)
            if line and used + space + size > width:
                out.append(line)
                line, used, space = "", 0, False
            line += " " * space + unit
            used += space + size
            space = False
        out.append(line)
    return out


class Formatter(click.HelpFormatter):
    def write_heading(self, heading: str) -> None:
        self.write(f"{' ' * self.current_indent}{heading}：\n")  # the full-width colon, as 用法：

    def write_text(self, text: str) -> None:
        indent = " " * self.current_indent
        self.write("".join(f"{indent}{line}\n" if line else "\n"
                           for line in wrap(text, max(self.width - self.current_indent, 20))))

    def write_dl(self, rows, col_max: int = 30, col_spacing: int = 2) -> None:
        rows = list(rows)
        first = min(max((columns(term) for term, _ in rows), default=0), col_max) + col_spacing
        pad = " " * (first + self.current_indent)
        for term, text in rows:
            self.write(f"{' ' * self.current_indent}{term}")
            if columns(term) > first - col_spacing:
                self.write("\n" + pad)
            else:
                self.write(" " * (first - columns(term)))
            lines = wrap(text, max(self.width - first - self.current_indent, 20)) if text else [""]
            self.write(lines[0] + "\n" + "".join(f"{pad}{line}\n" if line else "\n" for line in lines[1:]))


class Context(click.Context):
    formatter_class = Formatter


def short_help(command: click.Command) -> str:
    """A command's line in the list of commands: its short_help, else the first sentence of its help."""
    return command.short_help or first_sentence(command.help or "")


def first_sentence(help_text: str) -> str:
    """The first sentence of a help text's first paragraph, its lines joined as set."""
    first = _joined(help_text.strip().split("\n\n")[0].splitlines())
    end = first.find("。")
    return first if end < 0 else first[: end + 1]


def declared_summaries(source: str) -> dict[str, str]:
    """The list-of-commands line of each command a module declares with `@main.command("name")` or
    `@main.group("name")` and a docstring, read from its source: `spotcheck --help` lists every command
    without importing each stage's libraries (about 0.8 s). A command declared any other way is left out
    (the caller imports its module)."""
    found = {}
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef) or (doc := ast.get_docstring(node)) is None:
            continue
        for decorator in node.decorator_list:
            if (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
                    and isinstance(decorator.func.value, ast.Name) and decorator.func.value.id == "main"
                    and decorator.func.attr in ("command", "group") and not decorator.keywords
                    and len(decorator.args) == 1 and isinstance(decorator.args[0], ast.Constant)):
                found[decorator.args[0].value] = first_sentence(doc)
    return found
