"""The routing benchmark in one command: quality, then speed, against the cached ground truth.

    python benchmarks/routing/run.py [--mapomatic-budget 60] [--no-mapomatic] [--reps 5]

Runs ``score.py`` (qbroker and every anchor on the 84 circuits: top-1, regret, Spearman;
writes ``quality.md`` / ``quality.json``), then ``speed.py`` (decision latency over the
pool for 96 circuits of 3-20 qubits; writes ``speed.md`` / ``speed.json``), which reuses
the mapomatic times the first step measured instead of running mapomatic twice. Both
write beside the ground truth in ``benchmarks/results/routing/``. The ground truth itself
is built by ``ground_truth.py`` (a separate, hours-long command).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import score  # noqa: E402
import speed  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mapomatic-budget", type=float, default=None)
    ap.add_argument("--no-mapomatic", action="store_true")
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args(argv)
    common: list[str] = []
    if args.mapomatic_budget is not None:
        common += ["--mapomatic-budget", str(args.mapomatic_budget)]
    if args.no_mapomatic:
        common.append("--no-mapomatic")
    status = score.main(common)
    if status:
        return status
    extra = (
        []
        if args.no_mapomatic
        else ["--mapomatic-from", str(score.DEFAULT_RESULTS / "quality.json")]
    )
    return speed.main([*common, "--reps", str(args.reps), *extra])


if __name__ == "__main__":
    raise SystemExit(main())
