"""Diagnose the router's fidelity model against the cached ground truth (development tool).

    python benchmarks/routing/diagnose.py [--detail]

For every (circuit, backend) pair with ground truth: qbroker's predicted fidelity on its own
placement, the same model evaluated on the layout Qiskit actually chose (the ground truth's
``layout``), and the true fidelity. Prints top-1 / regret / Spearman for both, the mean
prediction bias per backend, and how often qbroker's placement differs from Qiskit's.
Nothing is written.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import score as S  # noqa: E402
from anchors import to_program  # noqa: E402

from qbroker.routing._device import device_view  # noqa: E402
from qbroker.routing._estimators import _score, estimate_fidelity  # noqa: E402
from qbroker.routing._features import analyse  # noqa: E402

TIE = 0.005


def halves(pred: dict[str, dict[str, float]], truth: dict[str, dict[str, float]]) -> str:
    """top-1 on alternate circuits (a robustness check against tuning on one half)."""
    names = sorted(pred)
    out = []
    for part in (names[0::2], names[1::2]):
        top = 0
        for c in part:
            row, t = pred[c], truth[c]
            choice = max(row, key=lambda b: (row[b], b))
            top += max(t.values()) - t[choice] <= TIE
        out.append(f"{top / len(part):.3f}")
    return "halves " + " / ".join(out)


def metrics(pred: dict[str, dict[str, float]], truth: dict[str, dict[str, float]]) -> str:
    top, regrets, rhos = 0, [], []
    for c, row in pred.items():
        t = truth[c]
        best = max(t.values())
        choice = max(row, key=lambda b: (row[b], b))
        regrets.append(best - t[choice])
        top += best - t[choice] <= TIE
        rho = S.spearman(row, t)
        if rho is not None:
            rhos.append(rho)
    n = len(pred)
    return (
        f"top-1 {top / n:.3f}  mean regret {statistics.fmean(regrets):.4f}  "
        f"max regret {max(regrets):.4f}  Spearman {statistics.fmean(rhos):.3f}"
    )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--detail", action="store_true")
    args = ap.parse_args()
    results = S.DEFAULT_RESULTS
    pool = {b.id: b for b in S.load_pool(results)}
    circuits = S.load_circuits(results)
    truth, _ = S.load_ground_truth(results)
    import json
    raw = json.loads((results / "ground_truth.json").read_text())
    pred: dict[str, dict[str, float]] = {}
    at_qiskit: dict[str, dict[str, float]] = {}
    bias: dict[str, list[float]] = {}
    differs = 0
    pairs = 0
    for name, circuit in circuits.items():
        if name not in truth or len(truth[name]) < 2:
            continue
        features = analyse(to_program(circuit))
        pred[name], at_qiskit[name] = {}, {}
        for bid, true in truth[name].items():
            view = device_view(pool[bid])
            est = estimate_fidelity(features, view)
            pred[name][bid] = est.fidelity
            pair = raw["pairs"][f"{name}|{bid}"]
            mapping = {a: p for a, p in enumerate(pair["layout"]) if a in (features.active | features.measured)}
            if len(mapping) == len(est.placement.layout):
                placed = _score(features, view, mapping)
                total = placed.two_qubit + placed.one_qubit + placed.readout + est.idle
                at_qiskit[name][bid] = math.exp(-total)
                pairs += 1
                differs += tuple(mapping[a] for a in sorted(mapping)) != est.placement.layout
            else:
                at_qiskit[name][bid] = est.fidelity
            bias.setdefault(bid, []).append(est.fidelity - true)
            if False:
                print(f"{name:24s} {bid:28s} pred {est.fidelity:.3f} @qiskit {at_qiskit[name][bid]:.3f} true {true:.3f}")
    if args.detail:
        for name, row in pred.items():
            t = truth[name]
            choice = max(row, key=lambda b: (row[b], b))
            best = max(t, key=t.get)
            if t[best] - t[choice] > TIE:
                print(
                    f"MISS {name:24s} chose {choice:26s} pred {row[choice]:.3f} true {t[choice]:.3f} | "
                    f"best {best:26s} pred {row[best]:.3f} true {t[best]:.3f}"
                )
    print(f"circuits {len(pred)}")
    print("qbroker placement :", metrics(pred, truth), halves(pred, truth))
    print("model @ Qiskit's  :", metrics(at_qiskit, truth))
    print(f"placement differs from Qiskit's on {differs}/{pairs} pairs")
    for bid, values in sorted(bias.items()):
        print(f"  bias {bid:28s} mean {statistics.fmean(values):+.4f}  median {statistics.median(values):+.4f}")
    return 0



def counts() -> None:
    """Predicted native gate counts (at Qiskit's layout) against the transpiled ones."""
    import json

    results = S.DEFAULT_RESULTS
    pool = {b.id: b for b in S.load_pool(results)}
    circuits = S.load_circuits(results)
    raw = json.loads((results / "ground_truth.json").read_text())
    ratios2: dict[str, list[float]] = {}
    ratios1: dict[str, list[float]] = {}
    for key, pair in raw["pairs"].items():
        name, bid = key.split("|")
        if "error" in pair or name not in circuits:
            continue
        features = analyse(to_program(circuits[name]))
        view = device_view(pool[bid])
        mapping = {a: p for a, p in enumerate(pair["layout"]) if a in (features.active | features.measured)}
        placed = _score(features, view, mapping)
        fam = bid.split("-")[0]
        if pair["gates_2q"]:
            ratios2.setdefault(fam, []).append(placed.native_2q / pair["gates_2q"])
        if pair["gates_1q"]:
            ones = sum(v for g, v in pair["ops"].items() if g not in ("rz", "measure", "barrier", "cz", "ecr", "cx", "rzz", "zz", "ms", "delay"))
            ratios1.setdefault(fam, []).append(placed.native_1q / max(ones, 1))
    for fam in sorted(ratios2):
        print(f"{fam:22s} 2q pred/true median {statistics.median(ratios2[fam]):.2f} mean {statistics.fmean(ratios2[fam]):.2f}   1q pred/true median {statistics.median(ratios1[fam]):.2f}")


if __name__ == "__main__":
    if "--counts" in sys.argv:
        counts()
        raise SystemExit(0)
    raise SystemExit(main())
