"""Diagnose the router's fidelity model against the cached ground truth (development tool).

    python benchmarks/routing/diagnose.py [--detail] [--counts]

For every (circuit, backend) pair with ground truth: qbroker's predicted fidelity on its own
placement, the same model priced on the layout Qiskit chose (the ground truth's ``layout``,
without routing), and the true fidelity. Prints top-1 / regret / Spearman (and top-1 on
alternate halves of the circuits, a check against tuning on one half), the mean prediction
bias per backend, and with ``--detail`` every circuit whose choice misses the best backend.
``--counts`` compares the predicted native two-qubit gate counts with the transpiled ones.
Nothing is written.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import score as S  # noqa: E402
from anchors import to_program  # noqa: E402

from qbroker.routing._device import device_view  # noqa: E402
from qbroker.routing._estimators import _score, best_placement, estimate_fidelity  # noqa: E402
from qbroker.routing._features import analyse  # noqa: E402

TIE = 0.005
Table = dict[str, dict[str, float]]


def metrics(pred: Table, truth: Table) -> str:
    top, regrets, rhos = 0, [], []
    for c, row in pred.items():
        t = truth[c]
        choice = max(row, key=lambda b: (row[b], b))
        regret = max(t.values()) - t[choice]
        regrets.append(regret)
        top += regret <= TIE
        rho = S.spearman(row, t)
        if rho is not None:
            rhos.append(rho)
    return (
        f"top-1 {top / len(pred):.3f}  mean regret {statistics.fmean(regrets):.4f}  "
        f"max regret {max(regrets):.4f}  Spearman {statistics.fmean(rhos):.3f}"
    )


def halves(pred: Table, truth: Table) -> str:
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


def load() -> tuple[dict[str, Any], dict[str, Any], Table, dict[str, Any]]:
    results = S.DEFAULT_RESULTS
    pool = {b.id: b for b in S.load_pool(results)}
    circuits = S.load_circuits(results)
    truth, _ = S.load_ground_truth(results)
    raw = json.loads((results / "ground_truth.json").read_text())
    return pool, circuits, truth, raw["pairs"]


def main(detail: bool) -> None:
    pool, circuits, truth, pairs = load()
    pred: Table = {}
    at_qiskit: Table = {}
    bias: dict[str, list[float]] = {}
    for name, circuit in circuits.items():
        if len(truth.get(name, {})) < 2:
            continue
        features = analyse(to_program(circuit))
        used = features.active | features.measured
        pred[name], at_qiskit[name] = {}, {}
        for bid, true in truth[name].items():
            view = device_view(pool[bid])
            est = estimate_fidelity(features, view)
            pred[name][bid] = est.fidelity
            layout = pairs[f"{name}|{bid}"]["layout"]
            mapping = {a: p for a, p in enumerate(layout) if a in used}
            placed = _score(features, view, mapping)
            cost = placed.two_qubit + placed.one_qubit + placed.readout + est.idle
            at_qiskit[name][bid] = math.exp(-cost)
            bias.setdefault(bid, []).append(est.fidelity - true)
    if detail:
        for name, row in pred.items():
            t = truth[name]
            choice = max(row, key=lambda b: (row[b], b))
            best = max(t, key=lambda b: t[b])
            if t[best] - t[choice] > TIE:
                print(
                    f"MISS {name:24s} chose {choice:26s} pred {row[choice]:.3f} "
                    f"true {t[choice]:.3f} | best {best:26s} pred {row[best]:.3f} "
                    f"true {t[best]:.3f}"
                )
    print(f"circuits {len(pred)}")
    print("qbroker            :", metrics(pred, truth), halves(pred, truth))
    print("model @ Qiskit's   :", metrics(at_qiskit, truth), "(layout only, no routing)")
    for bid, values in sorted(bias.items()):
        mean, median = statistics.fmean(values), statistics.median(values)
        print(f"  bias {bid:28s} mean {mean:+.4f}  median {median:+.4f}")


def counts() -> None:
    pool, circuits, truth, pairs = load()
    logs: dict[str, list[float]] = {}
    for name, circuit in circuits.items():
        features = analyse(to_program(circuit))
        for bid in truth.get(name, {}):
            true = pairs[f"{name}|{bid}"]["gates_2q"]
            placement = best_placement(features, device_view(pool[bid]))
            if true and placement.native_2q:
                kind = "routed" if placement.swaps else "embedded"
                logs.setdefault(kind, []).append(math.log(placement.native_2q / true))
    for kind, values in sorted(logs.items()):
        mean, sd = statistics.fmean(values), statistics.pstdev(values)
        print(f"{kind:9s} pairs {len(values):4d}  log(predicted / transpiled 2q)", end=" ")
        print(f"mean {mean:+.3f} sd {sd:.3f}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--detail", action="store_true")
    ap.add_argument("--counts", action="store_true")
    args = ap.parse_args()
    if args.counts:
        counts()
    else:
        main(args.detail)
