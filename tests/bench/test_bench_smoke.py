"""The benchmark runs and reports every part (a smoke run, not the targets: numbers from a shared CI core mean
little)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bench.entra import AUTHS

ROOT = Path(__file__).resolve().parents[2]


def test_the_bench_runs_and_reports_every_part() -> None:
    missing = [tool for tool in ("nginx", "wrk") if not (shutil.which(tool) or Path(f"/usr/sbin/{tool}").exists())]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the bench smoke test: .ci/run installs {missing}")
        pytest.skip(f"{missing} not installed: apt-get install nginx wrk (as .ci/run does)")
    ran = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke", "--soak-minutes", "0.1", "--json"],
        capture_output=True, text=True, timeout=300, check=False, cwd=ROOT,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr[-2000:]
    report = json.loads(ran.stdout.splitlines()[-1])

    http = report["results"]
    assert {r["target"] for r in http} == {"direct", "nginx hop", "skygate"}
    assert all(r["rps"] > 0 and r["errors"] == 0 for r in http)
    assert report["peak_rss_mib"] > 0

    auth = report["auth"]
    assert {r["target"] for r in auth} == set(AUTHS)
    assert all(r["rps"] > 0 and r["errors"] == 0 for r in auth), "every auth method served every call"

    streams = report["streaming"]
    assert {r["target"] for r in streams} == {"direct", "nginx hop", "uvloop pipe", "skygate"}
    for row in streams:
        assert row["errors"] == 0
        assert row["chunks_per_second"] > 0
        assert row["chunk_p50_us"] > 0  # delivery times were read from the stand-in's stamps
        assert row["cpu_us_per_chunk"] > 0
    direct = next(r for r in streams if r["target"] == "direct")
    for row in streams:  # of two rounds, the median of the paired differences is the medians' difference
        assert row["added_chunk_p50_us"] == pytest.approx(row["chunk_p50_us"] - direct["chunk_p50_us"])
    assert len(report["soak_rss"]) >= 2

    headings = ("| target | c | rps |", "| provider auth |", "chunk delivery p50", "median of 2 interleaved rounds",
                "Soak: skygate RSS")  # fmt: skip
    for heading in headings:
        assert heading in ran.stdout
