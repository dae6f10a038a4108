"""Score qbroker's router and the anchors against the cached ground truth (accuracy mode).

    python benchmarks/routing/score.py [--results benchmarks/results/routing]
                                       [--mapomatic-budget 60] [--no-mapomatic]
                                       [--fresh-mapomatic] [--limit N]

Loads the pool (``pool.json``), the circuits (``circuits/``) and the ground truth
(``ground_truth.json``: Hellinger fidelity of the noisy emulation against the ideal output
per (circuit, backend)) -- whatever is there, reporting the coverage -- then runs every
anchor of ``anchors.py`` on each circuit and writes ``quality.md`` and ``quality.json``
beside them.

Two scopes: the whole pool, and mapomatic's scope (the pool's IBM members). In each, a
circuit is offered to every anchor with the scope's backends that have a ground-truth
figure for it (so every choice can be scored; with a complete ground truth these are
exactly the backends with enough qubits). A circuit with fewer than two such backends
separates nothing and is skipped.

Metrics per anchor and scope:

* top-1: the chosen backend's true fidelity is within 0.005 of the truly best one's;
  shown over the circuits the anchor answered, and over all circuits (no answer = miss);
* regret: true best fidelity minus the chosen backend's true fidelity (mean, max) over the
  answered circuits;
* Spearman: per circuit, the rank correlation between the anchor's per-backend scores and
  the true fidelities over the backends both cover (at least 3, neither constant); mean and
  median over circuits. Anchors without per-backend scores show "-".
* random is reported as its exact expectation over seeds (uniform over the feasible
  backends): expected top-1 and mean regret; its max regret is the mean over 1000 seeds of
  each seed's maximum.

mapomatic answers are cached in ``mapomatic_cache.json`` (keyed by the circuit's QPY bytes,
the IBM backends' ids and calibration times and the budget; ``--fresh-mapomatic`` ignores it)
because one pass takes tens of minutes; the report says how many came from the cache.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import signal
import statistics
import sys
import time
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import anchors as A  # noqa: E402

ROOT = HERE.parent.parent
DEFAULT_RESULTS = ROOT / "benchmarks" / "results" / "routing"
TIE = 0.005
TARGETS = {"top1": 0.9, "mean_regret": 0.005, "spearman": 0.9}
SCOPES = ("pool", "ibm")
FIDELITY_KEYS = ("hellinger_fidelity", "fidelity", "hellinger", "value")


# --------------------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------------------


def load_pool(results: Path) -> list[Any]:
    from qbroker import Backend

    data = json.loads((results / "pool.json").read_text())
    if isinstance(data, dict):
        data = data.get("backends", data.get("pool", data))
    return [Backend.model_validate(d) for d in data]


def load_circuit(path: Path) -> Any:
    import qiskit.qpy
    from qiskit import qasm2, qasm3

    if path.suffix == ".qpy":
        with path.open("rb") as f:
            return qiskit.qpy.load(f)[0]
    text = path.read_text()
    if text.lstrip().startswith("OPENQASM 3"):
        return qasm3.loads(text)
    return qasm2.loads(
        text,
        custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS,
        include_path=[str(path.parent)],
    )


def load_circuits(results: Path) -> dict[str, Any]:
    folder = results / "circuits"
    out: dict[str, Any] = {}
    if not folder.is_dir():
        return out
    for path in sorted(folder.iterdir()):
        if path.suffix not in (".qasm", ".qpy"):
            continue
        qc = load_circuit(path)
        qc.name = path.stem
        out[path.stem] = qc
    return out


def _fidelity(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, dict):
        for k in FIDELITY_KEYS:
            if isinstance(value.get(k), (int, float)):
                return float(value[k])
    return None


def load_ground_truth(results: Path) -> tuple[dict[str, dict[str, float]], dict[str, Any]]:
    """{circuit: {backend_id: Hellinger fidelity}} and the file's metadata.

    The layout of ``ground_truth.py``: ``{"metadata": {...}, "circuits": {...}, "pairs":
    {"<circuit>|<backend>": {"circuit", "backend", "hellinger_fidelity", ...} or an
    "error"}}``. Pairs with an error are left out, and so are pairs of a backend whose JSON
    in ``pool.json`` no longer has the sha256 the ground truth was built from (reported in
    the metadata as ``stale_backends``).
    """
    path = results / "ground_truth.json"
    if not path.exists():
        return {}, {}
    data = json.loads(path.read_text())
    meta = dict(data.get("metadata", {}))
    built_from = meta.get("backend_sha256", {})
    stale: set[str] = set()
    pool_path = results / "pool.json"
    if built_from and pool_path.exists():
        for doc in json.loads(pool_path.read_text()):
            sha = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()
            if built_from.get(doc["id"]) not in (None, sha):
                stale.add(doc["id"])
    table: dict[str, dict[str, float]] = {}
    errors = 0
    for row in data.get("pairs", {}).values():
        if "error" in row:
            errors += 1
            continue
        f = _fidelity(row)
        if f is None or row["backend"] in stale:
            continue
        table.setdefault(str(row["circuit"]), {})[str(row["backend"])] = f
    meta["stale_backends"] = sorted(stale)
    meta["error_pairs"] = errors
    return table, meta


# --------------------------------------------------------------------------------------
# metrics
# --------------------------------------------------------------------------------------


def interleave(names: list[str], circuits: dict[str, Any]) -> list[str]:
    """Smallest of every family first, then the next size of each ...: a partial run
    (mapomatic is slow) still covers every family."""
    by_family: dict[str, list[str]] = {}
    for n in sorted(names, key=lambda n: (circuits[n].num_qubits, n)):
        by_family.setdefault(n.rsplit("-", 1)[0], []).append(n)
    out: list[str] = []
    depth = max((len(v) for v in by_family.values()), default=0)
    for i in range(depth):
        out += [v[i] for _, v in sorted(by_family.items()) if i < len(v)]
    return out


def spearman(pred: dict[str, float], true: dict[str, float]) -> float | None:
    from scipy.stats import spearmanr

    keys = sorted(set(pred) & set(true))
    if len(keys) < 3:
        return None
    x = [pred[k] for k in keys]
    y = [true[k] for k in keys]
    if len(set(x)) < 2 or len(set(y)) < 2:
        return None
    rho = spearmanr(x, y).statistic
    return None if math.isnan(rho) else float(rho)


def summarise(rows: list[dict[str, Any]], total: int) -> dict[str, Any]:
    answered = [r for r in rows if r.get("choice") is not None]
    hits = sum(r["top1"] for r in answered)
    regrets = [r["regret"] for r in answered]
    rhos = [r["spearman"] for r in answered if r.get("spearman") is not None]
    seconds = [r["seconds"] for r in rows if r.get("seconds") is not None]
    return {
        "circuits": total,
        "answered": len(answered),
        "timeouts": sum(1 for r in rows if r.get("timeout")),
        "no_answer": total - len(answered),
        "top1_answered": hits / len(answered) if answered else None,
        "top1_all": hits / total if total else None,
        "mean_regret": statistics.fmean(regrets) if regrets else None,
        "max_regret": max(regrets) if regrets else None,
        "spearman_mean": statistics.fmean(rhos) if rhos else None,
        "spearman_median": statistics.median(rhos) if rhos else None,
        "spearman_circuits": len(rhos),
        "seconds_median": statistics.median(seconds) if seconds else None,
        "seconds_max": max(seconds) if seconds else None,
    }


def random_summary(cases: list[dict[str, Any]], seeds: int = 1000) -> dict[str, Any]:
    """Exact expectation of the uniform choice; max regret averaged over seeded runs."""
    top1: list[float] = []
    regret: list[float] = []
    for c in cases:
        fids = [c["true"][b] for b in c["random_from"]]
        if not fids:
            continue
        best = c["best"]
        top1.append(sum(f >= best - TIE for f in fids) / len(fids))
        regret.append(statistics.fmean(best - f for f in fids))
    maxes = []
    for seed in range(seeds):
        worst = 0.0
        for c in cases:
            if c["random_from"]:
                rng = random.Random(f"{seed}|{c['circuit']}|{','.join(c['offered'])}")
                worst = max(worst, c["best"] - c["true"][rng.choice(c["random_from"])])
        maxes.append(worst)
    n = len(cases)
    return {
        "circuits": n,
        "answered": len(top1),
        "timeouts": 0,
        "no_answer": n - len(top1),
        "top1_answered": statistics.fmean(top1) if top1 else None,
        "top1_all": sum(top1) / n if n else None,
        "mean_regret": statistics.fmean(regret) if regret else None,
        "max_regret": statistics.fmean(maxes) if maxes else None,
        "spearman_mean": None,
        "spearman_median": None,
        "spearman_circuits": 0,
        "seconds_median": None,
        "seconds_max": None,
        "note": f"exact expectation over seeds; max regret = mean over {seeds} seeds",
    }


# --------------------------------------------------------------------------------------
# mapomatic cache
# --------------------------------------------------------------------------------------


def fingerprint(circuit: Any) -> bytes:
    """A stable digest of the circuit's instructions (QPY bytes are not reproducible)."""
    h = hashlib.sha256(f"{circuit.num_qubits}|{circuit.num_clbits}".encode())
    for inst in circuit.data:
        qs = [circuit.find_bit(q).index for q in inst.qubits]
        cs = [circuit.find_bit(c).index for c in inst.clbits]
        params = [repr(p) for p in inst.operation.params]
        h.update(f"{inst.operation.name}{params}{qs}{cs};".encode())
    return h.digest()


def mapomatic_key(circuit: Any, offered: Sequence[Any], shots: int, budget: float) -> str:
    ibm = [b for b in A.feasible(circuit, offered, shots) if A.is_ibm(b) and b.calibration]
    h = hashlib.sha256(fingerprint(circuit))
    h.update(A._pool_key(ibm).encode())
    h.update(f"|cpu-budget {budget:g}|{A.MAPOMATIC_SEED}".encode())
    return h.hexdigest()[:24]


# --------------------------------------------------------------------------------------
# the run
# --------------------------------------------------------------------------------------


def run_anchor(name: str, fn: Any, circuit: Any, offered: list[Any], shots: int) -> dict[str, Any]:
    try:
        choice, scores, seconds = fn(circuit, offered, shots)
        return {"choice": choice, "scores": scores, "seconds": seconds}
    except A.NoAnswer as exc:
        return {
            "choice": None,
            "scores": None,
            "seconds": exc.seconds,
            "reason": exc.reason,
            "timeout": exc.timeout,
        }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    ap.add_argument("--out", type=Path, default=None, help="where to write (default --results)")
    ap.add_argument("--shots", type=int, default=None, help="default: the ground truth's")
    ap.add_argument("--mapomatic-budget", type=float, default=A.MAPOMATIC_BUDGET_S)
    ap.add_argument("--no-mapomatic", action="store_true")
    ap.add_argument("--fresh-mapomatic", action="store_true", help="ignore the cache")
    ap.add_argument(
        "--mapomatic-cached-only",
        action="store_true",
        help="report mapomatic only where mapomatic_cache.json has its answer (no new runs)",
    )
    ap.add_argument("--limit", type=int, default=None, help="first N scored circuits only")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally: blocks
    out_dir = args.out or args.results
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.time()

    pool = load_pool(args.results)
    circuits = load_circuits(args.results)
    truth, meta = load_ground_truth(args.results)
    shots = args.shots or 1000  # the ground truth is exact (no shots); prices depend on it
    pool_ids = [b.id for b in pool]
    ibm_ids = [b.id for b in pool if A.is_ibm(b)]

    # coverage: pairs with a figure / pairs where the backend has enough qubits
    feasible_pairs = gt_pairs = 0
    for name, qc in circuits.items():
        fit = [
            b.id for b in pool if b.is_gate_model and b.configuration.qubit_count >= qc.num_qubits
        ]
        feasible_pairs += len(fit)
        gt_pairs += sum(1 for b in fit if b in truth.get(name, {}))
    unknown_ids = sorted({b for per in truth.values() for b in per} - set(pool_ids))
    coverage = {
        "circuits_in_folder": len(circuits),
        "circuits_with_ground_truth": sum(1 for n in circuits if truth.get(n)),
        "ground_truth_circuits_without_file": sorted(set(truth) - set(circuits)),
        "feasible_pairs": feasible_pairs,
        "ground_truth_pairs": gt_pairs,
        "pair_coverage": gt_pairs / feasible_pairs if feasible_pairs else 0.0,
        "ground_truth_backends_not_in_pool": unknown_ids,
        "pool_size": len(pool),
        "ibm_members": len(ibm_ids),
    }
    print(
        f"pool {len(pool)} backends ({len(ibm_ids)} IBM); circuits {len(circuits)}; "
        f"ground truth for {coverage['circuits_with_ground_truth']} circuits, "
        f"{gt_pairs}/{feasible_pairs} feasible pairs ({coverage['pair_coverage']:.0%})",
        flush=True,
    )

    names = interleave([n for n in circuits if truth.get(n)], circuits)
    if args.limit:
        names = names[: args.limit]
    cache_path = args.results / "mapomatic_cache.json"  # kept with the inputs
    cache: dict[str, Any] = {}
    if cache_path.exists() and not args.fresh_mapomatic:
        cache = json.loads(cache_path.read_text())
    mapo = None if args.no_mapomatic else A.MapomaticAnchor(budget_s=args.mapomatic_budget)
    if mapo is not None and args.mapomatic_cached_only:
        mapo.cached_only = True  # type: ignore[attr-defined]
    anchors = {k: v for k, v in A.ANCHORS.items() if k not in ("mapomatic", "random")}
    anchors.update(A.QUALITY_VARIANTS)

    per_scope: dict[str, list[dict[str, Any]]] = {s: [] for s in SCOPES}
    cached_hits = 0
    try:
        for i, name in enumerate(names, 1):
            qc = circuits[name]
            mapo_result: dict[str, Any] | None = None
            for scope in SCOPES:
                members = pool if scope == "pool" else [b for b in pool if A.is_ibm(b)]
                offered = [b for b in members if b.id in truth[name]]
                if len(offered) < 2:
                    continue
                true = {b.id: truth[name][b.id] for b in offered}
                best = max(true.values())
                case: dict[str, Any] = {
                    "circuit": name,
                    "qubits": qc.num_qubits,
                    "offered": [b.id for b in offered],
                    "true": true,
                    "best": best,
                    "best_backends": sorted(k for k, v in true.items() if v >= best - TIE),
                    "random_from": A.random_expectation(qc, offered, shots),
                    "anchors": {},
                }
                for aname, fn in anchors.items():
                    case["anchors"][aname] = run_anchor(aname, fn, qc, offered, shots)
                if mapo is not None:
                    key = mapomatic_key(qc, offered, shots, args.mapomatic_budget)
                    if mapo_result is not None and mapo_result.get("key") == key:
                        res = dict(mapo_result)
                    elif key in cache:
                        res = dict(cache[key], cached=True)
                        cached_hits += 1
                    elif getattr(mapo, "cached_only", False):
                        res = {"not_run": True}
                    else:
                        res = run_anchor("mapomatic", mapo, qc, offered, shots)
                        res["cpu_seconds"] = mapo.last_cpu_s
                        res["key"] = key
                        cache[key] = {k: v for k, v in res.items() if k != "cached"}
                        cache_path.write_text(json.dumps(cache, indent=1, sort_keys=True))
                    mapo_result = res
                    if not res.get("not_run"):
                        case["anchors"]["mapomatic"] = res
                for res in case["anchors"].values():
                    c = res.get("choice")
                    if c is None:
                        continue
                    if c not in true:  # should not happen: anchors choose among offered
                        res["error"] = f"chose {c}, which has no ground truth here"
                        res["choice"] = None
                        continue
                    res["true_fidelity"] = true[c]
                    res["regret"] = best - true[c]
                    res["top1"] = true[c] >= best - TIE
                    res["spearman"] = spearman(res["scores"], true) if res["scores"] else None
                per_scope[scope].append(case)
            line = []
            for scope in SCOPES:
                case = next((c for c in per_scope[scope] if c["circuit"] == name), None)
                if case is None:
                    continue
                q = case["anchors"]["qbroker"]
                line.append(
                    f"{scope}: best {case['best']:.3f} qbroker "
                    + (f"{q['true_fidelity']:.3f}" if q.get("choice") else "-")
                )
                if "mapomatic" in case["anchors"]:
                    m = case["anchors"]["mapomatic"]
                    line.append(
                        "mapomatic "
                        + (
                            f"{m['true_fidelity']:.3f} ({m['seconds']:.1f}s)"
                            if m.get("choice")
                            else f"- ({m.get('reason')})"
                        )
                    )
            print(f"[{i}/{len(names)}] {name}: " + "; ".join(line), flush=True)
    finally:
        if mapo is not None:
            mapo.close()

    summary: dict[str, dict[str, Any]] = {}
    for scope in SCOPES:
        cases = per_scope[scope]
        summary[scope] = {}
        names_here = list(anchors) + (["mapomatic"] if mapo is not None else [])
        for aname in names_here:
            rows = [c["anchors"][aname] for c in cases if aname in c["anchors"]]
            summary[scope][aname] = summarise(rows, len(rows))
        summary[scope]["random"] = random_summary(cases)
        if mapo is not None and scope == "ibm":
            same = [c for c in cases if "mapomatic" in c["anchors"]]
            answered = [c for c in same if c["anchors"]["mapomatic"].get("choice")]
            for aname in ("qbroker", "lowest_median_2q"):
                rows = [c["anchors"][aname] for c in same]
                summary[scope][f"{aname} @ mapomatic's circuits"] = summarise(rows, len(rows))
            rows = [c["anchors"]["qbroker"] for c in answered]
            summary[scope]["qbroker @ mapomatic's answered"] = summarise(rows, len(rows))

    checks = targets(summary)
    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(time.time() - started, 1),
        "shots": shots,
        "tie": TIE,
        "mapomatic_budget_s": None if mapo is None else args.mapomatic_budget,
        "mapomatic_from_cache": cached_hits,
        "coverage": coverage,
        "ground_truth_meta": meta,
        "pool": pool_ids,
        "ibm_subset": ibm_ids,
        "summary": summary,
        "targets": checks,
        "cases": per_scope,
    }
    (out_dir / "quality.json").write_text(json.dumps(report, indent=1, sort_keys=False))
    md = render(report)
    (out_dir / "quality.md").write_text(md)
    print(md)
    return 0


def targets(summary: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    q = summary["pool"].get("qbroker", {})
    for key, label, ok in (
        ("top1_all", "qbroker top-1 >= 0.9 (pool)", lambda v: v >= TARGETS["top1"]),
        ("mean_regret", "qbroker mean regret <= 0.005 (pool)", lambda v: v <= 0.005),
        ("spearman_mean", "qbroker Spearman >= 0.9 (pool, mean)", lambda v: v >= 0.9),
    ):
        v = q.get(key)
        out.append({"check": label, "value": v, "ok": v is not None and ok(v)})
    lm = summary["pool"].get("lowest_median_2q", {}).get("top1_all")
    out.append(
        {
            "check": "lowest median 2q error top-1 <= 0.5 (pool is non-trivial)",
            "value": lm,
            "ok": lm is not None and lm <= 0.5,
        }
    )
    mi = summary["ibm"].get("mapomatic")
    if mi:
        for key, row, better in (
            ("top1_all", "qbroker @ mapomatic's circuits", 1),
            ("mean_regret", "qbroker @ mapomatic's answered", -1),
        ):
            a, b = summary["ibm"].get(row, {}).get(key), mi.get(key)
            ok = a is not None and (b is None or (a - b) * better >= -1e-12)
            cmp = ">=" if better > 0 else "<="
            out.append(
                {
                    "check": f"qbroker {key} {cmp} mapomatic on the IBM subset ({row})",
                    "value": [a, b],
                    "ok": ok,
                }
            )
    return out


def _f(v: Any, fmt: str = "{:.3f}") -> str:
    return "-" if v is None else fmt.format(v)


def render(report: dict[str, Any]) -> str:
    cov = report["coverage"]
    lines = [
        "# Router quality (accuracy mode)",
        "",
        f"Generated {report['generated_at']} by `python benchmarks/routing/score.py` "
        f"({report['seconds']} s). Shots {report['shots']}; ties within {report['tie']} "
        "Hellinger fidelity count as top-1.",
        "",
        f"qbroker is told how the jobs will be compiled (optimization level "
        f"{A.QBROKER_COMPILE[0]}, seed {A.QBROKER_COMPILE[1]}: the ground truth's), as "
        "`qbroker route -O 3 --seed 11` is; it compiles with them only to settle close calls "
        "between backends that need SWAPs. The two qbroker variants below show it told another "
        "seed, and its estimates alone (benchmarks/routing/README.md, 'Session 4').",
        "",
        "## Coverage of the ground truth",
        "",
        f"- pool: {cov['pool_size']} backends ({cov['ibm_members']} IBM)",
        f"- circuits: {cov['circuits_in_folder']} in the folder, "
        f"{cov['circuits_with_ground_truth']} with ground truth",
        f"- (circuit, backend) pairs with enough qubits: {cov['feasible_pairs']}; with ground "
        f"truth: {cov['ground_truth_pairs']} ({cov['pair_coverage']:.0%})",
    ]
    if cov["ground_truth_backends_not_in_pool"]:
        extra = cov["ground_truth_backends_not_in_pool"]
        lines.append(f"- ground truth names backends not in the pool: {extra}")
    if report["mapomatic_budget_s"] is not None:
        lines.append(
            f"- mapomatic budget {report['mapomatic_budget_s']:g} CPU-s per circuit; "
            f"{report['mapomatic_from_cache']} answers from mapomatic_cache.json"
        )
    for scope, title in (("pool", "Whole pool"), ("ibm", "IBM subset (mapomatic's scope)")):
        summ = report["summary"][scope]
        n = max((s["circuits"] for s in summ.values()), default=0)
        lines += [
            "",
            f"## {title}: {n} circuits",
            "",
            "| anchor | answered | top-1 (all) | top-1 (answered) | mean regret | max regret "
            "| Spearman mean | Spearman median | decision s (median / max) |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for aname, s in summ.items():
            extra = ""
            if s.get("timeouts"):
                extra = f" ({s['timeouts']} timeouts)"
            if aname == "mapomatic" and scope == "pool":
                extra += " IBM only"
            secs = (
                f"{_f(s['seconds_median'], '{:.4f}')} / {_f(s['seconds_max'], '{:.3f}')}"
                if s["seconds_median"] is not None
                else "-"
            )
            rho = _f(s["spearman_mean"])
            if s["spearman_circuits"]:
                rho += f" (n={s['spearman_circuits']})"
            lines.append(
                f"| {aname} | {s['answered']}/{s['circuits']}{extra} | {_f(s['top1_all'])} "
                f"| {_f(s['top1_answered'])} | {_f(s['mean_regret'], '{:.4f}')} "
                f"| {_f(s['max_regret'], '{:.4f}')} | {rho} | {_f(s['spearman_median'])} "
                f"| {secs} |"
            )
    lines += ["", "## Targets", ""]
    for c in report["targets"]:
        v = c["value"]
        shown = ", ".join(_f(x, "{:.4f}") for x in v) if isinstance(v, list) else _f(v, "{:.4f}")
        lines.append(f"- [{'x' if c['ok'] else ' '}] {c['check']}: {shown}")
    lines += [
        "",
        "random: exact expectation over seeds (uniform over feasible backends); its max regret "
        "is the mean over 1000 seeds of each seed's maximum. least_busy has no per-backend "
        "fidelity prediction; QuantRouter's Spearman uses its composite 'quality' score. "
        "Decision seconds are wall time and include timed-out attempts (until stopped); "
        "mapomatic's per-circuit CPU seconds are in quality.json (cpu_seconds).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
