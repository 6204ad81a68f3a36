"""The streaming table's figures over interleaved rounds: medians per target, and added times paired per round."""

from __future__ import annotations

import math

from bench.streaming import StreamResult, medians, stream_table

NAN = float("nan")


def _row(target: str, chunk_p50: float, ttft_p50: float = 1000.0, cpu: float = 20.0) -> StreamResult:
    return StreamResult(target, 1000, 9_900.0, ttft_p50, ttft_p50 * 4, chunk_p50, chunk_p50 * 4, cpu, 0)


def test_added_times_are_paired_within_each_round() -> None:
    # The host slows down in the second round: direct and skygate move together there.
    rounds = [
        {"direct": _row("direct", 100, 1000), "skygate": _row("skygate", 130, 3000, cpu=25)},
        {"direct": _row("direct", 300, 2500), "skygate": _row("skygate", 310, 3500, cpu=40)},
        {"direct": _row("direct", 200, 2000), "skygate": _row("skygate", 260, 4200, cpu=30)},
    ]
    direct, skygate = medians(rounds)

    assert (direct.target, skygate.target) == ("direct", "skygate")
    assert skygate.chunk_p50_us == 260
    assert direct.chunk_p50_us == 200
    # Per-round differences 30, 10, 60: their median, not the 60 between the two medians.
    assert skygate.added_chunk_p50_us == 30
    assert skygate.added_chunk_p99_us == 120
    # First chunk: differences 2000, 1000, 2200, so 2000 (the medians' difference would be 1500).
    assert skygate.ttft_p50_us == 3500
    assert skygate.added_ttft_p50_us == 2000
    assert skygate.cpu_us_per_chunk == 30
    assert direct.added_chunk_p50_us == 0  # set (the unset value is NaN)

    table = stream_table([direct, skygate], 100, 50, len(rounds))
    assert "median of 3 interleaved rounds" in table
    row = "| skygate | 9,900 | 3,500 µs | 14,000 µs | 2,000 µs | 260 µs | 1,040 µs | 30 µs | 120 µs | 30.0 µs |"
    assert row in table


def test_errors_add_up_over_rounds() -> None:
    failing = StreamResult("skygate", 1000, 9_000.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2)
    rounds = [{"direct": _row("direct", 100), "skygate": failing} for _ in range(3)]
    assert medians(rounds)[1].errors == 6


def test_a_round_without_samples_is_left_out_of_the_median() -> None:
    # Whichever place the empty round takes, the median is of the two rounds that have samples.
    firsts = [1500.0, 1900.0, 1700.0]
    for empty in range(3):
        rounds = [
            {"direct": _row("direct", 100, 1000), "skygate": _row("skygate", 130, NAN if turn == empty else first)}
            for turn, first in enumerate(firsts)
        ]
        skygate = medians(rounds)[1]
        present = [first for turn, first in enumerate(firsts) if turn != empty]
        assert skygate.ttft_p50_us == sum(present) / 2
        assert skygate.added_ttft_p50_us == sum(present) / 2 - 1000


def test_a_figure_with_no_samples_shows_as_a_dash() -> None:
    # Streams longer than a measured window: none starts inside it, so there is no time to first chunk.
    rows = [_row("direct", 100, ttft_p50=NAN), _row("skygate", 130, ttft_p50=NAN, cpu=NAN)]
    results = medians([{r.target: r for r in rows}])
    assert math.isnan(results[1].added_ttft_p50_us)
    table = stream_table(results, 100, 200, 1)
    assert "| skygate | 9,900 | — | — | — | 130 µs | 520 µs | 30 µs | 120 µs | — |" in table
    assert "nan" not in table
