"""The built-in theme ships inside the package; a project's templates/ overrides single files of it."""

from __future__ import annotations

from scaleboard.generator import synthetic
from scaleboard.generator.build import build
from scaleboard.generator.config import load_config
from scaleboard.generator.theme import override_dir, template_dirs, theme_dir


def project(root):
    synthetic.write_jsonl(synthetic.dataset(configs=synthetic.CONFIGS[:2], batch_sizes=(1, 2)), root / "data/run.jsonl")
    return root


def test_the_theme_is_package_data():
    assert (theme_dir() / "base.html").is_file()
    assert (theme_dir() / "assets" / "style.css").is_file()


def test_without_overrides_every_file_comes_from_the_theme(tmp_path):
    result = build(project(tmp_path))
    assert result.pages > 3
    assert (tmp_path / "site/assets/style.css").read_bytes() == (theme_dir() / "assets/style.css").read_bytes()
    assert template_dirs(load_config(tmp_path)) == [theme_dir()]


def test_a_project_file_replaces_the_shipped_one_and_the_rest_stays(tmp_path):
    root = project(tmp_path)
    base = (theme_dir() / "base.html").read_text()
    (root / "templates/assets").mkdir(parents=True)
    (root / "templates/base.html").write_text(base.replace("</body>", "<p id='ours'>our footer</p></body>"))
    (root / "templates/assets/style.css").write_text("body { color: rebeccapurple; }\n")
    (root / "templates/assets/extra.js").write_text("console.log('ours');\n")
    build(root)
    index = (root / "site/index.html").read_text()
    assert "our footer" in index
    assert (root / "site/assets/style.css").read_text() == "body { color: rebeccapurple; }\n"
    assert (root / "site/assets/extra.js").is_file()
    assert (root / "site/assets/scaleboard.js").read_bytes() == (theme_dir() / "assets/scaleboard.js").read_bytes()
    assert "our footer" in (root / "site/leaderboard/index.html").read_text()  # every page extends base.html


def test_the_theme_folder_itself_is_no_override(tmp_path):
    (tmp_path / "scaleboard.yaml").write_text(f"templates_dir: {theme_dir()}\n")
    assert override_dir(load_config(tmp_path)) is None
