"""A backend's calibration as dense arrays, for fast placement scoring.

Built once per process per backend and calibration (a 156-qubit device takes a few
milliseconds). Errors are stored as *costs* ``-log(1 - error)`` so that the fidelity of a
set of operations is ``exp(-sum of costs)``. A figure missing for one qubit or coupler takes
the device's median; a figure missing on the whole device counts as zero error, and the
candidate says so in its notes.
"""

from __future__ import annotations

import hashlib
import math
import statistics
import threading
from dataclasses import dataclass, field

import numpy as np

from qbroker.model import Backend

#: Native two-qubit gates that implement a CNOT with one application (with 1q gates).
_ONE_FOR_ONE = frozenset({"cz", "cx", "ecr", "ms", "zz", "rzz", "xx", "cnot", "rxx", "cy"})
#: Gates treated as single-qubit work for error purposes (virtual Z rotations excluded).
_VIRTUAL_1Q = frozenset({"rz", "p", "u1", "z", "s", "sdg", "t", "tdg", "id", "i", "delay"})
_UNREACHABLE = 1e9
#: How far from an already placed partner the placement search looks (couplers).
NEAR_HOPS = 2
#: Single-qubit pulses in transpiled circuits, per (non-diagonal logical 1q gate, CNOT
#: equivalent per qubit), by native basis. Least-squares fits of the pulse counts (sx + x,
#: prx / r) that Qiskit 2.1's optimization level 3 produced for the mqt-bench circuits of
#: benchmarks/routing that embed without SWAPs (31; all 84 on the all-to-all device):
#: runs of gates merge into one rotation, and a rotation costs one pulse (prx, r) or one
#: to two (sx), so the counts are well below "two pulses per gate"; on Ising-native
#: devices the pulses sit around the entanglers instead.
ONE_QUBIT_PULSES = {
    "sx+cz": (1.8, 0.5),
    "sx+ecr": (1.5, 0.9),
    "two-angle": (1.4, 1.1),
    "ising": (0.8, 1.6),  # per Ising-native gate (rzz, cp ...) a qubit takes part in
}
SWAP_SEARCH_PENALTY = 0.5


@dataclass(frozen=True)
class DeviceView:
    """Dense per-qubit and per-pair figures of one backend.

    Attributes:
        n: qubits.
        fully_connected: all-to-all device (no routing).
        hops: (n, n) shortest-path distances in couplers (1 between neighbours).
        path_cost: (n, n) cheapest sum of two-qubit costs along a path.
        edge_cost: (n, n) two-qubit cost between neighbours (inf elsewhere).
        one_qubit_cost, readout_cost: (n,) costs.
        t1_s, t2_s: (n,) seconds (inf when unknown).
        cx_factor: native two-qubit gates per CNOT.
        t_1q_s, t_2q_s, t_readout_s: typical durations.
        seeds: good starting qubits for placement, best first.
        missing: figures the calibration lacks on the whole device.
    """

    backend_id: str
    n: int
    fully_connected: bool
    hops: np.ndarray
    path_cost: np.ndarray
    edge_cost: np.ndarray
    one_qubit_cost: np.ndarray
    readout_cost: np.ndarray
    t1_s: np.ndarray
    t2_s: np.ndarray
    cx_factor: int
    #: the native entangler is an Ising rotation (IonQ ZZ / MS): rzz-type gates are one gate
    #: and need no single-qubit basis changes around them
    ising_native: bool
    #: native single-qubit pulses per arbitrary rotation: 2 for sx / rx(pi/2) / gpi2 bases
    #: (U = rz sx rz sx rz), 1 where a two-angle rotation (prx, r, u) is native.
    oneq_factor: int
    t_1q_s: float
    t_2q_s: float
    t_readout_s: float
    seeds: tuple[int, ...]
    missing: tuple[str, ...]
    #: (n, n) cost of one native 2q gate between two placed qubits (cheapest path's mean
    #: coupler cost), and of the SWAP chain that brings them together (inf: unreachable).
    per_gate: np.ndarray
    swap_chain: np.ndarray
    #: swap_chain plus :data:`SWAP_SEARCH_PENALTY` per SWAP: what placement search minimises,
    #: so that, like Qiskit's VF2Layout before Sabre, an embedding without SWAPs wins
    #: whenever one is found, and error rates decide among embeddings.
    swap_search: np.ndarray
    #: per physical qubit: its coupled neighbours and the two-qubit cost to each, and the
    #: hop distances as nested lists (for the routing simulation's scalar loop)
    neighbours: tuple[tuple[tuple[int, float], ...], ...] = ()
    hops_list: tuple[tuple[int, ...], ...] = ()
    #: (n, d) per physical qubit, the qubits at most NEAR_HOPS couplers away (nearest
    #: first), padded with the qubit itself: where the placement search puts a logical
    #: qubit next to an already placed partner
    near: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.intp))
    #: native single-qubit pulses Qiskit's level-3 output has per non-diagonal logical
    #: single-qubit gate and per CNOT equivalent a qubit takes part in (see
    #: :data:`ONE_QUBIT_PULSES`)
    pulses_per_1q: float = 2.0
    pulses_per_2q: float = 2.0
    #: what a calibration-aware transpiler ranks layouts by (Qiskit's VF2 scoring): per
    #: qubit the mean error of its single-qubit instructions, measurement included, as a
    #: cost; per pair the mean coupler cost along the cheapest path (inf: unreachable)
    #: per qubit P(read 1 | prepared 0) and P(read 0 | prepared 1) (the readout error
    #: where the vendor gives only that)
    flip0: np.ndarray = field(default_factory=lambda: np.zeros(0))
    flip1: np.ndarray = field(default_factory=lambda: np.zeros(0))
    average_1q_cost: np.ndarray = field(default_factory=lambda: np.zeros(0))
    average_per_gate: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    #: the median coupler's two-qubit cost (0 without couplers)
    typical_2q_cost: float = 0.0
    #: qubit count, couplers and native gates, hashed: backends with the same class route
    #: a circuit the same way (see :mod:`qbroker.routing._refine`)
    coupling_class: str = ""


_CACHE: dict[tuple[object, ...], DeviceView] = {}
_LOCK = threading.Lock()


def device_view(backend: Backend) -> DeviceView:
    """The (cached) dense view of ``backend``."""
    cal = backend.calibration
    key = (
        backend.id,
        cal.calibrated_at if cal else None,
        backend.configuration.qubit_count,
        len(cal.gates) if cal else 0,
        len(cal.qubits) if cal else 0,
        id(cal),
    )
    view = _CACHE.get(key)
    if view is None:
        view = _build(backend)
        with _LOCK:
            if len(_CACHE) > 512:
                _CACHE.clear()
            _CACHE[key] = view
    return view


def _cost(error: float | None) -> float:
    if error is None:
        return 0.0
    return -math.log(max(1e-12, 1.0 - min(error, 0.999999)))


def _median_or(values: list[float], default: float) -> float:
    return statistics.median(values) if values else default


def _build(backend: Backend) -> DeviceView:
    n = backend.configuration.qubit_count
    cal = backend.calibration
    missing: list[str] = []
    natives = {g.name.lower() for g in backend.configuration.gates}
    entanglers = {g.name.lower() for g in backend.configuration.gates if g.qubits == 2}
    cx_factor = 1 if (entanglers & _ONE_FOR_ONE or not entanglers) else 2
    ising_native = bool(entanglers & {"ms", "zz", "rzz", "xx", "rxx"})
    oneq_factor = 1 if natives & {"prx", "r", "u", "u3"} or ising_native else 2
    if ising_native:
        basis = "ising"
    elif oneq_factor == 1:
        basis = "two-angle"
    elif "ecr" in entanglers:
        basis = "sx+ecr"
    else:
        basis = "sx+cz"
    pulses_per_1q, pulses_per_2q = ONE_QUBIT_PULSES[basis]

    readout = np.full(n, np.nan)
    flip0 = np.full(n, np.nan)  # P(read 1 | prepared 0)
    flip1 = np.full(n, np.nan)  # P(read 0 | prepared 1)
    t1 = np.full(n, np.inf)
    t2 = np.full(n, np.inf)
    ro_duration: list[float] = []
    if cal is not None:
        for q in cal.qubits:
            if q.readout_error is not None:
                readout[q.qubit] = q.readout_error
            elif q.prob_meas0_prep1 is not None and q.prob_meas1_prep0 is not None:
                readout[q.qubit] = 0.5 * (q.prob_meas0_prep1 + q.prob_meas1_prep0)
            if q.prob_meas1_prep0 is not None:
                flip0[q.qubit] = q.prob_meas1_prep0
            if q.prob_meas0_prep1 is not None:
                flip1[q.qubit] = q.prob_meas0_prep1
            if q.t1_us is not None:
                t1[q.qubit] = q.t1_us * 1e-6
            if q.t2_us is not None:
                t2[q.qubit] = q.t2_us * 1e-6
            if q.readout_duration_ns is not None:
                ro_duration.append(q.readout_duration_ns * 1e-9)
    readout_known = readout[~np.isnan(readout)]
    if readout_known.size == 0:
        missing.append("readout error")
        readout[:] = 0.0
    else:
        readout[np.isnan(readout)] = float(np.median(readout_known))
    # without the asymmetric figures, either error is the (mean) readout error
    flip0 = np.where(np.isnan(flip0), readout, flip0)
    flip1 = np.where(np.isnan(flip1), readout, flip1)
    t2 = np.minimum(t2, 2 * t1)

    one_q: dict[int, list[float]] = {}
    one_q_durations: list[float] = []
    two_q: dict[tuple[int, int], float] = {}
    two_q_durations: list[float] = []
    if cal is not None:
        for g in cal.gates:
            name = g.gate.lower()
            if name in _VIRTUAL_1Q or name in ("measure", "reset"):
                if name == "measure" and g.duration_ns is not None:
                    ro_duration.append(g.duration_ns * 1e-9)
                continue
            if len(g.qubits) == 1:
                if g.error is not None:
                    one_q.setdefault(g.qubits[0], []).append(g.error)
                if g.duration_ns:
                    one_q_durations.append(g.duration_ns * 1e-9)
            elif len(g.qubits) == 2 and name in natives | {"cz", "cx", "ecr", "iswap", "ms", "zz"}:
                a, b = g.qubits
                key = (min(a, b), max(a, b))
                if g.error is not None:
                    # the best native gate (and direction) on a pair is the one to use
                    two_q[key] = min(two_q.get(key, 1.0), g.error)
                if g.duration_ns:
                    two_q_durations.append(g.duration_ns * 1e-9)
    one_qubit = np.zeros(n)
    if one_q:
        per_qubit = {q: statistics.mean(v) for q, v in one_q.items()}
        default = float(statistics.median(per_qubit.values()))
        for index in range(n):
            one_qubit[index] = _cost(per_qubit.get(index, default))
    else:
        missing.append("1q gate error")

    conn = backend.configuration.connectivity
    edges = list(backend.coupling_edges()) if not conn.fully_connected else []
    default_2q = _median_or(list(two_q.values()), 0.0)
    if not two_q:
        missing.append("2q gate error")
    edge_cost = np.full((n, n), np.inf)
    if conn.fully_connected:
        edge_cost[:] = _cost(default_2q)
        for (a, b), e in two_q.items():
            edge_cost[a, b] = edge_cost[b, a] = _cost(e)
        np.fill_diagonal(edge_cost, 0.0)
        hops = np.ones((n, n)) - np.eye(n)
        path_cost = edge_cost.copy()
    else:
        for a, b in set(edges) | set(two_q):
            c = _cost(two_q.get((min(a, b), max(a, b)), default_2q))
            edge_cost[a, b] = edge_cost[b, a] = c
        hops, path_cost = _shortest_paths(n, edge_cost)

    local = readout_cost = np.array([_cost(float(r)) for r in readout])
    average_1q = np.zeros(n)
    for index in range(n):
        # one figure per calibrated native gate on the qubit, plus the readout
        figures = list(one_q.get(index, []))
        figures.append(float(readout[index]))
        average_1q[index] = _cost(statistics.fmean(figures))
    neighbour = np.where(np.isfinite(edge_cost), edge_cost, np.nan)
    np.fill_diagonal(neighbour, np.nan)
    with np.errstate(all="ignore"):
        mean_edge = np.nanmean(neighbour, axis=1) if n else np.zeros(0)
    mean_edge = np.where(np.isnan(mean_edge), _UNREACHABLE, mean_edge)
    quality = local + one_qubit + mean_edge
    seeds = tuple(int(q) for q in np.argsort(quality, kind="stable"))

    with np.errstate(divide="ignore", invalid="ignore"):
        per_gate = np.where(hops > 0, path_cost / hops, 0.0)
        swap_chain = 3.0 * cx_factor * np.clip(hops - 1.0, 0.0, None) * per_gate
    per_gate = np.nan_to_num(per_gate, nan=np.inf, posinf=np.inf)
    swap_chain = np.nan_to_num(swap_chain, nan=np.inf, posinf=np.inf)
    swap_search = swap_chain + SWAP_SEARCH_PENALTY * np.clip(hops - 1.0, 0.0, None)
    neighbours: tuple[tuple[tuple[int, float], ...], ...] = ()
    hops_list: tuple[tuple[int, ...], ...] = ()
    #: (n, d) per physical qubit, the qubits at most NEAR_HOPS couplers away (nearest
    #: first), padded with the qubit itself: where the placement search puts a logical
    #: qubit next to an already placed partner
    near: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.intp))
    if not conn.fully_connected:
        neighbours = tuple(
            tuple(
                (int(j), float(edge_cost[i, j]))
                for j in np.nonzero(np.isfinite(edge_cost[i]))[0]
                if j != i
            )
            for i in range(n)
        )
        capped = np.where(np.isfinite(hops), hops, n + 1).astype(int)
        hops_list = tuple(tuple(row) for row in capped.tolist())
        rings: list[list[int]] = []
        for i in range(n):
            row = capped[i]
            ring = [int(j) for j in np.nonzero((row >= 1) & (row <= NEAR_HOPS))[0]]
            rings.append(sorted(ring, key=lambda j: (int(row[j]), j)))
        width = max((len(r) for r in rings), default=0)
        near = np.array(
            [list(r) + [i] * (width - len(r)) for i, r in enumerate(rings)], dtype=np.intp
        )
    else:
        near = np.zeros((n, 0), dtype=np.intp)
    finite = edge_cost[np.isfinite(edge_cost) & (edge_cost > 0)]
    coupling = sorted({(min(a, b), max(a, b)) for a, b in backend.coupling_edges()})
    signature = f"{n}|{coupling}|{sorted(natives)}"
    return DeviceView(
        coupling_class=hashlib.sha256(signature.encode()).hexdigest()[:16],
        typical_2q_cost=float(np.median(finite)) if finite.size else 0.0,
        near=near,
        average_1q_cost=average_1q,
        average_per_gate=per_gate,
        neighbours=neighbours,
        hops_list=hops_list,
        swap_search=swap_search,
        per_gate=per_gate,
        swap_chain=swap_chain,
        backend_id=backend.id,
        n=n,
        fully_connected=conn.fully_connected,
        hops=hops,
        path_cost=path_cost,
        edge_cost=edge_cost,
        one_qubit_cost=one_qubit,
        readout_cost=readout_cost,
        flip0=flip0,
        flip1=flip1,
        t1_s=t1,
        t2_s=t2,
        cx_factor=cx_factor,
        ising_native=ising_native,
        oneq_factor=oneq_factor,
        pulses_per_1q=pulses_per_1q,
        pulses_per_2q=pulses_per_2q,
        t_1q_s=_median_or(one_q_durations, 50e-9),
        t_2q_s=_median_or(two_q_durations, 300e-9),
        t_readout_s=_median_or(ro_duration, 1e-6),
        seeds=seeds,
        missing=tuple(missing),
    )


def _shortest_paths(n: int, edge_cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hop counts and cheapest-path costs between every pair (rustworkx, in Rust)."""
    import rustworkx as rx

    graph = rx.PyGraph(multigraph=False)
    graph.add_nodes_from(range(n))
    rows, cols = np.nonzero(np.isfinite(edge_cost) & ~np.eye(n, dtype=bool))
    pairs = [
        (int(a), int(b), float(edge_cost[a, b])) for a, b in zip(rows, cols, strict=True) if a < b
    ]
    graph.add_edges_from(pairs)
    hops = np.array(rx.distance_matrix(graph, null_value=np.inf), dtype=float)
    np.fill_diagonal(hops, 0.0)
    cost = np.array(rx.floyd_warshall_numpy(graph, weight_fn=float, default_weight=1.0))
    return hops, cost
