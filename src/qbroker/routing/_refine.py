"""Settling close calls with the compiler itself.

The estimators predict what a transpiler will do to a circuit. For circuits that embed in
the device's coupling graph the prediction is close (the layout search plays Qiskit's
VF2Layout). For circuits that need SWAPs it is not: Qiskit's SabreLayout routes from
randomised trials, and which coupling pattern the routed circuit ends up with decides which
region of the device VF2PostLayout can move it to. No model short of Sabre itself predicts
that pattern (measured on benchmarks/routing: pricing the *exact* circuit Qiskit compiles
with one seed ranks backends for the circuit compiled with another seed no better than this
router's model does).

So when the backends that could win are within :attr:`qbroker.model.Policy.refine_margin`
of each other in expected fidelity and some of them need routing, the router runs the
calibration-independent part of the very compilation the job will get
(:func:`qbroker._transpiler.staged_pass_manager` with the job's optimization level and
seed: the init and layout stages, which route) once per *coupling class* (backends with the
same qubit count, couplers and native gates: drifted twins of one device share it), and
prices the routed circuit on each backend of the class, placed as VF2PostLayout places it.
That is the circuit `qbroker run` / `qbroker convert` will submit with the same
optimization level and seed, so the estimate is no longer a guess about the compiler.
The time it may take is bounded by :attr:`qbroker.model.Policy.refine_budget_s` (predicted
from the circuit's two-qubit blocks before compiling, so the decision stays deterministic).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from qbroker.model import Backend
from qbroker.routing._device import device_view
from qbroker.routing._features import CircuitFeatures, circuit_features

if TYPE_CHECKING:  # pragma: no cover
    from qiskit import QuantumCircuit

#: Predicted seconds of compilation (init + layout stages, Qiskit 2.1, level 3, 127-156
#: qubit devices) per consolidated two-qubit block of the circuit: 1.2 ms, measured on
#: the routing benchmark's circuits that need SWAPs (3-20 qubits, 4-222 blocks).
SECONDS_PER_BLOCK = 1.2e-3
#: Fixed part of a compilation (pass-manager set-up, DAG conversion), seconds.
SECONDS_FIXED = 5e-3


#: Pass managers kept for reuse, keyed by target, optimization level and seed.
_MANAGERS: dict[tuple[int, int, int], tuple[Any, Any, Any]] = {}
_MANAGERS_KEPT = 32
_LOCK = threading.Lock()


def coupling_class(backend: Backend) -> str:
    """Backends with the same key compile a routed circuit the same way (Sabre does not
    look at calibration): qubit count, couplers and native gate names. Kept in the
    backend's (cached) device view."""
    return device_view(backend).coupling_class


def predicted_seconds(features: CircuitFeatures) -> float:
    """What compiling ``features``' circuit for one coupling class is expected to take."""
    return SECONDS_FIXED + SECONDS_PER_BLOCK * len(features.blocks)


def compiled_features(
    circuit: QuantumCircuit,
    backend: Backend,
    *,
    optimization_level: int,
    seed: int,
    marginals: dict[int, float],
) -> tuple[CircuitFeatures, dict[int, int]] | None:
    """Features of ``circuit`` as the job's compilation lays it out and routes it for
    ``backend``, on the physical qubits it touches (renumbered from 0 in physical order),
    and where each of the circuit's qubits starts among them; None when the compiler
    refuses the circuit (the fast estimate then stands).

    ``marginals``: the ideal P(1) per classical bit (the routed circuit measures each
    logical qubit wherever routing left it, into the same bit).
    """
    from qiskit.exceptions import QiskitError
    from qiskit.transpiler import StagedPassManager

    from qbroker._transpiler import staged_pass_manager
    from qbroker.device import device_model
    from qbroker.errors import QBrokerError

    try:
        target = device_model(backend).target
        key = (id(target), optimization_level, seed)
        with _LOCK:  # pass managers are reused (building one takes ~10 ms), not shared
            found = _MANAGERS.get(key)
            if found is None or found[0] is not target:
                full = staged_pass_manager(target, optimization_level=optimization_level, seed=seed)
                stages = StagedPassManager(
                    stages=["init", "layout"], init=full.init, layout=full.layout
                )
                if len(_MANAGERS) >= _MANAGERS_KEPT:
                    _MANAGERS.pop(next(iter(_MANAGERS)))
                found = _MANAGERS[key] = (target, stages, full.routing)
            _, stages, routing = found
            routed = stages.run(circuit)
            layout = routed.layout  # the initial layout (a second pass manager run drops it)
            edges = {(min(a, b), max(a, b)) for a, b in backend.coupling_edges()}
            if not _mapped(routed, edges) and routing is not None:
                routed = routing.run(routed)  # a layout stage that does not route (level 0)
        reduced, used = _touched(routed)
    except (QiskitError, QBrokerError, ValueError):  # TranspilerError is a QiskitError
        return None
    index = {p: i for i, p in enumerate(used)}
    start: dict[int, int] = {}
    if layout is not None:
        initial = layout.initial_layout
        for a, q in enumerate(circuit.qubits):
            p = initial[q]
            if p in index:
                start[a] = index[p]
    return circuit_features(reduced, clbit_marginals=marginals), start


def clbit_marginals(circuit: QuantumCircuit, features: CircuitFeatures) -> dict[int, float]:
    """The ideal P(1) of each classical bit that a final measurement writes."""
    out: dict[int, float] = {}
    for inst in circuit.data:
        if inst.operation.name == "measure":
            q = circuit.find_bit(inst.qubits[0]).index
            if q in features.marginals:
                out[circuit.find_bit(inst.clbits[0]).index] = features.marginals[q]
    return out


def _mapped(circuit: QuantumCircuit, edges: set[tuple[int, int]]) -> bool:
    for inst in circuit.data:
        if len(inst.qubits) == 2 and inst.operation.name != "barrier":
            a, b = (circuit.find_bit(q).index for q in inst.qubits)
            if (min(a, b), max(a, b)) not in edges:
                return False
    return True


def _touched(circuit: QuantumCircuit) -> tuple[QuantumCircuit, list[int]]:
    """``circuit`` on the qubits its operations touch (barriers alone do not), renumbered
    in physical order, and those physical qubits; classical bits unchanged. (Unlike the
    emulator's ``reduce_to_touched`` it keeps barriers: they end two-qubit blocks.)"""
    from qiskit import QuantumCircuit
    from qiskit.circuit import Barrier

    used = sorted(
        {
            circuit.find_bit(q).index
            for inst in circuit.data
            if inst.operation.name != "barrier"
            for q in inst.qubits
        }
    )
    index = {p: i for i, p in enumerate(used)}
    out = QuantumCircuit(len(used), circuit.num_clbits)
    for inst in circuit.data:
        qubits = [circuit.find_bit(q).index for q in inst.qubits]
        operation = inst.operation
        if operation.name == "barrier":
            qubits = [q for q in qubits if q in index]
            if not qubits:
                continue
            operation = Barrier(len(qubits))
        out.append(
            operation,
            [out.qubits[index[q]] for q in qubits],
            [out.clbits[circuit.find_bit(c).index] for c in inst.clbits],
            copy=False,
        )
    return out, used
