"""tools/load_test.py: it starts the real app as a Space would, loads it and prints every section's table
(the soak too, with a few requests)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_load_test_quick_prints_every_section():
    from tools.load_test import HEADERS, SECTIONS

    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-m", "tools.load_test", "--quick", "--only", ",".join(SECTIONS)], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    for title in ("## 1. A burst of users", "## 2. Client gone", "## 3. Small behind big", "## 4. Temp files",
                  "## 5. SIGTERM", "## 6. Soak", "## Summary"):
        assert title in out.stdout, title
    for name, header in HEADERS.items():
        if name.startswith("parts"):                            # --memory-parts' own tables (in-process)
            continue
        assert "| " + " | ".join(header) + " |" in out.stdout, name
    assert "| Failed | 0 |" in out.stdout                      # every soak request answered
    assert "Traceback" not in out.stdout + out.stderr
