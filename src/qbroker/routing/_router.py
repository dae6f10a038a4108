"""The router: feasibility filters, then estimators, then a scoring policy — one Decision.

Pure: the program, the backends, the policy, the conversion graph and the time of the
decision come in; a Decision comes out. The same inputs give the same Decision.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from qbroker.model import (
    Backend,
    Candidate,
    Decision,
    Estimates,
    InputFormat,
    OptimizeFor,
    Policy,
    Program,
    Rejection,
    RejectionCode,
)
from qbroker.routing._device import device_view
from qbroker.routing._estimators import (
    BEAM,
    PATTERN_BEAM,
    estimate_cost,
    estimate_fidelity,
    queue_wait_s,
    runtime_s,
)
from qbroker.routing._feasibility import Context, first_rejection
from qbroker.routing._features import AnalogFeatures, CircuitFeatures, analyse
from qbroker.routing._refine import (
    clbit_marginals,
    compiled_features,
    coupling_class,
    predicted_seconds,
)

__all__ = ["decide"]


def decide(
    program: Program,
    backends: Sequence[Backend],
    *,
    shots: int,
    policy: Policy,
    reachable: frozenset[tuple[InputFormat, InputFormat]],
    now: datetime,
) -> Decision:
    """Rank ``backends`` for ``program`` under ``policy``.

    Args:
        reachable: the conversion graph's edges (source, target format).
        now: the moment of the decision (for availability windows).
    """
    features = analyse(program)
    ctx = Context(program, features, shots, policy, reachable, now)
    rejected: list[Rejection] = []
    scored: list[tuple[Backend, Estimates, tuple[int, ...], tuple[str, ...]]] = []
    for backend in sorted(backends, key=lambda b: b.id):
        rejection = first_rejection(backend, ctx)
        if rejection is not None:
            rejected.append(rejection)
            continue
        estimates, layout, notes = _estimate(backend, features, shots, policy)
        rejection = _after_estimates(backend, estimates, policy)
        if rejection is not None:
            rejected.append(rejection)
            continue
        scored.append((backend, estimates, layout, notes))

    if isinstance(features, CircuitFeatures) and _refines(policy) and len(scored) > 1:
        scored, late = _refine(program, features, scored, shots, policy)
        rejected.extend(late)
    ranked = _rank(scored, policy)
    candidates = tuple(
        Candidate(
            backend_id=backend.id,
            rank=i + 1,
            score=score,
            components=components,
            estimates=estimates,
            layout=layout,
            calibration_at=backend.calibration.calibrated_at if backend.calibration else None,
            notes=notes,
        )
        for i, (backend, estimates, layout, notes, score, components) in enumerate(ranked)
    )
    return Decision(
        backend_id=candidates[0].backend_id if candidates else None,
        optimize_for=policy.optimize_for,
        shots=shots,
        program_digest=program.digest,
        candidates=candidates,
        rejected=tuple(sorted(rejected, key=lambda r: r.backend_id)),
        why=tuple(_why(candidates, policy)),
        policy=policy,
    )


def _refines(policy: Policy) -> bool:
    """Whether expected fidelity can change this policy's ranking (and refining pays)."""
    if not policy.refine or policy.refine_budget_s <= 0:
        return False
    if policy.optimize_for is OptimizeFor.ACCURACY:
        return True
    return policy.optimize_for is OptimizeFor.BALANCED and policy.effective_weights.fidelity > 0


def _refine(
    program: Program,
    features: CircuitFeatures,
    rows: list[Row],
    shots: int,
    policy: Policy,
) -> tuple[list[Row], list[Rejection]]:
    """Re-estimate the routed contenders' coupling classes on the compiled circuit.

    A contender is a candidate that would rank first if its expected fidelity were
    ``policy.refine_margin`` higher; the classes of the contenders that need SWAPs are
    compiled, best-ranked first, while the predicted compile time fits the budget. Every
    backend of a compiled class (not only the contenders) gets the compiled estimate.
    """
    ranked = _rank(rows, policy)
    top = ranked[0]
    margin = policy.refine_margin
    classes: list[str] = []
    for backend, est, _, _, _, _ in ranked:
        if est.fidelity is None or not est.swaps:
            continue
        if backend is not top[0] and not _could_win(backend, est, top, rows, policy, margin):
            continue
        key = coupling_class(backend)
        if key not in classes:
            classes.append(key)
    if not classes:
        return rows, []
    circuit = program.circuit
    marginals = clbit_marginals(circuit, features)
    starts = sorted(features.active | features.measured)
    budget = policy.refine_budget_s
    spent = 0.0
    out = list(rows)
    keys = [coupling_class(b) if e.fidelity is not None else None for b, e, _, _ in out]
    late: list[Rejection] = []
    cost = predicted_seconds(features)
    for key in classes:
        if spent + cost > budget:
            break
        spent += cost
        members = [i for i, k in enumerate(keys) if k == key]
        compiled = compiled_features(
            circuit,
            out[members[0]][0],
            optimization_level=policy.optimization_level,
            seed=policy.seed,
            marginals=marginals,
        )
        if compiled is None:
            continue
        routed, start = compiled
        if any(a not in start for a in starts):
            continue  # the compile does not say where a qubit went: keep the estimates
        for i in members:
            backend = out[i][0]
            estimates, layout, notes = _estimate(backend, routed, shots, policy, beam=PATTERN_BEAM)
            # the compiled circuit's qubits are physical ones: report the logical layout
            where = dict(zip(sorted(routed.active | routed.measured), layout, strict=False))
            logical = tuple(where[start[a]] for a in starts)
            notes = (
                f"expected fidelity from the compiled circuit (optimization level "
                f"{policy.optimization_level}, seed {policy.seed}): "
                f"{estimates.native_2q_gates} two-qubit gates",
                *notes,
            )
            out[i] = (backend, estimates, logical, notes)
    kept: list[Row] = []
    for row in out:
        rejection = _after_estimates(row[0], row[1], policy)
        if rejection is None:
            kept.append(row)
        else:
            late.append(rejection)
    return kept, late


def _could_win(
    backend: Backend,
    est: Estimates,
    top: Ranked,
    rows: list[Row],
    policy: Policy,
    margin: float,
) -> bool:
    """Would ``backend`` rank first with ``margin`` more expected fidelity?"""
    assert est.fidelity is not None
    return _rank(rows, policy, bump=(backend, min(1.0, est.fidelity + margin)))[0][0] is backend


def _estimate(
    backend: Backend,
    features: CircuitFeatures | AnalogFeatures,
    shots: int,
    policy: Policy,
    *,
    beam: int = BEAM,
) -> tuple[Estimates, tuple[int, ...], tuple[str, ...]]:
    notes: list[str] = []
    layout: tuple[int, ...] = ()
    native_1q = native_2q = swaps = 0
    parts = {"two": 1.0, "one": 1.0, "readout": 1.0, "idle": 1.0}
    if isinstance(features, AnalogFeatures):
        fidelity: float | None = 1.0 if backend.is_simulator else None
        duration = features.duration_s
        if fidelity is None:
            notes.append("no calibration model for analog devices: expected fidelity unknown")
    elif backend.is_simulator or backend.calibration is None:
        fidelity = 1.0 if backend.is_simulator else None
        duration = (features.path_2q * 300e-9 + features.path_1q * 50e-9) if features else 0.0
        native_2q = features.cx_total
        native_1q = sum(features.one_qubit.values())
        if fidelity is None:
            notes.append("no calibration published: expected fidelity unknown")
    else:
        view = device_view(backend)
        estimate = estimate_fidelity(features, view, beam=beam, idle_weight=policy.idle_weight)
        placement = estimate.placement
        fidelity = estimate.fidelity
        duration = estimate.duration_s
        layout = placement.layout
        native_1q, native_2q, swaps = placement.native_1q, placement.native_2q, placement.swaps
        parts = {
            "two": math.exp(-placement.two_qubit),
            "one": math.exp(-placement.one_qubit),
            "readout": math.exp(-placement.readout),
            "idle": math.exp(-estimate.idle),
        }
        if view.missing:
            notes.append("calibration lacks " + ", ".join(view.missing) + " (counted as zero)")
    run = runtime_s(backend, duration, shots)
    wait, reported = queue_wait_s(backend, policy.assumed_wait_s)
    if not reported and not backend.is_simulator:
        notes.append(f"queue not reported: assumed {policy.assumed_wait_s:g} s wait")
    cost = estimate_cost(
        backend,
        shots=shots,
        runtime=run,
        native_1q=native_1q,
        native_2q=native_2q,
        currency=policy.currency,
        exchange_rates=policy.exchange_rates,
    )
    if not backend.pricing.items:
        notes.append("no published price: cost counted as 0")
    estimates = Estimates(
        fidelity=_clip(fidelity),
        two_qubit_fidelity=_unit(parts["two"]),
        one_qubit_fidelity=_unit(parts["one"]),
        readout_fidelity=_unit(parts["readout"]),
        idle_fidelity=_unit(parts["idle"]),
        swaps=swaps,
        native_2q_gates=native_2q,
        native_1q_gates=native_1q,
        circuit_duration_s=duration,
        wait_s=wait,
        wait_reported=reported,
        runtime_s=run,
        cost=round(cost.amount, 6),
        currency=cost.currency,
        cost_items={name: round(v, 6) for name, v in cost.items},
    )
    return estimates, layout, tuple(notes)


def _clip(value: float | None) -> float | None:
    return None if value is None else _unit(value)


def _unit(value: float) -> float:
    return min(1.0, max(0.0, value))


def _after_estimates(backend: Backend, est: Estimates, policy: Policy) -> Rejection | None:
    floor = policy.effective_min_fidelity
    if floor is not None and (est.fidelity is None or est.fidelity < floor):
        shown = "unknown" if est.fidelity is None else f"{est.fidelity:.3f}"
        return Rejection(
            backend_id=backend.id,
            code=RejectionCode.FIDELITY,
            reason=f"expected fidelity {shown} is below the policy's minimum {floor:g}",
        )
    if policy.max_cost is not None and est.cost > policy.max_cost:
        return Rejection(
            backend_id=backend.id,
            code=RejectionCode.COST,
            reason=f"expected cost {est.cost:.2f} {est.currency} exceeds the maximum "
            f"{policy.max_cost:g} {policy.currency}",
        )
    if policy.max_wait_s is not None and est.wait_s > policy.max_wait_s:
        return Rejection(
            backend_id=backend.id,
            code=RejectionCode.WAIT,
            reason=f"expected wait {est.wait_s:.0f} s exceeds the maximum {policy.max_wait_s:g} s",
        )
    return None


#: Error floor of the balanced score's fidelity ratio (see :class:`qbroker.model.Weights`).
ERROR_FLOOR = 0.01

Row = tuple[Backend, Estimates, tuple[int, ...], tuple[str, ...]]
Ranked = tuple[Backend, Estimates, tuple[int, ...], tuple[str, ...], float, dict[str, float]]


def _rank(
    rows: list[Row], policy: Policy, bump: tuple[Backend, float] | None = None
) -> list[Ranked]:
    """``rows`` best first under ``policy``; ``bump`` = (backend, fidelity) ranks as if that
    backend's expected fidelity were the one given (what-if for the refinement)."""
    if not rows:
        return []
    mode = policy.optimize_for

    def fidelity_of(backend: Backend, est: Estimates) -> float | None:
        return bump[1] if bump is not None and backend is bump[0] else est.fidelity

    fidelities = [f for b, e, _, _ in rows if (f := fidelity_of(b, e)) is not None]
    best_e = 1.0 - max(fidelities, default=1.0)
    best_t = min(r[1].turnaround_s for r in rows) / 60.0
    best_c = min(r[1].cost for r in rows)
    weights = policy.effective_weights
    out = []
    for backend, est, layout, notes in rows:
        f = fidelity_of(backend, est) or 0.0
        t = est.turnaround_s / 60.0
        components = {
            "fidelity": round(f, 6),
            "turnaround_s": round(est.turnaround_s, 3),
            "cost": round(est.cost, 6),
        }
        if mode is OptimizeFor.ACCURACY:
            score = f
            key = (-f, est.cost, est.turnaround_s, backend.id)
        elif mode is OptimizeFor.SPEED:
            score = -est.turnaround_s
            key = (est.turnaround_s, -f, est.cost, backend.id)
        elif mode is OptimizeFor.COST:
            score = -est.cost
            key = (est.cost, -f, est.turnaround_s, backend.id)
        else:
            parts = {
                "w_fidelity": weights.fidelity * (best_e + ERROR_FLOOR) / (1.0 - f + ERROR_FLOOR),
                "w_time": weights.time * (1 + best_t) / (1 + t),
                "w_cost": weights.cost * (1 + best_c) / (1 + est.cost),
            }
            components.update({k: round(v, 6) for k, v in parts.items()})
            score = sum(parts.values())
            key = (-score, -f, est.cost, backend.id)
        out.append((key, (backend, est, layout, notes, round(score, 9), components)))
    out.sort(key=lambda item: item[0])
    return [row for _, row in out]


def _why(candidates: tuple[Candidate, ...], policy: Policy) -> list[str]:
    if len(candidates) < 2:
        return []
    best = candidates[0]
    b = best.estimates
    lines = []
    for c in candidates[1:]:
        e = c.estimates
        reasons = []
        if e.fidelity is not None and b.fidelity is not None and e.fidelity < b.fidelity:
            reasons.append(f"fidelity {e.fidelity:.3f} vs {b.fidelity:.3f}")
        elif e.fidelity is None:
            reasons.append("fidelity unknown")
        # differences below what is printed (a cent, half a second) are not reasons
        if e.cost >= b.cost + 0.005:
            reasons.append(f"costs {e.cost - b.cost:.2f} {b.currency} more")
        if e.turnaround_s >= b.turnaround_s + 0.5:
            reasons.append(f"{_minutes(e.turnaround_s - b.turnaround_s)} slower")
        if not reasons:
            reasons.append("tied on every estimate; ordered by id")
        mode = policy.optimize_for.value
        lines.append(f"{c.backend_id} (#{c.rank}, {mode}): " + "; ".join(reasons))
    return lines


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"
