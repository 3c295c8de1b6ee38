"""The docs point at code that exists, and the code they quote is the code that is there.

Every relative link in the README and in docs/ must resolve to a file of the repository; a link
with a line range (`file.py#L10-L20`) must fit inside that file; a link to a heading
(`README.md#configuration`) must name a heading that exists. A quote introduced by a link with a
line range and a colon, like

    [myproject/asgi.py, lines 12-20](../myproject/asgi.py#L12-L20):
    ```python
    ...
    ```

must match those lines exactly (apart from indentation shared by every line), so a quote cannot
drift from the code it explains.
"""

import re
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = sorted(
    [ROOT / "README.md", ROOT / "loadtests" / "README.md", *(ROOT / "docs").rglob("*.md")],
)
LINK = re.compile(r"\[[^\]]*\]\((?P<target>[^)\s]+)\)")
LINE_RANGE = re.compile(r"^L(?P<first>\d+)(?:-L(?P<last>\d+))?$")
QUOTE = re.compile(
    r"\]\((?P<target>[^)\s]+#L\d+(?:-L\d+)?)\):[ \t]*\n```[^\n]*\n(?P<code>.*?)\n```",
    re.DOTALL,
)


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    text = re.sub(r"[`*\[\]()]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def relative_links(markdown: str) -> list[str]:
    text = re.sub(r"```.*?```", "", markdown, flags=re.DOTALL)  # skip code blocks
    return [
        match["target"]
        for match in LINK.finditer(text)
        if not re.match(r"^[a-z]+:", match["target"]) and not match["target"].startswith("#")
    ]


def resolve(document: Path, target: str) -> tuple[Path, str]:
    path, _, anchor = target.partition("#")
    return (document.parent / path).resolve(), anchor


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_resolves(document: Path) -> None:
    broken = []
    for target in relative_links(document.read_text()):
        path, anchor = resolve(document, target)
        if not path.exists() or ROOT not in path.parents:
            broken.append(f"{target}: no such file in the repository")
            continue
        if not anchor:
            continue
        line_range = LINE_RANGE.match(anchor)
        if line_range:
            last = int(line_range["last"] or line_range["first"])
            length = len(path.read_text().splitlines())
            if not int(line_range["first"]) <= last <= length:
                broken.append(f"{target}: {path.name} has {length} lines")
        elif path.suffix == ".md":
            headings = re.findall(r"^#+ (.+)$", path.read_text(), flags=re.MULTILINE)
            if anchor not in {github_slug(heading) for heading in headings}:
                broken.append(f"{target}: no such heading")
    assert not broken, f"{document.relative_to(ROOT)}:\n" + "\n".join(broken)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_quoted_code_matches_the_lines_it_links(document: Path) -> None:
    drifted = []
    for match in QUOTE.finditer(document.read_text()):
        path, anchor = resolve(document, match["target"])
        line_range = LINE_RANGE.match(anchor)
        assert line_range, match["target"]
        first = int(line_range["first"])
        last = int(line_range["last"] or first)
        lines = path.read_text().splitlines()[first - 1 : last]
        if textwrap.dedent("\n".join(lines)).strip() != textwrap.dedent(match["code"]).strip():
            drifted.append(match["target"])
    assert not drifted, f"{document.relative_to(ROOT)} quotes code that is no longer there: {drifted}"


def test_the_checks_above_see_a_quote_and_a_link() -> None:
    # Guards the two tests above against passing vacuously if their patterns stop matching.
    sample = "See [a](../x.py#L2-L3) and [b](https://example.org/):\n```python\nb = 2\n```\n"
    assert QUOTE.search(sample.replace(" and [b](https://example.org/)", ""))["target"] == "../x.py#L2-L3"
    assert relative_links(sample) == ["../x.py#L2-L3"]
    assert github_slug("What the `make run` does (twice)") == "what-the-make-run-does-twice"
    assert github_slug("REDIS_URL, sharded") == "redis_url-sharded"
