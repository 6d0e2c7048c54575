"""The wheel as a user gets it: installed into a fresh venv (no torch), used outside the checkout.

``pip install scaleboard`` must serve a user's own repository: ``scaleboard init``, import some
results, ``scaleboard build``, and a site whose post draws its chart. This builds the wheel
and the sdist from the checkout, installs the wheel into a new virtual environment and runs
the commands there, in a folder that has nothing of the repository in it.
"""

from __future__ import annotations

import functools
import http.server
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKRAT = REPO / "tests/importers/fixtures/packrat-older/skylake2x/cdf1d77/gpt2_latency.csv"

pytestmark = pytest.mark.slow


def run(*args, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=900)
    if check and done.returncode != 0:
        raise AssertionError(f"{args} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # No --wheel/--sdist: build makes the sdist, then the wheel from it, so the sdist is proven
    # complete and no build/ folder is left in the checkout.
    run(sys.executable, "-m", "build", "--outdir", out, REPO, cwd=out)
    return out


@pytest.fixture(scope="module")
def venv(dist, tmp_path_factory) -> Path:
    """A fresh virtual environment with the wheel and its dependencies, nothing else."""
    root = tmp_path_factory.mktemp("venv")
    # This checkout's pip installs into the new environment (--python): seeding the venv with
    # its own pip takes ~8 s here. --no-compile skips writing bytecode for the thousands of
    # files of plotly and pandas (half of the ~25 s install); Python compiles what it imports.
    run(sys.executable, "-m", "venv", "--without-pip", root / "v", cwd=root)
    (wheel,) = dist.glob("scaleboard-*.whl")
    pip = (sys.executable, "-m", "pip", "--python", root / "v/bin/python", "install", "-q", "--no-compile")
    run(*pip, "--disable-pip-version-check", wheel, cwd=root)
    return root / "v/bin"


def test_the_wheel_installs_one_namespace_with_the_theme_and_suites(dist):
    (wheel,) = dist.glob("scaleboard-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"scaleboard", f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info"}
    for expected in (
        "scaleboard/theme/base.html",
        "scaleboard/theme/assets/style.css",
        "scaleboard/runner/suites/cpu-default.yaml",
        "scaleboard/generator/skeleton/pages.yml",
        "scaleboard/importers/packrat.py",
    ):
        assert expected in names, expected
    (sdist,) = dist.glob("scaleboard-*.tar.gz")
    assert sdist.stat().st_size > 10_000
    import scaleboard

    assert wheel.name.startswith(f"scaleboard-{scaleboard.__version__}-")  # the version pyproject reads


def test_init_import_build_outside_the_checkout_without_torch(venv, tmp_path, browser):
    scaleboard = venv / "scaleboard"
    assert run(venv / "python", "-c", "import torch", cwd=tmp_path, check=False).returncode != 0
    assert run(venv / "python", "-c", "import runner", cwd=tmp_path, check=False).returncode != 0
    assert run(scaleboard, "--version", cwd=tmp_path).stdout.strip() == f"scaleboard {metadata_version(venv)}"
    run(scaleboard, "init", "demo", cwd=tmp_path)
    demo = tmp_path / "demo"
    run(scaleboard, "import", "packrat", PACKRAT, cwd=demo)
    built = run(scaleboard, "build", "--strict", "--base-url", "/demo/", cwd=demo)
    assert "built" in built.stdout
    site = demo / "site"
    assert (site / "index.html").is_file() and (site / "assets/style.css").is_file()
    assert (site / "models/gpt2/skylake2x/cdf1d77/index.html").is_file()
    assert_post_draws_its_chart(browser, site, "blog/first-results/")


def metadata_version(venv: Path) -> str:
    """The version pip installed, as the installed metadata says."""
    code = "from importlib.metadata import version; print(version('scaleboard'))"
    return run(venv / "python", "-c", code, cwd=venv).stdout.strip()


def test_run_without_the_runner_extra_says_which_extra(venv, tmp_path):
    done = run(venv / "scaleboard", "run", "--dry-run", cwd=tmp_path, check=False)
    assert done.returncode == 2
    assert done.stderr.startswith(
        "error: scaleboard run needs PyTorch and transformers: pip install 'scaleboard[runner]'"
    )
    assert "Traceback" not in done.stderr


def assert_post_draws_its_chart(browser, site: Path, path: str) -> None:
    """Serve ``site`` under /demo/ on 127.0.0.1 and wait until Plotly drew the post's chart."""
    parent = site.parent / "serve"
    parent.mkdir()
    (parent / "demo").symlink_to(site, target_is_directory=True)
    handler = functools.partial(_Quiet, directory=str(parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/demo/{path}", wait_until="load")
        figure = page.locator("figure.chart").first
        figure.scroll_into_view_if_needed()
        page.wait_for_function("f => !!f.querySelector('.chart-plot .main-svg')", arg=figure.element_handle())
        traces = figure.evaluate("f => f.querySelector('.chart-plot').data.length")
        assert traces >= 1
        assert errors == []
    finally:
        page.close()
        server.shutdown()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def test_the_embedded_suites_load_from_the_wheel(venv, tmp_path):
    code = "from scaleboard.runner.suite import default_suite; print(default_suite('cpu', False).label)"
    done = run(venv / "python", "-c", code, cwd=tmp_path)
    assert done.stdout.strip()
