"""The documentation: README.md and docs/*.md say only what the repository has.

- docs/SPEC.md is a byte-for-byte copy of the project's contract, which is
  kept outside the repository (../shared/SPEC.md); where that file is not
  there (a clone elsewhere) the comparison is skipped and says why.
- Every relative link (and its #anchor) and every repository path the
  documents name, in backquotes or in the text, points to a file or folder
  of the repository. A path in backquotes or in the text is from the
  repository's root (`device/storage/recording.py`); a link is from the document's
  own folder, as Markdown has it.
- README.md still opens with the two commands a fresh machine needs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.paths import ROOT, SHARED

README = ROOT / "README.md"
DOCS = ROOT / "docs"
SHARED_SPEC = SHARED / "SPEC.md"
DOCUMENTS = [README, *sorted(DOCS.glob("*.md"))]

# Folders that make creates and .gitignore leaves out: a document may name
# them (`.venv/`, `.demo/history.db`), but they are not in a clone.
MADE_BY_MAKE = {".venv", ".venv-latest", ".demo"}
# What a name in backquotes or in the text must end with to be taken for a file.
FILE_SUFFIXES = {
    ".md",
    ".py",
    ".toml",
    ".lock",
    ".txt",
    ".in",
    ".svg",
    ".cfg",
    ".ini",
    ".json",
    ".csv",
    ".html",
    ".css",
    ".js",
    ".sh",
    ".yml",
    ".yaml",
}
# Backquoted text with any of these is code, a URL, an option or a template, not a path.
NOT_A_PATH = re.compile(r"""[\s=<>{}*|,:;()\[\]"'`@$]|^[~/\-]""")

FENCE = re.compile(r"^ {0,3}(```|~~~).*?^ {0,3}\1[^\n]*$", re.M | re.S)
CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.S)
LINK = re.compile(r"!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^ {0,3}\[[^\]\n]+\]:\s*<?(\S+?)>?(?:\s|$)", re.M)
HTML_LINK = re.compile(r"""\b(?:href|src)=["']([^"']+)["']""")
URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+")
TEXT_PATH = re.compile(r"(?<![\w./~-])((?:\.\.?/)*[\w.-]+(?:/[\w.-]+)+)")
HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.*?)[ \t#]*$", re.M)
HTML_ANCHOR = re.compile(r"""<a\s[^>]*\b(?:id|name)=["']([^"']+)["']""")


def blank(text: str, start: int, end: int) -> str:
    """``text`` with [start, end) replaced by spaces, newlines kept (offsets and line numbers stay)."""
    return text[:start] + re.sub(r"[^\n]", " ", text[start:end]) + text[end:]


def without(pattern: re.Pattern[str], text: str, group: int = 0) -> str:
    """``text`` with every match of ``pattern`` (or its ``group``) blanked."""
    for match in reversed(list(pattern.finditer(text))):
        text = blank(text, match.start(group), match.end(group))
    return text


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: its text, lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "").strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """The #anchors a document's ``text`` has: one per heading, and HTML ids."""
    text = without(FENCE, text)
    found: set[str] = set()
    seen: dict[str, int] = {}
    for match in HEADING.finditer(text):
        base = slug(match[1])
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found | set(HTML_ANCHOR.findall(text))


def inside_repository(resolved: Path) -> str | None:
    """Why the absolute path ``resolved`` is not a file or folder of the repository, or None if it is."""
    if not resolved.is_relative_to(ROOT):
        return "outside the repository"
    parts = resolved.relative_to(ROOT).parts
    if parts and parts[0] in MADE_BY_MAKE:
        return f"under {parts[0]}/, which make creates: not in a clone"
    if not resolved.exists():
        return "no such file or folder"
    return None


def named_path(span: str) -> str | None:
    """The repository path that backquoted text names, or None if it is not one."""
    if NOT_A_PATH.search(span) or "://" in span:
        return None
    if span.startswith(("./", "../")):
        return span
    parts = span.rstrip("/").split("/")
    if Path(parts[-1]).suffix in FILE_SUFFIXES:
        return span
    if "/" in span and (span.endswith("/") or (ROOT / parts[0]).exists()):
        return span
    return None


def references(text: str) -> list[tuple[int, str, str]]:
    """(line, kind, target) for every link and every path a document's ``text`` names."""
    text = without(FENCE, text)
    found: list[tuple[int, str, str]] = []
    for match in CODE_SPAN.finditer(text):
        target = named_path(match[2].strip())
        if target is not None:
            found.append((line_of(text, match.start()), "path", target))
    prose = without(CODE_SPAN, text)
    for pattern in (LINK, REFERENCE, HTML_LINK):
        for match in pattern.finditer(prose):
            found.append((line_of(prose, match.start(1)), "link", match[1]))
        prose = without(pattern, prose, 1)  # a link's target is not also a path in the text
    prose = without(URL, prose)
    for match in TEXT_PATH.finditer(prose):
        name = match[1].rstrip(".")
        if Path(name).suffix in FILE_SUFFIXES or name.startswith("../"):
            found.append((line_of(prose, match.start(1)), "path", name))
    return sorted(found)


def problems(path: Path, text: str | None = None) -> list[str]:
    """What is wrong with the links and paths of the document at ``path`` (its ``text``, if given)."""
    if text is None:
        text = path.read_text(encoding="utf-8")
    out = []
    for line, kind, target in references(text):
        where = f"{path.relative_to(ROOT)}:{line}: {kind} {target}"
        if kind == "link":
            if re.match(r"[a-z][a-z0-9+.-]*:", target):
                continue  # http:, https:, mailto:
            name, _, anchor = target.partition("#")
            if not name:
                if anchor not in anchors(text):
                    out.append(f"{where}: no heading #{anchor} in this document")
                continue
            resolved = (path.parent / name).resolve()
        else:
            if Path(target).parts[0] in MADE_BY_MAKE:
                continue  # `.venv/`, `.demo/history.db`: named as what make creates
            anchor, resolved = "", (ROOT / target).resolve()
        why = inside_repository(resolved)
        if why:
            out.append(f"{where}: {why}")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved.read_text(encoding="utf-8")):
            out.append(f"{where}: no heading #{anchor} in {resolved.relative_to(ROOT)}")
    return out


def test_docs_spec_is_the_shared_contract_byte_for_byte():
    copy = DOCS / "SPEC.md"
    assert copy.is_file(), "docs/SPEC.md is missing: the README and docs/ point to it"
    if not SHARED_SPEC.is_file():
        pytest.skip(
            f"{SHARED_SPEC} does not exist (a clone outside the project's workspace): "
            "nothing to compare docs/SPEC.md with"
        )
    assert copy.read_bytes() == SHARED_SPEC.read_bytes(), (
        f"docs/SPEC.md differs from {SHARED_SPEC}; copy it again: cp {SHARED_SPEC} {copy}"
    )


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_and_path_in_the_documents_is_in_the_repository(document):
    found = problems(document)
    assert not found, "\n".join(found)


def test_the_check_finds_what_is_not_in_the_repository():
    """The check itself, on a page in docs/: what it says about `../shared/SPEC.md` and friends."""
    page = (
        "# Page\n\n"
        "The contract is `../shared/SPEC.md`, see [it](../../shared/SPEC.md).\n"
        "Also [gone](missing.md), [the daemon](daemon.md#no-such-heading),\n"
        "device/nothing_here.py in the text, `hardware/nope.md` in backquotes,\n"
        "[a made folder](../.venv/).\n"
        "```sh\nmake demo   # ../in/a/fence.md is code\n```\n"
        "Fine: [SPEC](SPEC.md#6-config), [here](#page), `device/`, `.venv/`, `P/state`,\n"
        "`--config C`, <https://example.org/x.md>, but not [there](#nowhere).\n"
    )
    found = problems(DOCS / "page.md", page)
    assert sorted(found) == sorted(
        [
            "docs/page.md:3: link ../../shared/SPEC.md: outside the repository",
            "docs/page.md:3: path ../shared/SPEC.md: outside the repository",
            "docs/page.md:4: link daemon.md#no-such-heading: no heading #no-such-heading in docs/daemon.md",
            "docs/page.md:4: link missing.md: no such file or folder",
            "docs/page.md:5: path device/nothing_here.py: no such file or folder",
            "docs/page.md:5: path hardware/nope.md: no such file or folder",
            "docs/page.md:6: link ../.venv/: under .venv/, which make creates: not in a clone",
            "docs/page.md:11: link #nowhere: no heading #nowhere in this document",
        ]
    ), found


def test_the_readme_opens_with_the_two_commands():
    text = README.read_text(encoding="utf-8")
    opening = re.match(r"# [^\n]+\n\n```sh\n(.*?)```\n\n(.+?)\n\n", text, re.S)
    assert opening, "README.md must open with its title and then the fenced block of commands"
    commands = [line.split("#", 1)[0].strip() for line in opening[1].splitlines()]
    assert commands == ["make demo", "make test"]
    assert " ".join(opening[2].split()).startswith("Both work on a fresh machine with only Python 3.11+ and make")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("demo", "test"):
        assert re.search(rf"^{target}:", makefile, re.M), f"the Makefile has no `{target}` target"
