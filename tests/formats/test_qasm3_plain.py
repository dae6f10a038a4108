"""Plain OpenQASM 3 (what Qiskit's exporter writes) read without Qiskit's reader: the same
circuit as the full path, the same Cirq JSON (byte for byte), anything else left to the
full path, whose errors are unchanged."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest
import qiskit.qasm3
from hypothesis import given
from qiskit import QuantumCircuit
from test_qasm3_fast_path import ROUNDTRIP_SETTINGS, _roundtrip_strategies

import qbroker
from qbroker import ProgramError
from qbroker.formats import WriteOptions, _qasm3_plain, convert
from qbroker.formats._limits import guard_program_text
from qbroker.formats._qasm3_plain import read_plain
from qbroker.formats.cirq_json import write_cirq_json
from qbroker.formats.qasm import _refuse_glued_numbers, read_qasm3

Q3 = 'OPENQASM 3.0;\ninclude "stdgates.inc";\n'


def full_path(text: str, monkeypatch: pytest.MonkeyPatch) -> QuantumCircuit:
    """The circuit read_qasm3 builds with the plain reader switched off."""
    with monkeypatch.context() as patch:
        patch.setattr(_qasm3_plain, "read_plain", lambda text: None)
        return read_qasm3(text)


def assert_same(plain: QuantumCircuit, full: QuantumCircuit) -> None:
    """Equal circuits: registers, bits, instructions, exact parameters, layout."""
    assert plain == full
    assert [(r.name, r.size) for r in plain.qregs] == [(r.name, r.size) for r in full.qregs]
    assert [(r.name, r.size) for r in plain.cregs] == [(r.name, r.size) for r in full.cregs]
    assert plain.global_phase == full.global_phase
    assert [(i.name, i.params) for i in plain.data] == [(i.name, i.params) for i in full.data]
    assert (plain.layout is None) == (full.layout is None)
    if full.layout is not None:
        assert plain.layout.initial_index_layout() == full.layout.initial_index_layout()
        assert list(plain.layout.input_qubit_mapping.values()) == list(
            full.layout.input_qubit_mapping.values()
        )


def assert_same_cirq_json(program: qbroker.Program, full: QuantumCircuit) -> None:
    """``program`` converts to the Cirq JSON the circuit writer gives for ``full`` (or
    fails as it does)."""
    try:
        expected = json.dumps(write_cirq_json(full, None, WriteOptions()))
    except Exception as exc:
        with pytest.raises(type(exc)):
            convert(program, "CIRQ_JSON")
        return
    assert json.dumps(convert(program, "CIRQ_JSON").payload) == expected


def assert_plain_everywhere(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Read plainly; same circuit; passes the guards; same Cirq JSON (or same refusal)."""
    plain = read_plain(text)
    assert plain is not None
    guard_program_text(text, "OPEN_QASM_V3")  # accepted => the guards agree
    _refuse_glued_numbers(text)
    full = full_path(text, monkeypatch)
    assert_same(plain.build(), full)
    program = qbroker.load_program(text)
    assert program._plain_form() is not None
    assert_same_cirq_json(program, full)


MQT = ["qft", "qpeexact", "qaoa", "vqe_su2", "wstate", "ghz", "graphstate"]


@pytest.mark.parametrize(("name", "size"), [(n, s) for n in MQT for s in (5, 30)])
def test_mqt_bench_circuits_read_plainly_into_the_same_circuit_and_cirq_json(
    name: str, size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    bench = pytest.importorskip("mqt.bench")
    circuit = bench.get_benchmark(name, bench.BenchmarkLevel.INDEP, size)
    assert_plain_everywhere(qiskit.qasm3.dumps(circuit), monkeypatch)


def _benchmark_module() -> Any:
    path = Path(__file__).parents[2] / "benchmarks" / "bench_conversion.py"
    spec = importlib.util.spec_from_file_location("_bench_conversion", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("gates", "qubits"), [(601, 20), (3001, 50)])
def test_the_benchmarks_random_programs_give_byte_identical_cirq_json(
    gates: int, qubits: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _benchmark_module().random_qasm(qubits, gates, version=3)
    assert_plain_everywhere(text, monkeypatch)


@ROUNDTRIP_SETTINGS
@given(circuit=_roundtrip_strategies()())
def test_random_circuits_read_the_same_on_either_path(
    circuit: QuantumCircuit, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = qiskit.qasm3.dumps(circuit)
    plain = read_plain(text)
    full = full_path(text, monkeypatch)
    if plain is None:  # not plain: the full path reads it, as before
        assert qbroker.load_program(text)._plain_form() is None
        return
    guard_program_text(text, "OPEN_QASM_V3")
    assert_same(plain.build(), full)
    program = qbroker.load_program(text)
    assert_same_cirq_json(program, full)


@pytest.mark.parametrize(
    "body",
    [
        "qubit[3] q; bit[3] c; h q[0]; cx q[0], q[1]; ccx q[0], q[1], q[2]; c = measure q;",
        "qubit[2] q; bit[2] c; u3(pi/2, -3*pi/8, 0) q[0]; cp(pi/4) q[0], q[1];"
        " c[1] = measure q[0]; c[0] = measure q[1];",
        "bit[2] m; h $3; cx $3, $1; m[0] = measure $1; m[1] = measure $3;",
        "qubit[2] q; bit[1] c; h q[0]; c[0] = measure q[0]; x q[0]; barrier q; h q[1];",
        "qubit[2] a; qubit[1] b; bit[1] c; rx(1.0e-3) a[1]; CX a[0], b[0]; phase(2) b[0];"
        " barrier a[1], b[0]; c[0] = measure b[0];",
        "gate rzz(p0) x0, x1 {\n  cx x0, x1;\n  rz(p0) x1;\n  cx x0, x1;\n}\n"
        "qubit[3] q; rzz(0.25) q[0], q[2]; rzz(0.25) q[1], q[2]; h q[0];",
        "gate mine a, b { h a; cx a, b; }\nqubit[2] q; mine q[1], q[0];",
    ],
)
def test_plain_programs_read_and_convert_the_same(
    body: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert_plain_everywhere(Q3 + body + "\n", monkeypatch)


@pytest.mark.parametrize(
    "body",
    [
        "qubit[2] q; // a comment\nh q[0];",
        "qubit[2] q; h q;",  # broadcast
        "qubit[2] q; cx q[0], q[0];",  # repeated operand: the full path refuses it
        "qubit[2] q; h q[01];",
        "qubit[2] q; rx(theta) q[0];",
        "input float theta; qubit[1] q; rx(theta) q[0];",
        "qubit[1] q; rx(1e999) q[0];",
        "qubit[1] q; rx(123456789012345678901) q[0];",
        "qubit[1] q; rx(1.209pi42) q[0];",
        "qubit[1] q; rx(sin(0.5)) q[0];",
        "qubit[1] q; U(0, 0, 0) q[0];",
        "qubit[1] q; reset q[0];",
        "qubit[2] q; bit[1] c; c[0] = measure q[0]; if (c[0]) x q[1];",
        "qubit[200000] q;",
        "qubit[1] q; h $0;",  # mixed addressing
        "qubit[1] q; h q[1];",  # beyond the register
        "qubit[1] h; x h[0];",  # a register named like a gate
        "gate h a { x a; }\nqubit[1] q; h q[0];",  # a standard gate redefined
        "qubit[1] q;\n" + "\n" * 100 + "h q[0];",  # more than 64 line breaks in a row
        "qubit[1] q; x q[0]; " + "__qbroker_U q[0];",
    ],
)
def test_anything_else_is_left_to_the_full_path(body: str) -> None:
    assert read_plain(Q3 + body + "\n") is None


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("qubit[2] q; cx q[0], q[0];", "more than once"),
        ("qubit[1] q; rx(1e999) q[0];", "infinite"),
        ("qubit[1] q; rx(123456789012345678901) q[0];", r"beyond 2\^64"),
        ("qubit[1] q; rx(1.209pi42) q[0];", "runs into"),
        ("qubit[1] q; h q[1];", ""),
        ("qubit[200000] q;", "more than 100,000"),
    ],
)
def test_bad_input_is_still_refused_with_a_typed_error(body: str, words: str) -> None:
    with pytest.raises(ProgramError, match=words):
        qbroker.load_program(Q3 + body + "\n")


def test_a_circuit_handed_out_and_changed_is_what_gets_converted() -> None:
    program = qbroker.load_program(Q3 + "qubit[2] q; h q[0];\n")
    assert program._plain_form() is not None
    program.circuit.x(1)  # the circuit exists now: conversions start from it
    assert program._plain_form() is None
    payload = convert(program, "CIRQ_JSON").payload
    assert json.dumps(payload) == json.dumps(write_cirq_json(program.circuit, None, WriteOptions()))
    assert "_PauliX" in json.dumps(payload)


def test_other_targets_and_backends_convert_from_the_circuit() -> None:
    text = Q3 + "qubit[2] q; bit[2] c; h q[0]; cx q[0], q[1]; c = measure q;\n"
    qasm2 = convert(qbroker.load_program(text), "OPEN_QASM_V2").payload
    assert "cx q[0],q[1];" in qasm2
    assert qbroker.load_program(text).num_qubits == 2


GATE_PROGRAM = """OPENQASM 3.0;
include "stdgates.inc";
gate rzz(p0) a, b {
  cx a, b;
  rz(p0) b;
  cx a, b;
}
gate tilt(t, u) a, b {
  ry(2*t + pi/4) b;
  crz(-u/3) b, a;
}
gate outer(t) a, b {
  rzz(t) a, b;
}
qubit[3] q;
bit[3] c;
rzz(0.25) q[0], q[1];
tilt(0.5, 1.5) q[1], q[2];
outer(0.75) q[2], q[0];
rzz(0.25) q[1], q[2];
c = measure q;
"""


def test_own_gate_bodies_of_standard_calls_are_built_as_qiskits_reader_reads_them() -> None:
    plain = read_plain(GATE_PROGRAM)
    assert plain is not None
    defined = {gate.template.name: gate for gate, _, _, _ in plain.ops if hasattr(gate, "plan")}
    assert defined["rzz"].plan is not None and defined["tilt"].plan is not None
    assert defined["outer"].plan is None  # calls the program's own gate: read the full way
    for name, values in (("rzz", (0.25,)), ("tilt", (0.5, 1.5))):
        built = defined[name].definition(values)
        read = defined[name].template.definition(values)  # through Qiskit's reader
        assert built is not None
        assert [
            (i.name, tuple(i.params), [built.find_bit(q).index for q in i.qubits])
            for i in built.data
        ] == [
            (i.name, tuple(i.params), [read.find_bit(q).index for q in i.qubits]) for i in read.data
        ]
    assert defined["outer"].definition((0.75,)) is None


def test_own_gates_convert_to_the_same_cirq_json_either_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    program = qbroker.load_program(GATE_PROGRAM)
    assert program._plain_form() is not None
    assert_same_cirq_json(program, full_path(GATE_PROGRAM, monkeypatch))


def test_a_text_found_not_plain_is_not_scanned_again_and_others_still_are() -> None:
    plain_text = GATE_PROGRAM
    other = plain_text.replace("bit[3] c;", "bit[3] c; // a comment")  # not plain
    assert read_plain(other) is None
    assert read_plain(other) is None  # remembered: the full reader reads it
    assert read_plain(plain_text) is not None
    assert qbroker.load_program(other).circuit.num_qubits == 3
