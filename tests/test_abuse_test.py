"""tools/abuse_test.py: it starts the app as a Space does, tries the abuse cases at small sizes, and
what the issue asks holds: refusals, no 500, no traceback (no timings asserted)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def rows(text: str, first: str) -> list[list[str]]:
    """The cells of the table rows of ``text`` whose first cell is ``first``."""
    return [[c.strip() for c in line.strip("|").split("|")] for line in text.splitlines()
            if line.startswith(f"| {first} |")]


@pytest.mark.slow
def test_abuse_test_quick_refuses_what_it_should_and_logs_no_traceback():
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-m", "tools.abuse_test", "--quick"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=900)
    text = out.stdout
    assert out.returncode == 0, text[-3000:] + out.stderr[-3000:]
    for title in ("## 1. Upload flood", "## 2. A burst", "## 3. Oversized", "## 4. Bad paths", "## 5. Memory",
                  "## 7. Tracebacks"):
        assert title in text, title
    for flood in ("one address", "a new address each request"):
        answers = dict(r[1:] for r in rows(text, flood))
        assert "500" not in answers["answers"] and answers["client errors"] == "none"
    assert "429" in dict(r[1:] for r in rows(text, "one address"))["answers"]      # the rate applies
    ten_mb = rows(text, "10 MB scale string")[0]
    assert ten_mb[1] == "413" and int(ten_mb[2]) < 500
    assert rows(text, "GET /gradio_api/file=%00")[0][1] == "400"
    assert "partial files left: 0" in rows(text, "upload aborted halfway")[0][2]
    assert re.search(r"\| other address: 200x200 x2 /compare \| (\d+) of \1 answered \|", text)
    tail = text[text.index("## 7. Tracebacks"):]
    logs = [r for r in (rows(tail, name) for name in ("flood", "burst", "main")) for r in r]
    assert len(logs) == 3 and all(r[1] == "0" for r in logs), (logs, tail[-4000:])
