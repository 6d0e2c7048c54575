"""Posts and pages: front matter parsing, every error naming file:line, drafts and future posts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from scaleboard.generator.content import ContentError, load_content, slugify, tag_slug

TODAY = dt.date(2026, 11, 23)


def write(root: Path, rel: str, text: str) -> Path:
    path = root / "content" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load(root: Path, **kwargs):
    return load_content(root / "content", today=TODAY, **kwargs)


def errors_of(root: Path) -> list[str]:
    with pytest.raises(ContentError) as info:
        load(root)
    return [str(p) for p in info.value.problems]


def test_a_post_with_every_key(tmp_path):
    write(
        tmp_path,
        "posts/2026-11-20-first-look.md",
        "---\ntitle: First look\ndate: 2026-11-20\ntags: [gpt2, Machine Learning]\nsummary: S.\n"
        "draft: false\nauthor: Ada\n---\nBody line one.\n",
    )
    post = load(tmp_path).posts[0]
    assert (post.title, post.slug, post.date) == ("First look", "first-look", dt.date(2026, 11, 20))
    assert post.tags == ("gpt2", "Machine Learning")
    assert (post.summary, post.author, post.draft) == ("S.", "Ada", False)
    assert post.source == "content/posts/2026-11-20-first-look.md"
    assert post.body_line == 9
    assert post.body.splitlines()[0] == "Body line one."


def test_date_from_file_name_and_explicit_slug(tmp_path):
    write(tmp_path, "posts/2026-01-02-named.md", "---\ntitle: T\nslug: other-slug\n---\n")
    post = load(tmp_path).posts[0]
    assert (post.date, post.slug) == (dt.date(2026, 1, 2), "other-slug")


def test_posts_are_newest_first_and_pages_loaded(tmp_path):
    write(tmp_path, "posts/a.md", "---\ntitle: Old\ndate: 2025-01-01\n---\n")
    write(tmp_path, "posts/b.md", "---\ntitle: New\ndate: 2026-01-01\n---\n")
    write(tmp_path, "pages/about.md", "---\ntitle: About\n---\nHi.\n")
    content = load(tmp_path)
    assert [p.title for p in content.posts] == ["New", "Old"]
    assert [(p.slug, p.kind) for p in content.pages] == [("about", "page")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("---\ntitle: T\ndate: [unclosed\n---\n", "content/posts/x.md:3: front matter: YAML syntax"),
        ("---\ntitle: T\n  bad: indent\n---\n", "content/posts/x.md:3: front matter: YAML syntax"),
        ("---\ndate: 2026-01-01\n---\n", "content/posts/x.md:1: front matter: missing 'title'"),
        ("---\ntitle: T\ndate: someday\n---\n", "content/posts/x.md:3: front matter: 'date' is not a date"),
        ("---\ntitle: T\ndate: 2026-02-30\n---\n", "content/posts/x.md:3: front matter: 'date' is not a date"),
        ("---\ntitle: T\ndate: 2026-01-01\ncategories: [a]\n---\n", "content/posts/x.md:4: front matter: unknown key"),
        ("---\ntitle: T\ndate: 2026-01-01\ndraft: maybe\n---\n", "x.md:4: front matter: 'draft' is not true or false"),
        ("---\ntitle: T\ndate: 2026-01-01\ntags: gpt2\n---\n", "x.md:4: front matter: 'tags' is not a list of strings"),
        ("---\ntitle: [a, b]\ndate: 2026-01-01\n---\n", "content/posts/x.md:2: front matter: 'title' is not a string"),
        ("---\ntitle: T\ndate: 2026-01-01\nslug: Bad Slug\n---\n", "x.md:4: front matter: 'slug' is not a slug"),
        ("---\ntitle: T\n---\n", "content/posts/x.md:1: front matter: missing 'date'"),
        ("no front matter\n", "content/posts/x.md:1: front matter: missing"),
        ("---\ntitle: T\n", "content/posts/x.md:1: front matter: not closed"),
    ],
)
def test_each_front_matter_error_names_file_and_line(tmp_path, text, expected):
    write(tmp_path, "posts/x.md", text)
    messages = errors_of(tmp_path)
    assert len(messages) == 1, messages
    assert expected in messages[0]


def test_all_problems_are_reported_at_once(tmp_path):
    write(tmp_path, "posts/a.md", "---\ntitle: A\ndate: nope\nfoo: 1\n---\n")
    write(tmp_path, "posts/b.md", "---\ndate: 2026-01-01\n---\n")
    write(tmp_path, "pages/blog.md", "---\ntitle: Clash\n---\n")
    with pytest.raises(ContentError) as info:
        load(tmp_path)
    text = str(info.value)
    assert text.startswith("4 problems in content:")
    for expected in (
        "content/posts/a.md:3: front matter: 'date' is not a date",
        "content/posts/a.md:4: front matter: unknown key 'foo'",
        "content/posts/b.md:1: front matter: missing 'title'",
        "content/pages/blog.md:1: slug 'blog' is reserved",
    ):
        assert expected in text


def test_duplicate_slugs_are_an_error(tmp_path):
    write(tmp_path, "posts/2026-01-01-same.md", "---\ntitle: A\n---\n")
    write(tmp_path, "posts/2026-02-01-same.md", "---\ntitle: B\n---\n")
    (message,) = errors_of(tmp_path)
    assert "content/posts/2026-02-01-same.md:1: slug 'same' is also used by content/posts/2026-01-01-same.md" in message


def test_drafts_and_future_posts_only_with_drafts(tmp_path):
    write(tmp_path, "posts/2026-01-01-live.md", "---\ntitle: Live\n---\n")
    write(tmp_path, "posts/2026-01-02-draft.md", "---\ntitle: Draft\ndraft: true\n---\n")
    write(tmp_path, "posts/2027-01-01-future.md", "---\ntitle: Future\n---\n")
    write(tmp_path, "pages/secret.md", "---\ntitle: Secret\ndraft: true\n---\n")
    published = load(tmp_path)
    assert [p.title for p in published.posts] == ["Live"]
    assert published.pages == []
    assert published.hidden == 3
    everything = load(tmp_path, drafts=True)
    assert [p.title for p in everything.posts] == ["Future", "Draft", "Live"]
    assert [p.title for p in everything.pages] == ["Secret"]


def test_errors_in_drafts_still_fail(tmp_path):
    write(tmp_path, "posts/x.md", "---\ntitle: T\ndraft: true\ndate: later\n---\n")
    assert "content/posts/x.md:4: front matter: 'date' is not a date" in errors_of(tmp_path)[0]


def test_missing_content_dir_is_empty(tmp_path):
    content = load(tmp_path)
    assert (content.posts, content.pages) == ([], [])


def test_slugs():
    assert slugify("Exploring GPT2 (Part 2)") == "exploring-gpt2-part-2"
    assert tag_slug("Machine Learning") == "machine-learning"
    assert tag_slug("???") == "tag"
