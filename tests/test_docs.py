"""The documentation can be followed: every link in it, and every `*.md` that code names, exists.

A newcomer who clones the repository reads README.md and docs/, and meets "see docs/…" in
docstrings, comments and templates; each of those must lead to a file (and heading) that is
in the repository.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
DOCUMENTS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
# Where code, templates and deployment files live (not .venv, node_modules, locale, media).
CODE_DIRS = ["hub", "resources", "templates", "tests", "bench", "scripts", "static"]
CODE_FILES = ["Dockerfile", "compose.yaml", "Makefile", "gunicorn.conf.py", "pyproject.toml"]
CODE_SUFFIXES = {".py", ".html", ".txt", ".js", ".css", ".sh", ".lua", ".yaml", ".toml", ""}

# [text](target) in Markdown, images included; code spans are removed first.
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CODE_SPAN = re.compile(r"`[^`\n]*`")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
# A Markdown file named in code: `docs/architecture.md`, `bench/README.md`, `README.md`.
MD_NAME = re.compile(r"(?<![\w./-])((?:[\w-]+/)*[\w-]+\.md)\b")


def heading_anchor(heading: str) -> str:
    """The anchor GitHub and most renderers give a heading."""
    text = CODE_SPAN.sub(lambda m: m.group(0).strip("`"), heading.strip()).lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(document: Path) -> set[str]:
    text = FENCE.sub("", document.read_text())
    return {heading_anchor(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}


def links(document: Path) -> list[str]:
    text = CODE_SPAN.sub("", FENCE.sub("", document.read_text()))
    return [target for target in LINK.findall(text) if not re.match(r"[a-z]+:", target)]


def code_files() -> list[Path]:
    files = [ROOT / name for name in CODE_FILES]
    for directory in CODE_DIRS:
        files += [
            path
            for path in (ROOT / directory).rglob("*")
            if path.is_file()
            and path.suffix in CODE_SUFFIXES
            and "__pycache__" not in path.parts
            and path != Path(__file__)
        ]
    return files


def test_the_docs_exist_and_the_readme_points_at_them():
    names = {document.name for document in DOCUMENTS}
    assert {"architecture.md", "domain.md", "editors.md", "operations.md", "clinics.md"} <= names
    readme = (ROOT / "README.md").read_text()
    assert "docs/README.md" in readme
    assert "make run" in readme and "make test" in readme


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_every_relative_link_resolves(document):
    broken = []
    for target in links(document):
        path, _, fragment = target.partition("#")
        destination = (document.parent / path).resolve() if path else document
        missing_heading = (
            fragment and destination.suffix == ".md" and fragment not in anchors(destination)
        )
        if not destination.exists() or missing_heading:
            broken.append(target)
    assert broken == [], f"{document.relative_to(ROOT)} links to what does not exist"


def test_every_markdown_file_named_in_code_exists():
    missing = {}
    for path in code_files():
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        for name in MD_NAME.findall(text):
            if not (ROOT / name).exists():
                missing.setdefault(str(path.relative_to(ROOT)), []).append(name)
    assert missing == {}


def test_the_link_check_finds_a_broken_link(tmp_path):
    """The checks above can fail: a link to a missing file or heading is caught."""
    (tmp_path / "a.md").write_text("# Title\n\nSee [b](b.md), [here](#title), [gone](#nowhere).\n")
    document = tmp_path / "a.md"
    assert links(document) == ["b.md", "#title", "#nowhere"]
    assert "title" in anchors(document) and "nowhere" not in anchors(document)
    assert not (tmp_path / "b.md").exists()
    assert MD_NAME.findall('"""See DESIGN.md and docs/domain.md."""') == [
        "DESIGN.md",
        "docs/domain.md",
    ]
