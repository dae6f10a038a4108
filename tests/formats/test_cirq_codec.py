"""CIRQ_JSON: Cirq circuits read and written exactly (unitary with global phase, output
distribution, measurement keys -> classical bits in order of first appearance), checked
against Cirq's own unitary and simulator, with round trips and bad input."""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from typing import Any

import cirq
import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit.library import get_standard_gate_name_mapping
from qiskit.quantum_info import Operator, Statevector

import qbroker
from qbroker import InputFormat, Program, ProgramError, UnsupportedError
from qbroker.formats import WriteOptions, convert, detect_format
from qbroker.formats.cirq_json import read_cirq_json, write_cirq_json

OPTIONS = WriteOptions()
a, b, c = cirq.LineQubit.range(3)


def document(circuit: cirq.Circuit) -> dict[str, Any]:
    """What travels: cirq.to_json text, parsed."""
    parsed: dict[str, Any] = json.loads(cirq.to_json(circuit))
    return parsed


def read(circuit: cirq.Circuit) -> QuantumCircuit:
    return read_cirq_json(document(circuit))


def back_to_cirq(qc: QuantumCircuit) -> cirq.Circuit:
    text = json.dumps(write_cirq_json(qc, None, OPTIONS), allow_nan=False)
    circuit = cirq.read_json(json_text=text)
    assert isinstance(circuit, cirq.Circuit)
    return circuit


def qiskit_unitary(qc: QuantumCircuit) -> np.ndarray:
    """Qiskit's matrix in Cirq's (big-endian) qubit order."""
    bare = qc.remove_final_measurements(inplace=False)
    return np.asarray(Operator(bare).reverse_qargs().data)


def same_matrix(u: np.ndarray, v: np.ndarray) -> bool:
    """Equal, global phase included."""
    return u.shape == v.shape and bool(np.allclose(u, v, atol=1e-9))


def cirq_distribution(circuit: cirq.Circuit) -> dict[str, float]:
    """Exact distribution of a Cirq circuit with terminal measurements, as qbroker keys:
    keys in order of first appearance, each key's bits in its measurement's qubit order."""
    order = sorted(circuit.all_qubits())
    measurements = [
        op for op in circuit.all_operations() if isinstance(op.gate, cirq.MeasurementGate)
    ]
    unitary_part = cirq.Circuit(
        op for op in circuit.all_operations() if not isinstance(op.gate, cirq.MeasurementGate)
    )
    state = cirq.final_state_vector(
        unitary_part, qubit_order=order, ignore_terminal_measurements=True, dtype=np.complex128
    )
    out: dict[str, float] = defaultdict(float)
    n = len(order)
    for index, amplitude in enumerate(state):
        p = abs(amplitude) ** 2
        if p < 1e-12:
            continue
        bits = {q: (index >> (n - 1 - i)) & 1 for i, q in enumerate(order)}
        key = ""
        for op in measurements:
            mask = op.gate.full_invert_mask()
            key += "".join(str(bits[q] ^ int(mask[j])) for j, q in enumerate(op.qubits))
        out[key] += p
    return dict(out)


def qiskit_distribution(qc: QuantumCircuit) -> dict[str, float]:
    """Exact distribution of a Qiskit circuit with terminal measurements (bit 0 leftmost)."""
    reads = {
        qc.find_bit(i.clbits[0]).index: qc.find_bit(i.qubits[0]).index
        for i in qc.data
        if i.operation.name == "measure"
    }
    out: dict[str, float] = defaultdict(float)
    probabilities = Statevector(qc.remove_final_measurements(inplace=False)).probabilities()
    for index, p in enumerate(probabilities):
        if p < 1e-12:
            continue
        key = "".join(str((index >> reads[i]) & 1) for i in range(qc.num_clbits))
        out[key] += float(p)
    return dict(out)


def close(p: dict[str, float], q: dict[str, float]) -> bool:
    keys = set(p) | set(q)
    return all(abs(p.get(k, 0.0) - q.get(k, 0.0)) < 1e-9 for k in keys)


# --------------------------------------------------------------------------------------
# reading: every gate family, exact unitary (global phase included)
# --------------------------------------------------------------------------------------

CIRQ_GATES: list[Any] = [
    cirq.X, cirq.Y, cirq.Z, cirq.H, cirq.S, cirq.T, cirq.S**-1, cirq.T**-1,
    cirq.X**0.5, cirq.X**-0.5, cirq.X**0.3, cirq.Y**0.37, cirq.Z**0.3, cirq.H**0.3,
    cirq.XPowGate(exponent=0.7, global_shift=0.2), cirq.ZPowGate(exponent=0.3, global_shift=-0.5),
    cirq.rx(0.3), cirq.ry(-0.4), cirq.rz(1.2), cirq.PhasedXPowGate(phase_exponent=0.3, exponent=0.6),
    cirq.CNOT, cirq.CNOT**0.3, cirq.CZ, cirq.CZ**0.7, cirq.CZPowGate(exponent=0.3, global_shift=0.1),
    cirq.SWAP, cirq.SWAP**0.3, cirq.ISWAP, cirq.ISWAP**0.3, cirq.ISWAP**-1, cirq.ISWAP**2.5,
    cirq.XX, cirq.XX**0.3, cirq.YY**0.4, cirq.ZZ**0.2, cirq.ZZPowGate(exponent=0.4, global_shift=-0.5),
    cirq.CCX, cirq.CCX**0.3, cirq.CCZ, cirq.CCZ**0.5, cirq.CSWAP,
    cirq.ControlledGate(cirq.Y), cirq.ControlledGate(cirq.rx(0.3), num_controls=2, control_values=(0, 1)),
    cirq.FSimGate(0.3, 0.5), cirq.PhasedISwapPowGate(phase_exponent=0.2, exponent=0.4),
    cirq.MatrixGate(cirq.testing.random_unitary(4, random_state=1)),
]  # fmt: skip


@pytest.mark.parametrize("gate", CIRQ_GATES, ids=lambda g: str(g).replace("\n", " ")[:40])
def test_each_cirq_gate_reads_with_its_exact_unitary(gate: Any) -> None:
    n = cirq.num_qubits(gate)
    circuit = cirq.Circuit(gate.on(*cirq.LineQubit.range(n)))
    qc = read(circuit)
    assert same_matrix(qiskit_unitary(qc), cirq.unitary(circuit))
    assert same_matrix(cirq.unitary(back_to_cirq(qc)), cirq.unitary(circuit))


def test_named_gates_become_named_qiskit_gates() -> None:
    circuit = cirq.Circuit(
        cirq.X(a), cirq.H(b), cirq.S(c), (cirq.T**-1)(a), (cirq.X**0.5)(b), cirq.rz(0.1)(c),
        cirq.CNOT(a, b), cirq.CZ(b, c), cirq.SWAP(a, c), cirq.ISWAP(a, b), cirq.CCX(a, b, c),
    )  # fmt: skip
    names = [inst.operation.name for inst in read(circuit).data]
    assert names == ["x", "h", "s", "tdg", "sx", "rz", "cx", "cz", "swap", "iswap", "ccx"]


def test_qubit_order_is_cirqs_sorted_order() -> None:
    # Grid qubits row by row, named qubits in Cirq's natural order (q2 before q10), and
    # X on one qubit only to catch any swap.
    grid = [cirq.GridQubit(1, 0), cirq.GridQubit(0, 1), cirq.GridQubit(0, 0)]
    circuit = cirq.Circuit(cirq.X(grid[0]), cirq.CNOT(grid[2], grid[1]))
    qc = read(circuit)
    assert same_matrix(qiskit_unitary(qc), cirq.unitary(circuit))
    assert [inst.operation.name for inst in qc.data] == ["x", "cx"]
    assert qc.find_bit(qc.data[0].qubits[0]).index == 2  # GridQubit(1, 0) sorts last
    named = cirq.Circuit(cirq.H(cirq.NamedQubit("q10")), cirq.X(cirq.NamedQubit("q2")))
    qc = read(named)
    assert qc.find_bit(qc.data[1].qubits[0]).index == 0  # q2 sorts first
    assert same_matrix(qiskit_unitary(qc), cirq.unitary(named))


def test_sub_circuits_are_unrolled() -> None:
    sub = cirq.FrozenCircuit(cirq.H(a), cirq.CNOT(a, b))
    circuit = cirq.Circuit(cirq.CircuitOperation(sub, repetitions=3), cirq.X(c))
    qc = read(circuit)
    assert same_matrix(qiskit_unitary(qc), cirq.unitary(circuit))


def test_tags_global_phase_and_identity() -> None:
    circuit = cirq.Circuit(
        cirq.X(a).with_tags("calibrated"), cirq.global_phase_operation(1j), cirq.I(b)
    )
    qc = read(circuit)
    assert qc.num_qubits == 2
    assert same_matrix(qiskit_unitary(qc), cirq.unitary(circuit))


# --------------------------------------------------------------------------------------
# measurement keys -> classical bits
# --------------------------------------------------------------------------------------


def cirq_qasm_registers(circuit: cirq.Circuit) -> list[tuple[str, int]]:
    """The classical registers Cirq's own OpenQASM export declares, in its order."""
    found = re.findall(r"^creg m_(\w+)\[(\d+)\];", cirq.qasm(circuit), re.M)
    return [(name, int(size)) for name, size in found]


def test_keys_become_registers_in_order_of_first_appearance() -> None:
    circuit = cirq.Circuit(
        cirq.Moment(cirq.X(b)),
        cirq.Moment(cirq.measure(c, b, key="z")),  # first key: z[0] = c (0), z[1] = b (1)
        cirq.Moment(cirq.measure(a, key="a")),  # second key
    )
    qc = read(circuit)
    assert [(r.name, r.size) for r in qc.cregs] == [("z", 2), ("a", 1)]
    assert cirq_qasm_registers(circuit) == [("z", 2), ("a", 1)]
    result = qbroker.run(
        Program(format=InputFormat.CIRQ_JSON, payload=document(circuit)),
        backend="local.sim.aer",
        shots=20,
        seed=1,
    )
    assert result.counts == {"010": 20}
    simulated = cirq.Simulator(seed=1).run(circuit, repetitions=1)
    expected = "".join(str(int(v)) for k in ("z", "a") for v in simulated.measurements[k][0])
    assert expected == "010"
    # Built without explicit moments, measure(a) lands in the first moment: 'a' comes first.
    packed = cirq.Circuit(cirq.X(b), cirq.measure(c, b, key="z"), cirq.measure(a, key="a"))
    assert [r.name for r in read(packed).cregs] == ["a", "z"]
    assert cirq_qasm_registers(packed) == [("a", 1), ("z", 2)]


def test_inverted_measurements_read_flipped_bits() -> None:
    circuit = cirq.Circuit(cirq.X(a), cirq.measure(a, b, key="m", invert_mask=(True, True)))
    program = Program(format=InputFormat.CIRQ_JSON, payload=document(circuit))
    result = qbroker.run(program, backend="local.sim.aer", shots=20, seed=1)
    assert result.counts == {"01": 20}
    assert close(cirq_distribution(circuit), {"01": 1.0})
    # the state after the measurement is untouched: a second key still reads a = 1
    later = circuit + cirq.Circuit(cirq.measure(a, key="after"))
    program = Program(format=InputFormat.CIRQ_JSON, payload=document(later))
    assert qbroker.run(program, backend="local.sim.aer", shots=20, seed=1).counts == {"011": 20}


def test_keys_that_are_not_identifiers_are_renamed_but_kept_in_order() -> None:
    circuit = cirq.Circuit(
        cirq.measure(a, key="result 1"), cirq.measure(b, key="2nd"), cirq.measure(c, key="result_1")
    )
    assert [r.name for r in read(circuit).cregs] == ["result_1", "m_2nd", "result_1_1"]


@pytest.mark.parametrize("seed", range(6))
def test_distribution_equals_cirqs_on_random_circuits(seed: int) -> None:
    qubits = cirq.LineQubit.range(4)
    body = cirq.testing.random_circuit(qubits, n_moments=6, op_density=0.8, random_state=seed)
    rng = np.random.default_rng(seed)
    order = [qubits[i] for i in rng.permutation(4)]
    circuit = body + cirq.Circuit(
        cirq.measure(order[0], order[1], key="first"),
        cirq.measure(order[3], order[2], key="second"),
    )
    assert close(qiskit_distribution(read(circuit)), cirq_distribution(circuit))


# --------------------------------------------------------------------------------------
# writing and round trips
# --------------------------------------------------------------------------------------

_SKIP_WRITE = {"measure", "reset", "delay", "barrier", "store"}


@pytest.mark.parametrize(
    "name",
    sorted(n for n, g in get_standard_gate_name_mapping().items() if n not in _SKIP_WRITE),
)
def test_every_qiskit_standard_gate_writes_exactly(name: str) -> None:
    template = get_standard_gate_name_mapping()[name]
    gate = type(template)(*[0.3 + 0.17 * i for i in range(len(template.params))])
    qc = QuantumCircuit(gate.num_qubits, global_phase=0.1)
    qc.append(gate, range(gate.num_qubits))
    assert same_matrix(cirq.unitary(back_to_cirq(qc)), qiskit_unitary(qc))


def test_asymmetric_registers_round_trip_with_bit_order() -> None:
    q = QuantumRegister(3, "q")
    first, second = ClassicalRegister(2, "first"), ClassicalRegister(1, "second")
    qc = QuantumCircuit(q, first, second)
    qc.x(0)
    qc.h(2)
    qc.measure(0, first[1])
    qc.measure(1, first[0])
    qc.measure(2, second[0])
    written = back_to_cirq(qc)
    keys = [op.gate.key for op in written.all_operations() if cirq.is_measurement(op)]
    assert keys == ["first", "second"]
    assert close(cirq_distribution(written), {"010": 0.5, "011": 0.5})
    again = read(written)
    assert close(qiskit_distribution(again), qiskit_distribution(qc))
    assert [(r.name, r.size) for r in again.cregs] == [("first", 2), ("second", 1)]


def test_mid_circuit_measurements_get_one_key_per_bit_in_order() -> None:
    qc = QuantumCircuit(2, 2)
    qc.x(0)
    qc.measure(0, 0)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure(1, 1)
    written = back_to_cirq(qc)
    keys = [op.gate.key for op in written.all_operations() if cirq.is_measurement(op)]
    assert keys == ["c_0", "c_1"]
    result = cirq.Simulator(seed=3).run(written, repetitions=200)
    assert set(result.measurements["c_0"][:, 0]) == {1}
    assert set(result.measurements["c_1"][:, 0]) == {0, 1}


def test_idle_qubits_keep_the_width() -> None:
    qc = QuantumCircuit(3)
    qc.x(0)
    written = back_to_cirq(qc)
    assert len(written.all_qubits()) == 3
    assert read(written).num_qubits == 3


def test_cirq_to_qiskit_to_cirq_round_trip() -> None:
    circuit = cirq.Circuit(
        cirq.H(a), cirq.CNOT(a, b), (cirq.ISWAP**0.25)(b, c), cirq.rx(0.7)(c),
        cirq.global_phase_operation(np.exp(0.3j)), cirq.measure(c, a, key="out"),
    )  # fmt: skip
    again = back_to_cirq(read(circuit))
    assert same_matrix(
        cirq.unitary(cirq.drop_terminal_measurements(again)),
        cirq.unitary(cirq.drop_terminal_measurements(circuit)),
    )
    assert [op.gate.key for op in again.all_operations() if cirq.is_measurement(op)] == ["out"]
    assert close(cirq_distribution(again), cirq_distribution(circuit))


def test_convert_between_qasm_and_cirq_json() -> None:
    source = Program(
        format=InputFormat.OPEN_QASM_V2,
        payload='OPENQASM 2.0; include "qelib1.inc"; qreg q[2]; creg c[2]; '
        "x q[0]; cx q[0],q[1]; u3(0.1,0.2,0.3) q[1]; measure q[0] -> c[1]; measure q[1] -> c[0];",
    )
    as_cirq = convert(source, InputFormat.CIRQ_JSON)
    assert detect_format(json.dumps(as_cirq.payload)) is InputFormat.CIRQ_JSON
    assert close(qiskit_distribution(as_cirq.circuit), qiskit_distribution(source.circuit))
    back = convert(as_cirq, InputFormat.OPEN_QASM_V2)
    assert close(qiskit_distribution(back.circuit), qiskit_distribution(source.circuit))


_ANGLES = st.one_of(
    st.sampled_from([0.0, math.pi, -math.pi, math.pi / 2, 2 * math.pi, 1e-12, -1e-300, 1e6]),
    st.floats(min_value=-20, max_value=20, allow_nan=False, allow_infinity=False),
)
_ONE = ["x", "y", "z", "h", "s", "sdg", "t", "tdg", "sx", "sxdg"]
_ONE_P = ["rx", "ry", "rz", "p"]
_TWO = ["cx", "cz", "swap", "iswap", "ch", "cy"]
_TWO_P = ["rxx", "ryy", "rzz", "cp", "crx", "crz"]


@st.composite
def circuits(draw: st.DrawFn) -> QuantumCircuit:
    n = draw(st.integers(min_value=1, max_value=4))
    qc = QuantumCircuit(n, global_phase=draw(_ANGLES))
    for _ in range(draw(st.integers(min_value=0, max_value=12))):
        kind = draw(
            st.sampled_from(
                ["one", "one_p", "two", "two_p", "u"] if n > 1 else ["one", "one_p", "u"]
            )
        )
        q = draw(st.permutations(range(n)))
        if kind == "one":
            getattr(qc, draw(st.sampled_from(_ONE)))(q[0])
        elif kind == "one_p":
            getattr(qc, draw(st.sampled_from(_ONE_P)))(draw(_ANGLES), q[0])
        elif kind == "two":
            getattr(qc, draw(st.sampled_from(_TWO)))(q[0], q[1])
        elif kind == "two_p":
            getattr(qc, draw(st.sampled_from(_TWO_P)))(draw(_ANGLES), q[0], q[1])
        else:
            qc.u(draw(_ANGLES), draw(_ANGLES), draw(_ANGLES), q[0])
    return qc


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(circuits())
def test_round_trip_keeps_the_unitary(qc: QuantumCircuit) -> None:
    written = back_to_cirq(qc)
    assert same_matrix(cirq.unitary(written), qiskit_unitary(qc))
    assert same_matrix(qiskit_unitary(read(written)), qiskit_unitary(qc))


#: rzz and sxdg defined in the file as something else, a correct rzz under another name
#: calling them, and a mis-defined ecr.
LOOKALIKES_QASM3 = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\n'
    "gate ecr a, b { h a; cx a, b; }\n"
    "gate rzz(p0) a, b { cx a, b; rx(p0) b; cx a, b; }\n"
    "gate sxdg a { s a; h a; }\n"
    "gate layer(t) a, b { ecr a, b; rzz(t) a, b; sxdg b; }\n"
    "qubit[3] q;\nh q[2];\nlayer(0.7) q[0], q[1];\necr q[1], q[2];\n"
    "rzz(-1.1) q[2], q[0];\nsxdg q[1];\n"
)


def test_custom_gates_with_standard_names_are_written_by_their_meaning() -> None:
    """Written by name, the file's rzz and sxdg became Cirq's ZZ and X**-0.5: wrong."""
    from qbroker.testing import check_conversion

    source = Program(format="OPEN_QASM_V3", payload=LOOKALIKES_QASM3)
    report = check_conversion(source, "CIRQ_JSON")
    assert report.outcome == "exact", report


def test_custom_gate_equal_to_its_standard_namesake_is_written_as_it() -> None:
    from qbroker.testing import check_conversion

    text = (
        'OPENQASM 3.0;\ninclude "stdgates.inc";\n'
        "gate rzz(p0) a, b { cx a, b; rz(p0) b; cx a, b; }\nqubit[2] q;\nrzz(0.3) q[0], q[1];\n"
    )
    source = Program(format="OPEN_QASM_V3", payload=text)
    assert check_conversion(source, "CIRQ_JSON").outcome == "exact"
    written = json.dumps(convert(source, "CIRQ_JSON").payload)
    assert "ZZPowGate" in written and "CXPowGate" not in written and "CNotPowGate" not in written


# --------------------------------------------------------------------------------------
# refusals and bad input
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("circuit", "reason"),
    [
        (cirq.Circuit(cirq.depolarize(0.1)(a)), r"moments\.0\.operations\.0: .* is not unitary"),
        (cirq.Circuit(cirq.X(a) ** sympy.Symbol("t")), r"symbolic parameters \(t\)"),
        (
            cirq.Circuit(cirq.measure(a, key="m"), cirq.X(b).with_classical_controls("m")),
            r"moments\.1\.operations\.0: classically controlled",
        ),
        (
            cirq.Circuit(cirq.measure(a, key="m"), cirq.measure(a, key="m")),
            r"measurement key 'm' is used twice",
        ),
        (
            cirq.Circuit(
                cirq.MatrixGate(np.diag([1, 1j, -1]), qid_shape=(3,)).on(cirq.LineQid(0, 3))
            ),
            r"qudit",
        ),
    ],
    ids=["noise", "symbol", "classical-control", "repeated-key", "qudit"],
)
def test_unsupported_cirq_operations_are_refused_with_a_reason(
    circuit: cirq.Circuit, reason: str
) -> None:
    with pytest.raises(UnsupportedError, match=reason):
        read(circuit)


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        (lambda qc: (qc.x(0), qc.measure(0, 0)), "classical bit 1 is never measured"),
        (
            lambda qc: (qc.measure(0, 0), qc.measure(1, 0), qc.measure(0, 1)),
            "classical bit 0 is written by two measurements",
        ),
        (
            lambda qc: (qc.measure(1, 1), qc.x(1), qc.measure(0, 0)),
            "writes classical bit 0 after bit 1",
        ),
    ],
    ids=["unmeasured-bit", "bit-written-twice", "out-of-order-mid-circuit"],
)
def test_what_cirq_keys_cannot_say_is_refused(build: Any, reason: str) -> None:
    qc = QuantumCircuit(2, 2)
    build(qc)
    with pytest.raises(UnsupportedError, match=reason):
        write_cirq_json(qc, None, OPTIONS)


def test_classical_control_and_unbound_parameters_are_refused() -> None:
    from qiskit.circuit import Parameter

    qc = QuantumCircuit(1, 1)
    qc.measure(0, 0)
    with qc.if_test((qc.clbits[0], 1)):
        qc.x(0)
    with pytest.raises(UnsupportedError, match="classical control"):
        write_cirq_json(qc, None, OPTIONS)
    qc = QuantumCircuit(1)
    qc.rx(Parameter("theta"), 0)
    with pytest.raises(UnsupportedError, match=r"unbound parameters \(theta\)"):
        write_cirq_json(qc, None, OPTIONS)
    qc = QuantumCircuit(1)
    qc.rx(float("nan"), 0)
    with pytest.raises(UnsupportedError, match="NaN or infinite angle"):
        write_cirq_json(qc, None, OPTIONS)


def _op(gate: dict[str, Any], *xs: int) -> dict[str, Any]:
    return {
        "cirq_type": "GateOperation",
        "gate": gate,
        "qubits": [{"cirq_type": "LineQubit", "x": x} for x in xs],
    }


def _circuit(*ops: dict[str, Any]) -> dict[str, Any]:
    return {"cirq_type": "Circuit", "moments": [{"cirq_type": "Moment", "operations": list(ops)}]}


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ('{"cirq_type": "Circuit", "moments": [', r"line 1, column 38"),
        ({"cirq_type": "Moment", "operations": []}, r"cirq_type: expected cirq_type 'Circuit'"),
        ({"cirq_type": "Circuit", "moments": 3}, r"moments: 'moments' must be a list"),
        (_circuit(_op({"cirq_type": "Frobnicate"}, 0)), r"moments\.0\.operations\.0: Cirq cannot read it: .*Frobnicate"),
        (
            _circuit(_op({"cirq_type": "XPowGate", "exponent": float("nan"), "global_shift": 0.0}, 0)),
            r"moments\.0\.operations\.0\.gate\.exponent: nan is not a finite number",
        ),
        (
            _circuit(_op({"cirq_type": "ZPowGate", "exponent": 10**400, "global_shift": 0.0}, 0)),
            r"moments\.0\.operations\.0\.gate\.exponent: .*401 digits",
        ),
        (
            _circuit(_op({"cirq_type": "Rx", "rads": float("inf")}, 0)),
            r"moments\.0\.operations\.0\.gate\.rads: inf is not a finite number",
        ),
        (
            _circuit(_op({"cirq_type": "HPowGate", "exponent": 1.0, "global_shift": 0.0}, 0), _op({"cirq_type": "HPowGate", "exponent": 1.0, "global_shift": 0.0}, 0)),
            r"moments\.0\.operations\.1: operations of one moment overlap on qubit LineQubit\(0\)",
        ),
        (
            _circuit(_op({"cirq_type": "CZPowGate", "exponent": 1.0, "global_shift": 0.0}, 1, 1)),
            r"names a qubit twice",
        ),
        (_circuit(_op({"cirq_type": "CZPowGate", "exponent": "one", "global_shift": 0.0}, 0, 1)), r"moments\.0\.operations\.0: Cirq cannot read it"),
        ({"cirq_type": "Circuit", "moments": [{"cirq_type": "Moment"}]}, r"moments\.0: a moment is an object"),
        ({"cirq_type": "Circuit", "moments": [{"cirq_type": "Moment", "operations": [7]}]}, r"moments\.0\.operations\.0: an operation is a JSON object"),
        # found by the fuzzer: TypeErrors from a list where a type name belongs (hashed) ...
        (_circuit(_op({"cirq_type": [["XPowGate"]], "exponent": 1.0, "global_shift": 0.0}, 0)), r"moments\.0\.operations\.0\.gate\.cirq_type: 'cirq_type' must be a type name, found a list"),
        (_circuit({**_op({"cirq_type": "HPowGate"}, 0), "cirq_type": ["GateOperation"]}), r"moments\.0\.operations\.0\.cirq_type: .* found a list"),
        ({"cirq_type": ["Circuit"], "moments": []}, r"cirq_type: expected cirq_type 'Circuit', found a list"),
        # ... and from qubits Cirq builds from any JSON value, which then cannot be sorted
        (
            _circuit(_op({"cirq_type": "XPowGate", "exponent": 1.0, "global_shift": 0.0}, 0), {**_op({"cirq_type": "HPowGate", "exponent": 1.0, "global_shift": 0.0}), "qubits": [{"cirq_type": "LineQubit", "x": "1"}]}),
            r"moments\.0\.operations\.1: a LineQubit's coordinates must be integers, found '1'",
        ),
        (
            _circuit({**_op({"cirq_type": "HPowGate", "exponent": 1.0, "global_shift": 0.0}), "qubits": [{"cirq_type": "GridQubit", "row": 0, "col": 1.5}]}),
            r"GridQubit's coordinates must be integers, found 0, 1\.5",
        ),
        (
            _circuit({**_op({"cirq_type": "HPowGate", "exponent": 1.0, "global_shift": 0.0}), "qubits": [{"cirq_type": "NamedQubit", "name": 5}]}),
            r"NamedQubit's name must be a string, found 5",
        ),
        (
            _circuit(
                {**_op({"cirq_type": "HPowGate", "exponent": 1.0, "global_shift": 0.0}), "qubits": [{"cirq_type": "LineQid", "x": "a", "dimension": 2}]},
                {**_op({"cirq_type": "HPowGate", "exponent": 1.0, "global_shift": 0.0}), "qubits": [{"cirq_type": "LineQid", "x": 0, "dimension": 2}]},
            ),
            r"moments: the qubits cannot be put in order",
        ),
        # a declared qubit count Cirq builds a shape from before checking it (did not finish)
        (
            _circuit(_op({"cirq_type": "MeasurementGate", "num_qubits": 2**31, "key": "c", "invert_mask": []}, 0, 1)),
            r"moments\.0\.operations\.0\.gate\.num_qubits: 2,147,483,648 declared, but only 2 qubit\(s\) are named",
        ),
        (
            _circuit(_op({"cirq_type": "DepolarizingChannel", "p": 0.1, "n_qubits": 2**31}, 0)),
            r"gate\.n_qubits: 2,147,483,648 declared",
        ),
    ],
    ids=[
        "truncated-json", "not-a-circuit", "moments-not-list", "unknown-gate", "nan-exponent", "huge-int",
        "infinite-angle", "overlap", "duplicate-qubit", "string-exponent", "moment-without-ops",
        "op-not-object", "gate-type-a-list", "op-type-a-list", "circuit-type-a-list",
        "line-qubit-string", "grid-qubit-float", "named-qubit-number", "qids-unordered",
        "huge-num-qubits", "huge-n-qubits",
    ],
)  # fmt: skip
def test_malformed_input_gives_program_errors(payload: Any, message: str) -> None:
    with pytest.raises(ProgramError, match=message):
        Program(format=InputFormat.CIRQ_JSON, payload=payload)


def test_sub_circuits_repeated_beyond_the_unrolling_limit_are_refused_at_once() -> None:
    import time

    q = cirq.LineQubit.range(2)
    sub = cirq.FrozenCircuit(cirq.H(q[0]), cirq.CNOT(*q))
    text = cirq.to_json(cirq.Circuit(cirq.CircuitOperation(sub).repeat(3)))
    assert Program(format=InputFormat.CIRQ_JSON, payload=text).circuit.size() == 6
    started = time.perf_counter()
    with pytest.raises(
        ProgramError, match="repeat to 200,000 operations; qbroker unrolls at most 5,000"
    ):
        Program(
            format=InputFormat.CIRQ_JSON,
            payload=text.replace('"repetitions": 3', '"repetitions": 100000'),
        )
    assert time.perf_counter() - started < 1.0  # Cirq took ~15 s to unroll it


def test_deep_nesting_gives_a_program_error() -> None:
    deep = '{"cirq_type": "Circuit", "moments": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(ProgramError):
        Program(format=InputFormat.CIRQ_JSON, payload=deep)


def test_reading_and_writing_are_linear() -> None:
    import random
    import time

    rng = random.Random(1)
    qc = QuantumCircuit(50, 50)
    for _ in range(3000):
        x, y = rng.sample(range(50), 2)
        kind = rng.randrange(3)
        if kind == 0:
            qc.h(x)
        elif kind == 1:
            qc.cx(x, y)
        else:
            qc.rz(rng.random(), x)
    qc.measure(range(50), range(50))
    write_cirq_json(qc, None, OPTIONS)  # warm up
    started = time.perf_counter()
    written = write_cirq_json(qc, None, OPTIONS)
    read_cirq_json(written)
    assert time.perf_counter() - started < 1.0
