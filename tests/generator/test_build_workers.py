"""``build -j N``: data files validated, parts made and model pages made in forked workers give
the records, problems and site a single process gives.

The checks that fork run in a fresh process: forking is refused (and unsafe) while other
tests' threads (servers, browsers) run.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scaleboard.generator import synthetic
from scaleboard.generator.build import build
from scaleboard.generator.data_workers import Run, Text, assign, runs

MACHINES = (synthetic.machine("epyc-2c", "cpu", 8, 1.0), synthetic.machine("NVIDIA T4", "cuda", 16, 6.0))


def site_files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def make_project(root: Path) -> None:
    """Both models' records interleaved in one file (so every worker holds records of each),
    with an unknown field and a truncated last line, and a re-run of one point in a second file."""
    records = synthetic.dataset(
        models=[("model-a", 10_000_000), ("model-b", 20_000_000)], machines=MACHINES, batch_sizes=(1, 2, 4)
    )
    a = [r for r in records if r["model"] == "model-a"]
    b = [r for r in records if r["model"] == "model-b"]
    mixed = [r for pair in zip(a, b, strict=False) for r in pair]
    mixed[3] = {**mixed[3], "surprise": 1}
    path = synthetic.write_jsonl(mixed, root / "data" / "all.jsonl")
    with path.open("a") as f:
        f.write(json.dumps(mixed[5])[:40])  # a truncated last line
    rerun = {**a[2], "created_at": "2030-01-01T00:00:00Z"}
    rerun["latency_ms"] = {**rerun["latency_ms"], "p50": rerun["latency_ms"]["p50"] * 3}
    synthetic.write_jsonl([rerun], root / "data" / "rerun.jsonl")


WORKERS_CHECK = """
import json
import os
import shutil
import sys
from pathlib import Path

from scaleboard.errors import BuildError
from scaleboard.generator import data as data_module
from scaleboard.generator import data_workers
from scaleboard.generator.build import build, open_cache
from scaleboard.generator.config import load_config
from scaleboard.generator.workers import Workers, state

root = Path(sys.argv[1])


def site_files(out):
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


data_module.MIN_BYTES = 0  # the small project goes to the workers too
rounds = []
run = Workers.run
Workers.run = lambda self, function, calls: rounds.append(function.__name__) or run(self, function, calls)


def parts_here():  # in a worker: the parts it made
    return {m: (d.rows, d.raw_lines, d.history) for m, d in state.get("parts", {}).items()}


def refuse(*args):  # the workers fork from this process and may validate; this process may not
    if os.getpid() == BUILD:
        raise AssertionError("validated in the build's own process")
    return check(*args)


def read(parts):
    return {m: (p.data().rows, p.data().raw_lines, p.data().history) for m, p in parts.items()}


config = load_config(root)
serial = data_module.load_data(config, cache=open_cache(config, True))
expected = read(serial.parts)
assert len(expected) == 2
shutil.rmtree(root / ".scaleboard-cache", ignore_errors=True)

BUILD, check, data_workers.check = os.getpid(), data_workers.check, refuse
with Workers(2, cache=open_cache(config, True)) as workers:
    data = data_module.load_data(config, cache=workers.shared["cache"], workers=workers)
    assert rounds == ["_validate", "_make"], rounds
    assert sorted(data.owners) == sorted(expected) and set(data.owners.values()) == {0, 1}, data.owners
    made = {}
    for share in workers.run(parts_here, [(), ()]):
        made.update(share)
assert made == expected  # the records, rows and their order are a single process's
assert data.warnings == serial.warnings
assert any("unknown field 'surprise'" in w for w in data.warnings) and any("truncated" in w for w in data.warnings)
assert {m: p.summary for m, p in data.parts.items()} == {m: p.summary for m, p in serial.parts.items()}
assert not any(p.loaded for p in data.parts.values())  # the build's own process holds summaries only...
assert read(data.parts) == expected  # ...and reads the files again, unchecked, if a page needs records
data_workers.check = check

rounds.clear()
shutil.rmtree(root / ".scaleboard-cache", ignore_errors=True)
from scaleboard.generator import leaderboard

cells = leaderboard._cells


def cells_in_workers(*args):  # the leaderboard's cells are made with each model's pages
    if os.getpid() == BUILD:
        raise AssertionError("leaderboard cells made in the build's own process")
    return cells(*args)


from scaleboard.generator import build as build_module
from scaleboard.generator import output

written_here = []
write_files = output.write_files
output.write_files = lambda where, files: written_here.extend(files) or write_files(where, files)
leaderboard._cells = cells_in_workers
first = build(root, out=root / "site", jobs=2)
leaderboard._cells = cells
output.write_files = write_files
assert rounds == ["_validate", "_make", "_prepare_models"], rounds
assert first.cache_misses > 0
models = [p for p in (root / "site").rglob("*") if p.is_file() and "models" in p.parts or p.suffix == ".json"]
assert len(models) > 4 and first.files == len(list((root / "site").rglob("*.*"))) - 1  # the marker
here = {name for name in written_here if name.startswith("models/") or name.endswith(".json")}
assert here == {"data/colors.json", "models/index.html"}, here  # the model pages and downloads: by the workers
cached = {p.stat().st_ino for p in (root / ".scaleboard-cache" / "pages").iterdir()}
kept = [p for p in (root / "site").rglob("*.*") if "models" in p.parts or p.parent.parent.parent.name == "data"]
kept.remove(root / "site" / "models" / "index.html")  # made from every model, in the build's own process
overviews = 2 + 2 * 2  # each model's page and its page on each of its two machines
assert len(kept) == 3 * 4 + overviews and all(p.stat().st_ino in cached for p in kept), kept  # hard links: no copies

again = build(root, out=root / "site", jobs=2)
assert len(rounds) == 3 and again.cache_misses == 0, (rounds, again.cache_misses)  # nothing new: no fork
from scaleboard.generator.cache import digest

entries = open_cache(config, True).files  # each file's hash, made by the worker that validated its start
assert len(entries) == 2 and all(e.digest == digest((root / name).read_bytes()) for name, e in entries.items())

before = site_files(root / "site")
shutil.rmtree(root / ".scaleboard-cache")
gather = build_module.gather_pages
build_module.gather_pages = lambda site: (_ for _ in ()).throw(BuildError("after the workers wrote"))
try:
    build(root, out=root / "site", jobs=2)
except BuildError:
    pass
else:
    raise AssertionError("no error")
build_module.gather_pages = gather
assert rounds[-1] == "_prepare_models", rounds  # the workers had written the model pages
assert site_files(root / "site") == before  # the pages the workers wrote went with the staging directory
assert sorted(p.name for p in root.iterdir()) == [".scaleboard-cache", "data", "site"], list(root.iterdir())

rerun = root / "data" / "rerun.jsonl"  # holds one point of model-a: one model to make
record = json.loads(rerun.read_text())
record["latency_ms"]["p50"] *= 2
rerun.write_text(json.dumps(record) + "\\n")
rounds.clear()
build(root, out=root / "site", jobs=2)
assert rounds == ["_validate", "_make", "_prepare_models"], rounds  # made and drawn where it was validated

bad = root / "data" / "zz-bad.jsonl"
bad.write_text('{"schema": 1}\\nnot json\\n' * 3)
messages = []
for workers in (None, Workers(2, cache=open_cache(config, True))):
    try:
        data_module.load_data(config, cache=workers.shared["cache"] if workers else None, workers=workers)
    except BuildError as error:
        messages.append(str(error))
    finally:
        if workers is not None:
            workers.close()
assert rounds[-1] == "_validate", rounds
assert len(messages) == 2 and messages[0] == messages[1] and "zz-bad.jsonl:2" in messages[0], messages
bad.unlink()

checked = []  # scaleboard validate: the records counted where they were validated, or by the cache
for jobs in (1, 2, 2):
    if len(checked) < 2:
        shutil.rmtree(root / ".scaleboard-cache", ignore_errors=True)
    rounds.clear()
    cache = open_cache(config, True)
    with Workers(jobs, cache=cache) as pool:
        checked.append(data_module.check_data(config, cache=cache, workers=pool))
    cache.save(prune=False)
    assert rounds == (["_validate"] if len(checked) == 2 else []), rounds  # validated (or not), nothing made
expected = sum(1 for path in (root / "data").glob("*.jsonl") for line in path.read_text().splitlines()
               if line.endswith("}"))  # fmt: skip
assert checked[0] == checked[1] == checked[2] and checked[0].records == expected and checked[0].files == 2, checked
assert any("truncated" in w for w in checked[0].warnings)

from scaleboard.generator.check import check_project

post = root / "content" / "posts" / "2026-01-01-a.md"  # a block: validate makes the parts, in the workers
post.parent.mkdir(parents=True)
post.write_text("---\\ntitle: A\\ndate: 2026-01-01\\n---\\n```chart\\nmodel: model-a\\nmachine: epyc-2c\\nmetric: latency_ms\\n"
                "x: batch_size\\nseries: config\\n```\\n")  # fmt: skip
shutil.rmtree(root / ".scaleboard-cache")
rounds.clear()
found = check_project(config, jobs=2)
assert rounds == ["_validate", "_make"], rounds
assert found.records == expected and not any("chart block" in w for w in found.warnings), found
assert not list(root.glob(".scaleboard-cache/parts/*"))  # not kept: the build makes them where it makes pages
rounds.clear()
build(root, out=root / "site", jobs=2)
assert rounds == ["_make", "_prepare_models"], rounds  # validated already; each part made where its pages are
shutil.rmtree(post.parent.parent)
build(root, out=root / "site", jobs=2)  # without the post, as the test builds it in one process
"""


def test_workers_read_make_and_build_what_one_process_does(tmp_path):
    make_project(tmp_path)
    subprocess.run([sys.executable, "-c", WORKERS_CHECK, str(tmp_path)], check=True, timeout=300)
    build(tmp_path, out=tmp_path / "plain", use_cache=False, jobs=1)
    assert site_files(tmp_path / "site") == site_files(tmp_path / "plain")


FAILURES_CHECK = """
import os
import sys

from scaleboard.errors import BuildError
from scaleboard.generator.workers import WorkerFailed, Workers, state


def remember(value):
    state["kept"] = state.get("kept", []) + [value]
    return state["kept"]


def bad_input():
    raise BuildError("data/x.jsonl:3: not valid JSON")


def bug():
    return {}["missing"]


def die():
    os._exit(3)


with Workers(2) as workers:
    workers.start({"given": 1})
    assert workers.run(remember, [(1,), (2,)]) == [[1], [2]]
    assert workers.run(remember, [(3,)]) == [[1, 3]]  # what a call leaves stays for the next
    try:
        workers.run(bad_input, [(), ()])
    except WorkerFailed:
        raise AssertionError("a build error is the build's own")
    except BuildError as error:
        assert str(error) == "data/x.jsonl:3: not valid JSON"
    assert not workers.started  # stopped: a failed worker's state is not to be trusted

with Workers(2) as workers:  # stopped: each exits on its own, while the build goes on
    workers.start({})
    processes = list(workers._processes)
    workers.stop()
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0, process.exitcode
    try:
        workers.run(remember, [(1,)])
    except RuntimeError:
        pass
    else:
        raise AssertionError("a stopped worker was called")

def threads_after_numpy():
    import numpy  # noqa: F401

    return len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else 1


assert "numpy" not in sys.modules  # the build's own process has not loaded it: the workers do
with Workers(2) as workers:
    workers.start({})
    assert workers.run(threads_after_numpy, [(), ()]) == [1, 1]  # no BLAS threads spinning beside the work

for failing, words in ((bug, "KeyError: 'missing'"), (die, "a build process died")):
    with Workers(2) as workers:
        workers.start({})
        try:
            workers.run(failing, [()])
        except WorkerFailed as error:
            assert words in str(error), str(error)
        else:
            raise AssertionError("no error")
"""


def test_a_worker_that_fails_or_dies_fails_the_build_with_its_reason():
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}  # the workers' own default
    subprocess.run([sys.executable, "-c", FAILURES_CHECK], check=True, timeout=120, env=env)


@pytest.mark.parametrize("sizes", [[10], [3, 0, 7, 1], [1], [100, 5, 5, 5], [0], [0, 4, 0]])
@pytest.mark.parametrize("workers", [1, 2, 3, 8])
def test_the_bytes_are_cut_in_consecutive_shares_of_about_equal_size(sizes, workers):
    shares = runs(sizes, workers)
    flat = [run for share in shares for run in share]
    covered = [(run.file, byte) for run in flat for byte in range(run.begin, run.end)]
    assert covered == [(f, b) for f, n in enumerate(sizes) for b in range(n)]  # each byte once, in order
    assert sorted({run.file for run in flat}) == list(range(len(sizes)))  # an empty file too: it is hashed
    assert [run.begin for run in flat if run.begin == 0] == [0] * len(sizes)  # one run starts each file
    totals = [sum(run.end - run.begin for run in share) for share in shares]
    assert len(shares) <= workers
    assert max(totals) - min(totals) <= 1 or len(shares) < workers  # about equal, unless bytes are fewer


LINES = [b"", b"\n", b"a\nb", b"a\nb\n", b'\xe2\n\xff\xfe\n{"x": "\xc3\xa9"}', "é · ⚠\n\n".encode(), b"ab\n\ncd\nef\n"]


@pytest.mark.parametrize("data", LINES)
def test_a_new_file_is_split_as_decoded(data):
    text = Text("data/x.jsonl", data)
    plain = data.decode("utf-8", errors="replace")
    assert text.terminated == plain.endswith("\n") and text.lines == plain.split("\n")


@pytest.mark.parametrize("data", LINES)
@pytest.mark.parametrize("workers", [2, 3, 5])
def test_the_runs_of_a_file_hold_each_of_its_lines_once_in_order(data, workers):
    """A line belongs to the run its first byte is in: counted in the bytes, the same lines as
    in the decoded text, whatever the cut."""
    text = Text("data/x.jsonl", data)
    held = [line for share in runs([len(data)], workers) for run in share for line in range(*_stop(run, text))]
    assert held == list(range(len(text.lines)))


def _stop(run, text):
    start, stop = run.lines(text)
    return start, len(text.lines) if stop is None else stop


def test_a_file_may_be_cut_between_workers():
    text = Text("data/x.jsonl", b"one\ntwo\nthree\nfour\n")  # 19 bytes: cut at byte 9, in "three"
    assert runs([19], 2) == [[Run(0, 0, 9)], [Run(0, 9, 19)]]
    assert [run.lines(text) for share in runs([19], 2) for run in share] == [(0, 3), (3, None)]


def test_models_go_where_their_records_are_unless_that_overloads_a_worker():
    sizes = {"a": [100, 0], "b": [0, 100], "c": [50, 50]}
    owner = assign(["a", "b", "c"], sizes, 2)
    assert owner["a"] == 0 and owner["b"] == 1
    crowded = {"a": [100, 0], "b": [100, 0], "c": [100, 0], "d": [100, 0]}
    owners = assign(list(crowded), crowded, 2)
    assert sorted(owners.values()) == [0, 0, 1, 1]  # parsing again elsewhere beats waiting
    assert set(assign(["x", "y"], {}, 2).values()) == {0, 1}  # no worker validated them: balanced
    halves = {f"m{i:02d}": [100, 0] if i < 10 else [0, 100] for i in range(20)}
    assert assign(list(halves), halves, 2) == {m: 0 if m < "m10" else 1 for m in halves}  # none parsed again
    uneven = {"big": [300, 0], "s1": [100, 0], "s2": [100, 0], "s3": [0, 100]}
    owners = assign(list(uneven), uneven, 2)
    assert owners["big"] == 0 and owners["s3"] == 1 and sorted(owners.values()) == [0, 1, 1, 1]
