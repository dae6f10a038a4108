"""IonQ JSON (IONQ_CIRCUIT_V1): reading, writing both gate sets, classical-bit mapping,
refusals, bad input, and the vendors' own serialisers (cirq-ionq, qiskit-ionq) as oracles."""

from __future__ import annotations

import json
import math
import random
from collections import defaultdict
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit import Clbit, Parameter
from qiskit.circuit.library import MCXGate, PauliEvolutionGate
from qiskit.quantum_info import Operator, SparsePauliOp, Statevector

import qbroker
from qbroker import InputFormat, ProgramError, UnsupportedError
from qbroker.formats import WriteOptions, detect_format
from qbroker.formats.ionq import read_ionq, write_ionq

QIS = WriteOptions(gateset="qis")
NATIVE = WriteOptions(gateset="native")


def roundtrip(
    circuit: QuantumCircuit, options: WriteOptions = QIS, backend: Any = None
) -> QuantumCircuit:
    """Write, pass through JSON text (as it travels), read back."""
    document = write_ionq(circuit, backend, options)
    return read_ionq(json.loads(json.dumps(document, allow_nan=False)))


def unitary_part(circuit: QuantumCircuit) -> QuantumCircuit:
    """The circuit without measurements, barriers and classical bits."""
    out = QuantumCircuit(circuit.qubits, global_phase=circuit.global_phase)
    for inst in circuit.data:
        if inst.name not in ("measure", "barrier"):
            out.append(inst)
    return out


def same_unitary(a: QuantumCircuit, b: QuantumCircuit) -> bool:
    return Operator(unitary_part(a)).equiv(Operator(unitary_part(b)))


def distribution(circuit: QuantumCircuit) -> dict[str, float]:
    """Exact probability of each classical-bit string (bit 0 leftmost, as qbroker's results)
    for a circuit whose measurements are terminal; a bit nothing measures reads 0."""
    measures = [
        (circuit.find_bit(i.qubits[0]).index, circuit.find_bit(i.clbits[0]).index)
        for i in circuit.data
        if i.name == "measure"
    ]
    probabilities = Statevector(unitary_part(circuit)).probabilities()
    out: dict[str, float] = defaultdict(float)
    for index, p in enumerate(probabilities):
        if p < 1e-12:
            continue
        bits = ["0"] * circuit.num_clbits
        for q, c in measures:  # in program order: the last write wins
            bits[c] = "1" if index >> q & 1 else "0"
        out["".join(bits)] += float(p)
    return dict(out)


def assert_same_distribution(a: dict[str, float], b: dict[str, float]) -> None:
    keys = set(a) | set(b)
    assert all(abs(a.get(k, 0.0) - b.get(k, 0.0)) < 1e-9 for k in keys), (a, b)


# --- the shape of what is written ------------------------------------------------------


def test_bell_is_the_hub_example_with_registers() -> None:
    bell = QuantumCircuit(2, 2)
    bell.h(0)
    bell.cx(0, 1)
    bell.measure([0, 1], [0, 1])
    assert write_ionq(bell, None, WriteOptions()) == {
        "gateset": "qis",
        "qubits": 2,
        "circuit": [
            {"gate": "h", "targets": [0]},
            {"gate": "x", "targets": [1], "controls": [0]},
        ],
        "registers": {"c": [0, 1]},
    }


def test_detected_loaded_and_converted_through_the_registry() -> None:
    qasm = (
        'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\n'
        "x q[1];\nh q[0];\nmeasure q[1] -> c[0];\nmeasure q[0] -> c[1];\n"
    )
    source = qbroker.load_program(qasm)
    ionq = qbroker.convert(source, "IONQ_CIRCUIT_V1")
    assert ionq.format is InputFormat.IONQ_CIRCUIT_V1
    assert detect_format(ionq.payload) is InputFormat.IONQ_CIRCUIT_V1
    assert detect_format(json.dumps(ionq.payload)) is InputFormat.IONQ_CIRCUIT_V1
    assert ionq.payload["registers"] == {"c": [1, 0]}
    again = qbroker.convert(ionq, "OPEN_QASM_V2")
    expected = {"10": 0.5, "11": 0.5}  # c[0] = q[1] = 1 always, c[1] = q[0] random
    assert_same_distribution(distribution(source.circuit), expected)
    assert_same_distribution(distribution(ionq.circuit), expected)
    assert_same_distribution(distribution(again.circuit), expected)


@pytest.mark.parametrize(
    "backend_id, entangler", [("azure.ionq.aria", "ms"), ("azure.ionq.forte", "zz")]
)
def test_backend_with_ionq_natives_gets_the_native_gateset(backend_id: str, entangler: str) -> None:
    qc = QuantumCircuit(3)
    qc.h(0)
    qc.cx(0, 1)
    qc.cp(0.4, 1, 2)
    qc.ry(0.3, 2)
    backend = qbroker.backend(backend_id)
    program = qbroker.convert(
        qbroker.Program(format="IONQ_CIRCUIT_V1", payload=write_ionq(qc, None, QIS)),
        "IONQ_CIRCUIT_V1",
        backend,
    )
    document = program.payload
    assert document["gateset"] == "native"
    assert {g["gate"] for g in document["circuit"]} <= {"gpi", "gpi2", entangler}
    assert entangler in {g["gate"] for g in document["circuit"]}
    # IonQ JSON without registers measures every qubit; the distribution is what counts.
    assert_same_distribution(
        distribution(program.circuit), distribution(qc.measure_all(inplace=False))
    )
    assert same_unitary(read_ionq(write_ionq(qc, backend, WriteOptions())), qc)
    # An explicit choice wins over the backend's natives.
    assert write_ionq(qc, backend, QIS)["gateset"] == "qis"


def test_circuit_already_in_qis_gates_maps_one_to_one() -> None:
    qc = QuantumCircuit(10)
    for i in range(600):
        a, b = i % 10, (3 * i + 1) % 10
        if i % 4 == 0:
            qc.h(a)
        elif i % 4 == 1:
            qc.cx(a, b)
        elif i % 4 == 2:
            qc.rz(0.01 * i, b)
        else:
            qc.ry(0.3, a)
    document = write_ionq(qc, None, QIS)
    assert len(document["circuit"]) == len(qc.data)  # nothing translated or added
    back = unitary_part(read_ionq(document))
    assert Statevector(back).equiv(Statevector(qc))


# --- unitary round trips ---------------------------------------------------------------


def gate_zoo() -> QuantumCircuit:
    qc = QuantumCircuit(4)
    qc.h(0)
    qc.x(1)
    qc.y(2)
    qc.z(3)
    qc.s(0)
    qc.sdg(1)
    qc.t(2)
    qc.tdg(3)
    qc.sx(0)
    qc.sxdg(1)
    qc.rx(0.3, 2)
    qc.ry(-1.2, 3)
    qc.rz(2.5, 0)
    qc.p(0.7, 1)
    qc.u(0.1, 0.2, 0.3, 2)
    qc.r(0.4, 0.9, 3)
    qc.cx(0, 1)
    qc.cy(1, 2)
    qc.cz(2, 3)
    qc.ch(3, 0)
    qc.crx(0.5, 0, 2)
    qc.cry(0.6, 1, 3)
    qc.crz(0.7, 2, 0)
    qc.cp(0.8, 3, 1)
    qc.cs(0, 1)
    qc.csdg(1, 2)
    qc.csx(2, 3)
    qc.cu(0.1, 0.2, 0.3, 0.4, 0, 3)
    qc.ccx(0, 1, 2)
    qc.ccz(1, 2, 3)
    qc.cswap(0, 1, 3)
    qc.mcp(0.9, [0, 1, 2], 3)
    qc.append(MCXGate(3), [3, 2, 1, 0])
    qc.ccx(0, 1, 2, ctrl_state=1)  # an open control
    qc.swap(1, 2)
    qc.rxx(2.8, 0, 1)
    qc.ryy(-2.9, 1, 2)
    qc.rzz(1.9, 2, 3)
    qc.iswap(0, 3)
    qc.ecr(1, 0)
    return qc


@pytest.mark.parametrize("options", [QIS, NATIVE], ids=["qis", "native"])
def test_gate_zoo_round_trip_keeps_the_unitary(options: WriteOptions) -> None:
    qc = gate_zoo()
    document = write_ionq(qc, None, options)
    allowed = (
        {"gpi", "gpi2", "ms"}
        if options is NATIVE
        else {
            "x",
            "y",
            "z",
            "h",
            "s",
            "si",
            "t",
            "ti",
            "v",
            "vi",
            "rx",
            "ry",
            "rz",
            "swap",
            "xx",
            "yy",
            "zz",
        }
    )
    assert {g["gate"] for g in document["circuit"]} <= allowed
    assert all(len(g.get("controls", ())) <= 7 for g in document["circuit"])
    assert same_unitary(read_ionq(document), qc)


def test_native_equals_qis_as_a_unitary() -> None:
    qc = gate_zoo()
    qis, native = roundtrip(qc, QIS), roundtrip(qc, NATIVE)
    assert same_unitary(qis, native)
    forte = roundtrip(qc, NATIVE, qbroker.backend("azure.ionq.forte"))
    assert same_unitary(forte, qis)


def test_many_controls_beyond_ionqs_seven_are_decomposed() -> None:
    qc = QuantumCircuit(10)
    qc.h(range(9))
    qc.append(MCXGate(9), list(range(10)))
    qc.mcp(0.3, list(range(8)), 9)
    document = write_ionq(qc, None, QIS)
    assert max(len(g.get("controls", ())) for g in document["circuit"]) <= 7
    back = unitary_part(read_ionq(document))
    # 10 qubits and ~2000 gates: compare on random product states, not full unitaries.
    for seed in (1, 2):
        angles = random.Random(seed)
        prep = QuantumCircuit(10)
        for q in range(10):
            prep.u(angles.uniform(0, 3), angles.uniform(0, 6), angles.uniform(0, 6), q)
        assert Statevector(prep.compose(back)).equiv(Statevector(prep.compose(qc)))


@pytest.mark.parametrize("options", [QIS, NATIVE], ids=["qis", "native"])
def test_huge_angles_in_controlled_gates_survive_translation(options: WriteOptions) -> None:
    # At 3e15 rad adjacent floats are 0.5 rad apart: any reduction with a float 2*pi is
    # off by radians. The writer reduces with the true pi.
    qc = QuantumCircuit(4)
    qc.h(range(4))
    qc.mcp(3e15, [0, 1, 2], 3)
    qc.cu(1e13, 2e14, -3e15, 7e16, 0, 1)
    qc.crx(-5e15, 2, 3)
    qc.rx(1e300, 0)
    assert same_unitary(roundtrip(qc, options), qc)


def test_native_rotations_stay_within_ionqs_ranges() -> None:
    qc = QuantumCircuit(2)
    for angle in (0.1, 1.6, 3.0, -0.1, -1.6, -3.0, 2 * math.pi + 0.2, 1e12):
        qc.rxx(angle, 0, 1)
        qc.rz(angle, 0)
        qc.ryy(angle, 0, 1)
    for entangler, backend in (("ms", "azure.ionq.aria"), ("zz", "azure.ionq.forte")):
        document = write_ionq(qc, qbroker.backend(backend), WriteOptions())
        for gate in document["circuit"]:
            if gate["gate"] == "ms":
                assert 0 < gate["angle"] <= 0.25 and all(0 <= p < 1 for p in gate["phases"])
            elif gate["gate"] == "zz":
                assert -0.25 <= gate["angle"] <= 0.25
            else:
                assert 0 <= gate["phase"] < 1
        assert same_unitary(read_ionq(document), qc), entangler


# --- classical bits --------------------------------------------------------------------


def asymmetric_circuits() -> list[tuple[str, QuantumCircuit, dict[str, float]]]:
    """Circuits whose distributions reveal any swapped, dropped or shifted bit."""
    cases = []

    one = QuantumCircuit(3, 3)
    one.x(1)
    one.measure(1, 2)  # only q1, into the last bit
    cases.append(("x-into-c2", one, {"001": 1.0}))

    crossed = QuantumCircuit(3, 3)
    crossed.x(0)
    crossed.h(2)
    crossed.measure(0, 2)
    crossed.measure(2, 0)
    crossed.measure(1, 1)
    cases.append(("crossed", crossed, {"001": 0.5, "101": 0.5}))

    a, b = ClassicalRegister(2, "a"), ClassicalRegister(3, "b")
    regs = QuantumCircuit(QuantumRegister(3, "q"), a, b)
    regs.x(2)
    regs.h(0)
    regs.cx(0, 1)
    regs.measure(2, b[1])
    regs.measure(0, a[1])
    regs.measure(1, b[2])
    cases.append(("two-registers", regs, {"00010": 0.5, "01011": 0.5}))

    twice = QuantumCircuit(2, 3)
    twice.x(1)
    twice.measure(1, 0)
    twice.measure(1, 2)  # one qubit into two bits
    twice.measure(0, 0)  # ... and bit 0 overwritten by another qubit
    cases.append(("overwrite", twice, {"001": 1.0}))

    loose = QuantumCircuit(QuantumRegister(2, "q"), [Clbit(), Clbit()])
    loose.x(0)
    loose.measure(0, 1)
    cases.append(("loose-bits", loose, {"01": 1.0}))

    full = QuantumCircuit(2, 3)
    full.x(0)
    full.cx(0, 1)
    full.measure(1, 2)  # every qubit used and bit 1 never written: an idle qubit is added
    cases.append(("needs-idle-qubit", full, {"001": 1.0}))
    return cases


@pytest.mark.parametrize("options", [QIS, NATIVE], ids=["qis", "native"])
@pytest.mark.parametrize(
    "name, circuit, expected", asymmetric_circuits(), ids=lambda x: x if isinstance(x, str) else ""
)
def test_classical_bits_keep_their_distribution(
    options: WriteOptions, name: str, circuit: QuantumCircuit, expected: dict[str, float]
) -> None:
    assert_same_distribution(distribution(circuit), expected)
    back = roundtrip(circuit, options)
    assert [r.name for r in back.cregs] == (
        [r.name for r in circuit.cregs] if circuit.cregs else ["c"]
    )
    assert back.num_clbits == circuit.num_clbits
    assert_same_distribution(distribution(back), expected)


def test_registers_of_the_two_register_case_are_explicit() -> None:
    _, circuit, _ = asymmetric_circuits()[2]
    document = write_ionq(circuit, None, QIS)
    # a[0] is never measured: it points at a qubit no gate touches; here none is free.
    assert document["registers"] == {"a": [3, 0], "b": [3, 2, 1]}
    assert document["qubits"] == 4


def test_circuit_without_bits_reads_back_measuring_every_qubit() -> None:
    qc = QuantumCircuit(2)
    qc.x(1)
    document = write_ionq(qc, None, QIS)
    assert "registers" not in document
    back = read_ionq(document)
    assert [r.name for r in back.cregs] == ["meas"]
    assert_same_distribution(distribution(back), {"01": 1.0})


def test_null_register_entries_read_as_unmeasured_bits() -> None:
    document = {
        "qubits": 2,
        "circuit": [{"gate": "x", "target": 0}],
        "registers": {"meas_mapped": [None, 0]},
    }
    assert_same_distribution(distribution(read_ionq(document)), {"01": 1.0})


def test_reset_of_a_fresh_qubit_is_dropped() -> None:
    qc = QuantumCircuit(1, 1)
    qc.reset(0)
    qc.x(0)
    qc.measure(0, 0)
    assert_same_distribution(distribution(roundtrip(qc)), {"1": 1.0})


# --- custom gates named like standard ones ---------------------------------------------

#: What Qiskit's OpenQASM 3 exporter writes for gates stdgates.inc lacks (mqt-bench qaoa).
_RZZ_IN_FILE = "gate rzz(p0) a, b { cx a, b; rz(p0) b; cx a, b; }\n"


@pytest.mark.parametrize("backend_id", [None, "azure.ionq.aria", "azure.ionq.forte"])
def test_mqt_qaoa_exported_with_its_own_rzz_converts_exactly(backend_id: str | None) -> None:
    import qiskit.qasm3
    from mqt.bench import BenchmarkLevel, get_benchmark

    from qbroker.testing import check_conversion

    text = qiskit.qasm3.dumps(get_benchmark("qaoa", BenchmarkLevel.INDEP, 4))
    assert "gate rzz(" in text
    source = qbroker.Program(format="OPEN_QASM_V3", payload=text)
    backend = qbroker.backend(backend_id) if backend_id else None
    report = check_conversion(source, "IONQ_CIRCUIT_V1", backend)
    assert report.outcome == "exact", report
    gates = [g["gate"] for g in write_ionq(source.circuit, backend, WriteOptions())["circuit"]]
    # recognised as the standard gate: one zz per rzz, not cx rz cx
    assert "x" not in gates and ("zz" in gates or backend_id == "azure.ionq.aria")


def test_custom_gate_with_a_standard_name_but_another_meaning_keeps_its_own() -> None:
    from qbroker.testing import check_conversion

    # ecr is in Qiskit's equivalence library: translating it by name would be wrong.
    source = qbroker.Program(
        format="OPEN_QASM_V3",
        payload='OPENQASM 3.0;\ninclude "stdgates.inc";\ngate ecr a, b { h a; cx a, b; }\n'
        + _RZZ_IN_FILE
        + "gate layer(t) a, b { ecr a, b; rzz(t) a, b; }\n"
        "qubit[3] q;\nh q[2];\nlayer(0.7) q[0], q[1];\necr q[1], q[2];\nrzz(-1.1) q[2], q[0];\n",
    )
    for backend in (None, qbroker.backend("azure.ionq.aria"), qbroker.backend("azure.ionq.forte")):
        report = check_conversion(source, "IONQ_CIRCUIT_V1", backend)
        assert report.outcome == "exact", report


# --- refusals --------------------------------------------------------------------------


def refusals() -> list[tuple[QuantumCircuit, str]]:
    cases = []
    mid = QuantumCircuit(2, 2)
    mid.measure(0, 0)
    mid.h(0)
    cases.append((mid, "mid-circuit measurement"))
    reset = QuantumCircuit(1, 1)
    reset.x(0)
    reset.reset(0)
    cases.append((reset, "reset"))
    branch = QuantumCircuit(2, 1)
    branch.measure(0, 0)
    with branch.if_test((branch.clbits[0], 1)):
        branch.x(1)
    cases.append((branch, "classical control"))
    theta = QuantumCircuit(1)
    theta.rx(Parameter("theta"), 0)
    cases.append((theta, r"bind parameter\(s\) theta"))
    evolution = QuantumCircuit(2)
    evolution.append(PauliEvolutionGate(SparsePauliOp(["XX", "ZI"], [1.0, 0.5]), 0.3), [0, 1])
    cases.append((evolution, "non-commuting"))
    cases.append((QuantumCircuit(0), "at least one qubit"))
    return cases


@pytest.mark.parametrize("options", [QIS, NATIVE], ids=["qis", "native"])
@pytest.mark.parametrize("circuit, reason", refusals(), ids=[r for _, r in refusals()])
def test_what_ionq_cannot_express_is_refused_with_a_reason(
    options: WriteOptions, circuit: QuantumCircuit, reason: str
) -> None:
    with pytest.raises(UnsupportedError, match=reason):
        write_ionq(circuit, None, options)


def test_too_wide_for_the_backend_and_unknown_gateset_are_refused() -> None:
    with pytest.raises(UnsupportedError, match=r"needs 30 qubits; azure\.ionq\.aria has 25"):
        write_ionq(QuantumCircuit(30), qbroker.backend("azure.ionq.aria"), WriteOptions())
    with pytest.raises(UnsupportedError, match="not 'braket'"):
        write_ionq(QuantumCircuit(1), None, WriteOptions(gateset="braket"))


# --- bad input -------------------------------------------------------------------------

H0 = {"gate": "h", "targets": [0]}


def doc(*gates: Any, **top: Any) -> dict[str, Any]:
    return {"gateset": "qis", "qubits": 2, "circuit": list(gates), **top}


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"qubits": 2}, "circuit"),
        (doc(circuit="h"), "circuit"),
        (doc({"gate": "foo", "targets": [0]}), "circuit.0.gate"),
        (doc(H0, {"type": "toffoli", "targets": [0]}), "circuit.1.type"),
        (doc({"gate": "gpi", "target": 0, "phase": 0.1}), "circuit.0.gate"),
        ({**doc(H0), "gateset": "native"}, "circuit.0.gate"),
        (doc({"gate": 3, "targets": [0]}), "circuit.0.gate"),
        (doc({"targets": [0]}), "circuit.0.gate"),
        (doc("h"), "circuit.0"),
        (doc({"gate": "h", "targets": [2]}), "circuit.0.targets"),
        (doc({"gate": "h", "target": 7}), "circuit.0.target"),
        (doc({"gate": "h", "targets": [-1]}), "circuit.0.targets.0"),
        (doc({"gate": "h", "targets": [True]}), "circuit.0.targets.0"),
        (doc({"gate": "h", "targets": [2**70]}), "circuit.0.targets"),
        (doc({"gate": "h", "targets": [0.5]}), "circuit.0.targets.0"),
        (doc({"gate": "h", "targets": [0, 1]}), "circuit.0.targets"),
        (doc({"gate": "h", "target": 0, "targets": [0]}), "circuit.0.targets"),
        (doc({"gate": "h"}), "circuit.0.targets"),
        (doc({"gate": "x", "targets": [0], "controls": [0]}), "circuit.0.targets"),
        (doc({"gate": "cnot", "target": 0}), "circuit.0.controls"),
        (doc({"gate": "rx", "targets": [0]}), "circuit.0.rotation"),
        (doc({"gate": "rx", "targets": [0], "rotation": float("nan")}), "circuit.0.rotation"),
        (doc({"gate": "rx", "targets": [0], "rotation": float("inf")}), "circuit.0.rotation"),
        (doc({"gate": "rx", "targets": [0], "rotation": "pi"}), "circuit.0.rotation"),
        (doc({"gate": "rx", "targets": [0], "rotation": 10**400}), "circuit.0.rotation"),
        (doc({"gate": "z", "targets": [0], "rotation": 0.3}), "circuit.0.rotation"),
        (
            doc(
                {"gate": "pauliexp", "targets": [0], "terms": ["Q"], "coefficients": [1], "time": 1}
            ),
            "circuit.0.terms.0",
        ),
        (doc(H0, qubits=0), "qubits"),
        (doc(H0, qubits=10**30), "qubits"),
        (doc(H0, qubits="2"), "qubits"),
        (doc(H0, qubits=True), "qubits"),
        ({"circuit": []}, "qubits"),
        (doc(H0, gateset="QIS"), "gateset"),
        (doc(H0, regsters={}), "regsters"),
        (doc(H0, registers=[0, 1]), "registers"),
        (doc(H0, registers={"c": [0, 5]}), "registers.c.1"),
        (doc(H0, registers={"c": ["0"]}), "registers.c.0"),
        (doc(H0, registers={"c": 0}), "registers.c"),
        (
            {
                "gateset": "native",
                "qubits": 2,
                "circuit": [{"gate": "ms", "targets": [0, 1], "phases": [0]}],
            },
            "circuit.0.phases",
        ),
        (
            {"gateset": "native", "qubits": 2, "circuit": [{"gate": "ms", "targets": [0, 1]}]},
            "circuit.0.phases",
        ),
        (
            {
                "gateset": "native",
                "qubits": 2,
                "circuit": [{"gate": "zz", "targets": [0, 1], "angle": 0.1, "phase": 0.1}],
            },
            "circuit.0.phase",
        ),
        (
            {
                "gateset": "native",
                "qubits": 2,
                "circuit": [{"gate": "gpi", "target": 0, "controls": [1], "phase": 0}],
            },
            "circuit.0.controls",
        ),
        (
            {
                "gateset": "native",
                "qubits": 1,
                "circuit": [{"gate": "gpi2", "target": 0, "phase": float("-inf")}],
            },
            "circuit.0.phase",
        ),
    ],
)
def test_malformed_programs_name_the_field(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(ProgramError) as caught:
        read_ionq(payload)
    assert caught.value.problems[0].field == field
    assert field in str(caught.value) and "\n" not in str(caught.value)


def test_json_text_with_nan_or_huge_numbers_is_refused_by_field() -> None:
    for text, field in (
        (
            '{"qubits": 1, "circuit": [{"gate": "rx", "targets": [0], "rotation": NaN}]}',
            "circuit.0.rotation",
        ),
        (
            '{"qubits": 1, "circuit": [{"gate": "rz", "targets": [0], "rotation": 1e999}]}',
            "circuit.0.rotation",
        ),
        ('{"qubits": 123456789012345678901234567890, "circuit": []}', "qubits"),
    ):
        with pytest.raises(ProgramError, match=field.replace(".", r"\.")):
            qbroker.Program(format="IONQ_CIRCUIT_V1", payload=text)


def test_fuzz_finds_stay_fixed() -> None:
    """Inputs the fuzzer below once broke the reader with (multi-line messages)."""
    for payload in (
        doc(H0, qubits=1, registers={"\n": [1]}),
        doc(H0, registers={"\n": [False]}),
        doc({"gate": "h", "targets": [0], "\n": 1}),
        {**doc(H0), "\r\n": 0},
    ):
        with pytest.raises(ProgramError) as caught:
            read_ionq(payload)
        assert "\n" not in str(caught.value) and "\n" not in caught.value.problems[0].field


def test_hub_spelling_type_reads_like_gate() -> None:
    hub = {
        "gateset": "qis",
        "qubits": 2,
        "circuit": [{"type": "h", "targets": [0]}, {"type": "x", "targets": [1], "controls": [0]}],
    }
    assert_same_distribution(distribution(read_ionq(hub)), {"00": 0.5, "11": 0.5})
    camel = doc(
        {"type": "pauliExp", "targets": [0], "terms": ["Z"], "coefficients": [1.0], "time": 0.5}
    )
    assert read_ionq(camel).count_ops()["PauliEvolution"] == 1


def test_non_commuting_pauliexp_is_refused_on_reading() -> None:
    payload = doc(
        {
            "gate": "pauliexp",
            "targets": [0, 1],
            "terms": ["XX", "ZI"],
            "coefficients": [1, 1],
            "time": 1,
        }
    )
    with pytest.raises(UnsupportedError, match="do not commute"):
        read_ionq(payload)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 2**70) | st.floats() | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
GATE_FIELDS = st.sampled_from(
    [
        "gate",
        "type",
        "target",
        "targets",
        "control",
        "controls",
        "rotation",
        "phase",
        "phases",
        "angle",
        "terms",
        "coefficients",
        "time",
    ]
)
GATE_NAMES = st.sampled_from(["h", "x", "cnot", "rx", "zz", "swap", "ms", "gpi", "pauliexp", "nop"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    gateset=st.sampled_from(["qis", "native"]),
    qubits=st.one_of(st.integers(-1, 5), JSON),
    gates=st.lists(
        st.fixed_dictionaries({"gate": GATE_NAMES}, optional={}).flatmap(
            lambda base: st.dictionaries(GATE_FIELDS, JSON, max_size=4).map(
                lambda extra: {**base, **extra}
            )
        ),
        max_size=4,
    ),
    registers=st.one_of(st.none(), JSON),
)
def test_reader_fuzz_raises_only_typed_errors(
    gateset: str, qubits: Any, gates: Any, registers: Any
) -> None:
    payload: dict[str, Any] = {"gateset": gateset, "qubits": qubits, "circuit": gates}
    if registers is not None:
        payload["registers"] = registers
    try:
        circuit = read_ionq(payload)
    except (ProgramError, UnsupportedError) as exc:
        assert "\n" not in str(exc)
    else:
        assert circuit.num_qubits >= 1


# --- the vendors' serialisers as oracles -----------------------------------------------


def test_qiskit_ionq_writes_the_same_qis_json() -> None:
    from qiskit_ionq.helpers import qiskit_circ_to_ionq_circ

    qc = QuantumCircuit(3, 3)
    qc.h(0)
    qc.cx(0, 1)
    qc.ccx(0, 1, 2)
    for gate in ("s", "sdg", "t", "tdg", "sx", "sxdg", "x", "y", "z"):
        getattr(qc, gate)(1)
    qc.rx(0.1, 0)
    qc.ry(-0.2, 1)
    qc.rz(0.3, 2)
    qc.swap(0, 2)
    qc.rxx(0.4, 0, 1)
    qc.ryy(0.5, 1, 2)
    qc.rzz(0.6, 0, 2)
    qc.cy(0, 1)
    qc.cz(1, 2)
    qc.ch(0, 2)
    qc.crx(0.1, 0, 1)
    qc.cry(0.2, 1, 2)
    qc.crz(0.3, 2, 0)
    qc.measure(0, 2)
    qc.measure(2, 0)
    qc.measure(1, 1)
    theirs, _, meas_map = qiskit_circ_to_ionq_circ(qc)
    mine = write_ionq(qc, None, QIS)
    assert mine["circuit"] == theirs
    assert mine["registers"] == {"c": meas_map}


def test_qiskit_ionq_native_and_pauliexp_json_read_as_the_vendor_gates() -> None:
    from qiskit_ionq import GPI2Gate, GPIGate, MSGate, ZZGate
    from qiskit_ionq.helpers import qiskit_circ_to_ionq_circ

    qc = QuantumCircuit(3)
    qc.append(GPIGate(0.13), [0])
    qc.append(GPI2Gate(-0.4), [1])
    qc.append(MSGate(0.2, 0.7, 0.11), [0, 2])
    qc.append(MSGate(0.9, 0.05), [2, 1])
    qc.append(ZZGate(-0.2), [1, 0])
    gates, _, _ = qiskit_circ_to_ionq_circ(qc, gateset="native")
    back = unitary_part(read_ionq({"gateset": "native", "qubits": 3, "circuit": gates}))
    assert Operator(back).equiv(Operator(qc))
    assert Operator(back) == Operator(qc)  # even the global phase

    evolution = QuantumCircuit(3)
    evolution.h(0)
    operator = SparsePauliOp(["XXI", "YYI", "ZZI", "IIZ"], [0.5, -0.25, 0.75, 0.1])  # commuting
    evolution.append(PauliEvolutionGate(operator, time=0.8), [0, 1, 2])
    gates, _, _ = qiskit_circ_to_ionq_circ(evolution)
    assert same_unitary(read_ionq({"qubits": 3, "circuit": gates}), evolution)
    mine = write_ionq(evolution, None, QIS)
    assert mine["circuit"][1] == {
        "gate": "pauliexp",
        "targets": [0, 1, 2],
        "terms": ["XXI", "YYI", "ZZI", "IIZ"],
        "coefficients": [0.5, -0.25, 0.75, 0.1],
        "time": 0.8,
    }
    assert same_unitary(read_ionq(write_ionq(evolution, None, NATIVE)), evolution)


def native_with_vendor_gates(document: dict[str, Any]) -> QuantumCircuit:
    """IonQ native JSON interpreted with qiskit-ionq's own gate classes (not our reader)."""
    from qiskit_ionq import GPI2Gate, GPIGate, MSGate, ZZGate

    qc = QuantumCircuit(document["qubits"])
    for g in document["circuit"]:
        if g["gate"] == "gpi":
            qc.append(GPIGate(g["phase"]), [g["target"]])
        elif g["gate"] == "gpi2":
            qc.append(GPI2Gate(g["phase"]), [g["target"]])
        elif g["gate"] == "ms":
            qc.append(MSGate(*g["phases"], g.get("angle", 0.25)), g["targets"])
        else:
            assert g["gate"] == "zz"
            qc.append(ZZGate(g["angle"]), g["targets"])
    return qc


@pytest.mark.parametrize("backend_id", ["azure.ionq.aria", "azure.ionq.forte"])
def test_native_json_means_the_source_under_qiskit_ionqs_gate_matrices(backend_id: str) -> None:
    qc = gate_zoo()
    document = write_ionq(qc, qbroker.backend(backend_id), WriteOptions())
    assert Operator(native_with_vendor_gates(document)).equiv(Operator(qc))


def test_native_json_means_the_source_under_cirq_ionqs_gate_matrices() -> None:
    import cirq
    from cirq_ionq.ionq_native_gates import GPI2Gate, GPIGate, MSGate, ZZGate

    qc = gate_zoo()
    for backend_id in ("azure.ionq.aria", "azure.ionq.forte"):
        document = write_ionq(qc, qbroker.backend(backend_id), WriteOptions())
        line = cirq.LineQubit.range(document["qubits"])
        ops = []
        for g in document["circuit"]:
            if g["gate"] == "gpi":
                ops.append(GPIGate(phi=g["phase"])(line[g["target"]]))
            elif g["gate"] == "gpi2":
                ops.append(GPI2Gate(phi=g["phase"])(line[g["target"]]))
            elif g["gate"] == "ms":
                a, b = g["targets"]
                ops.append(
                    MSGate(phi0=g["phases"][0], phi1=g["phases"][1], theta=g["angle"])(
                        line[a], line[b]
                    )
                )
            else:
                a, b = g["targets"]
                ops.append(ZZGate(theta=g["angle"])(line[a], line[b]))
        unitary = cirq.unitary(cirq.Circuit(ops))  # big-endian: reverse for Qiskit's order
        assert Operator(unitary).reverse_qargs().equiv(Operator(qc)), backend_id


def test_cirq_ionq_json_reads_as_the_cirq_circuit() -> None:
    import cirq
    import cirq_ionq
    from cirq_ionq.ionq_native_gates import GPI2Gate, GPIGate, MSGate, ZZGate

    q = cirq.LineQubit.range(3)
    qis = cirq.Circuit(
        [
            cirq.H(q[0]), cirq.CNOT(q[0], q[1]), cirq.X(q[2]) ** 0.5, cirq.X(q[1]) ** -0.5,
            cirq.rx(0.3)(q[0]), cirq.ry(0.4)(q[1]), cirq.rz(0.5)(q[2]), cirq.S(q[0]),
            cirq.S(q[1]) ** -1, cirq.T(q[2]), cirq.T(q[0]) ** -1, cirq.XX(q[0], q[1]) ** 0.3,
            cirq.YY(q[1], q[2]) ** 0.2, cirq.ZZ(q[0], q[2]) ** 0.7, cirq.SWAP(q[0], q[1]),
            cirq.Y(q[2]), cirq.Z(q[1]), cirq.X(q[0]), cirq.CNOT(q[2], q[0]),
        ]
    )  # fmt: skip
    native = cirq.Circuit(
        [
            GPIGate(phi=0.1)(q[0]), GPI2Gate(phi=0.3)(q[1]),
            MSGate(phi0=0.2, phi1=0.7, theta=0.15)(q[0], q[2]), ZZGate(theta=0.3)(q[1], q[2]),
            MSGate(phi0=0.2, phi1=0.1)(q[1], q[0]),
        ]
    )  # fmt: skip
    serializer = cirq_ionq.Serializer()
    for circuit in (qis, native):
        document = serializer.serialize_single_circuit(circuit).input
        back = read_ionq(json.loads(json.dumps(document)))
        expected = Operator(cirq.unitary(circuit)).reverse_qargs()
        assert Operator(unitary_part(back)).equiv(expected)
    # Our qis JSON for the same circuit, read back, is the same unitary as cirq-ionq's.
    ours = roundtrip(unitary_part(read_ionq(serializer.serialize_single_circuit(qis).input)))
    assert Operator(unitary_part(ours)).equiv(Operator(cirq.unitary(qis)).reverse_qargs())


# --- property-based round trips --------------------------------------------------------

EDGE_ANGLES = st.one_of(
    st.sampled_from(
        [
            0.0,
            math.pi,
            -math.pi,
            2 * math.pi,
            math.pi / 2,
            -math.pi / 2,
            1e-12,
            -1e-300,
            1e9,
            -3e15,
            1e300,
        ]
    ),
    st.floats(-10, 10, allow_nan=False),
)
FIXED_1Q = ["h", "x", "y", "z", "s", "sdg", "t", "tdg", "sx", "sxdg"]
ROTATION_1Q = ["rx", "ry", "rz", "p"]
FIXED_2Q = ["cx", "cy", "cz", "ch", "swap"]
ROTATION_2Q = ["rxx", "ryy", "rzz", "crx", "cry", "crz", "cp"]


@st.composite
def circuits(draw: st.DrawFn, measure: bool = False) -> QuantumCircuit:
    n = draw(st.integers(1, 3))
    sizes = draw(st.lists(st.integers(1, 2), min_size=1, max_size=2)) if measure else []
    registers = [ClassicalRegister(size, f"r{i}") for i, size in enumerate(sizes)]
    qc = QuantumCircuit(QuantumRegister(n, "q"), *registers)
    for _ in range(draw(st.integers(0, 10))):
        kind = draw(st.sampled_from(["fixed1", "rot1", "fixed2", "rot2", "ccx"]))
        if (kind in ("fixed2", "rot2") and n < 2) or (kind == "ccx" and n < 3):
            kind = "rot1"
        if kind == "fixed1":
            getattr(qc, draw(st.sampled_from(FIXED_1Q)))(draw(st.integers(0, n - 1)))
        elif kind == "rot1":
            getattr(qc, draw(st.sampled_from(ROTATION_1Q)))(
                draw(EDGE_ANGLES), draw(st.integers(0, n - 1))
            )
        else:
            qubits = draw(st.permutations(range(n)))
            if kind == "fixed2":
                getattr(qc, draw(st.sampled_from(FIXED_2Q)))(qubits[0], qubits[1])
            elif kind == "rot2":
                getattr(qc, draw(st.sampled_from(ROTATION_2Q)))(
                    draw(EDGE_ANGLES), qubits[0], qubits[1]
                )
            else:
                qc.ccx(*qubits[:3])
    if measure and qc.num_clbits:
        for q, c in draw(
            st.lists(
                st.tuples(st.integers(0, n - 1), st.integers(0, qc.num_clbits - 1)), max_size=4
            )
        ):
            qc.measure(q, c)
    return qc


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(circuits())
def test_random_circuits_keep_their_unitary_in_both_gatesets(qc: QuantumCircuit) -> None:
    qis = roundtrip(qc, QIS)
    assert same_unitary(qis, qc)
    native = roundtrip(qc, NATIVE)
    assert same_unitary(native, qc)
    forte = qbroker.backend("azure.ionq.forte")
    assert same_unitary(roundtrip(unitary_part(qis), NATIVE, forte), qc)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(circuits(measure=True))
def test_random_measured_circuits_keep_their_distribution(qc: QuantumCircuit) -> None:
    expected = distribution(qc)
    for options in (QIS, NATIVE):
        back = roundtrip(qc, options)
        assert back.num_clbits == qc.num_clbits
        assert_same_distribution(distribution(back), expected)
