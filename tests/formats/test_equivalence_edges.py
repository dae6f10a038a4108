"""Every edge of the conversion graph, proven on a fixed suite with the equivalence harness.

The edges come from ``qbroker.formats.conversions()`` at collection time, so a codec that
lands gets covered without touching this file. Each edge converts the suite's programs
(written first in the edge's source format) and the harness checks operator, state and
the exact distribution over classical bits, bit order included. A case may be refused
(with a reason) or be beyond the exact checks (photonic circuits with many CNOTs), but
none may come out wrong, and every edge must convert at least one case exactly.

The harness itself is tested first, on hand-made wrong outputs: it must catch each of the
bugs it exists for.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from functools import cache
from typing import Any

import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit.library import HGate

import qbroker
from qbroker import InputFormat, Program, UnsupportedError
from qbroker.formats import Kind, codec, conversions, convert
from qbroker.testing import (
    EquivalenceReport,
    assert_equivalent,
    check_conversion,
    compare_circuits,
    exact_distribution,
)

# --------------------------------------------------------------------------------------
# the suite
# --------------------------------------------------------------------------------------


def bell() -> QuantumCircuit:
    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure([0, 1], [0, 1])
    return qc


def ghz3() -> QuantumCircuit:
    qc = QuantumCircuit(3, 3)
    qc.h(0)
    qc.cx(0, 1)
    qc.cx(1, 2)
    qc.measure([0, 1, 2], [0, 1, 2])
    return qc


def x_on_one_qubit() -> QuantumCircuit:
    """Only qubit 1 flips: the one right key is '010'."""
    qc = QuantumCircuit(3, 3)
    qc.x(1)
    qc.measure([0, 1, 2], [0, 1, 2])
    return qc


def qubit0_into_bit2() -> QuantumCircuit:
    """``measure q[0] -> c[2]``: the right key is '001'."""
    qc = QuantumCircuit(3, 3)
    qc.x(0)
    qc.measure(0, 2)
    return qc


def two_registers() -> QuantumCircuit:
    """Registers a[1], b[2]; only q2 -> b[1] reads 1: the key is '001'."""
    qc = QuantumCircuit(
        QuantumRegister(3, "q"), ClassicalRegister(1, "a"), ClassicalRegister(2, "b")
    )
    qc.x(2)
    qc.measure(0, 0)
    qc.measure(1, 1)
    qc.measure(2, 2)
    return qc


def qubits_not_measured() -> QuantumCircuit:
    """q0 and q2 flip, only q2 is measured (into bit 0): the key is '10'."""
    qc = QuantumCircuit(3, 2)
    qc.x(0)
    qc.x(2)
    qc.h(1)
    qc.measure(2, 0)
    return qc


def bit_never_written() -> QuantumCircuit:
    """Bit 1 is never written and must read 0: the key is '001'."""
    qc = QuantumCircuit(2, 3)
    qc.x(1)
    qc.measure(0, 0)
    qc.measure(1, 2)
    return qc


def skewed() -> QuantumCircuit:
    """Every bit has a different P(1), so any swap of bits changes the distribution."""
    qc = QuantumCircuit(3, 3)
    qc.ry(0.6, 0)
    qc.ry(1.9, 1)
    qc.cx(0, 1)
    qc.ry(2.6, 2)
    qc.measure([0, 1, 2], [0, 1, 2])
    return qc


EDGE_ANGLES = (0.0, math.pi, -math.pi, 2 * math.pi, -2 * math.pi, 1e-12, 1e6, -0.0, 0.3)


def rotations() -> QuantumCircuit:
    """Bound rotations at edge-case angles, measuring nothing (operator comparison)."""
    qc = QuantumCircuit(3)
    gates = (qc.rx, qc.ry, qc.rz, qc.p)
    for i, angle in enumerate(EDGE_ANGLES):
        gates[i % 4](angle, i % 3)
        qc.cx(i % 3, (i + 1) % 3)
    qc.crz(-2 * math.pi, 0, 2)
    qc.rzz(1e-12, 1, 2)
    qc.u(math.pi, -math.pi / 2, 1e6, 1)
    return qc


def rotations_measured() -> QuantumCircuit:
    qc = rotations()
    qc.measure_all()
    return qc


def foreign_gates() -> QuantumCircuit:
    """Gates most targets lack (Toffoli, Fredkin, controlled-H, RZX, iSWAP): decomposed."""
    qc = QuantumCircuit(3, 3)
    qc.h(0)
    qc.ry(0.7, 1)
    qc.ccx(0, 1, 2)
    qc.cswap(2, 0, 1)
    qc.ch(1, 0)
    qc.rzx(0.45, 2, 0)
    qc.iswap(0, 2)
    qc.measure([0, 1, 2], [0, 1, 2])
    return qc


def small_foreign() -> QuantumCircuit:
    """Two qubits, gates outside most native sets (U, SX, CZ, S-dagger), with a skew."""
    qc = QuantumCircuit(2, 2)
    qc.u(0.3, 0.2, 0.1, 0)
    qc.sx(1)
    qc.cz(0, 1)
    qc.sdg(1)
    qc.measure([0, 1], [1, 0])
    return qc


SUITE: dict[str, Callable[[], QuantumCircuit]] = {
    "bell": bell,
    "ghz3": ghz3,
    "x-on-q1": x_on_one_qubit,
    "q0-into-c2": qubit0_into_bit2,
    "two-registers": two_registers,
    "unmeasured-qubits": qubits_not_measured,
    "bit-never-written": bit_never_written,
    "skewed": skewed,
    "rotations": rotations,
    "rotations-measured": rotations_measured,
    "foreign-gates": foreign_gates,
    "small-foreign": small_foreign,
}
#: Cases too large for dual-rail photonics (each CNOT costs modes and photons; the exact
#: check could not enumerate them and writing them takes seconds).
NOT_PHOTONIC = frozenset({"rotations", "rotations-measured", "foreign-gates"})


def qpy_program(circuit: QuantumCircuit) -> Program:
    """A lossless starting point: the circuit as QPY."""
    import qiskit.qpy

    buffer = io.BytesIO()
    qiskit.qpy.dump(circuit, buffer)
    return Program(format=InputFormat.QISKIT_QPY, payload=buffer.getvalue())


@cache
def source_program(fmt: InputFormat, case: str) -> Program | str:
    """The suite's case written in gate-model ``fmt`` (or why ``fmt`` cannot hold it)."""
    try:
        return convert(qpy_program(SUITE[case]()), fmt)
    except UnsupportedError as exc:
        return str(exc)


EDGES = conversions()


# --------------------------------------------------------------------------------------
# every edge
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("edge", EDGES, ids=[f"{e.source.value}->{e.target.value}" for e in EDGES])
def test_edge_converts_the_suite_without_a_wrong_result(
    edge: qbroker.Conversion, hub_ahs_example: dict[str, Any]
) -> None:
    photonic = codec(edge.target).kind is Kind.PHOTONIC
    reports: list[tuple[str, EquivalenceReport]] = []
    for case in SUITE:
        if photonic and case in NOT_PHOTONIC:
            continue
        source: Program | str
        if edge.source is InputFormat.BRAKET_AHS_PROGRAM:  # analog: the Hub's example only
            source = Program(format=edge.source, payload=hub_ahs_example)
            if case != "bell":
                continue
        else:
            source = source_program(edge.source, case)
        if isinstance(source, str):  # the source format cannot hold this case
            continue
        reports.append((case, check_conversion(source, edge.target)))
    assert reports, f"no case of the suite could be written in {edge.source}"
    wrong = [f"{case}: {r}\n{r.diff}" for case, r in reports if r.outcome == "wrong"]
    assert not wrong, "\n".join(wrong)
    for case, report in reports:
        if report.outcome == "refused":
            # a reason a user can act on: more than a word, names something
            assert len(report.reason) >= 15 and " " in report.reason, (case, report.reason)
    exact = [case for case, r in reports if r.outcome == "exact"]
    assert exact, f"no case converted exactly: {[str(r) for _, r in reports]}"


def test_every_listed_edge_is_covered_and_the_list_is_the_whole_matrix() -> None:
    gate = [c.format for c in map(codec, {e.source for e in EDGES}) if c.kind is Kind.GATE]
    writers = {e.target for e in EDGES}
    for src in gate:
        for dst in writers:
            if codec(dst).kind in (Kind.GATE, Kind.PHOTONIC):
                assert any(e.source is src and e.target is dst for e in EDGES), (src, dst)
    assert len({(e.source, e.target) for e in EDGES}) == len(EDGES)


def test_analog_to_gate_model_is_refused_with_a_reason(hub_ahs_example: dict[str, Any]) -> None:
    ahs = Program(format=InputFormat.BRAKET_AHS_PROGRAM, payload=hub_ahs_example)
    report = check_conversion(ahs, InputFormat.OPEN_QASM_V3)
    assert report.outcome == "refused"
    assert "Hamiltonian" in report.reason
    gate = source_program(InputFormat.OPEN_QASM_V2, "bell")
    assert isinstance(gate, Program)
    report = check_conversion(gate, InputFormat.BRAKET_AHS_PROGRAM)
    assert report.outcome == "refused" and "analog" in report.reason


# --------------------------------------------------------------------------------------
# on a backend: physical circuits, the logical result
# --------------------------------------------------------------------------------------

BACKEND_EDGES = [
    ("ibm.qpu.fez", InputFormat.OPEN_QASM_V3),
    ("ibm.qpu.fez", InputFormat.QISKIT_QPY),
    ("iqm.qpu.garnet", InputFormat.IQM_JOB_INPUT_V1),
    ("aws.rigetti.ankaa-3", InputFormat.BRAKET_OPEN_QASM_V3),
    ("aws.iqm.garnet", InputFormat.BRAKET_OPEN_QASM_V3),
    ("azure.ionq.aria", InputFormat.IONQ_CIRCUIT_V1),
]


@pytest.mark.parametrize(
    "backend_id, target", BACKEND_EDGES, ids=[f"{t.value}@{b}" for b, t in BACKEND_EDGES]
)
def test_conversion_onto_a_backend_keeps_the_logical_result(
    backend_id: str, target: InputFormat
) -> None:
    try:
        codec(target)
    except UnsupportedError as exc:
        pytest.skip(str(exc))
    backend = qbroker.backend(backend_id)
    for case in ("ghz3", "q0-into-c2", "two-registers", "skewed", "rotations"):
        source = source_program(InputFormat.OPEN_QASM_V2, case)
        assert isinstance(source, Program)
        report = check_conversion(source, target, backend)
        assert report.outcome == "exact", f"{case}: {report}\n{report.diff}"


def test_photonic_backend_conversion_is_exact_or_refused_with_the_limit() -> None:
    try:
        codec(InputFormat.PERCEVAL)
    except UnsupportedError as exc:
        pytest.skip(str(exc))
    backend = qbroker.backend("quandela.qpu.ascella")
    bell_program = source_program(InputFormat.OPEN_QASM_V2, "bell")
    assert isinstance(bell_program, Program)
    assert check_conversion(bell_program, InputFormat.PERCEVAL, backend).outcome == "exact"
    ghz5 = QuantumCircuit(5, 5)
    ghz5.h(0)
    for q in range(4):
        ghz5.cx(q, q + 1)
    ghz5.measure(range(5), range(5))
    report = check_conversion(qpy_program(ghz5), InputFormat.PERCEVAL, backend)
    assert report.outcome == "refused" and "modes" in report.reason and "at most" in report.reason


# --------------------------------------------------------------------------------------
# the harness catches what it exists for
# --------------------------------------------------------------------------------------


def test_exact_distribution_keys_put_classical_bit_zero_leftmost() -> None:
    assert exact_distribution(qubit0_into_bit2()) == {"001": pytest.approx(1.0)}
    assert exact_distribution(two_registers()) == {"001": pytest.approx(1.0)}
    assert exact_distribution(qubits_not_measured()) == {"10": pytest.approx(1.0)}
    assert exact_distribution(bit_never_written()) == {"001": pytest.approx(1.0)}


def test_a_bit_order_swap_is_wrong_and_named() -> None:
    swapped = QuantumCircuit(3, 3)
    swapped.x(0)
    swapped.measure(0, 0)  # the source writes bit 2
    outcome, reason, diff, _ = compare_circuits(qubit0_into_bit2(), swapped)
    assert outcome == "wrong"
    assert "reversed" in reason
    assert "bit 0: P(1) source 0.000000, output 1.000000" in diff


def test_register_order_swap_is_wrong() -> None:
    flipped = QuantumCircuit(
        QuantumRegister(3, "q"), ClassicalRegister(2, "b"), ClassicalRegister(1, "a")
    )
    flipped.x(2)
    flipped.measure(0, 2)
    flipped.measure(1, 0)
    flipped.measure(2, 1)
    assert compare_circuits(two_registers(), flipped)[0] == "wrong"


def test_lost_and_extra_classical_bits_are_wrong() -> None:
    fewer = QuantumCircuit(3, 1)
    fewer.x(0)
    fewer.measure(0, 0)
    outcome, reason, _, _ = compare_circuits(qubit0_into_bit2(), fewer)
    assert outcome == "wrong" and "classical bits" in reason


def test_a_changed_unitary_is_wrong_even_when_it_measures_nothing() -> None:
    source = rotations()
    changed = source.copy()
    changed.rz(1e-3, 0)
    outcome, reason, diff, _ = compare_circuits(source, changed)
    assert outcome == "wrong" and "operators" in reason and "largest difference" in diff
    # global phase is not a difference
    phased = source.copy()
    phased.global_phase += 1.234
    assert compare_circuits(source, phased)[0] == "exact"


def test_a_z_rotation_just_before_measurement_may_be_dropped() -> None:
    source = QuantumCircuit(2, 2)
    source.h(0)
    source.cx(0, 1)
    source.rz(0.4, 1)
    source.measure([0, 1], [0, 1])
    dropped = bell()
    outcome, _, _, checks = compare_circuits(source, dropped)
    assert outcome == "exact" and "unitary" in checks and "distribution" in checks
    # an X before the measurement is not allowed: it changes the outcome
    flipped = QuantumCircuit(2, 2)
    flipped.h(0)
    flipped.cx(0, 1)
    flipped.x(1)
    flipped.measure([0, 1], [0, 1])
    assert compare_circuits(source, flipped)[0] == "wrong"


def test_relabelled_qubits_are_wrong_unless_a_backend_moved_them() -> None:
    source = QuantumCircuit(3)
    source.ry(0.3, 0)
    source.h(2)
    source.cx(2, 1)
    moved = QuantumCircuit(5)  # the same state on qubits 4, 0, 3 of a wider device
    moved.ry(0.3, 4)
    moved.h(3)
    moved.cx(3, 0)
    assert compare_circuits(source, moved)[0] == "wrong"
    outcome, _, _, checks = compare_circuits(source, moved, relabel=True)
    assert outcome == "exact" and checks == ("statevector",)
    assert compare_circuits(source, moved, final_layout=[4, 0, 3])[0] == "exact"
    assert compare_circuits(source, moved, final_layout=[0, 4, 3])[0] == "wrong"
    other = moved.copy()
    other.ry(0.2, 4)
    assert compare_circuits(source, other, relabel=True)[0] == "wrong"


def test_mid_circuit_measurement_and_feed_forward_are_simulated_exactly() -> None:
    teleport = QuantumCircuit(3, 3)
    teleport.ry(1.1, 0)
    teleport.h(1)
    teleport.cx(1, 2)
    teleport.cx(0, 1)
    teleport.h(0)
    teleport.measure(0, 0)
    teleport.measure(1, 1)
    with teleport.if_test((teleport.clbits[1], 1)):
        teleport.x(2)
    with teleport.if_test((teleport.clbits[0], 1)):
        teleport.z(2)
    teleport.measure(2, 2)
    distribution = exact_distribution(teleport)
    p_one = sum(p for key, p in distribution.items() if key[2] == "1")
    assert p_one == pytest.approx(math.sin(1.1 / 2) ** 2)
    assert sum(distribution.values()) == pytest.approx(1.0)
    reset = QuantumCircuit(1, 1)
    reset.h(0)
    reset.reset(0)
    reset.append(HGate(), [0])
    reset.measure(0, 0)
    assert exact_distribution(reset) == {
        "0": pytest.approx(0.5),
        "1": pytest.approx(0.5),
    }


def test_what_cannot_be_checked_is_unchecked_not_exact() -> None:
    from qiskit.circuit import Parameter

    theta = Parameter("t")
    qc = QuantumCircuit(1, 1)
    qc.rx(theta, 0)
    qc.measure(0, 0)
    outcome, reason, _, _ = compare_circuits(qc, qc)
    assert outcome == "unchecked" and "unbound" in reason
    wide = QuantumCircuit(24, 24)
    wide.h(range(24))
    wide.measure(range(24), range(24))
    outcome, reason, _, _ = compare_circuits(wide, wide)
    assert outcome == "unchecked" and "at most 20" in reason
    with pytest.raises(UnsupportedError, match="at most 20"):
        exact_distribution(wide)


def test_assert_equivalent_fails_on_refusal_when_asked(hub_ahs_example: dict[str, Any]) -> None:
    program = source_program(InputFormat.OPEN_QASM_V3, "q0-into-c2")
    assert isinstance(program, Program)
    assert assert_equivalent(program, InputFormat.OPEN_QASM_V2).outcome == "exact"
    ahs = Program(format=InputFormat.BRAKET_AHS_PROGRAM, payload=hub_ahs_example)
    assert assert_equivalent(ahs, InputFormat.OPEN_QASM_V2).outcome == "refused"
    with pytest.raises(AssertionError, match="refused"):
        assert_equivalent(ahs, InputFormat.OPEN_QASM_V2, allow_refusal=False)


def test_report_names_the_edge() -> None:
    program = source_program(InputFormat.OPEN_QASM_V2, "bell")
    assert isinstance(program, Program)
    report = check_conversion(program, "QISKIT_QPY")
    assert report.edge == "OPEN_QASM_V2->QISKIT_QPY"
    assert str(report).startswith("OPEN_QASM_V2->QISKIT_QPY: exact [")
    assert report.output is not None and report.output.format is InputFormat.QISKIT_QPY


# --------------------------------------------------------------------------------------
# the Program convert() returns
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["OPEN_QASM_V3", "IONQ_CIRCUIT_V1", "QISKIT_QPY", "CIRQ_JSON"])
def test_converted_program_reads_like_the_same_payload_given_by_a_user(target: str) -> None:
    source = source_program(InputFormat.OPEN_QASM_V2, "bell")
    assert isinstance(source, Program)
    output = convert(source, target)
    given = Program(format=target, payload=output.payload, name=output.name)
    assert output == given and hash(output) == hash(given)
    assert (output.num_qubits, output.num_clbits) == (given.num_qubits, given.num_clbits)
    assert output.circuit == given.circuit


def test_converted_program_still_checks_the_cheap_invariants(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from qbroker.errors import ProgramError, ValidationError

    with pytest.raises(ValidationError, match="payload is dict, not str"):
        Program._from_writer(InputFormat.IONQ_CIRCUIT_V1, "{}", None)
    with pytest.raises(ValidationError, match="payload is str, not bytes"):
        Program._from_writer(InputFormat.OPEN_QASM_V2, b"OPENQASM 2.0;", None)
    source = source_program(InputFormat.OPEN_QASM_V2, "bell")
    assert isinstance(source, Program)
    monkeypatch.setenv("QBROKER_MAX_PROGRAM_BYTES", "40")
    with pytest.raises(ProgramError, match="over the 40-byte limit"):
        convert(source, InputFormat.OPEN_QASM_V3)


def test_a_payload_from_a_user_is_still_read_when_the_program_is_built() -> None:
    from qbroker.errors import ProgramError

    with pytest.raises(ProgramError, match=r"circuit\.0\.gate"):
        Program(format=InputFormat.IONQ_CIRCUIT_V1, payload={"qubits": 1, "circuit": [{}]})
