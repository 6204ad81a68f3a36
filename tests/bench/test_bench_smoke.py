"""The benchmark runs and reports (a smoke run, not the targets: numbers from a shared CI core mean little)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_the_bench_runs_and_reports_every_target() -> None:
    missing = [tool for tool in ("nginx", "wrk") if not (shutil.which(tool) or Path(f"/usr/sbin/{tool}").exists())]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the bench smoke test: .ci/run installs {missing}")
        pytest.skip(f"{missing} not installed: apt-get install nginx wrk (as .ci/run does)")
    ran = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--smoke"], capture_output=True, text=True, timeout=180,
        check=False,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr[-2000:]
    rows = [line for line in ran.stdout.splitlines() if line.startswith("| ") and "target" not in line]
    assert {row.split("|")[1].strip() for row in rows} == {"direct", "nginx hop", "skygate"}
    assert "errors (non-2xx): 0" in ran.stdout
    assert "peak RSS" in ran.stdout
