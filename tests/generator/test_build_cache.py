"""The build cache (.scaleboard-cache/): a rebuild reuses validated data files, model pages and
compare verdicts, and the site it writes is byte for byte the one a build without it writes."""

import json
import os
import pickle
from pathlib import Path

import pytest

from scaleboard.generator import data as data_module
from scaleboard.generator import data_workers, synthetic
from scaleboard.generator.build import build
from scaleboard.generator.cache import DIR_NAME

MACHINES = (synthetic.machine("epyc-2c", "cpu", 8, 1.0), synthetic.machine("NVIDIA T4", "cuda", 16, 6.0))


def make_project(root: Path) -> list[Path]:
    records = synthetic.dataset(
        models=[("model-a", 10_000_000), ("model-b", 20_000_000)], machines=MACHINES, batch_sizes=(1, 2, 4)
    )
    files = []
    for model in ("model-a", "model-b"):
        path = root / "data" / f"{model}.jsonl"
        synthetic.write_jsonl((r for r in records if r["model"] == model), path)
        files.append(path)
    return files


def site_files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def count_loads(monkeypatch) -> list[str]:
    """The models whose records the build loads (appended as Part.data is called)."""
    from scaleboard.generator.parts import Part

    loaded: list[str] = []
    data_of = Part.data

    def data(self):
        loaded.append(self.model)
        return data_of(self)

    monkeypatch.setattr(Part, "data", data)
    return loaded


@pytest.fixture
def project(tmp_path):
    make_project(tmp_path)
    return tmp_path


def test_a_cached_rebuild_is_byte_identical_and_reuses_everything(project):
    first = build(project, out=project / "site")
    assert first.cache_hits == 0 and first.cache_misses > 0
    assert (project / DIR_NAME / "CACHEDIR.TAG").exists()
    before = site_files(project / "site")
    second = build(project, out=project / "site")
    assert second.cache_misses == 0 and second.cache_hits >= 2 + 4  # 2 files, 4 model pages, verdicts
    assert site_files(project / "site") == before
    build(project, out=project / "plain", use_cache=False)
    assert site_files(project / "plain") == before


def test_an_unchanged_file_is_not_validated_again_even_when_touched(project, monkeypatch):
    build(project, out=project / "site")
    path = project / "data" / "model-a.jsonl"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))  # a touch: new mtime, same bytes

    def refuse(*args, **kwargs):
        raise AssertionError("validated again")

    monkeypatch.setattr(data_workers, "check", refuse)
    monkeypatch.setattr(data_module.Part, "data", refuse)  # nor its records loaded: same content, same part
    result = build(project, out=project / "site")
    assert result.cache_misses == 0


def test_a_changed_file_is_validated_and_its_pages_rebuilt(project):
    build(project, out=project / "site")
    path = project / "data" / "model-a.jsonl"
    lines = path.read_text().splitlines()
    record = json.loads(lines[0])
    record["latency_ms"]["p50"] *= 2
    path.write_text("\n".join([json.dumps(record), *lines[1:]]) + "\n")
    cached = build(project, out=project / "site")
    assert cached.cache_misses > 0
    build(project, out=project / "plain", use_cache=False)
    assert site_files(project / "site") == site_files(project / "plain")


def test_problems_of_a_cached_file_are_reported_again(project):
    path = project / "data" / "model-b.jsonl"
    lines = path.read_text().splitlines()
    record = json.loads(lines[3])
    record["surprise"] = 1
    lines[3] = json.dumps(record)
    path.write_text("\n".join(lines) + "\n" + lines[4][:40])  # an unknown field, and a truncated last line
    first = build(project, out=project / "site")
    second = build(project, out=project / "site")
    assert second.cache_misses == 0
    assert second.warnings == first.warnings
    assert any("model-b.jsonl:4: unknown field 'surprise'" in w for w in first.warnings)
    assert any("truncated last line" in w for w in first.warnings)


def test_an_unreadable_cache_is_ignored_and_a_theme_change_invalidates_pages(project):
    build(project, out=project / "site")
    (project / DIR_NAME / "index.pickle").write_bytes(b"not a pickle")
    assert build(project, out=project / "site").cache_hits > 0  # pages are still there; the index is rebuilt
    assert pickle.loads((project / DIR_NAME / "index.pickle").read_bytes())["files"]
    templates = project / "templates"
    templates.mkdir()
    (templates / "model.html").write_text('{% extends "base.html" %}{% block content %}overridden{% endblock %}')
    result = build(project, out=project / "site")
    assert result.cache_hits == 0  # another theme: nothing made with the old one is reused
    page = next((project / "site" / "models").glob("*/*/*/index.html"))
    assert "overridden" in page.read_text()


def test_no_cache_writes_no_cache_directory(project):
    build(project, out=project / "site", use_cache=False)
    assert not (project / DIR_NAME).exists()


def test_a_new_file_holding_a_model_rebuilds_what_depends_on_that_model_only(project, monkeypatch):
    from scaleboard.generator import compare

    build(project, out=project / "site")
    lines = (project / "data" / "model-b.jsonl").read_text().splitlines()
    record = json.loads(lines[0])
    record["created_at"] = "2030-01-01T00:00:00Z"  # a re-run of one point, in a file of its own
    record["latency_ms"]["p50"] *= 3
    (project / "data" / "rerun.jsonl").write_text(json.dumps(record) + "\n")
    made = []
    section_of = compare.verdicts.machine_comparisons

    def counting(rows, raw, judge):
        made.append(rows[0]["model"])
        return section_of(rows, raw, judge)

    monkeypatch.setattr(compare.verdicts, "machine_comparisons", counting)
    build(project, out=project / "site")
    assert made == ["model-b"]  # model-a's compare section came from the cache
    build(project, out=project / "plain", use_cache=False)
    assert site_files(project / "site") == site_files(project / "plain")


def test_a_rebuild_loads_the_records_of_changed_models_only(project, monkeypatch):
    build(project, out=project / "site")
    path = project / "data" / "model-b.jsonl"
    lines = path.read_text().splitlines()
    record = json.loads(lines[2])
    record["latency_ms"]["p50"] *= 2  # a re-measured point
    path.write_text("\n".join([*lines[:2], json.dumps(record), *lines[3:]]) + "\n")
    loaded = count_loads(monkeypatch)
    build(project, out=project / "site")
    assert set(loaded) == {"model-b"}  # model-a: its summary, its cached pages and leaderboard rows only
    monkeypatch.undo()
    build(project, out=project / "plain", use_cache=False)
    assert site_files(project / "site") == site_files(project / "plain")


def test_pages_the_cache_lost_are_made_again_from_the_data_files_without_validating_them(project, monkeypatch):
    from scaleboard.generator.parts import PartData, Summary

    build(project, out=project / "site")
    before = site_files(project / "site")
    kept = [pickle.loads(path.read_bytes()) for path in (project / DIR_NAME / "parts").iterdir()]
    assert kept and all(isinstance(value, Summary) for value in kept)  # no records: the files hold them
    assert not any(isinstance(value, PartData) for value in kept)
    for path in (project / DIR_NAME / "pages").iterdir():
        path.unlink()  # the summaries stay: the build learns of the loss when a page asks

    def refuse(*args, **kwargs):
        raise AssertionError("validated again")

    monkeypatch.setattr(data_workers, "check", refuse)
    loaded = count_loads(monkeypatch)
    build(project, out=project / "site")
    assert sorted(set(loaded)) == ["model-a", "model-b"]
    assert site_files(project / "site") == before


def test_a_post_embedding_one_models_chart_loads_that_model_only(project, monkeypatch):
    post = project / "content" / "posts" / "2026-11-01-a.md"
    post.parent.mkdir(parents=True)
    chart = "```chart\nmodel: model-a\nmachine: epyc-2c\nmetric: latency_ms\nx: batch_size\nseries: config\n```\n"
    post.write_text("---\ntitle: A\ndate: 2026-11-01\n---\n\n" + chart)
    build(project, out=project / "site")
    loaded = count_loads(monkeypatch)
    result = build(project, out=project / "site")
    assert set(loaded) == {"model-a"}
    assert not [w for w in result.warnings if "url" not in w]  # the chart block drew
    monkeypatch.undo()
    page = (project / "site" / "blog" / "a" / "index.html").read_text()
    assert "model-a" in page and "model-b" not in page
    build(project, out=project / "plain", use_cache=False)
    assert site_files(project / "site") == site_files(project / "plain")


def compilations(monkeypatch) -> list[str]:
    """The templates Jinja compiles from source (appended as it compiles them)."""
    import jinja2

    compiled: list[str] = []
    compile_of = jinja2.Environment.compile

    def counting(self, source, name=None, filename=None, raw=False, defer_init=False):
        compiled.append(name)
        return compile_of(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    return compiled


def test_compiled_templates_are_kept_per_user_and_an_edited_one_is_compiled_again(project, tmp_path, monkeypatch):
    monkeypatch.setenv("SCALEBOARD_CACHE", str(tmp_path / "user-cache"))
    compiled = compilations(monkeypatch)
    first = build(project, out=project / "site")
    assert "model.html" in compiled and list((tmp_path / "user-cache" / "templates").iterdir())
    compiled.clear()
    (project / DIR_NAME).rename(tmp_path / "moved")  # a cold build: no project cache
    second = build(project, out=project / "site")
    assert compiled == []  # the theme was compiled once, for every later build
    assert second.cache_misses == first.cache_misses
    templates = project / "templates"
    templates.mkdir()
    (templates / "page.html").write_text('{% extends "base.html" %}{% block content %}first{% endblock %}')
    (project / "content" / "pages").mkdir(parents=True)
    (project / "content" / "pages" / "about.md").write_text("---\ntitle: About\n---\nHello\n")
    build(project, out=project / "site")
    (templates / "page.html").write_text('{% extends "base.html" %}{% block content %}second{% endblock %}')
    compiled.clear()
    build(project, out=project / "site")
    assert compiled == ["page.html"]  # Jinja checks the source it compiled
    assert "second" in (project / "site" / "about" / "index.html").read_text()


@pytest.mark.parametrize("where", ["off", "a file"])
def test_a_build_without_a_usable_user_cache_compiles_its_templates(project, tmp_path, monkeypatch, where):
    if where == "a file":
        (tmp_path / "a-file").write_text("not a folder")
        monkeypatch.setenv("SCALEBOARD_CACHE", str(tmp_path / "a-file" / "cache"))  # cannot be made
    else:
        monkeypatch.setenv("SCALEBOARD_CACHE", "off")
    compiled = compilations(monkeypatch)
    build(project, out=project / "site")
    build(project, out=project / "site")
    assert compiled.count("leaderboard.html") == 2  # rendered by every build, compiled by every build
    assert not (tmp_path / "a-file" / "cache").exists()


def test_no_cache_compiles_every_template(project, tmp_path, monkeypatch):
    monkeypatch.setenv("SCALEBOARD_CACHE", str(tmp_path / "user-cache"))
    build(project, out=project / "site")
    compiled = compilations(monkeypatch)
    build(project, out=project / "site", use_cache=False)
    assert {"model.html", "leaderboard.html"} <= set(compiled)  # --no-cache reads no cache, compiled templates included


def pages_dir(project: Path) -> Path:
    return project / DIR_NAME / "pages"


def cached_inodes(project: Path) -> set[int]:
    return {path.stat().st_ino for path in pages_dir(project).iterdir() if path.suffix == ".bin"}


def heavy_files(out: Path) -> list[Path]:
    """The model pages, their downloads and the pages of each model and model on a machine: the
    files the cache keeps (not /models/, made from every model)."""
    pages = list((out / "models").glob("*/*/*/index.html"))
    downloads = [p for p in (out / "data").rglob("*.*") if p.parent != out / "data"]  # not records.csv & co
    assert pages and len(downloads) == 2 * len(pages)
    overviews = [*(out / "models").glob("*/index.html"), *(out / "models").glob("*/*/index.html")]
    assert len(overviews) == 2 + len({p.parent.parent for p in pages})  # each model, each model × machine
    return pages + downloads + overviews


def test_a_rebuild_links_the_pages_it_reuses_and_makes_again_a_site_file_edited_in_place(project):
    build(project, out=project / "site")
    before = site_files(project / "site")
    second = build(project, out=project / "site")
    assert second.cache_misses == 0
    inodes = cached_inodes(project)
    assert all(path.stat().st_ino in inodes for path in heavy_files(project / "site"))  # linked, not copied
    assert site_files(project / "site") == before

    page = heavy_files(project / "site")[0]
    with page.open("r+b") as f:  # edited in place: the cache's file is the same file
        f.write(b"<!-- edited -->")
    third = build(project, out=project / "site")
    assert third.cache_misses == 1  # that page, made again; the other pages still linked
    assert site_files(project / "site") == before
    build(project, out=project / "plain", use_cache=False)
    assert site_files(project / "plain") == before


def test_pages_are_copied_where_the_file_system_refuses_hard_links(project, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", refuse)
    build(project, out=project / "site")
    second = build(project, out=project / "site")
    assert second.cache_misses == 0 and second.cache_hits >= 2 + 4
    assert not any(path.stat().st_nlink > 1 for path in heavy_files(project / "site"))
    build(project, out=project / "plain", use_cache=False)
    assert site_files(project / "site") == site_files(project / "plain")


def test_a_cached_page_only_touched_is_checked_and_reused(project, monkeypatch):
    import zlib

    from scaleboard.generator import cache as cache_module

    build(project, out=project / "site")
    before = site_files(project / "site")
    for path in pages_dir(project).iterdir():  # a restore that keeps seconds only, say
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns // 10**9 * 10**9 - 10**9))
    checked: list[int] = []
    crc32 = zlib.crc32
    monkeypatch.setattr(cache_module.zlib, "crc32", lambda data: checked.append(1) or crc32(data))
    second = build(project, out=project / "site")
    assert second.cache_misses == 0 and second.cache_hits >= 2 + 4
    assert site_files(project / "site") == before
    assert len(checked) >= 4 * 3  # each page and download: read and checked
    checked.clear()
    third = build(project, out=project / "site")
    assert third.cache_misses == 0 and not checked  # their new times were kept


def validate(project: Path, *args: str) -> None:
    from scaleboard.cli import main

    assert main(["validate", "-C", str(project), "-j", "1", *args]) == 0


def test_validate_remembers_the_files_it_validated_for_itself_and_the_next_build(project, monkeypatch, capsys):
    path = project / "data" / "model-b.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines) + "\n" + lines[4][:40])  # a truncated last line: no record, a warning
    validate(project)
    out, err = capsys.readouterr()
    assert out == f"ok: 2 data files, {len(lines) * 2} records\n"  # both files hold as many records
    assert "model-b.jsonl" in err and "truncated last line" in err

    def refuse(*args, **kwargs):
        raise AssertionError("validated again")

    with monkeypatch.context() as patched:
        patched.setattr(data_workers, "check", refuse)
        validate(project)  # nothing changed: the cache answers, with the same warning
        assert capsys.readouterr() == (out, err)
        result = build(project, out=project / "site")  # validated already: the build reads the files, trusted
    assert "truncated last line" in " ".join(result.warnings)
    build(project, out=project / "plain", use_cache=False)
    assert site_files(project / "site") == site_files(project / "plain")
    validate(project, "--no-cache")
    assert capsys.readouterr().out == out


def test_validate_keeps_what_the_builds_cached(project):
    build(project, out=project / "site")
    validate(project)
    assert build(project, out=project / "site").cache_misses == 0  # its pages were not dropped
    build(project, out=project / "site", base_url="/repo/")  # another configuration: its own index
    validate(project)  # of the default configuration: does not write over that one
    assert build(project, out=project / "site", base_url="/repo/").cache_misses == 0
