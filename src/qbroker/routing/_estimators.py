"""Estimators: pure functions of (program features, backend snapshot).

Expected fidelity
-----------------
The model is an estimated success probability of the circuit *as a transpiler will
compile it* for the device::

    F = exp(-(C_2q + C_1q + C_ro + C_idle))

with every error turned into a cost ``c = -log(1 - e)`` (so costs add where fidelities
multiply). Gate counts come from :mod:`qbroker.routing._features`: runs of gates on one pair
of qubits form a block, and a block costs exactly what its Weyl class needs (0-3 CNOTs, or
one Ising rotation per non-zero Weyl coordinate on Ising-native devices), as a transpiler's
two-qubit synthesis emits it. It has three steps.

1. **Layout, as a calibration-aware transpiler picks it.** Qiskit's VF2Layout (used by
   optimization levels 1-3 and by the clouds that transpile for you) looks for an
   embedding of the circuit's interaction graph and keeps the one with the best
   *average-error* score: every operation on a qubit weighted by the mean error of that
   qubit's single-qubit instructions (measurement included), every two-qubit operation by
   its coupler's error. A beam search over every starting qubit minimises the same score
   (:func:`best_placement`); on the benchmark circuits that embed it finds Qiskit's own
   layout or one scoring the same. The layout that would maximise *this* model's fidelity
   is often a different one; what a user gets is what the transpiler picks.
2. **Routing, when the circuit does not embed.** The consolidated two-qubit blocks are
   played in order from that layout: a block whose qubits are apart takes the SWAP that
   brings them closest while keeping the next :data:`LOOKAHEAD` blocks close (Sabre's
   heuristic), and the qubits stay where they were moved; SWAPs are scaled by
   :data:`SWAP_SHARE`, the ratio that makes the played gate counts match Qiskit's routed
   ones on average. The routed circuit is then moved to the copy of its coupling pattern
   that scores best by the same average-error rule, as VF2PostLayout does (it runs before
   translation, so it counts the circuit's own operations and each SWAP once). The
   transpiler's own routed circuit usually cannot reach as good a region, so its
   two-qubit errors are taken half-way to the device's typical coupler
   (:data:`REGION_TRUST`).
3. **Price** on the final placement:

   * ``C_2q`` — each block's native two-qubit gates (its CNOT equivalents times the
     device's gates per CNOT, or its Ising-gate count on devices whose entangler is an
     Ising rotation, where a controlled phase is one gate) and three per SWAP, at the
     calibrated error of the coupler they run on.
   * ``C_1q`` — per logical qubit, the native pulses a transpiler leaves
     (:data:`qbroker.routing._device.ONE_QUBIT_PULSES` per non-diagonal gate and per
     two-qubit gate it takes part in, by native basis) at its qubit's 1q error. Virtual Z
     rotations are free.
   * ``C_ro`` — readout of each measured qubit where it ends. Readout errors are
     asymmetric (a 1 decays while it is read), so the error that applies is
     ``(1 - m) P(1|0) + m P(0|1)`` with ``m`` the probability that the ideal circuit gives
     1 on that bit: exact from a statevector for circuits of up to
     :data:`qbroker.routing._features.MARGINAL_MAX_QUBITS` qubits, else 1/2 (the mean
     readout error).
   * ``C_idle`` — decoherence while a qubit waits: from its first operation to the end of
     the estimated duration ``T`` (critical path, SWAPs included), minus its busy time, at
     ``t / (3 T1) + t / (3 T2)``, weighted by the policy's ``idle_weight`` (default
     :data:`IDLE_WEIGHT`, 0: emulation from calibration has no idle noise).

All-to-all devices need no search: the best qubits are taken in order.

Step 2 is the model's weak point: which coupling pattern Qiskit's randomised Sabre routing
produces decides which region the routed circuit can use, and no estimate predicts it. The
router therefore settles close calls between routed backends with the compiler itself
(:mod:`qbroker.routing._refine`): the compiled circuit's pattern is placed by step 1's
search (with :data:`PATTERN_BEAM`) and priced by step 3.

Queue wait, run time and cost
-----------------------------
* Wait: the backend's reported average queue time, else queue length times a typical job
  duration, else the policy's assumption for devices that report nothing.
* Run time: shots x (circuit duration + readout + the device's repetition delay) plus a
  fixed per-task overhead.
* Cost: every price item applied to what it prices (task, shot, 1q/2q gate-shot with the
  estimated native gate counts, second or minute of run time), in the policy's currency.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from qbroker.model import Backend, CostGranularity, Technology
from qbroker.routing._device import DeviceView
from qbroker.routing._features import CircuitFeatures

#: Fixed overhead per task (compilation, loading, result upload), seconds.
TASK_OVERHEAD_S = {
    Technology.SUPERCONDUCTING: 2.0,
    Technology.TRAPPED_ION: 10.0,
    Technology.NEUTRAL_ATOMS: 10.0,
    Technology.PHOTONIC: 5.0,
    Technology.UNKNOWN: 1.0,
}
#: Time between shots (reset, repetition delay), seconds.
REPETITION_DELAY_S = {
    Technology.SUPERCONDUCTING: 250e-6,
    Technology.TRAPPED_ION: 5e-3,
    Technology.NEUTRAL_ATOMS: 0.2,
    Technology.PHOTONIC: 1e-6,
    Technology.UNKNOWN: 1e-4,
}
#: Partial layouts the placement search keeps at each step (a beam search over every
#: starting qubit).
BEAM = 32
#: The same for a compiled circuit's coupling pattern (:mod:`qbroker.routing._refine`),
#: which VF2PostLayout matches exhaustively: with 32 the search misses the best copy of
#: one pattern in three on the benchmark's heavy-hex devices, with 128 it finds it (or one
#: as good) almost always, at ~1 ms per backend.
PATTERN_BEAM = 128
#: Above this many (partial layout, qubit) options per step the beam is cut with a
#: partition before sorting; below it one stable sort is faster.
PARTITION_ABOVE = 4096
#: Blocks the routing play looks ahead when it picks a SWAP, and their weight against the
#: block at hand (Sabre's extended set uses 20 gates at weight 0.5).
LOOKAHEAD = 4
LOOKAHEAD_WEIGHT = 0.5
#: How much of a routed circuit's two-qubit error comes from the region the placement
#: search finds, the rest being the device's typical (median) coupler. The transpiler
#: routes from a layout chosen without looking at errors (Sabre) and VF2PostLayout can
#: only move the routed circuit's own coupling pattern, which is larger and more
#: constrained than the one played here: measured against the benchmark's emulations,
#: the best region alone over-predicts routed circuits by 0.02-0.05 in fidelity (0 for
#: circuits that embed); half-way between the two removes that bias.
REGION_TRUST = 0.5
#: Share of the routing play's SWAPs that Qiskit's Sabre (several trials, both directions)
#: still needs: with 0.6 the played two-qubit gate counts match Qiskit 2.1's level-3 output
#: on the benchmark's routed circuits on average (mean log ratio -0.02, sd 0.19).
SWAP_SHARE = 0.6
#: Typical job length used to turn a queue length into a wait, seconds.
TYPICAL_JOB_S = 60.0
#: Default weight of the first-order idle term (a policy's ``idle_weight`` overrides it).
#: 0: device noise models built from calibration (qbroker's emulation, Aer's
#: ``NoiseModel.from_backend``) apply relaxation only while gates run, and the clouds apply
#: dynamical decoupling to idle qubits by default; measured against such emulation the
#: model's predictions for circuits that need no SWAPs are unbiased with 0 (mean error
#: -0.004 to +0.016 per backend) and biased low with 0.25 (-0.01 on IBM, -0.04 to -0.07 on
#: IQM). Raise it to penalise long idle periods on hardware without decoupling.
IDLE_WEIGHT = 0.0


@dataclass(frozen=True)
class Placement:
    """A layout (logical -> physical) and its cost breakdown."""

    layout: tuple[int, ...]
    two_qubit: float
    one_qubit: float
    readout: float
    swaps: int
    native_2q: int
    native_1q: int


@dataclass(frozen=True)
class FidelityEstimate:
    fidelity: float
    placement: Placement
    duration_s: float
    idle: float


def best_placement(
    features: CircuitFeatures,
    view: DeviceView,
    *,
    beam: int = BEAM,
    objective: str = "transpiler",
) -> Placement:
    """The placement of ``features`` on ``view`` that the search prefers (deterministic).

    ``objective="transpiler"`` (the default) looks for the layout a calibration-aware
    transpiler picks. Qiskit's VF2Layout looks for an embedding (every interacting pair on
    a coupler) and weighs every operation on a qubit by that qubit's *average* error over
    its single-qubit instructions, measurement included, and every two-qubit operation by
    its coupler's error, counting the circuit's operations before translation. When no
    embedding exists, the circuit is routed with SWAPs and VF2PostLayout moves the routed
    circuit to the region that scores best by the same rule, now counting the translated
    circuit's operations (every native pulse and virtual rotation). Both are played here
    with the same weights. ``"fidelity"`` looks for the layout with the best expected
    fidelity under this module's model. Either way the placement is then priced with the
    fidelity model, routing included.

    The search is a beam search: every physical qubit starts a partial layout, logical
    qubits are added in breadth-first order of the interaction graph, and after each step
    the ``beam`` cheapest partial layouts are kept; each step is a few array operations.
    """
    order = _placement_order(features)
    k = len(order)
    if k == 0:
        return Placement((), 0.0, 0.0, 0.0, 0, 0, 0)
    if k > view.n:
        raise ValueError(f"{k} qubits do not fit on {view.n}")
    if objective == "transpiler":
        ones = np.array([features.ops_1q.get(a, 0) for a in order], dtype=float)
        mapping = _search(
            order,
            features.ops_2q,
            np.outer(ones, view.average_1q_cost),
            view.average_per_gate,
            view,
            beam,
        )
        if not view.fully_connected and _needs_swaps(features, view, mapping) and features.blocks:
            # routed: play the routing from there, then move the routed circuit to the
            # region that scores best on this device, as VF2PostLayout does
            routed = _play(features, view, mapping)
            return _place_routed(features, view, routed, beam)
    else:
        ones = np.array([_pulses(features, view, a) for a in order], dtype=float)
        base = np.outer(ones, view.one_qubit_cost) + np.array(
            [_readout_row(features, view, a) for a in order]
        )
        native = {pair: w * view.cx_factor for pair, w in _interactions(features, view).items()}
        mapping = _search(order, native, base, view.per_gate, view, beam)
        if not view.fully_connected and _needs_swaps(features, view, mapping) and features.blocks:
            routed = _play(features, view, mapping)
            return _price_routed(features, view, routed, {p: p for p in routed.nodes})
    return _score(features, view, mapping)


def _needs_swaps(features: CircuitFeatures, view: DeviceView, mapping: dict[int, int]) -> bool:
    return any(view.hops[mapping[a], mapping[b]] > 1 for a, b in features.interactions)


def _search(
    order: list[int],
    weights: dict[tuple[int, int], int] | dict[tuple[int, int], float],
    base: np.ndarray,
    per_gate: np.ndarray,
    view: DeviceView,
    beam: int,
) -> dict[int, int]:
    """Beam search for the layout minimising ``base`` (k x n: cost of logical ``order[i]``
    on each physical qubit) plus ``weights`` x ``per_gate`` over interacting pairs plus
    the SWAP-chain penalty of pairs placed apart."""
    k = len(order)
    position = {a: i for i, a in enumerate(order)}
    # for each logical qubit: the earlier-placed qubits it interacts with, and the weights
    before: list[list[int]] = [[] for _ in order]
    for a, b in weights:
        first, second = sorted((position[a], position[b]))
        before[second].append(first)
    earlier: list[tuple[list[int], np.ndarray]] = []
    for i, placed_before in enumerate(before):
        found = [
            float(weights[(min(order[i], order[j]), max(order[i], order[j]))])
            for j in placed_before
        ]
        earlier.append((placed_before, np.array(found)))
    n = view.n
    width = 1 if view.fully_connected else max(1, beam)
    per_gate_t, swap_t = per_gate.T, view.swap_search.T
    # the beam: the `width` cheapest partial layouts so far (all start qubits at first)
    starts = np.array(view.seeds[:1]) if view.fully_connected else np.arange(n)
    total = base[0, starts].copy()
    keep = np.lexsort((starts, total))[:width]
    layout = np.zeros((len(keep), k), dtype=np.intp)
    layout[:, 0] = starts[keep]
    total = total[keep]
    # inf where a partial layout already uses the physical qubit
    blocked = np.zeros((len(layout), n))
    blocked[np.arange(len(layout)), layout[:, 0]] = np.inf
    local = view.near.shape[1] > 0
    for i in range(1, k):
        placed, pair_weights = earlier[i]
        cost = None
        if placed and local:
            # only the qubits near the first placed partner: a (beam, d) slice of the
            # (beam, n) costs, which keeps every step a handful of small array operations
            columns = view.near[layout[:, placed[0]]]
            cost = blocked[np.arange(len(layout))[:, None], columns] + base[i][columns]
            cost += total[:, None]
            for j, w in zip(placed, pair_weights, strict=True):
                partner = layout[:, j][:, None]
                cost += w * per_gate_t[partner, columns]
                cost += swap_t[partner, columns]
            if np.count_nonzero(np.isfinite(cost)) < width:
                cost = None  # crowded: the neighbourhood is taken, look everywhere
        if cost is None:
            columns = np.broadcast_to(np.arange(n), (len(layout), n))
            cost = blocked + base[i]
            cost += total[:, None]
            for j, w in zip(placed, pair_weights, strict=True):
                column = layout[:, j]
                cost += w * per_gate_t[column]
                cost += swap_t[column]
            if not placed:  # a new component: keep it close to the first qubit
                cost += 1e-6 * view.hops[layout[:, 0]]
        flat = cost.ravel()
        d = cost.shape[1]
        if flat.size > PARTITION_ABOVE:
            candidates = np.sort(np.argpartition(flat, width - 1)[:width])
            candidates = candidates[np.argsort(flat[candidates], kind="stable")]
        else:  # small: one stable sort is cheaper than partition + sort + sort
            candidates = np.argsort(flat, kind="stable")[:width]
        rows, slot = np.divmod(candidates, d)
        choice = columns[rows, slot]
        layout = layout[rows]
        layout[:, i] = choice
        blocked = blocked[rows]
        blocked[np.arange(len(rows)), choice] = np.inf
        total = flat[candidates]
    finite = np.isfinite(total)
    if not finite.any():
        raise ValueError("no placement: the device's coupling graph is too fragmented")
    best = int(np.argmin(np.where(finite, total, np.inf)))  # the beam is sorted: ties resolve
    return {a: int(layout[best, i]) for i, a in enumerate(order)}


@dataclass
class _Routed:
    """The outcome of a routing play, on physical qubits."""

    start: dict[int, int]  # logical -> physical before routing
    end: dict[int, int]  # logical -> physical after routing (where it is measured)
    gates: dict[tuple[int, int], float]  # coupler -> native two-qubit gates (SWAPs scaled)
    ops: dict[tuple[int, int], float]  # coupler -> two-qubit operations before translation
    swaps: int  # SWAPs, scaled by SWAP_SHARE
    nodes: list[int]  # physical qubits the routed circuit uses


def _play(features: CircuitFeatures, view: DeviceView, mapping: dict[int, int]) -> _Routed:
    """Play the routing: the blocks in circuit order, SWAPs as needed.

    Each block whose qubits are not neighbours takes the SWAP that brings them closest
    while keeping the next :data:`LOOKAHEAD` blocks close too (Sabre's heuristic: the
    front plus a weighted look-ahead), cheaper couplers first among equals; the qubits
    stay where they were moved. A SWAP is three native two-qubit gates on its coupler.
    This play still needs more SWAPs than Sabre's (several trials, bidirectional
    passes); :data:`SWAP_SHARE` scales them by the ratio measured against it.
    """
    hops = view.hops_list
    neighbours = view.neighbours
    factor = view.cx_factor
    where = dict(mapping)
    who = {p: a for a, p in mapping.items()}
    gates: dict[tuple[int, int], float] = {}
    ops: dict[tuple[int, int], float] = {}
    swaps = 0
    blocks = features.blocks
    for index, (a, b, cx, ising) in enumerate(blocks):
        p, q = where[a], where[b]
        upcoming = blocks[index + 1 : index + 1 + LOOKAHEAD]
        while hops[p][q] > 1:
            best_key: tuple[float, float] = (math.inf, math.inf)
            best_from = best_to = -1
            for x in (p, q):
                for z, c in neighbours[x]:
                    # the layout after swapping x and z: where do the pair and the next
                    # blocks stand
                    moved = {x: z, z: x}
                    pp, qq = moved.get(p, p), moved.get(q, q)
                    ahead = 0
                    for u, v, _, _ in upcoming:
                        pu, pv = where[u], where[v]
                        ahead += hops[moved.get(pu, pu)][moved.get(pv, pv)]
                    key = (hops[pp][qq] + LOOKAHEAD_WEIGHT * ahead / max(1, len(upcoming)), c)
                    if key < best_key:
                        best_key, best_from, best_to = key, x, z
            if best_from < 0 or best_key[0] >= hops[p][q] + LOOKAHEAD_WEIGHT * _spread(
                upcoming, where, hops
            ):
                # no swap helps by the look-ahead's measure: step along a shortest path
                best_from, best_to = _step_closer(p, q, neighbours, hops)
            moved_logical, other = who.get(best_from), who.get(best_to)
            if moved_logical is not None:
                where[moved_logical] = best_to
            if other is not None:
                where[other] = best_from
            who[best_to], who[best_from] = moved_logical, other  # type: ignore[assignment]
            edge = (min(best_from, best_to), max(best_from, best_to))
            gates[edge] = gates.get(edge, 0.0) + SWAP_SHARE * 3 * factor
            ops[edge] = ops.get(edge, 0.0) + SWAP_SHARE
            swaps += 1
            p, q = where[a], where[b]
        edge = (min(p, q), max(p, q))
        gates[edge] = gates.get(edge, 0.0) + (ising if view.ising_native else cx) * factor
        ops[edge] = ops.get(edge, 0.0) + ising  # ~ the block's two-qubit operations
    nodes = sorted(set(mapping.values()) | {p for edge in gates for p in edge})
    return _Routed(dict(mapping), where, gates, ops, round(SWAP_SHARE * swaps), nodes)


def _place_routed(
    features: CircuitFeatures, view: DeviceView, routed: _Routed, beam: int
) -> Placement:
    """Move the routed circuit to where a calibration-aware transpiler puts it.

    Qiskit's VF2PostLayout looks for copies of the routed circuit's coupling pattern on the
    device and keeps the one with the best average-error score. It runs right after
    routing, before translation to native gates, so it counts the circuit's own
    operations (and each SWAP as one).
    """
    nodes = routed.nodes
    index = {p: i for i, p in enumerate(nodes)}
    ones_at = dict.fromkeys(nodes, 0.0)
    for a, p in routed.start.items():
        ones_at[p] += features.ops_1q.get(a, 0)
    adjacency: dict[int, list[int]] = {i: [] for i in range(len(nodes))}
    weights: dict[tuple[int, int], float] = {}
    for (p, q), count in routed.ops.items():
        i, j = sorted((index[p], index[q]))
        weights[(i, j)] = weights.get((i, j), 0.0) + count
        adjacency[i].append(j)
        adjacency[j].append(i)
    order = _bfs(range(len(nodes)), adjacency, {i: ones_at[p] for i, p in enumerate(nodes)})
    ones = np.array([ones_at[nodes[i]] for i in order])
    chosen = _search(
        order, weights, np.outer(ones, view.average_1q_cost), view.average_per_gate, view, beam
    )
    return _price_routed(features, view, routed, {nodes[i]: p for i, p in chosen.items()})


def _price_routed(
    features: CircuitFeatures, view: DeviceView, routed: _Routed, moved: dict[int, int]
) -> Placement:
    """The fidelity-model price of ``routed`` after moving each of its qubits p to moved[p]."""
    two = 0.0
    native_2q = 0.0
    typical = view.typical_2q_cost
    for (p, q), count in routed.gates.items():
        local = float(view.per_gate[moved[p], moved[q]])
        two += count * (REGION_TRUST * local + (1.0 - REGION_TRUST) * typical)
        native_2q += count
    one = 0.0
    native_1q = 0.0
    for a, p in routed.start.items():
        count = _pulses(features, view, a)
        one += count * float(view.one_qubit_cost[moved[p]])
        native_1q += count
    readout = sum(
        _readout_at(features, view, a, moved[routed.end[a]])
        for a in features.measured
        if a in routed.end
    )
    layout = tuple(moved[routed.start[a]] for a in sorted(routed.start))
    return Placement(layout, two, one, readout, routed.swaps, round(native_2q), round(native_1q))


def _bfs(nodes: object, adjacency: dict[int, list[int]], weight: dict[int, float]) -> list[int]:
    """Nodes breadth-first over ``adjacency``, each component from its heaviest node."""
    order: list[int] = []
    seen: set[int] = set()
    for start in sorted(nodes, key=lambda q: (-weight[q], q)):  # type: ignore[call-overload]
        if start in seen:
            continue
        queue = [start]
        seen.add(start)
        while queue:
            a = queue.pop(0)
            order.append(a)
            for b in sorted(adjacency[a], key=lambda q: (-weight[q], q)):
                if b not in seen:
                    seen.add(b)
                    queue.append(b)
    return order


def _placement_order(features: CircuitFeatures) -> list[int]:
    """Logical qubits, breadth-first over the interaction graph from the busiest one."""
    qubits = sorted(features.active | features.measured)
    adjacency: dict[int, list[int]] = {q: [] for q in qubits}
    for a, b in sorted(features.interactions):
        adjacency[a].append(b)
        adjacency[b].append(a)
    return _bfs(qubits, adjacency, {q: float(features.busy_2q.get(q, 0)) for q in qubits})


def _readout_row(features: CircuitFeatures, view: DeviceView, a: int) -> np.ndarray:
    """Readout cost of logical qubit ``a`` on every physical qubit (0 if not measured)."""
    if a not in features.measured:
        return np.zeros(view.n)
    m = features.marginals.get(a)
    if m is None:
        return view.readout_cost
    error = (1.0 - m) * view.flip0 + m * view.flip1
    return -np.log(np.clip(1.0 - error, 1e-12, 1.0))


def _readout_at(features: CircuitFeatures, view: DeviceView, a: int, p: int) -> float:
    """Readout cost of measured logical qubit ``a`` on physical qubit ``p``: the error of
    reading the bit the ideal circuit gives there (its exact marginal when known)."""
    m = features.marginals.get(a)
    if m is None:
        return float(view.readout_cost[p])
    error = (1.0 - m) * float(view.flip0[p]) + m * float(view.flip1[p])
    return -math.log(max(1e-12, 1.0 - error))


def _pulses(features: CircuitFeatures, view: DeviceView, a: int) -> float:
    """Native single-qubit pulses expected on logical qubit ``a`` after transpilation."""
    busy = features.busy_ising if view.ising_native else features.busy_2q
    return view.pulses_per_1q * features.one_qubit.get(a, 0) + view.pulses_per_2q * busy.get(a, 0)


def _spread(
    upcoming: tuple[tuple[int, int, int, int], ...],
    where: dict[int, int],
    hops: tuple[tuple[int, ...], ...],
) -> float:
    """Mean distance between the qubits of the upcoming blocks."""
    if not upcoming:
        return 0.0
    return sum(hops[where[u]][where[v]] for u, v, _, _ in upcoming) / len(upcoming)


def _step_closer(
    p: int,
    q: int,
    neighbours: tuple[tuple[tuple[int, float], ...], ...],
    hops: tuple[tuple[int, ...], ...],
) -> tuple[int, int]:
    """The cheapest swap that brings p and q one coupler closer."""
    best = (math.inf, -1, -1)
    for x, y in ((p, q), (q, p)):
        for z, c in neighbours[x]:
            if hops[z][y] < hops[x][y] and c < best[0]:
                best = (c, x, z)
    if best[1] < 0:
        raise ValueError("no placement: the device's coupling graph is too fragmented")
    return best[1], best[2]


def _interactions(features: CircuitFeatures, view: DeviceView) -> dict[tuple[int, int], int]:
    return features.interactions_ising if view.ising_native else features.interactions


def _score(features: CircuitFeatures, view: DeviceView, mapping: dict[int, int]) -> Placement:
    factor = view.cx_factor
    two = 0.0
    swaps = 0
    native_2q = 0
    for (a, b), w in _interactions(features, view).items():
        p, q = mapping[a], mapping[b]
        d = int(view.hops[p, q])
        per = view.path_cost[p, q] / d if d else 0.0
        gates = w * factor
        two += gates * per + 3 * factor * (d - 1) * per
        swaps += d - 1
        native_2q += gates + 3 * factor * (d - 1)
    one = 0.0
    native_1q = 0.0
    readout = 0.0
    for a, p in mapping.items():
        count = _pulses(features, view, a)
        one += count * float(view.one_qubit_cost[p])
        native_1q += count
        if a in features.measured:
            readout += _readout_at(features, view, a, p)
    layout = tuple(mapping[a] for a in sorted(mapping))
    return Placement(layout, two, one, readout, swaps, native_2q, round(native_1q))


def estimate_fidelity(
    features: CircuitFeatures,
    view: DeviceView,
    *,
    beam: int = BEAM,
    idle_weight: float | None = None,
) -> FidelityEstimate:
    """Expected fidelity of ``features`` on ``view`` (see the module docstring).

    ``idle_weight`` weighs the idle-decoherence term (default :data:`IDLE_WEIGHT`).
    """
    weight = IDLE_WEIGHT if idle_weight is None else idle_weight
    placement = best_placement(features, view, beam=beam)
    f = view.cx_factor
    # SWAP chains partly overlap other work; half of them are taken to lengthen the path
    path_2q = features.path_2q * f + 1.5 * f * placement.swaps
    duration = path_2q * view.t_2q_s + (features.path_1q + 2 * path_2q) * view.t_1q_s
    idle = 0.0
    order = sorted(features.active | features.measured)
    for a, p in zip(order, placement.layout, strict=False):
        begins = (
            features.start_2q.get(a, 0) * f * view.t_2q_s
            + features.start_1q.get(a, 0) * view.t_1q_s
        )
        busy = (
            features.busy_2q.get(a, 0) * f * view.t_2q_s + features.busy_1q.get(a, 0) * view.t_1q_s
        )
        wait = max(0.0, duration - begins - busy)
        t1, t2 = float(view.t1_s[p]), float(view.t2_s[p])
        idle += weight * (wait / (3 * t1) + wait / (3 * t2))
    total = placement.two_qubit + placement.one_qubit + placement.readout + idle
    return FidelityEstimate(
        fidelity=math.exp(-total),
        placement=placement,
        duration_s=duration + view.t_readout_s,
        idle=idle,
    )


def runtime_s(backend: Backend, circuit_duration_s: float, shots: int) -> float:
    """Estimated execution time of a task: overhead plus every shot."""
    tech = backend.technology
    per_shot = circuit_duration_s + REPETITION_DELAY_S.get(tech, 1e-4)
    return TASK_OVERHEAD_S.get(tech, 1.0) + shots * per_shot


def queue_wait_s(backend: Backend, assumed_s: float) -> tuple[float, bool]:
    """Expected wait before the task starts, and whether it is based on reported data."""
    status = backend.status
    if status.queue_avg_time_s is not None:
        return float(status.queue_avg_time_s), True
    if status.queue_size is not None:
        return float(status.queue_size) * TYPICAL_JOB_S, True
    if backend.is_simulator:
        return 0.0, False
    return assumed_s, False


@dataclass(frozen=True)
class CostEstimate:
    amount: float
    currency: str
    items: tuple[tuple[str, float], ...]


def estimate_cost(
    backend: Backend,
    *,
    shots: int,
    runtime: float,
    native_1q: int,
    native_2q: int,
    currency: str,
    exchange_rates: dict[str, float],
) -> CostEstimate:
    """Price of the task in ``currency`` from the backend's price list.

    Raises:
        KeyError: the price list's currency has no exchange rate.
    """
    pricing = backend.pricing
    source = pricing.currency or currency
    rate = exchange_rates[source] / exchange_rates[currency]
    items: list[tuple[str, float]] = []
    for item in pricing.items:
        units = {
            CostGranularity.TASK: 1.0,
            CostGranularity.SHOT: float(shots),
            CostGranularity.GATE_1Q_SHOT: float(native_1q * shots),
            CostGranularity.GATE_2Q_SHOT: float(native_2q * shots),
            CostGranularity.SECOND: runtime,
            CostGranularity.MINUTE: runtime / 60.0,
        }[item.granularity]
        items.append((item.granularity.value, item.amount * units * rate))
    amount = sum(v for _, v in items)
    if pricing.minimum_charge is not None and pricing.items:
        amount = max(amount, pricing.minimum_charge * rate)
    return CostEstimate(amount, currency, tuple(items))
