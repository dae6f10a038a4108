"""The OpenQASM 2 and 3 writers (and the Hub inputs that embed their text) on circuits
nobody here wrote: mqt-bench's, loaded from QPY as the corpus report loads them.

Each case once came out wrong: a controlled ``UnitaryGate`` crashed both writers (ae),
classical bits came back permuted after QPY re-ordered the registers (grover), and an XOR
in a condition was written as text no reader here takes back (ghz_dynamic).
"""

from __future__ import annotations

import io

import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit import Clbit, Qubit

import qbroker
from qbroker import Program, UnsupportedError
from qbroker.formats import convert
from qbroker.testing import check_conversion, exact_distribution

TEXT_TARGETS = [
    "OPEN_QASM_V2",
    "OPEN_QASM_V3",
    "IBM_SAMPLER_V2",
    "QUDORA_JOB_INPUT",
    "KIPU_JOB_INPUT",
]
V3_TARGETS = ["OPEN_QASM_V3", "IBM_SAMPLER_V2", "QUDORA_JOB_INPUT"]


def _qpy_program(circuit: QuantumCircuit) -> Program:
    import qiskit.qpy

    buffer = io.BytesIO()
    qiskit.qpy.dump(circuit, buffer)
    return qbroker.load_program(buffer.getvalue(), "QISKIT_QPY", name=circuit.name)


def _mqt(family: str, size: int) -> Program:
    from mqt.bench import BenchmarkLevel, get_benchmark

    return _qpy_program(get_benchmark(family, BenchmarkLevel.INDEP, size))


@pytest.mark.parametrize("target", TEXT_TARGETS)
def test_controlled_unitary_is_written_as_its_exact_decomposition(target: str) -> None:
    report = check_conversion(_mqt("ae", 3), target)
    assert report.outcome == "exact", report.reason
    assert "unitary" in report.checks or "distribution" in report.checks


@pytest.mark.parametrize("target", TEXT_TARGETS)
def test_bits_keep_their_order_when_qpy_reorders_registers(target: str) -> None:
    report = check_conversion(_mqt("grover", 3), target)
    assert report.outcome == "exact", report.diff or report.reason
    assert "distribution" in report.checks


@pytest.mark.parametrize("target", V3_TARGETS)
def test_condition_the_readers_cannot_read_is_refused_not_written(target: str) -> None:
    report = check_conversion(_mqt("ghz_dynamic", 5), target)
    assert report.outcome == "refused", report.diff or report.reason
    assert "read back" in report.reason and "QISKIT_QPY" in report.reason


def _asymmetric(circuit: QuantumCircuit) -> QuantumCircuit:
    """X on qubit 0 only, every qubit measured into the bit of the same index."""
    circuit.x(0)
    for index in range(circuit.num_qubits):
        circuit.measure(index, index)
    return circuit


def _registers_out_of_bit_order() -> QuantumCircuit:
    late, early = ClassicalRegister(1, "late"), ClassicalRegister(2, "early")
    # bits in the order early[0], early[1], late[0]; registers declared late first
    circuit = QuantumCircuit(QuantumRegister(3, "q"), [*early, *late])
    circuit.add_register(late)
    circuit.add_register(early)
    return circuit


def _loose_bits() -> QuantumCircuit:
    c = ClassicalRegister(2, "c")
    return QuantumCircuit([Qubit(), *QuantumRegister(2, "q")], [Clbit(), *c], c)  # loose first


def _shared_bits() -> QuantumCircuit:
    bits = [Clbit() for _ in range(3)]
    return QuantumCircuit(
        QuantumRegister(3, "q"),
        ClassicalRegister(name="tail", bits=bits[1:]),
        ClassicalRegister(name="all", bits=bits),
    )


@pytest.mark.parametrize("target", ["OPEN_QASM_V2", "OPEN_QASM_V3"])
@pytest.mark.parametrize("build", [_registers_out_of_bit_order, _loose_bits, _shared_bits])
def test_bit_i_stays_bit_i_whatever_the_registers(target: str, build) -> None:
    source = _qpy_program(_asymmetric(build()))
    report = check_conversion(source, target)
    assert report.outcome == "exact", report.diff or report.reason
    counts_key = next(iter(exact_distribution(convert(source, target).parsed)))
    assert counts_key == "100"  # qbroker's keys: classical bit 0 leftmost


def test_unitary_gate_inside_a_custom_gate_is_written() -> None:
    from qiskit.circuit.library import UnitaryGate
    from qiskit.quantum_info import random_unitary

    inner = QuantumCircuit(3, name="block")
    inner.append(UnitaryGate(random_unitary(4, seed=7)).control(1), [0, 1, 2])
    outer = QuantumCircuit(3)
    outer.h(0)
    outer.append(inner.to_gate(), [0, 1, 2])
    for target in ["OPEN_QASM_V2", "OPEN_QASM_V3"]:
        report = check_conversion(Program(format="QISKIT_QPY", payload=_qpy_bytes(outer)), target)
        assert report.outcome == "exact", report.diff or report.reason
        assert "unitary" in report.checks


def _qpy_bytes(circuit: QuantumCircuit) -> bytes:
    import qiskit.qpy

    buffer = io.BytesIO()
    qiskit.qpy.dump(circuit, buffer)
    return buffer.getvalue()


def test_refusal_names_the_readers_and_the_way_out() -> None:
    with pytest.raises(UnsupportedError, match="cannot read back"):
        convert(_mqt("ghz_dynamic", 5), "OPEN_QASM_V3").parsed  # noqa: B018
