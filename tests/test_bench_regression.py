"""No figure of README's benchmark table got more than twice as bad (``bench/figures.py``).

The figures are measured again here, with fewer repetitions, on a fresh ``skillworks up``,
and compared with ``bench/figures.json`` (committed by ``make bench``). A figure fails when it
is more than twice the committed one both as a ratio to its floor measured in the same run
(so a slower machine, whose floor is slower too, does not fail it) and as a value (so a
quieter machine does not fail it either: there the floor shrinks more than the fixed waits
a run has, such as polls, and the ratio grows while nothing got slower).
"""

from __future__ import annotations

import pytest

from bench.figures import QUICK, RESULTS, Figures, measure

ALLOWED_FACTOR = 2.0


@pytest.fixture(scope="module")
def measured() -> Figures:
    return measure(QUICK)


def test_no_execution_is_lost_at_20_concurrent(measured: Figures) -> None:
    assert measured.lost_executions == 0


def test_no_figure_is_more_than_twice_as_bad_as_the_committed_one(measured: Figures) -> None:
    committed = Figures.model_validate_json(RESULTS.read_text())
    assert set(measured.figures) == set(committed.figures), "run `make bench` to record the new figures"
    regressed = {}
    for name, figure in measured.figures.items():
        before = committed.figures[name]
        worse_ratio = figure.ratio / before.ratio
        # A throughput is better when higher: compare the time an execution takes instead.
        worse_value = before.value / figure.value if figure.unit == "per minute" else figure.value / before.value
        if worse_ratio > ALLOWED_FACTOR and worse_value > ALLOWED_FACTOR:
            regressed[name] = f"{figure.value:g} {figure.unit} (committed {before.value:g}), {worse_ratio:.1f}x the ratio to its floor"
    assert not regressed, regressed
