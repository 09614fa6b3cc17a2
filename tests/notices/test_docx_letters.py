"""随机抽查通知书 laid out shape by shape: the same bytes as docxtpl's own render, or docxtpl's render."""

import dataclasses
import io
import re
import zipfile
from pathlib import Path

import polars as pl
import pytest
from spotcheck.notices import api, docx_letters, docx_package, docx_render
from spotcheck.policy.loader import load_policy
from spotcheck.resources import TEMPLATES

FIXTURES = Path(__file__).parents[1] / "fixtures" / "notice"
DEMO = FIXTURES / "policies" / "demo" / "city" / "2023.yaml"
TEMPLATE = TEMPLATES / "docx" / "inspection_letter.docx"


@pytest.fixture(scope="module")
def letters():
    """The fixture's seven letters made into 45 of several shapes, one too long for its page, one whose
    name holds a tab (docxtpl rewrites it), one with XML's special characters."""
    notice = api.choose_notice(load_policy(DEMO), "letter", None, FIXTURES / "draw")
    made = []
    for k in range(45):
        n = notice.entity_notices[k % len(notice.entity_notices)]
        change = {"entity": f"{n.entity}{k}", "visit_id": f"V{k:03d}"}
        change.update({5: {"items": n.items * 9}, 7: {"entity": "名称\t有制表符"}, 9: {"entity": 'A&B <"甲"> \'乙\''},
                       11: {"team": ()}, 13: {"basis": ""}, 17: {"contacts": n.contacts[:1]}}.get(k, {}))
        made.append(dataclasses.replace(n, **change))
    return dataclasses.replace(notice, entity_notices=tuple(made))


def parts(tpl) -> dict[str, bytes]:
    out = io.BytesIO()
    tpl.save(out)
    with zipfile.ZipFile(out) as z:
        return {name: z.read(name) for name in z.namelist()}


def test_shape_by_shape_gives_docxtpls_bytes(letters):
    fast = docx_letters.render_letters(TEMPLATE, letters)
    assert fast is not None
    slow = parts(docx_render.rendered(TEMPLATE, letters))
    with zipfile.ZipFile(io.BytesIO(fast)) as z:
        assert {name: z.read(name) for name in z.namelist()} == slow
    document = slow["word/document.xml"].decode()
    assert all(document.count(f">V{k:03d}<") == 1 for k in range(45))
    assert "名称" in document and "A&amp;B &lt;" in document
    assert '<w:sz w:val="' in document  # the long letter was shrunk to its page


def test_a_template_that_does_more_than_print_a_value_is_rendered_by_docxtpl(letters, tmp_path):
    template = tmp_path / "inspection_letter.docx"
    with zipfile.ZipFile(TEMPLATE) as src, zipfile.ZipFile(template, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "word/document.xml":
                assert b"n.entity }}" in data
                data = data.replace(b"n.entity }}", b"n.entity[:4] }}")
            dst.writestr(item, data)
    assert docx_letters.render_letters(template, letters) is None
    with zipfile.ZipFile(io.BytesIO(docx_render.render(template, letters))) as z:
        document = z.read("word/document.xml").decode()
    assert "示范东区甲贸易有限公司0" not in document and ">示范东区<" in document


def test_few_letters_take_docxtpl_alone(letters, monkeypatch):
    few = dataclasses.replace(letters, entity_notices=letters.entity_notices[: docx_render.FAST_LETTERS - 1])
    monkeypatch.setattr(docx_letters, "render_letters", lambda *a: pytest.fail("shape by shape for a few letters"))
    assert docx_render.render(TEMPLATE, few)


# ---------------------------------------------------------------- a run of files: one layout, streamed


def _batches(site_year):
    from conftest import SITE_POLICY
    from spotcheck.draw.reader import DRAWS, read_folder
    from spotcheck.notices.letters import letters_by_unit

    return list(letters_by_unit(load_policy(SITE_POLICY), read_folder(site_year.draw, needs=(DRAWS,))))


def _zip_parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None
        return {name: z.read(name) for name in z.namelist()}


def test_files_of_one_run_share_the_layout_and_give_docxtpls_bytes(site_year, tmp_path, monkeypatch):
    from conftest import SITE_POLICY

    # Small chunks: each file is compressed on its own thread while the next file's letters are laid out.
    monkeypatch.setattr(docx_package, "_CHUNK", 4096)

    batches = _batches(site_year)
    assert len(batches) >= 4 and all(b.notice.entity_notices for b in batches)
    slow = {(b.unit, b.month): parts(docx_render.rendered(TEMPLATE, b.notice)) for b in batches}
    files = api.write_letters(SITE_POLICY, site_year.draw, tmp_path / "letters", fmt="docx")
    assert [n for _, n in files] == [len(b.notice.entity_notices) for b in batches]
    for (name, _), b in zip(files, batches, strict=True):
        assert _zip_parts((tmp_path / "letters" / name).read_bytes()) == slow[(b.unit, b.month)], name
    # Exactly one letter per visit of visits.csv, in its unit's file.
    found = []
    for name, _ in files:
        document = _zip_parts((tmp_path / "letters" / name).read_bytes())["word/document.xml"].decode()
        found += [(v, name.parent.name) for v in re.findall(r"检查编号：</w:t></w:r><w:r>.*?<w:t[^>]*>(V[0-9a-f]+)</w:t>", document)]
    visits = pl.read_csv(site_year.draw / "visits.csv", infer_schema=False)
    assert sorted(found) == sorted(visits.select("visit_id", "inspecting_unit").iter_rows())
    # The layout is learnt once per run: a file whose shapes of letter are all known costs no docxtpl render.
    renders = []
    real = docx_letters.rendered
    monkeypatch.setattr(docx_letters, "rendered", lambda *a, **k: renders.append(1) or real(*a, **k))
    with docx_letters.LetterFiles(TEMPLATE) as run:
        for k, b in enumerate(batches):
            run.write(b.head, b.rows, tmp_path / f"{k}.docx")
        first = len(renders)
        for k, b in enumerate(batches):
            run.write(b.head, b.rows, tmp_path / f"again-{k}.docx")
    for k, b in enumerate(batches):
        assert _zip_parts((tmp_path / f"again-{k}.docx").read_bytes()) == slow[(b.unit, b.month)]
    assert first >= 3 and len(renders) == first
    again = api.write_letters(SITE_POLICY, site_year.draw, tmp_path / "again", fmt="docx")
    assert [(tmp_path / "again" / n).read_bytes() for n, _ in again] == [(tmp_path / "letters" / n).read_bytes() for n, _ in files]


def test_a_zip_of_one_word_file_per_visit(site_year, tmp_path):
    from conftest import SITE_POLICY

    files = api.write_letters(SITE_POLICY, site_year.draw, tmp_path / "letters", fmt="docx", per_entity=True)
    visits = pl.read_csv(site_year.draw / "visits.csv", infer_schema=False)
    batches = {(b.unit, b.month): b for b in _batches(site_year)}
    seen = {}
    for name, count in files:
        assert name.suffix == ".zip"
        with zipfile.ZipFile(tmp_path / "letters" / name) as bundle:
            members = bundle.namelist()
            assert len(members) == count == len(set(members))
            for member in members:
                document = _zip_parts(bundle.read(member))["word/document.xml"].decode()
                visit_id = member.split("_", 1)[0]
                assert document.count(f">{visit_id}<") == 1 and document.count("检查编号：") == 1
                seen[visit_id] = name.parent.name
    assert seen == dict(visits.select("visit_id", "inspecting_unit").iter_rows())
    # Each file is the one letter docxtpl lays out on its own.
    b = next(iter(batches.values()))
    n = b.notice.entity_notices[0]
    month = f"{b.month:02d}月" if b.month else "未定月份"
    zipped = next(tmp_path / "letters" / f for f, _ in files if f.parent.name == b.unit and month in f.name)
    with zipfile.ZipFile(zipped) as bundle:
        own = next(m for m in bundle.namelist() if m.startswith(n.visit_id))
        one = dataclasses.replace(b.notice, entity_notices=(n,))
        assert _zip_parts(bundle.read(own)) == parts(docx_render.rendered(TEMPLATE, one))
        assert own == f"{n.visit_id}_{n.entity}.docx"


def test_one_word_file_of_every_letter_is_laid_out_from_the_plans_columns(site_year, monkeypatch):
    from conftest import SITE_POLICY
    from spotcheck.draw.reader import DRAWS, read_folder
    from spotcheck.notices.letters import inspection_letters

    loaded = load_policy(SITE_POLICY)
    notice = inspection_letters(loaded, read_folder(site_year.draw, needs=(DRAWS,)))
    assert len(notice.entity_notices) >= docx_render.FAST_LETTERS
    monkeypatch.setattr(docx_letters, "render_letters", lambda *a: pytest.fail("letters made into objects first"))
    fast = api.render(loaded, "letter", "docx", site_year.draw)
    assert _zip_parts(fast) == parts(docx_render.rendered(TEMPLATE, notice))
