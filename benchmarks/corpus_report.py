"""The equivalence harness over circuits nobody here wrote: the mqt-bench corpus.

Every benchmark family mqt-bench generates at a small size (target-independent level:
Qiskit gates plus the families' own composite gates, e.g. ``Oracle``, ``Q``, ``c-unitary``,
and dynamic circuits with mid-circuit measurement and ``if``), at 3, 5 and 8 qubits, is
written in each source format and converted over every edge of ``qbroker.conversions()``.
The harness (:mod:`qbroker.testing.equivalence`) proves each result exact (operator, state,
full distribution over classical bits), or the conversion refused with a reason, or --
the number that must stay 0 -- wrong.

    python benchmarks/corpus_report.py                  # ~5-10 min on 2 cores
    python benchmarks/corpus_report.py --sizes 3 --families ghz,qft --workers 1

Writes ``benchmarks/results/corpus_report.md`` and ``.json``: per edge the number of
cases exact / refused / unchecked / wrong, the refusal reasons, every wrong case in full.
A case whose circuit the *source* format cannot hold (e.g. IonQ JSON and a mid-circuit
measurement) is counted under "no source" for that edge, not as a refusal of the edge.
Photonic (PERCEVAL) targets run only the 3-qubit circuits: dual-rail encoding spends two
modes and (heralded) photons per CNOT, and the exact check enumerates the output space.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

FAMILIES = [
    "ghz",
    "qft",
    "qftentangled",
    "dj",
    "bv",
    "graphstate",
    "qaoa",
    "vqe_real_amp",
    "vqe_su2",
    "vqe_two_local",
    "wstate",
    "grover",
    "qpeexact",
    "qpeinexact",
    "ae",
    "qnn",
    "randomcircuit",
    "hhl",
    "qwalk",
    "bmw_quark_cardinality",
    "half_adder",
    "full_adder",
    "modular_adder",
    "multiplier",
    "ghz_dynamic",
    "dynamic_qft",
    "iqpe",
]
PHOTONIC_MAX_QUBITS = 3


def generate(family: str, size: int) -> tuple[Any, int] | None:
    """The family's circuit at ``size`` qubits (or the next size it accepts)."""
    from mqt.bench import BenchmarkLevel, get_benchmark

    for candidate in (size, size + 1):
        try:
            return get_benchmark(family, BenchmarkLevel.INDEP, candidate), candidate
        except (ValueError, KeyError, NotImplementedError):
            continue
    return None


def run_circuit(family: str, size: int) -> dict[str, Any]:
    """Every edge for one corpus circuit (runs in a worker process)."""
    import qiskit.qpy

    from qbroker.errors import QBrokerError
    from qbroker.formats import Kind, codec, conversions, convert
    from qbroker.model import Program
    from qbroker.testing import check_conversion

    made = generate(family, size)
    if made is None:
        return {"family": family, "size": size, "error": "mqt-bench has no such instance"}
    circuit, actual = made
    buffer = io.BytesIO()
    qiskit.qpy.dump(circuit, buffer)
    hub = Program(format="QISKIT_QPY", payload=buffer.getvalue(), name=f"{family}-{actual}")
    sources: dict[str, Program | str] = {}
    cases: list[dict[str, Any]] = []
    started = time.perf_counter()
    for edge in conversions():
        src, dst = edge.source.value, edge.target.value
        case: dict[str, Any] = {
            "family": family,
            "size": actual,
            "qubits": circuit.num_qubits,
            "edge": f"{src}->{dst}",
        }
        if codec(edge.source).kind is not Kind.GATE:
            continue  # analog / photonic sources are not built from gate circuits
        if codec(edge.target).kind is Kind.PHOTONIC and circuit.num_qubits > PHOTONIC_MAX_QUBITS:
            cases.append({**case, "outcome": "not run", "reason": "photonic emulation size"})
            continue
        if src not in sources:
            try:
                sources[src] = convert(hub, edge.source)
                # convert() reads its output when first used: read it now, so that an
                # unreadable source counts against the hub -> source edge, not this one
                sources[src].parsed  # noqa: B018
            except QBrokerError as exc:
                sources[src] = f"{type(exc).__name__}: {exc}"
            except Exception as exc:  # a writer bug: the QPY -> source edge reports it wrong
                message = " ".join(str(exc).split())[:200]
                sources[src] = f"the {src} writer crashed ({type(exc).__name__}: {message})"
        source = sources[src]
        if isinstance(source, str):
            cases.append({**case, "outcome": "no source", "reason": source})
            continue
        report = check_conversion(source, edge.target)
        outcome, reason = report.outcome, report.reason
        cases.append(
            {
                **case,
                "outcome": outcome,
                "reason": reason,
                "diff": report.diff if outcome == "wrong" else "",
                "checks": list(report.checks),
                "seconds": round(report.seconds, 4),
            }
        )
    return {
        "family": family,
        "size": actual,
        "qubits": circuit.num_qubits,
        "ops": dict(circuit.count_ops()),
        "seconds": round(time.perf_counter() - started, 2),
        "cases": cases,
    }


def _quiet_worker() -> None:
    import warnings

    warnings.simplefilter("ignore")
    os.environ.setdefault("PYTHONWARNINGS", "ignore")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="3,5,8")
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    families = [f for f in args.families.split(",") if f]
    jobs = [(f, s) for f in families for s in sizes]
    started = time.perf_counter()
    results: list[dict[str, Any]] = []
    print(f"{len(jobs)} corpus circuits over every edge, {args.workers} worker(s)", flush=True)
    if args.workers <= 1:
        _quiet_worker()
        for job in jobs:
            results.append(run_circuit(*job))
            _progress(results[-1], len(results), len(jobs))
    else:
        with ProcessPoolExecutor(max_workers=args.workers, initializer=_quiet_worker) as pool:
            futures = {pool.submit(run_circuit, *job): job for job in jobs}
            for future in as_completed(futures):
                results.append(future.result())
                _progress(results[-1], len(results), len(jobs))
    elapsed = time.perf_counter() - started
    write_report(results, elapsed, args)


def _progress(result: dict[str, Any], done: int, total: int) -> None:
    if "error" in result:
        print(f"  [{done}/{total}] {result['family']}-{result['size']}: {result['error']}")
        return
    outcomes = Counter(c["outcome"] for c in result["cases"])
    print(
        f"  [{done}/{total}] {result['family']}-{result['size']} "
        f"({result['qubits']} q, {result['seconds']} s): {dict(outcomes)}",
        flush=True,
    )


def write_report(results: list[dict[str, Any]], elapsed: float, args: argparse.Namespace) -> None:
    from qbroker.formats import conversions

    cases = [c for r in results for c in r.get("cases", [])]
    circuits = [r for r in results if "cases" in r]
    per_edge: dict[str, Counter[str]] = defaultdict(Counter)
    reasons: dict[str, Counter[str]] = defaultdict(Counter)
    for case in cases:
        per_edge[case["edge"]][case["outcome"]] += 1
        if case["outcome"] in ("refused", "unchecked"):
            reasons[case["edge"]][_reason_shape(case["reason"])] += 1
    edges = [f"{e.source.value}->{e.target.value}" for e in conversions()]
    totals: Counter[str] = Counter(c["outcome"] for c in cases)
    wrong = [c for c in cases if c["outcome"] == "wrong"]
    lines = [
        "# Equivalence over the mqt-bench corpus",
        "",
        f"`python benchmarks/corpus_report.py --sizes {args.sizes}`: {len(circuits)} circuits "
        f"from {len({r['family'] for r in circuits})} mqt-bench families (target-independent "
        f"level), sizes {args.sizes} qubits, over {len(edges)} edges; {len(cases)} "
        f"conversions checked in {elapsed:.0f} s.",
        "",
        f"**Totals:** exact {totals['exact']}, refused {totals['refused']}, unchecked "
        f"{totals['unchecked']}, wrong **{totals['wrong']}** (no source: {totals['no source']}, "
        f"not run: {totals['not run']}).",
        "",
        "exact = operator/state and full distribution over classical bits proven equal; "
        "refused = UnsupportedError with a reason; unchecked = beyond the exact checks "
        "(see reasons); no source = the source format cannot hold the circuit; not run = "
        "photonic targets run only 3-qubit circuits.",
        "",
        "| edge | exact | refused | unchecked | wrong | no source | not run |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for edge in edges:
        if edge not in per_edge:
            lines.append(f"| {edge} | - | - | - | - | - | - |")
            continue
        c = per_edge[edge]
        lines.append(
            f"| {edge} | {c['exact']} | {c['refused']} | {c['unchecked']} | "
            f"{c['wrong']} | {c['no source']} | {c['not run']} |"
        )
    lines += ["", "## Refusal and unchecked reasons (by target)", ""]
    by_target: dict[str, Counter[str]] = defaultdict(Counter)
    for edge, counter in reasons.items():
        by_target[edge.split("->")[1]].update(counter)
    for target in sorted(by_target):
        lines.append(f"- **{target}**")
        for reason, count in by_target[target].most_common(8):
            lines.append(f"  - {count}x {reason}")
    lines += ["", "## Wrong", ""]
    if not wrong:
        lines.append("None.")
    for case in wrong:
        lines.append(f"- {case['edge']} on {case['family']}-{case['size']}: {case['reason']}")
        lines.append("  ```")
        lines.extend(f"  {line}" for line in case["diff"].splitlines())
        lines.append("  ```")
    lines += ["", "## Circuits", "", "| circuit | qubits | operations |", "|---|---:|---|"]
    for r in sorted(circuits, key=lambda r: (r["family"], r["size"])):
        ops = ", ".join(f"{k} {v}" for k, v in sorted(r["ops"].items()))
        lines.append(f"| {r['family']}-{r['size']} | {r['qubits']} | {ops} |")
    text = "\n".join(lines) + "\n"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "corpus_report.md").write_text(text)
    (RESULTS / "corpus_report.json").write_text(
        json.dumps(
            {
                "seconds": round(elapsed, 1),
                "sizes": args.sizes,
                "totals": dict(totals),
                "per_edge": {e: dict(per_edge[e]) for e in edges if e in per_edge},
                "circuits": [
                    {k: r[k] for k in ("family", "size", "qubits", "ops", "seconds")}
                    for r in circuits
                ],
                "cases": cases,
            },
            indent=1,
        )
        + "\n"
    )
    print(text)
    if totals["wrong"]:
        sys.exit(1)


def _reason_shape(reason: str) -> str:
    """A reason with its numbers and quoted names generalised, to group alike refusals."""
    import re

    shape = re.sub(r"'[^']*'", "'…'", reason)
    shape = re.sub(r"\b\d[\d,.]*\b", "#", shape)
    return shape[:160]


if __name__ == "__main__":
    main()
