"""One place for file positions, display paths and slugs."""

import pytest
import yaml

from scaleboard.diagnostics import Problem, display_path, slugify, where, yaml_error_line, yaml_line


def test_where_and_problem_name_the_file_and_line():
    assert where("data/x.jsonl", 17) == "data/x.jsonl:17: "
    assert where("data/x.jsonl", None) == "data/x.jsonl: "
    assert where(None, 3) == ""
    assert str(Problem("data/x.jsonl", 2, "bad batch_size")) == "data/x.jsonl:2: bad batch_size"


def test_display_path_is_relative_inside_the_project_and_whole_outside(tmp_path):
    inside = tmp_path / "data" / "a" / "x.jsonl"
    assert display_path(inside, tmp_path) == "data/a/x.jsonl"
    outside = tmp_path.parent / "elsewhere.jsonl"
    assert display_path(outside, tmp_path / "data") == str(outside)
    assert display_path(inside, None) == str(inside)


@pytest.mark.parametrize(
    ("text", "kwargs", "slug"),
    [
        ("NVIDIA H100 80GB HBM3", {}, "nvidia-h100-80gb-hbm3"),
        ("../../x", {}, "x"),
        ("Café Crème", {}, "cafe-creme"),
        ("Exploring GPT2 (Part 2)", {}, "exploring-gpt2-part-2"),
        ("suite v1.2", {"keep": "."}, "suite-v1.2"),
        ("..hidden..", {"keep": "."}, "hidden"),
        ("日本", {"empty": "unnamed"}, "unnamed"),
        ("a" * 50 + " " + "b" * 50, {"limit": 51}, "a" * 50),
    ],
)
def test_one_slugify_for_urls_tags_and_file_names(text, kwargs, slug):
    assert slugify(text, **kwargs) == slug


def test_yaml_positions_are_file_lines():
    node = yaml.compose("a: 1\nb: 2\n", Loader=yaml.SafeLoader)
    assert [yaml_line(k) for k, _ in node.value] == [1, 2]
    assert [yaml_line(k, first_line=2) for k, _ in node.value] == [2, 3]  # front matter after its ---
    with pytest.raises(yaml.YAMLError) as caught:
        yaml.safe_load("a: 1\nb: [2\n")
    assert yaml_error_line(caught.value) == 3
    assert yaml_error_line(ValueError("no position")) is None
