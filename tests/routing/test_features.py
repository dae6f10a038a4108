"""Circuit features: two-qubit blocks are counted as a transpiler synthesises them.

Qiskit's optimisation levels 2-3 collect runs of gates on one pair of qubits into a block and
re-synthesise its unitary with the fewest entanglers its Weyl class needs. The router counts
blocks the same way, so these checks use Qiskit's own transpiler as the oracle.
"""

from __future__ import annotations

import math

import pytest
from qiskit import QuantumCircuit, transpile
from qiskit.circuit.library import CXGate
from qiskit.circuit.random import random_circuit
from qiskit.quantum_info import Operator
from qiskit.synthesis import TwoQubitBasisDecomposer

from qbroker.routing import circuit_features


def transpiled_cx(circuit: QuantumCircuit) -> int:
    out = transpile(circuit, basis_gates=["cx", "u"], optimization_level=3, seed_transpiler=7)
    return out.count_ops().get("cx", 0)


@pytest.mark.parametrize("seed", range(12))
def test_two_qubit_circuit_costs_what_qiskit_synthesises(seed: int) -> None:
    # a whole two-qubit circuit is one block: it costs what Qiskit's two-qubit synthesis
    # of its unitary emits
    circuit = random_circuit(2, 8, max_operands=2, seed=seed)
    synthesised = TwoQubitBasisDecomposer(CXGate())(Operator(circuit))
    features = circuit_features(circuit)
    assert features.cx_total == synthesised.count_ops().get("cx", 0)


def test_cancelling_cnots_cost_nothing_but_a_barrier_keeps_them() -> None:
    cancelling = QuantumCircuit(2)
    cancelling.cx(0, 1)
    cancelling.cx(0, 1)
    assert circuit_features(cancelling).cx_total == 0

    kept = QuantumCircuit(2)
    kept.cx(0, 1)
    kept.barrier()
    kept.cx(0, 1)
    assert circuit_features(kept).cx_total == 2 == transpiled_cx(kept)


def test_cnots_in_opposite_directions_are_one_block() -> None:
    circuit = QuantumCircuit(2)
    circuit.cx(0, 1)
    circuit.cx(1, 0)
    circuit.cx(0, 1)  # a SWAP: 3 CNOTs, not fewer
    assert circuit_features(circuit).cx_total == 3 == transpiled_cx(circuit)
    circuit.cx(0, 1)  # swap . cx: still at most 3, here 2
    assert circuit_features(circuit).cx_total == transpiled_cx(circuit) == 2


def test_ising_rotations_on_one_pair_merge_into_one_native_gate() -> None:
    circuit = QuantumCircuit(2)
    circuit.rzz(0.3, 0, 1)
    circuit.rz(0.2, 0)  # diagonal: commutes with ZZ, the class stays ZZ-only
    circuit.rzz(0.4, 0, 1)
    features = circuit_features(circuit)
    assert features.interactions_ising[(0, 1)] == 1
    assert features.interactions[(0, 1)] == 2  # CNOT synthesis needs two


def test_toffoli_is_counted_from_its_decomposition() -> None:
    circuit = QuantumCircuit(3)
    circuit.h(2)
    circuit.ccx(0, 1, 2)
    features = circuit_features(circuit)
    assert features.cx_total == transpiled_cx(circuit) == 6
    assert set(features.interactions) == {(0, 1), (0, 2), (1, 2)}


def test_unbound_parameters_fall_back_to_the_gate_table() -> None:
    from qiskit.circuit import Parameter

    theta = Parameter("t")
    circuit = QuantumCircuit(2)
    circuit.cx(0, 1)
    circuit.ry(theta, 0)
    circuit.cx(0, 1)
    features = circuit_features(circuit)
    assert features.cx_total == 2
    assert math.isfinite(features.cx_total)
