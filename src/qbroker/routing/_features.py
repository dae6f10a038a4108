"""What the router needs to know about a program, read in one pass over the circuit.

Gate costs are counted in *CNOT equivalents* (the number of CNOTs Qiskit's synthesis needs),
so they can be turned into any device's native two-qubit gates later by one factor. Diagonal
single-qubit gates (rz, p, s, t, z and their inverses) are free: every device in the catalog
implements them virtually (frame changes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from qiskit import QuantumCircuit

    from qbroker.model import Program

#: CNOT equivalents of two-qubit gates (Qiskit's decompositions).
TWO_QUBIT_CX: dict[str, int] = {
    "cx": 1,
    "cz": 1,
    "cy": 1,
    "ecr": 1,
    "ch": 2,
    "iswap": 2,
    "dcx": 2,
    "swap": 3,
    "rxx": 2,
    "ryy": 2,
    "rzz": 2,
    "rzx": 2,
    "xx_minus_yy": 2,
    "xx_plus_yy": 2,
    "crx": 2,
    "cry": 2,
    "crz": 2,
    "cp": 2,
    "cu1": 2,
    "cu3": 2,
    "cu": 2,
    "csx": 2,
    "ms": 1,
    "zz": 2,
    "cnot": 1,
    "unitary": 3,
}
#: CNOT equivalents of three-qubit gates, spread evenly over the three pairs.
THREE_QUBIT_CX: dict[str, int] = {
    "ccx": 6,
    "ccz": 6,
    "cswap": 8,
    "rccx": 3,
    "ccnot": 6,
    "toffoli": 6,
}
#: Two-qubit gates that Ising-type native gates (IonQ's ZZ / MS) do in one go: the Ising
#: rotations themselves, and controlled phases / rotations, which are one ZZ (or XX, YY)
#: rotation between single-qubit gates (cp(t) = rz(t/2) x rz(t/2) . rzz(-t/2)).
ISING = frozenset(
    {"rzz", "rxx", "ryy", "ms", "zz", "xx", "yy", "rzx", "cp", "cu1", "crz", "crx", "cry"}
)
DIAGONAL_1Q = frozenset(
    {"rz", "p", "u1", "z", "s", "sdg", "t", "tdg", "id", "i", "si", "ti", "phaseshift"}
)
NON_GATES = frozenset({"barrier", "delay", "measure", "reset", "store"})
CONTROL_FLOW = frozenset({"if_else", "while_loop", "for_loop", "switch_case", "box"})


@dataclass
class CircuitFeatures:
    """A gate-model program as the router sees it.

    Attributes:
        num_qubits: logical qubits the program declares.
        active: logical qubits that any operation touches.
        measured: logical qubits that are measured.
        interactions: (a, b) with a < b -> CNOT equivalents between them.
        one_qubit: logical qubit -> non-diagonal single-qubit gates on it.
        cx_total: CNOT equivalents in all.
        path_2q, path_1q: two- and single-qubit gates on the critical path (the path
            maximising ``10 * path_2q + path_1q``), for duration estimates.
        busy_2q, busy_1q: per logical qubit, gates it takes part in (for idle time).
        busy_ising: per logical qubit, the Ising-native gates it takes part in.
        start_2q, start_1q: per logical qubit, the critical-path position (2q, 1q gates
            before it) of its first operation: a qubit still in |0> does not decay.
        runs_1q: per logical qubit, its runs of single-qubit gates (between multi-qubit
            gates and measurements) that contain a non-diagonal gate: each becomes one
            arbitrary rotation after a transpiler merges the run.
        ops_1q, ops_2q: every single-qubit operation (diagonal ones and measurements
            included) per logical qubit, and every two-qubit operation per pair, as the
            circuit stands before translation to native gates: what Qiskit's VF2Layout
            weighs a layout's errors by.
        marginals: per measured logical qubit, the probability that the ideal circuit
            reads 1 there (exact, from a statevector, for circuits of at most
            :data:`MARGINAL_MAX_QUBITS` qubits without mid-circuit measurement; empty
            otherwise). Readout errors are asymmetric (a 1 decays to 0 while it is read),
            so which error applies depends on the bit the circuit should give.
        blocks: the consolidated two-qubit blocks in circuit order, as (a, b, CNOT
            equivalents, Ising-native gates): what a router must bring together, in turn.
        mid_circuit_measurement, resets, control_flow: features not every device has.
        gate_names: every operation name used.
    """

    num_qubits: int
    num_clbits: int
    active: frozenset[int]
    measured: frozenset[int]
    interactions: dict[tuple[int, int], int]
    #: the same in native gates of a device whose entangler is an Ising rotation (ZZ, MS),
    #: where rzz / rxx / ryy cost one gate instead of two CNOTs
    interactions_ising: dict[tuple[int, int], int]
    one_qubit: dict[int, int]
    cx_total: int
    path_2q: int
    path_1q: int
    busy_2q: dict[int, int]
    busy_1q: dict[int, int]
    start_2q: dict[int, int] = field(default_factory=dict)
    start_1q: dict[int, int] = field(default_factory=dict)
    blocks: tuple[tuple[int, int, int, int], ...] = ()
    runs_1q: dict[int, int] = field(default_factory=dict)
    ops_1q: dict[int, int] = field(default_factory=dict)
    ops_2q: dict[tuple[int, int], int] = field(default_factory=dict)
    marginals: dict[int, float] = field(default_factory=dict)
    busy_ising: dict[int, int] = field(default_factory=dict)
    mid_circuit_measurement: bool = False
    resets: bool = False
    control_flow: bool = False
    gate_names: frozenset[str] = field(default_factory=frozenset)

    @property
    def width(self) -> int:
        """Qubits a device must provide (the declared ones)."""
        return self.num_qubits


@dataclass(frozen=True)
class AnalogFeatures:
    """An AHS program as the router sees it."""

    num_sites: int
    num_filled: int
    duration_s: float


def analyse(program: Program) -> CircuitFeatures | AnalogFeatures:
    """Features of a program (gate-model or analog)."""
    if program.is_analog:
        parsed = program.parsed
        return AnalogFeatures(parsed.num_sites, parsed.num_filled, float(parsed.duration_s))
    return circuit_features(program.circuit)


#: Largest circuit whose ideal output the router computes (a statevector of 2^n amplitudes;
#: ~1 ms for the benchmark's 3-12-qubit circuits) and largest gate count.
MARGINAL_MAX_QUBITS = 14
MARGINAL_MAX_GATES = 5000


def ideal_marginals(circuit: QuantumCircuit, measured: set[int]) -> dict[int, float]:
    """P(1) of each measured qubit in the ideal output (exact), or {} where too costly."""
    if (
        not measured
        or circuit.num_qubits > MARGINAL_MAX_QUBITS
        or circuit.size() > MARGINAL_MAX_GATES
        or circuit.num_parameters
    ):
        return {}
    import numpy as np
    from qiskit.quantum_info import Statevector

    body = circuit.copy_empty_like()
    for instruction in circuit.data:  # measurements are final here: drop them
        if instruction.operation.name not in ("measure", "barrier"):
            body._append(instruction)  # documented fast path: no checks, no copies
    try:
        probabilities = Statevector(body).probabilities()
    except Exception:  # anything the statevector cannot take: no marginals, not an error
        return {}
    n = body.num_qubits
    tensor = probabilities.reshape((2,) * n)
    out: dict[int, float] = {}
    for q in measured:
        axis = n - 1 - q  # little-endian: qubit 0 is the last axis
        others = tuple(i for i in range(n) if i != axis)
        out[q] = float(np.clip(tensor.sum(axis=others)[1], 0.0, 1.0))
    return out


#: Weyl coordinates below this are zero (the unitaries are built in double precision).
WEYL_TOLERANCE = 1e-7
#: Basis order of a two-qubit matrix with its qubits exchanged (|01> and |10> swap places).
_SWAPPED = [0, 2, 1, 3]


def _block_counts(ops: list[tuple[object, tuple[int, ...]]]) -> tuple[int, int] | None:
    """Exact (CNOTs, Ising rotations) that synthesise a two-qubit block, or None.

    ``ops`` are the block's operations in order, each on local qubit 0, 1 or (0, 1). A
    two-qubit unitary is ``k1 . exp(i(a XX + b YY + c ZZ)) . k2`` with local ``k1, k2``
    (its Weyl coordinates ``a >= b >= |c|``): exact synthesis needs 0 CNOTs for the
    identity class, 1 for ``(pi/4, 0, 0)``, 2 when ``c = 0`` and 3 otherwise, which is what
    Qiskit's UnitarySynthesis emits; a device whose entangler is a parametrised Ising
    rotation needs one per non-zero coordinate. None when an operation has no matrix
    (unbound parameters, opaque gates): the caller keeps its table estimate.
    """
    import numpy as np
    from qiskit.synthesis import TwoQubitWeylDecomposition

    unitary: np.ndarray = np.eye(4, dtype=np.complex128)
    eye = np.eye(2, dtype=np.complex128)
    try:
        for op, where in ops:
            matrix: np.ndarray = np.asarray(op.to_matrix(), dtype=np.complex128)  # type: ignore[attr-defined]
            if len(where) == 2:
                if where == (1, 0):  # Qiskit's matrices are little-endian in their qargs
                    matrix = matrix[_SWAPPED][:, _SWAPPED]
            elif where == (0,):
                matrix = np.kron(eye, matrix)
            else:
                matrix = np.kron(matrix, eye)
            unitary = matrix @ unitary
        weyl = TwoQubitWeylDecomposition(unitary)
    except Exception:  # no matrix or not decomposable: keep the table estimate
        return None
    a, b, c = (abs(float(x)) > WEYL_TOLERANCE for x in (weyl.a, weyl.b, weyl.c))
    ising = int(a) + int(b) + int(c)
    if not (a or b or c):
        cx = 0
    elif c:
        cx = 3
    elif b:
        cx = 2
    else:
        cx = 1 if abs(float(weyl.a) - math.pi / 4) < WEYL_TOLERANCE else 2
    return cx, ising


def circuit_features(
    circuit: QuantumCircuit, *, clbit_marginals: dict[int, float] | None = None
) -> CircuitFeatures:
    """One pass over ``circuit`` (control-flow blocks are counted once, as if run once).

    ``clbit_marginals``: the ideal P(1) of each classical bit, when already known (a
    compiled circuit measures each logical qubit wherever routing left it, into the same
    bit); otherwise the marginals are computed from a statevector (small circuits only).

    Consecutive two-qubit gates on the same pair (single-qubit gates between them allowed;
    a barrier, measurement or reset on either qubit ends the run) form one block that a
    transpiler re-synthesises, as Qiskit's ConsolidateBlocks + UnitarySynthesis do: a block
    of several gates costs what its unitary's Weyl class needs (:func:`_block_counts`), a
    single gate what the tables above say. Gates on three or more qubits are read through
    their definitions.
    """
    index = {q: i for i, q in enumerate(circuit.qubits)}
    interactions: dict[tuple[int, int], int] = {}
    interactions_ising: dict[tuple[int, int], int] = {}
    block_ising: dict[tuple[int, int], int] = {}
    one_qubit: dict[int, int] = {}
    busy_2q: dict[int, int] = {}
    busy_ising: dict[int, int] = {}
    busy_1q: dict[int, int] = {}
    # per qubit: (critical-path weight, 2q count, 1q count) of the longest path ending there
    path: dict[int, tuple[int, int, int]] = {}
    measured: set[int] = set()
    active: set[int] = set()
    cx_total = 0
    start: dict[int, tuple[int, int, int]] = {}
    block_of: dict[int, tuple[int, int]] = {}  # qubit -> the pair whose block is open on it
    block_cost: dict[tuple[int, int], int] = {}
    # per open block: its operations on local qubits (0 = the pair's lower qubit) and its
    # two-qubit gate count; blocks of more than one gate are synthesised exactly on close
    block_ops: dict[tuple[int, int], list[tuple[object, tuple[int, ...]]]] = {}
    block_gates: dict[tuple[int, int], int] = {}
    blocks: list[tuple[int, int, int, int]] = []
    runs_1q: dict[int, int] = {}
    ops_1q: dict[int, int] = {}
    ops_2q: dict[tuple[int, int], int] = {}
    in_run: set[int] = set()  # qubits whose current single-qubit run is not diagonal
    clbit_of: dict[int, int] = {}  # measured qubit -> its (last) classical bit
    clbit_index = {c: i for i, c in enumerate(circuit.clbits)}
    raw_total = 0

    def cx_total_add(amount: int) -> None:
        nonlocal cx_total
        cx_total += amount

    def close(pair: tuple[int, int]) -> None:
        nonlocal cx_total
        cost = min(block_cost.pop(pair), 3)
        ising = min(block_ising.pop(pair), 3)
        ops = block_ops.pop(pair)
        if block_gates.pop(pair) > 1:
            exact = _block_counts(ops)
            if exact is not None:
                cost, ising = exact
        interactions[pair] = interactions.get(pair, 0) + cost
        interactions_ising[pair] = interactions_ising.get(pair, 0) + ising
        blocks.append((pair[0], pair[1], cost, ising))
        cx_total += cost
        for q in pair:
            busy_2q[q] = busy_2q.get(q, 0) + cost
            busy_ising[q] = busy_ising.get(q, 0) + ising
            if block_of.get(q) == pair:
                del block_of[q]

    def touch(qubits: list[int]) -> None:
        here = max((path.get(q, (0, 0, 0)) for q in qubits), default=(0, 0, 0))
        for q in qubits:
            start.setdefault(q, here)

    names: set[str] = set()
    mid = resets = flow = False

    def advance(qubits: list[int], add2: int, add1: int) -> None:
        start = max((path.get(q, (0, 0, 0)) for q in qubits), default=(0, 0, 0))
        end = (start[0] + 10 * add2 + add1, start[1] + add2, start[2] + add1)
        for q in qubits:
            path[q] = end

    def visit(instructions: object, mapping: dict[object, int]) -> None:
        nonlocal mid, resets, flow, raw_total
        for inst in instructions:  # type: ignore[attr-defined]
            op = inst.operation
            name = op.name
            names.add(name)
            qubits = [mapping[q] for q in inst.qubits]
            if name in CONTROL_FLOW or (hasattr(op, "blocks") and op.blocks):
                flow = True
                for block in op.blocks:
                    inner = {bq: qubits[i] for i, bq in enumerate(block.qubits)}
                    visit(block.data, inner)
                continue
            if name in ("barrier", "delay", "store"):
                if name == "barrier":  # nothing is optimised across a barrier
                    for q in qubits:
                        if q in block_of:
                            close(block_of[q])
                continue
            touch(qubits)
            active.update(qubits)
            if len(qubits) > 1 or name == "measure":
                in_run.difference_update(qubits)
            if len(qubits) == 1:
                ops_1q[qubits[0]] = ops_1q.get(qubits[0], 0) + 1
            if name in ("measure", "reset"):
                for q in qubits:
                    if q in block_of:
                        close(block_of[q])
            if name == "measure":
                measured.update(qubits)
                if inst.clbits and inst.clbits[0] in clbit_index:  # top level only
                    clbit_of[qubits[0]] = clbit_index[inst.clbits[0]]
                advance(qubits, 0, 0)
                continue
            if name == "reset":
                resets = True
                continue
            if measured.intersection(qubits):
                mid = True
            n = len(qubits)
            # gates on three or more qubits are synthesised from their definitions (as
            # Qiskit's Unroll3qOrMore does), whose two-qubit parts then form blocks
            known = n == 2 and name in TWO_QUBIT_CX
            if n >= 2 and not known and getattr(op, "definition", None) is not None:
                # a composite gate (MAJ, UMA, a user's gate ...): count what it is made of
                definition = op.definition
                visit(definition.data, {dq: qubits[i] for i, dq in enumerate(definition.qubits)})
                continue
            if n == 1:
                pair_open = block_of.get(qubits[0])
                if pair_open is not None:
                    block_ops[pair_open].append((op, (0 if qubits[0] == pair_open[0] else 1,)))
                if name not in DIAGONAL_1Q:
                    q = qubits[0]
                    if q not in in_run:
                        in_run.add(q)
                        runs_1q[q] = runs_1q.get(q, 0) + 1
                    one_qubit[q] = one_qubit.get(q, 0) + 1
                    busy_1q[q] = busy_1q.get(q, 0) + 1
                    advance(qubits, 0, 1)
                continue
            if n == 2:
                cost = TWO_QUBIT_CX.get(name, 3)
                a, b = sorted(qubits)
                pair = (a, b)
                if not (block_of.get(a) == pair and block_of.get(b) == pair):
                    for q in (a, b):
                        if q in block_of:
                            close(block_of[q])
                    block_of[a] = block_of[b] = pair
                    block_cost[pair] = 0
                    block_ising[pair] = 0
                    block_ops[pair] = []
                    block_gates[pair] = 0
                block_ops[pair].append((op, (0, 1) if qubits[0] == a else (1, 0)))
                block_gates[pair] += 1
                block_cost[pair] += cost
                block_ising[pair] += 1 if name in ISING else cost
                ops_2q[pair] = ops_2q.get(pair, 0) + 1
                raw_total += cost
                advance(qubits, cost, 2)
                continue
            for q in qubits:
                if q in block_of:
                    close(block_of[q])
            cost = THREE_QUBIT_CX.get(name, 2 * n * n)
            raw_total += cost
            pairs = [(qubits[i], qubits[j]) for i in range(n) for j in range(i + 1, n)]
            share = max(1, round(cost / len(pairs)))
            for a, b in pairs:
                key = (min(a, b), max(a, b))
                interactions[key] = interactions.get(key, 0) + share
                interactions_ising[key] = interactions_ising.get(key, 0) + share
                blocks.append((key[0], key[1], share, share))
                ops_2q[key] = ops_2q.get(key, 0) + share
            cx_total_add(share * len(pairs))
            for q in qubits:
                busy_2q[q] = busy_2q.get(q, 0) + share * (n - 1)
                busy_ising[q] = busy_ising.get(q, 0) + share * (n - 1)
            advance(qubits, cost, 2 * n)

    visit(circuit.data, index)
    for pair in list(block_cost):
        close(pair)
    longest = max(path.values(), default=(0, 0, 0))
    # the critical path was counted before blocks were consolidated: scale it the same way
    shrink = cx_total / raw_total if raw_total else 1.0
    if mid or resets or flow:
        marginals: dict[int, float] = {}
    elif clbit_marginals is not None:
        marginals = {q: clbit_marginals[c] for q, c in clbit_of.items() if c in clbit_marginals}
    else:
        marginals = ideal_marginals(circuit, measured)
    return CircuitFeatures(
        marginals=marginals,
        num_qubits=circuit.num_qubits,
        num_clbits=circuit.num_clbits,
        active=frozenset(active),
        measured=frozenset(measured),
        interactions=interactions,
        interactions_ising=interactions_ising,
        one_qubit=one_qubit,
        cx_total=cx_total,
        path_2q=round(longest[1] * shrink),
        path_1q=longest[2],
        busy_2q=busy_2q,
        busy_1q=busy_1q,
        start_2q={q: round(v[1] * shrink) for q, v in start.items()},
        start_1q={q: v[2] for q, v in start.items()},
        blocks=tuple(blocks),
        runs_1q=runs_1q,
        busy_ising=busy_ising,
        ops_1q=ops_1q,
        ops_2q=ops_2q,
        mid_circuit_measurement=mid,
        resets=resets,
        control_flow=flow,
        gate_names=frozenset(names),
    )
