"""The GitHub Pages workflow: triggers, permissions, and a torch-free build with the Pages base path."""

from __future__ import annotations

from pathlib import Path

import yaml

WORKFLOW = Path(__file__).resolve().parents[2] / ".github" / "workflows" / "pages.yml"


def load() -> dict:
    data = yaml.safe_load(WORKFLOW.read_text())
    # YAML 1.1 reads the bare key `on` as True.
    data["on"] = data.pop(True, data.get("on"))
    return data


def steps(job: dict) -> list[dict]:
    return job["steps"]


def uses(job: dict) -> list[str]:
    return [s["uses"].split("@")[0] for s in steps(job) if "uses" in s]


def test_triggers_on_push_to_main_and_by_hand():
    on = load()["on"]
    assert on["push"]["branches"] == ["main"]
    assert "workflow_dispatch" in on


def test_permissions_allow_pages_deployment():
    permissions = load()["permissions"]
    assert permissions["pages"] == "write"
    assert permissions["id-token"] == "write"
    assert permissions["contents"] == "read"


def test_build_job_configures_builds_and_uploads_in_order():
    build = load()["jobs"]["build"]
    assert uses(build) == [
        "actions/checkout",
        "actions/setup-python",
        "actions/configure-pages",
        "actions/cache",
        "actions/upload-pages-artifact",
    ]
    upload = next(s for s in steps(build) if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "site"


def test_the_build_cache_is_kept_between_runs_and_restored_from_the_latest():
    from scaleboard.generator.cache import DIR_NAME

    build = load()["jobs"]["build"]
    names = [s.get("uses", s.get("name", "")).split("@")[0] for s in steps(build)]
    assert names.index("actions/cache") < names.index("Build the site")
    cache = next(s for s in steps(build) if s.get("uses", "").startswith("actions/cache"))
    assert cache["with"]["path"] == DIR_NAME
    assert cache["with"]["key"].startswith(cache["with"]["restore-keys"])  # a new entry per commit, the latest restored
    assert "github.sha" in cache["with"]["key"]


def test_generator_is_installed_without_torch():
    runs = " ".join(s.get("run", "") for s in steps(load()["jobs"]["build"]))
    assert "pip install ." in runs
    assert "[runner]" not in runs and "torch" not in runs


def test_build_uses_the_pages_base_path():
    build = load()["jobs"]["build"]
    configure = next(s for s in steps(build) if s.get("uses", "").startswith("actions/configure-pages"))
    command = next(s["run"] for s in steps(build) if "scaleboard build" in s.get("run", ""))
    assert f"steps.{configure['id']}.outputs.base_path" in command
    assert "--base-url" in command


def test_deploy_job_deploys_the_artifact():
    deploy = load()["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert deploy["environment"]["name"] == "github-pages"
    assert uses(deploy) == ["actions/deploy-pages"]


def test_generator_dependencies_do_not_include_torch():
    import tomllib

    pyproject = tomllib.loads((WORKFLOW.parents[2] / "pyproject.toml").read_text())
    assert not [d for d in pyproject["project"]["dependencies"] if d.lower().startswith("torch")]
