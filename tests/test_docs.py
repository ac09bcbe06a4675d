"""The README and docs/*.md: a landing page of bounded size, links and anchors that resolve, and
text written for users (no machine paths, nothing that reads as a work log)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
MAX_README_LINES = 300
MAX_README_BYTES = 24_000          # the Space card included (its YAML front matter)

# Absolute paths of a particular machine, not of the project.
MACHINE_PATH = re.compile(r"(?<![\w.~-])/(?:work|tmp|opt|root|home|proc|Users|mnt)/")
# Phrases that date a figure by when someone worked on it rather than by commit and hardware,
# or that report the team's own goals to users.
WORK_LOG = [re.compile(p, re.IGNORECASE) for p in (
    r"\b(?:this|last|next|previous) (?:session|run)\b",
    r"\bsession's\b",
    r"\bre-?measured\b",
    r"\bthe (?:idle|busy|busier) machine\b",
    r"\b(?:today|yesterday|tomorrow)\b",
    r"\bwhile (?:two|the) trainings?\b",
    r"\bshared its cores\b",
    r"\bgoals?\b",
    r"\btargets? set\b",
    r"\bthe team\b",
    r"\b(?:TODO|FIXME|XXX)\b",
    r"\b20\d\d-[01]\d-[0-3]\d\b",          # a calendar date: say the commit instead
)]
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
HTML_ANCHOR = re.compile(r"<a\s+(?:name|id)=\"([^\"]+)\"")


def prose(text: str) -> str:
    """The text without fenced code blocks and inline code (links there are not links)."""
    out, fence = [], None
    for line in text.splitlines():
        m = re.match(r"\s*(`{3,}|~{3,})", line)
        if m:
            if fence is None:
                fence = m[1][0] * 3
            elif m[1].startswith(fence):
                fence = None
            out.append("")
            continue
        out.append("" if fence else line)
    return re.sub(r"`[^`\n]*`", "", "\n".join(out))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped (but - and _), spaces to -."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)      # links: their text
    text = re.sub(r"<[^>]+>", "", text).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every anchor a Markdown file defines: its headings' slugs (repeats numbered) and HTML ids."""
    seen: dict[str, int] = {}
    found = set()
    fence = None
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"\s*(`{3,}|~{3,})", line)
        if m:
            fence = m[1][0] * 3 if fence is None else (None if m[1].startswith(fence) else fence)
            continue
        if fence:
            continue
        h = HEADING.match(line)
        if h:
            base = slug(h[2].replace("`", ""))
            n = seen.get(base, 0)
            seen[base] = n + 1
            found.add(base if n == 0 else f"{base}-{n}")
        found.update(HTML_ANCHOR.findall(line))
    return found


def links(path: Path) -> list[str]:
    return LINK.findall(prose(path.read_text(encoding="utf-8")))


def broken_links(path: Path, root: Path = ROOT) -> list[str]:
    """The relative links and #anchors of ``path`` that do not resolve, each with the reason."""
    bad = []
    for target in links(path):
        if re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:", target):          # https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if root not in dest.parents and dest != root:
            bad.append(f"{target}: outside the repository")
        elif not dest.exists():
            bad.append(f"{target}: no such file")
        elif anchor:
            if dest.suffix != ".md":
                bad.append(f"{target}: an anchor into a file that is not Markdown")
            elif anchor not in anchors(dest):
                bad.append(f"{target}: no heading with that anchor in {dest.relative_to(root)}")
    return bad


def work_log(text: str) -> list[str]:
    hits = [m.group(0) for m in MACHINE_PATH.finditer(text)]
    for pattern in WORK_LOG:
        hits += [m.group(0) for m in pattern.finditer(text)]
    return hits


def test_the_pages_exist_and_the_readme_links_every_doc():
    docs = {p.name for p in PAGES[1:]}
    assert {"app.md", "api.md", "results.md", "study.md", "speed.md", "training.md"} <= docs
    linked = {Path(t.partition("#")[0]).name for t in links(README)}
    assert docs <= linked, f"docs not linked from the README: {sorted(docs - linked)}"


def test_readme_is_a_landing_page():
    data = README.read_bytes()
    lines = data.count(b"\n")
    assert data.startswith(b"---\n"), "the README starts with the Space card's front matter"
    assert lines <= MAX_README_LINES, f"{lines} lines"
    assert len(data) <= MAX_README_BYTES, f"{len(data)} bytes"


def test_readme_keeps_the_two_commands_and_the_five_liners():
    text = README.read_text(encoding="utf-8")
    run_line = next(line for line in (ROOT / ".ci" / "run").read_text().splitlines()
                    if line.strip().startswith("python -m pytest"))
    assert re.search(r"&& " + re.escape(run_line.strip()) + r"\s*$", text, re.MULTILINE), \
        "the README's test command is not what .ci/run runs"
    assert "pip install -r requirements.txt && python app.py" in text
    assert "python -m srcnn upscale " in text and "srcnn.upscale(" in text
    assert "| Set5 | x3 |" in text and "| Set14 | x3 |" in text


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_and_anchors_resolve(page):
    assert broken_links(page) == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_machine_paths_and_nothing_that_reads_as_a_work_log(page):
    assert work_log(page.read_text(encoding="utf-8")) == []


def test_the_checks_can_fail(tmp_path):
    """The checkers find what they look for (so that an empty result above means something)."""
    assert slug("Calling the app from Python (`/compare`)") == "calling-the-app-from-python-compare"
    assert slug("The study's own network, one cause at a time") == "the-studys-own-network-one-cause-at-a-time"
    assert slug("The `/inside_study` endpoint") == "the-inside_study-endpoint"
    team_talk = " ".join(["Measured this", "session (2026-11-26) on /opt/wheels, against the speed goals;",
                          "last run on the busy machine, re-measured."])   # joined here: no page or hook reads it
    found = work_log(team_talk)
    assert len(found) == 7, found
    assert work_log("The run above: 2 vCPU AMD EPYC (AVX2), idle; ONNX Runtime sessions.") == []
    (tmp_path / "a.md").write_text("# Top\n## Two words\n```\n# not a heading\n```\n"
                                   "[ok](#two-words) [no](#not-a-heading) [file](b.md) [img](x.png) "
                                   "[web](https://example.com/x#y) `[code](nowhere.md)`\n")
    (tmp_path / "b.md").write_text("# B\n")
    assert broken_links(tmp_path / "a.md", tmp_path) == [
        "#not-a-heading: no heading with that anchor in a.md", "x.png: no such file"]


def test_the_apps_readme_links_resolve(monkeypatch):
    """The page's header links sections of the README (ui.common): they must exist there."""
    monkeypatch.setenv("SRCNN_README_URL", "https://example.com/README.md")
    from ui.common import about_markdown
    targets = re.findall(r"\(https://example\.com/README\.md#([^)\s]+)\)", about_markdown())
    assert targets, "the page's header links no README section any more: update this test"
    assert set(targets) <= anchors(README)
