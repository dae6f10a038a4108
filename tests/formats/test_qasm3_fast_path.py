"""OpenQASM 3 on the fast path: what Qiskit writes is read by Qiskit's Rust reader, into
the circuit the reference (ANTLR) reader builds; what the Rust reader refuses reaches the
reference reader only within a budget, so hostile input answers at once."""

from __future__ import annotations

import importlib.util
import io
import math
import pickle
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import qiskit.qasm3
import qiskit.qpy
from hypothesis import HealthCheck, given, settings
from qiskit import QuantumCircuit

import qbroker
from qbroker import ProgramError
from qbroker.formats import qasm
from qbroker.formats.qasm import read_qasm3

Q3 = 'OPENQASM 3.0;\ninclude "stdgates.inc";\n'
REGRESSIONS = Path(__file__).parent / "regressions"
REFERENCE = qiskit.qasm3.loads


@pytest.fixture
def reference_reader_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The texts Qiskit's reference reader is given while the test runs."""
    calls: list[str] = []

    def spy(text: str, **kwargs: Any) -> QuantumCircuit:
        calls.append(text)
        return REFERENCE(text, **kwargs)

    monkeypatch.setattr(qiskit.qasm3, "loads", spy)
    yield calls


def assert_same_circuit(fast: QuantumCircuit, reference: QuantumCircuit) -> None:
    """Same qubits, registers, layout and instructions; parameters within 1e-12 (the
    Rust reader reads ``id`` as Qiskit's IGate, the reference reader as U(0, 0, 0))."""
    assert fast.num_qubits == reference.num_qubits
    assert [(r.name, r.size) for r in fast.qregs] == [(r.name, r.size) for r in reference.qregs]
    assert [(r.name, r.size) for r in fast.cregs] == [(r.name, r.size) for r in reference.cregs]
    assert (fast.layout is None) == (reference.layout is None)
    assert len(fast.data) == len(reference.data)
    for mine, theirs in zip(fast.data, reference.data, strict=True):
        assert [fast.find_bit(q).index for q in mine.qubits] == [
            reference.find_bit(q).index for q in theirs.qubits
        ]
        assert [fast.find_bit(c).index for c in mine.clbits] == [
            reference.find_bit(c).index for c in theirs.clbits
        ]
        a, b = mine.operation, theirs.operation
        if (a.name, b.name) == ("id", "u"):
            assert [float(p) for p in b.params] == [0.0, 0.0, 0.0]
            continue
        assert a.name == b.name
        assert len(a.params) == len(b.params)
        for x, y in zip(a.params, b.params, strict=True):
            assert abs(float(x) - float(y)) <= 1e-12, (a.name, x, y)
        if type(b).__name__ == "Gate":  # a gate the program defines: same definition
            assert_same_circuit(a.definition, b.definition)


def read_on_the_fast_path(text: str, calls: list[str]) -> QuantumCircuit:
    circuit = read_qasm3(text)
    assert calls == [], "the reference reader was used"
    return circuit


# --------------------------------------------------------------------------------------
# what Qiskit writes takes the fast path
# --------------------------------------------------------------------------------------

BENCHMARKS = ["qft", "qpeexact", "qaoa", "vqe_su2", "wstate", "ghz", "graphstate"]


@pytest.mark.parametrize("level", ["ALG", "INDEP"])
@pytest.mark.parametrize("name", BENCHMARKS)
def test_benchmark_circuits_qiskit_writes_read_fast_as_the_reference_reader_reads_them(
    name: str, level: str, reference_reader_calls: list[str]
) -> None:
    bench = pytest.importorskip("mqt.bench")
    circuit = bench.get_benchmark(name, getattr(bench.BenchmarkLevel, level), 30)
    text = qiskit.qasm3.dumps(circuit)  # pi/2 angles, gate definitions, $n qubits ...
    fast = read_on_the_fast_path(text, reference_reader_calls)
    reference = REFERENCE(text)
    assert_same_circuit(fast, reference)
    assert fast == reference


#: Hypothesis settings of the tests that read generated circuits (deterministic, no database).
ROUNDTRIP_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _roundtrip_strategies() -> Any:
    """The hypothesis circuit generator of test_roundtrip_properties.py (one strategy)."""
    path = Path(__file__).with_name("test_roundtrip_properties.py")
    spec = importlib.util.spec_from_file_location("_roundtrip_properties", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.circuits


@ROUNDTRIP_SETTINGS
@given(circuit=_roundtrip_strategies()())
def test_random_circuits_qiskit_writes_read_fast_as_the_reference_reader_reads_them(
    circuit: QuantumCircuit, reference_reader_calls: list[str]
) -> None:
    reference_reader_calls.clear()
    text = qiskit.qasm3.dumps(circuit)  # U, r, rzz, ecr ... as gate definitions
    fast = read_on_the_fast_path(text, reference_reader_calls)
    assert_same_circuit(fast, REFERENCE(text))


def test_qft_100_converts_to_openqasm3_and_reads_back(reference_reader_calls: list[str]) -> None:
    from qiskit.synthesis.qft import synth_qft_full

    circuit = QuantumCircuit(100, 100)
    circuit.compose(synth_qft_full(100), range(100), inplace=True)  # h, cp(pi/2**k), swap
    circuit.measure(range(100), range(100))
    buffer = io.BytesIO()
    qiskit.qpy.dump(circuit, buffer)
    source = qbroker.Program(format="QISKIT_QPY", payload=buffer.getvalue())
    written = qbroker.convert(source, "OPEN_QASM_V3")
    assert len(written.payload) > 100_000 and "pi/2" in written.payload
    back = qbroker.load_program(written.payload)
    assert reference_reader_calls == []
    assert back.circuit.count_ops() == circuit.count_ops()


@pytest.mark.parametrize(
    "angle, value",
    [
        ("pi/2", math.pi / 2),
        ("-pi/4", -math.pi / 4),
        ("3*pi/8", 3 * math.pi / 8),
        ("pi/2**10", math.pi / 1024),  # neither Qiskit reader takes '**'
        ("-(pi)", -math.pi),
        ("tau/4 + euler", math.tau / 4 + math.e),
        ("1", 1.0),
        ("7/2*pi", 3 * math.pi),  # an integer over an integer is an integer
        ("1.5/2", 0.75),
        ("1_000.5", 1000.5),
        ("1.e-06", 1e-06),  # as Qiskit writes it; the fast reader panics on it
        (".5", 0.5),
        ("0x1F", 31.0),
        ("2**0.5", 2**0.5),
    ],
)
def test_constant_arithmetic_is_folded_exactly(
    angle: str, value: float, reference_reader_calls: list[str]
) -> None:
    circuit = read_on_the_fast_path(Q3 + f"qubit q;\nrz({angle}) q;\n", reference_reader_calls)
    assert circuit.data[0].operation.params == [value]  # exact: printed with repr


@pytest.mark.parametrize("angle", ["-1.209pi42", "1.76U47", "1e5x", ".5x"])
def test_a_number_run_into_a_name_is_refused_not_misread(angle: str) -> None:
    # the fast reader read ry(-1.209pi42) as ry(-1.209), silently (found by fuzzing)
    with pytest.raises(ProgramError, match="runs into") as info:
        read_qasm3(Q3 + f"qubit q;\n// 2pi, 0x1F, 1e5 and 100ns are fine\nry({angle}) q;\n")
    assert (info.value.line, info.value.column) == (5, 4 + angle.startswith("-"))


@pytest.mark.parametrize(
    "program",
    [
        "gate g(a) x { rz(a/2) x; }\ngate k(b) x, y { g(b*2) x; cx x, y; g(-b) y; }\n"
        "qubit[2] q;\nk(0.5) q[0], q[1];\nk(pi) q[1], q[0];\n",
        "gate sxdg a { s a; h a; s a; }\nqubit q;\nsxdg q;\nsxdg q;\n",
        "qubit[2] q;\nU(pi/2, 0, -pi) q[0];\nh q;\nreset q;\nrz(1) q[1];\n",
        "bit[2] c;\nh $3;\ncx $3, $1;\nbarrier $1, $3;\nc[0] = measure $3;\nc[1] = measure $1;\n",
        "// pi $7 U(1) reset gate\n/* pi/2 $9 */\nqubit q;\nrz(pi\n/2) q; // pi\n",
        "qubit q;\nrz(π/2) q;\nrz(τ/4) q;\nrz(ℇ) q;\n",
    ],
    ids=["nested-definitions", "definition", "U-reset-int", "hardware", "comments", "unicode"],
)
def test_what_the_fast_path_rewrites_reads_as_the_reference_reader_reads_it(
    program: str, reference_reader_calls: list[str]
) -> None:
    fast = read_on_the_fast_path(Q3 + program, reference_reader_calls)
    reference = REFERENCE(Q3 + program)
    assert_same_circuit(fast, reference)
    assert fast == reference


def test_gates_the_program_defines_pickle_and_serialise() -> None:
    from qiskit.quantum_info import Operator

    text = (
        Q3
        + "gate rzz(p0) a, b { cx a, b; rz(p0) b; cx a, b; }\nqubit[2] q;\nrzz(pi/3) q[0], q[1];\n"
    )
    circuit = read_qasm3(text)
    expected = Operator(REFERENCE(text))
    assert Operator(pickle.loads(pickle.dumps(circuit))).equiv(expected)
    buffer = io.BytesIO()
    qiskit.qpy.dump(circuit, buffer)
    buffer.seek(0)
    assert Operator(qiskit.qpy.load(buffer)[0]).equiv(expected)
    assert Operator(read_qasm3(qiskit.qasm3.dumps(circuit))).equiv(expected)


@pytest.mark.parametrize(
    "program, line, column",
    [
        ("qubit[1] q;\nrz(pi/2) r[0];\n", 4, 10),
        ("qubit[1] q;\nU(pi, 0, -pi/2) r;\n", 4, 17),
        ("gate g(a) x { rz(a) x; }\nqubit[1] q;\ng(pi/4) q[0];\nfoo q[0];\n", 6, 1),
        ("bit[1] c;\nh $0;\ncx $0, $1;\nfoo $12;\n", 6, 1),
    ],
)
def test_errors_name_the_position_in_the_users_text(program: str, line: int, column: int) -> None:
    with pytest.raises(ProgramError) as info:
        read_qasm3(Q3 + program)
    assert (info.value.line, info.value.column) == (line, column)


# --------------------------------------------------------------------------------------
# the reference reader: only what the fast one lacks, within a budget
# --------------------------------------------------------------------------------------


def test_what_the_fast_reader_lacks_still_reads(reference_reader_calls: list[str]) -> None:
    program = (
        Q3
        + "input float theta;\nqubit[2] q;\nbit[1] c;\nrx(theta) q[0];\n"
        + ("c[0] = measure q[0];\nif (c[0]) { x q[1]; }\n" * 20)
    )
    circuit = read_qasm3(program)
    assert [p.name for p in circuit.parameters] == ["theta"]
    assert reference_reader_calls == [program]


def test_what_the_fast_reader_wrongly_faults_still_reads(reference_reader_calls: list[str]) -> None:
    # the fast reader calls this "incompatible types" (a bit and one qubit of a register)
    program = Q3 + "qubit[2] q;\nbit c;\nh q[0];\nc = measure q[0];\n" + "x q[1];\n" * 50
    circuit = read_qasm3(program)
    assert circuit.count_ops() == {"x": 50, "h": 1, "measure": 1}
    # first the text up to the line it faults, which the reference reader reads
    assert [len(text) for text in reference_reader_calls] == [
        len(program[: program.index("x q[1]")]),
        len(program),
    ]


def test_a_large_program_the_fast_reader_lacks_is_refused_saying_what_to_do(
    monkeypatch: pytest.MonkeyPatch, reference_reader_calls: list[str]
) -> None:
    monkeypatch.setattr(qasm, "MAX_REFERENCE_READER_STATEMENTS", 100)
    program = Q3 + "input float theta;\nqubit[2] q;\n" + "rx(theta) q[0];\n" * 200
    with pytest.raises(ProgramError) as info:
        read_qasm3(program)
    message = str(info.value)
    assert "InputDeclaration" in message and "too large" in message
    assert "(at most 100)" in message and "QISKIT_QPY" in message and len(message) < 400
    assert reference_reader_calls == []


def test_the_reference_reader_confirms_an_error_from_the_text_up_to_it(
    reference_reader_calls: list[str],
) -> None:
    # a typo on line 4 and 250 KB after it: the reference reader's error report lexes
    # everything after the error (fuzzer: 0.5 s per 200 KB), so it gets lines 1-4 only
    program = Q3 + "qubit[2] q;\nh q[0] q[1];\n" + "cx q[0], q[1];\n" * 16_000
    with pytest.raises(ProgramError) as info:
        read_qasm3(program)
    assert info.value.line == 4
    assert all(len(text) < 100 for text in reference_reader_calls)


def test_an_error_after_more_than_the_budget_is_reported_without_the_reference_reader(
    reference_reader_calls: list[str],
) -> None:
    program = Q3 + "qubit[2] q;\n" + "h q[0];\n" * 20_000 + "h q[0] q[1];\n"
    with pytest.raises(ProgramError) as info:
        read_qasm3(program)
    assert info.value.line == 20_004
    assert reference_reader_calls == []


def test_an_error_on_the_last_line_costs_the_reference_reader_one_read(
    reference_reader_calls: list[str],
) -> None:
    program = Q3 + "qubit[2] q;\n" + "cp(pi/4) q[0], q[1];\n" * 500 + "cp q[0], q[1];\n"
    with pytest.raises(ProgramError, match="wrong number of parameters for 'cp'") as info:
        read_qasm3(program)
    assert info.value.line == 504
    assert reference_reader_calls == [program]


def test_past_the_prefix_budget_the_fast_readers_diagnosis_stands_saying_what_to_do(
    reference_reader_calls: list[str],
) -> None:
    # a gate modifier, which the fast reader lacks, after 1,500 statements
    program = Q3 + "qubit[2] q;\n" + "h q[0];\n" * 1500 + "ctrl @ x q[0], q[1];\n"
    with pytest.raises(ProgramError) as info:
        read_qasm3(program)
    assert info.value.line == 1504
    assert "if this is valid OpenQASM 3 it lacks" in str(info.value)
    assert "(at most 1,000) before it" in str(info.value)
    assert reference_reader_calls == []


FUZZ_FINDINGS: dict[str, Callable[[], str]] = {
    # 40,000-character name ("qubibibi...") on line 4: regexes were quadratic in it
    "long-name": lambda: (REGRESSIONS / "OPEN_QASM_V3--slow-62b5383780.txt").read_text(),
    # 8,000 lines of "c[0] =;" (8 s: errors x size in the fast reader)
    "error-flood": lambda: Q3 + "bit[3] c;\nqubit[2] q;\nx q[1];\n" + "c[0] =;\n" * 8000,
    # 20,000 "binc\";" lines
    "unknown-names": lambda: 'OPENQASnc";\n' + 'binc";\n' * 20_000,
    # a 60,000-character token and no ';'
    "one-token": lambda: "OP" + "ccx" * 20_000,
    # 320 KB statement of "= mea18446744073"
    "one-statement": lambda: Q3 + "c[0] = mea18446744073" * 15_000 + ";\n",
    # a typo on line 4 of 200 KB of repeated headers
    "late-garbage": lambda: Q3 + "bit[2] b;\nbitOPENQASM 3.0;\n" + (Q3 + "bit[1] a;\n") * 4000,
}


@pytest.mark.parametrize("name", FUZZ_FINDINGS)
def test_fuzzer_findings_are_refused_without_reading_past_the_error(
    name: str, reference_reader_calls: list[str]
) -> None:
    text = FUZZ_FINDINGS[name]()
    with pytest.raises(ProgramError) as info:
        read_qasm3(text)
    assert "\n" not in str(info.value)
    for seen in reference_reader_calls:  # never the text after the error
        assert info.value.line is not None
        assert seen.count("\n") <= info.value.line


def test_an_error_after_an_error_flood_is_reported_as_its_own() -> None:
    # the fast reader keeps what it could not print into the full pipe; it used to come
    # out as the next program's diagnosis
    with pytest.raises(ProgramError):
        read_qasm3(Q3 + "qubit[2] q;\n" + "h r[0];\n" * 2000)
    with pytest.raises(ProgramError) as info:
        read_qasm3(Q3 + "qubit[1] q;\nfoo q[0];\n")
    assert (info.value.line, "'foo'" in str(info.value)) == (4, True)


def test_hardware_qubits_beyond_the_limit_are_refused_before_reading() -> None:
    with pytest.raises(ProgramError, match="hardware qubit \\$1000000 is beyond the 100,000"):
        read_qasm3(Q3 + "h $1000000;\n")


def test_a_gate_given_one_qubit_twice_is_refused() -> None:
    """The fast reader builds ``cz q[1], q[1]`` without complaint; the specification and
    the reference reader reject it, and so does qbroker, naming the gate and the qubit."""
    text = 'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nh q[0];\ncz q[1], q[1];\n'
    with pytest.raises(
        ProgramError, match=r"operation 2 \(cz\) is given qubit q\[1\] more than once"
    ):
        qbroker.load_program(text)
