"""The auth table's ratios: each row against the API-key rows of the same round, the median over rounds."""

from __future__ import annotations

import math

import pytest
from bench.entra import AuthResult, parity_table, summarize


def _row(auth: str, rps: float, cpu: float) -> AuthResult:
    return AuthResult(auth, 32, rps, 5000.0, 9000.0, cpu, 0)


def test_ratios_are_paired_round_by_round() -> None:
    # The host halves its speed in the second round and recovers in the third: every row moves with it.
    rounds = [  # (api key, api key again, token-sized, entra secret, workload identity) as (rps, CPU per call)
        [(6000, 160), (6000, 160), (5940, 164), (5940, 168), (6060, 162)],
        [(3000, 320), (3000, 320), (3000, 330), (2940, 330), (3030, 326)],
        [(6000, 160), (6000, 160), (5880, 166), (5880, 166), (6000, 163)],
    ]
    names = ("api key", "api key again", "api key, token-sized", "entra secret", "workload identity")
    runs = {name: [_row(name, *turn[i]) for turn in rounds] for i, name in enumerate(names)}
    key, again, sized, entra, wi = summarize(runs, 32)

    assert entra.rps == 5880  # the plain median of its rounds
    assert entra.rps_vs_key == pytest.approx(-0.02)  # -1%, -2%, -2%
    # 168/160, 330/320, 166/160: +5%, +3.125%, +3.75% → +3.75%; the medians' ratio, 168/160, would say +5%.
    assert entra.cpu_vs_key == pytest.approx(0.0375)
    assert wi.rps_vs_key == pytest.approx(0.01)  # +1%, +1%, 0%
    assert key.rps_vs_key == pytest.approx(0.0)
    assert again.cpu_vs_key == pytest.approx(0.0)

    # Against the token-sized row of each round: 0%, -2%, 0% in rps; 168/164, 330/330, 166/166 in CPU.
    assert entra.rps_vs_sized == pytest.approx(0.0)
    assert entra.cpu_vs_sized == pytest.approx(0.0)
    assert wi.rps_vs_sized == pytest.approx(6060 / 5940 - 1)  # +2.02%, +1%, +2.04%: the median
    assert math.isnan(key.rps_vs_sized)  # only the token rows
    assert math.isnan(sized.cpu_vs_sized)

    table = parity_table([key, again, sized, entra, wi], 3)
    assert "| entra secret | 32 | 5,880 | 5,000 µs | 9,000 µs | 168 µs | -2.0% | +3.8% | +0.0% | +0.0% |" in table
    assert "| api key | 32 | 6,000 | 5,000 µs | 9,000 µs | 160 µs | +0.0% | +0.0% | | |" in table
