"""Malformed and hostile programs: a typed qbroker error naming the line or field, fast.

Never a crash (an exception outside qbroker's tree, or the process dying: Qiskit's Rust
readers overflowed their stack on 10^5 nested parentheses), a hang (``qreg
q[99999999999]``, gate definitions that double sixty times) or a silent truncation
(``qubit[2^64 + 1] q`` read as one qubit, a pipe read only as far as its reported size).
Each case must fail in well under a second. ``benchmarks/bad_input_table.py`` prints the
same cases as a table (input, error, message, time).

Inputs the fuzzer (``benchmarks/fuzz_readers.py``) found crashing or slow are kept in
``regressions/`` and replayed here.
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import qbroker
from qbroker import InputFormat, ProgramError, QBrokerError
from qbroker.formats import parse_payload
from qbroker.formats.qasm import read_qasm2, read_qasm3

REGRESSIONS = Path(__file__).parent / "regressions"
LIMIT_S = 1.0

Q2 = 'OPENQASM 2.0;\ninclude "qelib1.inc";\n'
Q3 = 'OPENQASM 3.0;\ninclude "stdgates.inc";\n'
BQ = "OPENQASM 3.0;\n"  # Braket's dialect: no include
DEEP = 100_000
BEYOND = 2**64 + 1  # wraps to 1 modulo 2^64


def nested(depth: int) -> str:
    return "(" * depth + "1" + ")" * depth


def doubling_gates(count: int, header: str) -> str:
    body = "".join(f"gate g{i} a {{ g{i - 1} a; g{i - 1} a; }}\n" for i in range(1, count))
    return f"{header}qubit[1] q;\ngate g0 a {{ x a; }}\n{body}g{count - 1} q[0];\n"


def qpy_bell() -> bytes:
    import qiskit.qpy
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure([0, 1], [0, 1])
    buffer = io.BytesIO()
    qiskit.qpy.dump(qc, buffer)
    return buffer.getvalue()


def qpy_with_qubits(count: int) -> bytes:
    """A Bell pair's QPY whose circuit header claims ``count`` qubits (the fuzzer found
    one flipped byte of this field made Qiskit's loader build millions of qubits)."""
    import struct

    from qiskit.qpy import formats

    data = bytearray(qpy_bell())
    assert data[6] >= 12  # file header V10, a type key, circuit header V12
    offset = formats.FILE_HEADER_V10_SIZE + 1 + 5  # name_size, phase type, phase size
    data[offset : offset + 4] = struct.pack("!I", count)
    return bytes(data)


@dataclass(frozen=True)
class Case:
    """One bad input.

    Attributes:
        name: what it is (the table's first column).
        source: builds the input (lazily: some are megabytes).
        format: passed to load_program (None: detected).
        where: "line" (the error names a line), "field" (a JSON field), or "" (neither
            applies: empty input, a blob, a damaged binary).
        words: text the message must contain.
    """

    name: str
    source: Callable[[], Any]
    format: str | None = None
    where: str = "line"
    words: str = ""


CASES: list[Case] = [
    # unterminated statements
    Case("QASM2 unterminated statement", lambda: Q2 + "qreg q[2];\nh q[0]", words="';'"),
    Case("QASM3 unterminated statement", lambda: Q3 + "qubit[2] q;\nh q[0]", words="semicolon"),
    Case(
        "Braket unterminated statement",
        lambda: BQ + "qubit[2] q;\nh q[0]\n",
        "BRAKET_OPEN_QASM_V3",
        words="';'",
    ),
    Case("QASM2 unterminated comment", lambda: Q2 + "qreg q[1];\n/* h q[0];\n", where=""),
    # unknown gates, undeclared registers
    Case("QASM2 unknown gate", lambda: Q2 + "qreg q[1];\nfoo q[0];", words="'foo'"),
    Case("QASM3 unknown gate", lambda: Q3 + "qubit[1] q;\nfoo q[0];", words="'foo'"),
    Case(
        "Braket unknown gate",
        lambda: BQ + "qubit[1] q;\nfoo q[0];",
        "BRAKET_OPEN_QASM_V3",
        words="'foo'",
    ),
    Case("QASM2 undeclared register", lambda: Q2 + "qreg q[1];\nh r[0];", words="'r'"),
    Case("QASM3 undeclared register", lambda: Q3 + "qubit[1] q;\nh r[0];", words="'r'"),
    Case(
        "Braket undeclared register",
        lambda: BQ + "qubit[1] q;\nh r[0];",
        "BRAKET_OPEN_QASM_V3",
        words="'r'",
    ),
    # 10^5 nested parentheses
    Case(
        "QASM2 1e5 nested parentheses",
        lambda: Q2 + f"qreg q[1];\nrx({nested(DEEP)}) q[0];",
        words="nested deeper",
    ),
    Case(
        "QASM3 1e5 nested parentheses",
        lambda: Q3 + f"qubit[1] q;\nrx({nested(DEEP)}) q[0];",
        words="nested deeper",
    ),
    Case(
        "Braket 1e5 nested parentheses",
        lambda: BQ + f"qubit[1] q;\nrx({nested(DEEP)}) q[0];",
        "BRAKET_OPEN_QASM_V3",
    ),
    Case(
        "JSON 1e5 nested arrays",
        lambda: '{"qubits": 1, "circuit": ' + "[" * DEEP + "]" * DEEP + "}",
        words="nested too deeply",
    ),
    Case(
        "JSON 1e5 nested arrays (IonQ)",
        lambda: '{"qubits": 1, "circuit": ' + "[" * DEEP + "]" * DEEP + "}",
        "IONQ_CIRCUIT_V1",
        words="nested too deeply",
    ),
    Case(
        "JSON 100 nested objects",
        lambda: {"pubs": [json.loads('{"a":' * 100 + "1" + "}" * 100)]},
        "IBM_SAMPLER_V2",
        where="field",
        words="nested deeper than 64",
    ),
    # operator chains (the Rust reader recursed per operator; '**' was quadratic)
    Case(
        "QASM3 1e5 unary minus",
        lambda: Q3 + "qubit[1] q;\nrx(" + "-" * DEEP + "1.0) q[0];",
        words="operators",
    ),
    Case(
        "QASM3 1e5 additions",
        lambda: Q3 + "qubit[1] q;\nrx(" + "1.0+" * DEEP + "1.0) q[0];",
        words="operators",
    ),
    Case(
        "QASM3 3000 powers",
        lambda: Q3 + "qubit[1] q;\nrx(" + "2.0**" * 3000 + "1.0) q[0];",
        words="operators",
    ),
    # found by fuzzing in session 3: chained assignments killed the process (SIGSEGV),
    # chained indices ran for minutes
    Case(
        "QASM3 5e4 chained assignments",
        lambda: Q3 + "qubit[2] q;\nbit[2] c;\nc[1] = " + "me = " * 50_000 + "measure q[1];",
        words="operators",
    ),
    Case(
        "QASM3 2e5 chained indices",
        lambda: Q3 + "qubit[2] q;\nbit[2] c;\nc[0] = measure q[0]" + "[0]" * 200_000 + ";",
        words="operators",
    ),
    Case(
        "QASM3 1e4 nested ifs",
        lambda: Q3 + "qubit[1] q;\nbit[1] c;\n" + "if (c[0]) {" * 10_000 + "x q[0];" + "}" * 10_000,
        words="nested deeper",
    ),
    # floods of errors (Qiskit's OpenQASM 3 reader spends errors x size printing them)
    Case(
        "QASM3 20,000 bad statements",
        lambda: Q3 + "qubit[1] q;\nbit[1] c;\n" + "c[0] =;\n" * 20_000,
        words="line 5",
    ),
    Case(
        "QASM3 2,000 bad after 20,000 good",
        lambda: Q3 + "qubit[1] q;\nbit[1] c;\n" + "h q[0];\n" * 20_000 + "c[0] =;\n" * 2000,
        words="line 20005",
    ),
    Case(
        "QASM3 8,000 undeclared names",
        lambda: Q3 + "qubit[1] q;\n" + "s _g;\n" * 8000,
        words="'_g'",
    ),
    Case(
        "QASM3 20,000 names in one statement",
        lambda: Q3 + "qubit[1] q;\nh " + "s _g " * 20_000 + ";\n",
        words="names in a row",
    ),
    Case(
        "QASM3 8,000 missing semicolons",
        lambda: Q3 + "qubit[1] q;\n" + "h q[0]\n" * 8000,
        words="missing ';'",
    ),
    Case(
        "QASM3 20,000 unbalanced statements",
        lambda: Q3 + "qubit[1] q;\nbit[1] c;\n" + "c[0]1];\n" * 20_000,
        words="unbalanced",
    ),
    # integers beyond 2^64 and huge declarations (no allocation)
    Case("QASM2 register of 2^64+1", lambda: Q2 + f"qreg q[{BEYOND}];", words="beyond 2^64"),
    Case("QASM3 register of 2^64+1", lambda: Q3 + f"qubit[{BEYOND}] q;", words="beyond 2^64"),
    Case(
        "Braket register of 2^64+1",
        lambda: BQ + f"qubit[{BEYOND}] q;",
        "BRAKET_OPEN_QASM_V3",
    ),
    Case(
        "QASM2 qubit index 2^64+1",
        lambda: Q2 + f"qreg q[2];\nh q[{BEYOND}];",
        words="beyond 2^64",
    ),
    Case(
        "QASM3 qubit index 2^64+1",
        lambda: Q3 + f"qubit[2] q;\nh q[{BEYOND}];",
        words="beyond 2^64",
    ),
    Case("QASM2 qreg q[99999999999]", lambda: Q2 + "qreg q[99999999999];", words="100,000"),
    Case("QASM3 qubit[100000000] q", lambda: Q3 + "qubit[100000000] q;", words="100,000"),
    Case("QASM2 creg c[99999999999]", lambda: Q2 + "creg c[99999999999];", words="bits"),
    Case(
        "QASM3 gates doubling 60 times",
        lambda: doubling_gates(60, Q3),
        words="expands to more than",
    ),
    Case(
        "QASM2 gates doubling 60 times",
        lambda: doubling_gates(60, Q2).replace("qubit[1] q;", "qreg q[1];"),
        words="expands to more than",
    ),
    Case(
        "Braket gates doubling 60 times",
        lambda: doubling_gates(60, BQ),
        "BRAKET_OPEN_QASM_V3",
        words="expands to more than",
    ),
    Case(
        "JSON shots 2^70",
        lambda: json.dumps({"pubs": [[Q3 + "qubit[1] q;", {}, 2**70]]}),
        where="field",
        words="pubs.0.2",
    ),
    Case(
        "JSON 5000-digit integer",
        lambda: '{"pubs": [["x", {}, ' + "9" * 5000 + "]]}",
        words="4,300 digits",
    ),
    Case(
        "JSON 400-digit integer (IonQ)",
        lambda: (
            '{"qubits": 1, "circuit": [{"gate": "rx", "targets": [0], "rotation": '
            + "9" * 400
            + "}]}"
        ),
        where="field",
        words="circuit.0.rotation",
    ),
    Case(
        "JSON qubit count 99999999999 (IonQ)",
        lambda: {"qubits": 99999999999, "circuit": [{"gate": "h", "targets": [0]}]},
        "IONQ_CIRCUIT_V1",
        where="field",
        words="qubits",
    ),
    Case(
        "JSON qubit index 2^64+1 (IonQ)",
        lambda: json.dumps({"qubits": 2, "circuit": [{"gate": "h", "targets": [BEYOND]}]}),
        "IONQ_CIRCUIT_V1",
        where="field",
        words="circuit.0.targets",
    ),
    Case(
        "JSON qubit QB99999999999 (IQM)",
        lambda: {
            "name": "c",
            "instructions": [
                {"name": "prx", "qubits": ["QB99999999999"], "args": {"angle_t": 0, "phase_t": 0}}
            ],
        },
        "IQM_JOB_INPUT_V1",
        where="field",
        words="instructions.0.qubits",
    ),
    # NaN and infinite angles
    Case("QASM2 angle nan", lambda: Q2 + "qreg q[1];\nrx(nan) q[0];", words="'nan'"),
    Case("QASM2 angle inf", lambda: Q2 + "qreg q[1];\nrx(inf) q[0];", words="'inf'"),
    Case("QASM2 angle 1e999", lambda: Q2 + "qreg q[1];\nrx(1e999) q[0];", words="1e999"),
    Case("QASM3 angle 1e999", lambda: Q3 + "qubit[1] q;\nrx(1e999) q[0];", words="1e999"),
    Case("QASM3 angle nan", lambda: Q3 + "qubit[1] q;\nrx(nan) q[0];", words="'nan'"),
    Case(
        "QASM2 angle 1e308*10 (overflows)",
        lambda: Q2 + "qreg q[1];\nrx(1e308*10) q[0];",
        where="",
        words="instruction 1 (rx on q0) has a non-finite parameter",
    ),
    Case(
        "Braket angle inf",
        lambda: BQ + "qubit[1] q;\nrx(inf) q[0];",
        "BRAKET_OPEN_QASM_V3",
        words="finite",
    ),
    Case(
        "JSON NaN angle (IonQ)",
        lambda: '{"qubits": 1, "circuit": [{"gate": "rx", "targets": [0], "rotation": NaN}]}',
        where="field",
        words="circuit.0.rotation",
    ),
    Case(
        "JSON 1e999 angle (IonQ)",
        lambda: '{"qubits": 1, "circuit": [{"gate": "rx", "targets": [0], "rotation": 1e999}]}',
        where="field",
        words="circuit.0.rotation",
    ),
    Case(
        "JSON Infinity angle (IQM)",
        lambda: (
            '{"name": "c", "instructions": [{"name": "prx", "qubits": ["QB1"], '
            '"args": {"angle_t": Infinity, "phase_t": 0}}]}'
        ),
        "IQM_JOB_INPUT_V1",
        where="field",
        words="angle_t",
    ),
    # bytes that are not a program
    Case("non-UTF-8 bytes", lambda: b"OPENQASM 2.0;\nqreg q[1];\n\xff\xfe", where="", words="0xff"),
    Case("empty text", lambda: "", where="", words="empty"),
    Case("empty bytes", lambda: b"", where="", words="empty"),
    Case("whitespace only", lambda: " \n\t\n", where="", words="empty"),
    Case("empty text as QASM 3", lambda: "", "OPEN_QASM_V3", where="", words="empty"),
    Case("binary blob", lambda: bytes(range(256)) * 64, where="", words="UTF-8"),
    Case("binary blob as QPY", lambda: os.urandom(4096), "QISKIT_QPY", where="", words="QPY"),
    Case(
        "QPY truncated mid-way",
        lambda: qpy_bell()[: len(qpy_bell()) // 2],
        where="",
        words="damaged QPY",
    ),
    Case("QPY header only", lambda: qpy_bell()[:10], where="", words="QPY"),
    Case(
        "QPY header announcing 15.6M qubits",
        lambda: qpy_with_qubits(15_663_106),
        where="field",
        words="15,663,106 qubits",
    ),
    Case(
        "QPY as bad base64 text",
        lambda: "QUJD!!" * 10,
        "QISKIT_QPY",
        where="",
        words="base64",
    ),
    # JSON of the wrong shape
    Case("JSON of unknown shape", lambda: '{"foo": 1}', where="", words="unrecognised"),
    Case("JSON array", lambda: "[1, 2, 3]", where="", words="object"),
    Case("JSON syntax error", lambda: '{"qasm": }', where="line", words="JSON"),
    Case(
        "JSON circuit is a string (IonQ)",
        lambda: {"qubits": 1, "circuit": "h 0"},
        "IONQ_CIRCUIT_V1",
        where="field",
        words="circuit",
    ),
    Case(
        "JSON instructions not a list (IQM)",
        lambda: {"name": "c", "instructions": {"name": "prx"}},
        "IQM_JOB_INPUT_V1",
        where="field",
        words="instructions",
    ),
    Case(
        "JSON qasm is a number (Qudora)",
        lambda: {"qasm": 5},
        "QUDORA_JOB_INPUT",
        where="field",
        words="qasm",
    ),
    Case(
        "JSON pubs empty (IBM)",
        lambda: {"pubs": []},
        "IBM_SAMPLER_V2",
        where="field",
        words="pubs",
    ),
    Case(
        "JSON AHS setup of the wrong type",
        lambda: {"setup": "x", "hamiltonian": 1},
        "BRAKET_AHS_PROGRAM",
        where="field",
        words="setup",
    ),
    Case(
        "JSON Cirq moments not a list",
        lambda: {"cirq_type": "Circuit", "moments": "x"},
        "CIRQ_JSON",
        where="field",
        words="moments",
    ),
    Case(
        "Perceval text that is not an experiment",
        lambda: ":PCVL:zip:" + "A" * 64,
        "PERCEVAL",
        where="",
        words="PERCEVAL",
    ),
]


# --------------------------------------------------------------------------------------
# the same list for the JSON and binary formats (where each item applies: a Cirq circuit
# declares no registers, an AHS program has no gates, QPY is not text)
# --------------------------------------------------------------------------------------

AHS_SERIES = {"values": [0.0, 1.0e7, 0.0], "times": [0.0, 1e-6, 2e-6]}
AHS: dict[str, Any] = {
    "setup": {"ahs_register": {"sites": [[0.0, 0.0], [0.0, 5e-6]], "filling": [1, 1]}},
    "hamiltonian": {
        "drivingFields": [
            {
                part: {"time_series": AHS_SERIES, "pattern": "uniform"}
                for part in ("amplitude", "phase", "detuning")
            }
        ],
        "localDetuning": [],
    },
}


def ahs_with(path: str, value: Any) -> str:
    """AHS as JSON text with the field at dotted ``path`` set to ``value``."""
    document = json.loads(json.dumps(AHS))
    *parents, last = [int(k) if k.isdigit() else k for k in path.split(".")]
    target = document
    for key in parents:
        target = target[key]
    target[last] = value
    return json.dumps(document)


def cirq_op(gate: dict[str, Any], x: Any = 0) -> str:
    """A one-operation Cirq circuit as JSON text."""
    operation = {
        "cirq_type": "GateOperation",
        "gate": gate,
        "qubits": [{"cirq_type": "LineQubit", "x": x}],
    }
    moment = {"cirq_type": "Moment", "operations": [operation]}
    return json.dumps({"cirq_type": "Circuit", "moments": [moment]})


def iqm_prx(qubit: str = "QB1", angle: Any = 0.25, name: str = "prx") -> str:
    args = {"angle_t": angle, "phase_t": 0.0}
    return json.dumps(
        {"name": "c", "instructions": [{"name": name, "qubits": [qubit], "args": args}]}
    )


def ionq(gate: str = "h", target: Any = 0, qubits: int = 1) -> str:
    return json.dumps({"qubits": qubits, "circuit": [{"gate": gate, "targets": [target]}]})


def qpy_rx(angle: float) -> bytes:
    import qiskit.qpy
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(1)
    qc.rx(angle, 0)
    buffer = io.BytesIO()
    qiskit.qpy.dump(qc, buffer)
    return buffer.getvalue()


def nested_json(head: str, tail: str = "}") -> str:
    return head + "[" * DEEP + "]" * DEEP + tail


def not_utf8(text: str, at: str) -> bytes:
    """``text`` as UTF-8 with a 0xFF byte (never valid UTF-8) before the first ``at``."""
    raw = text.encode()
    cut = raw.index(at.encode())
    return raw[:cut] + b"\xff" + raw[cut:]


FIFTY_MB = 50 * 1024 * 1024
IONQ, IQM, CIRQ = "IONQ_CIRCUIT_V1", "IQM_JOB_INPUT_V1", "CIRQ_JSON"
QPY, AHS_FMT, BRAKET = "QISKIT_QPY", "BRAKET_AHS_PROGRAM", "BRAKET_OPEN_QASM_V3"

CASES += [
    # unterminated: a JSON document cut short
    Case("IonQ JSON cut short", lambda: ionq()[:-3], IONQ, words="line 1"),
    Case("IQM JSON cut short", lambda: iqm_prx()[:-3], IQM, words="line 1"),
    Case("Cirq JSON cut short", lambda: cirq_op({"cirq_type": "HPowGate"})[:-5], CIRQ),
    Case("AHS JSON cut short", lambda: json.dumps(AHS)[:-9], AHS_FMT, words="line 1"),
    # unknown gates
    Case("IonQ unknown gate", lambda: ionq(gate="foo"), IONQ, "field", "circuit.0.gate"),
    Case("IQM unknown gate", lambda: iqm_prx(name="foo"), IQM, "field", "instructions.0.name"),
    Case(
        "Cirq unknown gate",
        lambda: cirq_op({"cirq_type": "FooGate"}),
        CIRQ,
        "field",
        "moments.0.operations.0",
    ),
    # undeclared qubits
    Case(
        "IonQ qubit beyond 'qubits'",
        lambda: ionq(target=5, qubits=2),
        IONQ,
        "field",
        "circuit.0.targets",
    ),
    Case("IQM qubit of no IQM name", lambda: iqm_prx(qubit="q7"), IQM, "field", "'q7'"),
    # 10^5 nested brackets
    Case(
        "IQM 1e5 nested arrays",
        lambda: nested_json('{"name": "c", "instructions": '),
        IQM,
        words="nested too deeply",
    ),
    Case(
        "Cirq 1e5 nested arrays",
        lambda: nested_json('{"cirq_type": "Circuit", "moments": '),
        CIRQ,
        words="nested too deeply",
    ),
    Case(
        "AHS 1e5 nested arrays",
        lambda: nested_json('{"setup": {"ahs_register": {"sites": ', "}}}"),
        AHS_FMT,
        words="nested too deeply",
    ),
    # integers beyond 2^64
    Case("IQM angle 2^64+1", lambda: iqm_prx(angle=BEYOND), IQM, "field", "beyond 2^64"),
    Case(
        "Cirq LineQubit 2^64+1",
        lambda: cirq_op({"cirq_type": "HPowGate", "exponent": 1.0, "global_shift": 0.0}, BEYOND),
        CIRQ,
        "field",
        "qubits.0.x",
    ),
    Case(
        "AHS filling 2^64+1",
        lambda: ahs_with("setup.ahs_register.filling", [BEYOND, 1]),
        AHS_FMT,
        "field",
        "filling.0",
    ),
    Case(
        "QPY header announcing 2^32-1 qubits",
        lambda: qpy_with_qubits(2**32 - 1),
        QPY,
        "field",
        "4,294,967,295 qubits",
    ),
    # NaN and infinite angles
    Case("Braket angle nan", lambda: BQ + "qubit[1] q;\nrx(nan) q[0];", BRAKET, words="finite"),
    Case("QASM3 angle inf", lambda: Q3 + "qubit[1] q;\nrx(inf) q[0];", words="'inf'"),
    Case(
        "Cirq Rx NaN",
        lambda: cirq_op({"cirq_type": "Rx", "rads": math.nan}),
        CIRQ,
        "field",
        "gate.rads",
    ),
    Case(
        "Cirq exponent Infinity",
        lambda: cirq_op({"cirq_type": "XPowGate", "exponent": math.inf, "global_shift": 0.0}),
        CIRQ,
        "field",
        "gate.exponent",
    ),
    Case(
        "AHS amplitude NaN",
        lambda: ahs_with(
            "hamiltonian.drivingFields.0.amplitude.time_series.values", [0, math.nan, 0]
        ),
        AHS_FMT,
        "field",
        "amplitude.time_series.values.1",
    ),
    Case(
        "AHS site Infinity",
        lambda: ahs_with("setup.ahs_register.sites", [[0.0, 0.0], [0.0, math.inf]]),
        AHS_FMT,
        "field",
        "sites.1.1",
    ),
    Case("QPY angle nan", lambda: qpy_rx(math.nan), QPY, "", "non-finite parameter nan"),
    Case("QPY angle inf", lambda: qpy_rx(math.inf), QPY, "", "non-finite parameter inf"),
    # non-UTF-8 bytes
    Case("QASM3 non-UTF-8 byte", lambda: not_utf8(Q3 + "qubit[1] q;", "qubit"), None, "", "0xff"),
    Case(
        "Braket non-UTF-8 byte",
        lambda: not_utf8(BQ + "qubit[1] q;", "qubit"),
        BRAKET,
        "",
        "0xff",
    ),
    Case("IonQ non-UTF-8 byte", lambda: not_utf8(ionq(), "circuit"), IONQ, "", "0xff"),
    Case("IQM non-UTF-8 byte", lambda: not_utf8(iqm_prx(), "instructions"), IQM, "", "0xff"),
    Case(
        "Cirq non-UTF-8 byte",
        lambda: not_utf8(cirq_op({"cirq_type": "HPowGate"}), "moments"),
        CIRQ,
        "",
        "0xff",
    ),
    Case("AHS non-UTF-8 byte", lambda: not_utf8(json.dumps(AHS), "uniform"), AHS_FMT, "", "0xff"),
    # 50 MB (files: test_a_50_mb_file_is_refused_by_size_without_being_read)
    Case(
        "50 MB JSON text (IonQ)",
        lambda: ionq()[:-1] + " " * FIFTY_MB + "}",
        IONQ,
        "",
        "16,777,216-byte limit",
    ),
    Case("50 MB of QPY bytes", lambda: qpy_bell() + bytes(FIFTY_MB), QPY, "", "byte limit"),
    # what the fuzzer found: 5,000 driving fields (1.7 MB) took seconds in Braket's model
    Case(
        "AHS 5,000 driving fields (1.7 MB)",
        lambda: ahs_with("hamiltonian.drivingFields", AHS["hamiltonian"]["drivingFields"] * 5000),
        AHS_FMT,
        "field",
        "hamiltonian.drivingFields: 5000 terms",
    ),
    Case(
        "AHS 150,000 time points",
        lambda: ahs_with(
            "hamiltonian.drivingFields.0.detuning.time_series",
            {"values": [0.0] * 150_000, "times": [0.0] * 150_000},
        ),
        AHS_FMT,
        "field",
        "at most 100,000",
    ),
]


def run_case(case: Case) -> tuple[BaseException | None, float]:
    """Load the case's input; return the exception raised (None: it loaded) and seconds."""
    source = case.source()
    start = time.perf_counter()
    try:
        qbroker.load_program(source, format=case.format)
    except BaseException as exc:  # the test sorts out what was raised
        if isinstance(exc, KeyboardInterrupt):
            raise
        return exc, time.perf_counter() - start
    return None, time.perf_counter() - start


@pytest.fixture(scope="module", autouse=True)
def warm_readers() -> None:
    warm_up()


def warm_up() -> None:
    """Import each reader's SDK once, so the timings below measure reading, not imports."""
    qbroker.load_program(Q2 + "qreg q[1];\nh q[0];")
    qbroker.load_program(Q3 + "qubit[1] q;\nh q[0];")
    qbroker.load_program(qpy_bell())
    for fmt, payload in (
        ("BRAKET_OPEN_QASM_V3", BQ + "qubit[1] q;\nh q[0];"),
        ("IONQ_CIRCUIT_V1", {"qubits": 1, "circuit": [{"gate": "h", "targets": [0]}]}),
        ("CIRQ_JSON", cirq_op({"cirq_type": "FooGate"})),  # imports Cirq
        ("PERCEVAL", ":PCVL:zip:eJwLycgsVgCi4vzcVIWS1OISAD1gBiU="),
        ("BRAKET_AHS_PROGRAM", {"setup": "x", "hamiltonian": 1}),
    ):
        try:
            qbroker.load_program(payload, format=fmt)
        except QBrokerError:
            pass


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_gives_a_typed_error_quickly(case: Case) -> None:
    if case.format is not None:
        try:
            qbroker.formats.codec(InputFormat(case.format))
        except qbroker.UnsupportedError as exc:
            pytest.skip(str(exc))
    error, seconds = run_case(case)
    assert error is not None, f"{case.name}: read without an error"
    assert isinstance(error, QBrokerError), f"{case.name}: {type(error).__name__}: {error}"
    message = str(error)
    assert "\n" not in message and len(message) < 400, message
    assert "failed unexpectedly" not in message, message
    assert case.words in message, message
    assert seconds < LIMIT_S, f"{case.name}: {seconds:.2f} s"
    if case.where == "line":
        assert isinstance(error, ProgramError) and error.line is not None, message
    elif case.where == "field":
        assert isinstance(error, ProgramError), message
        field = error.problems[0].field if error.problems else ""
        assert field != "payload" or "." in message or ": " in message, message


# --------------------------------------------------------------------------------------
# the size limit: refused before parsing, never reading past it
# --------------------------------------------------------------------------------------


def bytes_read() -> int:
    """Bytes this process has read through read() so far (Linux /proc accounting)."""
    with open("/proc/self/io") as handle:
        for line in handle:
            if line.startswith("rchar:"):
                return int(line.split()[1])
    raise AssertionError("no rchar in /proc/self/io")  # pragma: no cover


needs_proc_io = pytest.mark.skipif(
    not Path("/proc/self/io").exists(), reason="needs Linux /proc/self/io"
)


@needs_proc_io
def test_a_50_mb_file_is_refused_by_size_without_being_read(tmp_path: Path) -> None:
    big = tmp_path / "big.qasm"
    with big.open("wb") as handle:
        handle.write(Q2.encode())
        handle.truncate(50 * 1024 * 1024)  # sparse: 50 MB on paper
    before = bytes_read()
    start = time.perf_counter()
    with pytest.raises(ProgramError, match="over the 16,777,216-byte limit"):
        qbroker.load_program(big)
    assert time.perf_counter() - start < 0.1
    assert bytes_read() - before < 64 * 1024  # stat() said no: nothing was read


@needs_proc_io
def test_a_pipe_is_read_no_further_than_the_limit(tmp_path: Path) -> None:
    fifo = tmp_path / "program.qasm"
    os.mkfifo(fifo)
    limit = 1024 * 1024
    written = [0]

    def feed() -> None:
        chunk = b"// " + b"x" * 65533 + b"\n"
        try:
            with fifo.open("wb") as handle:
                while written[0] < 50 * 1024 * 1024:
                    handle.write(chunk)
                    written[0] += len(chunk)
        except (BrokenPipeError, OSError):
            pass  # the reader stopped: what we want

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    before = bytes_read()
    with pytest.raises(ProgramError, match="over the 1,048,576-byte limit"):
        qbroker.load_program(fifo, max_bytes=limit)
    read = bytes_read() - before
    writer.join(timeout=5)
    assert limit < read < limit + 256 * 1024, read  # the limit + 1 byte, plus /proc reads
    assert written[0] < 50 * 1024 * 1024


def test_the_limit_is_configurable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    text = Q2 + "qreg q[1];\n" + "h q[0];\n" * 200  # ~1.6 kB
    assert qbroker.load_program(text).num_qubits == 1
    monkeypatch.setenv("QBROKER_MAX_PROGRAM_BYTES", "1000")
    with pytest.raises(ProgramError, match="1,000-byte limit"):
        qbroker.load_program(text)
    file = tmp_path / "p.qasm"
    file.write_text(text)
    with pytest.raises(ProgramError, match="QBROKER_MAX_PROGRAM_BYTES"):
        qbroker.load_program(file)
    assert qbroker.load_program(text, max_bytes=10_000).num_qubits == 1
    with pytest.raises(ProgramError, match="100-byte limit"):
        qbroker.load_program(text.encode(), max_bytes=100)
    monkeypatch.setenv("QBROKER_MAX_PROGRAM_BYTES", "lots")
    with pytest.raises(ProgramError, match="whole number of bytes"):
        qbroker.load_program(text)


def test_the_limit_counts_utf8_bytes_not_characters(monkeypatch: pytest.MonkeyPatch) -> None:
    text = Q2 + "// " + "\N{GREEK SMALL LETTER PI}" * 600 + "\nqreg q[1];\n"  # 2 bytes each
    monkeypatch.setenv("QBROKER_MAX_PROGRAM_BYTES", "1000")
    with pytest.raises(ProgramError, match="limit"):
        qbroker.load_program(text)
    monkeypatch.setenv("QBROKER_MAX_PROGRAM_BYTES", "1300")
    assert qbroker.load_program(text).num_qubits == 1


# --------------------------------------------------------------------------------------
# the guards do not refuse real programs
# --------------------------------------------------------------------------------------


def test_valid_programs_near_the_guards_still_read() -> None:
    depth = 60
    program = qbroker.load_program(Q2 + f"qreg q[1];\nrx({nested(depth)}) q[0];")
    assert float(program.circuit.data[0].operation.params[0]) == 1.0
    chain = "+".join(["0.01"] * 200)
    program = qbroker.load_program(Q2 + f"qreg q[1];\nrx({chain}) q[0];")
    assert float(program.circuit.data[0].operation.params[0]) == pytest.approx(2.0)
    program = qbroker.load_program(Q3 + "qubit[1] q;\n// " + "-" * 2000 + "\nh q[0];")
    assert program.num_qubits == 1  # operators in comments do not count
    program = qbroker.load_program(Q2 + "qreg q[100000];")
    assert program.num_qubits == 100_000
    program = qbroker.load_program(doubling_gates(16, Q2).replace("qubit[1] q;", "qreg q[1];"))
    assert program.circuit.count_ops()["g15"] == 1
    program = qbroker.load_program(
        Q3 + "qubit[2] q;\nh q[18446744073709551615 - 18446744073709551615];"
    )
    assert program.num_qubits == 2
    assert qbroker.load_program(Q2 + "qreg q[1];\nrx(1e-999) q[0];").num_qubits == 1


def test_qasm3_the_fast_reader_panics_on_falls_back_quietly(
    capfd: pytest.CaptureFixture[str],
) -> None:
    # Qiskit's Rust reader panics (a BaseException) on sin(...) and on const sizes; the
    # reference reader then words the refusal, and the panic report never reaches stderr.
    with pytest.raises(ProgramError, match="line 4"):
        qbroker.load_program(Q3 + "qubit[1] q;\nrx(sin(0.5)) q[0];")
    with pytest.raises(ProgramError, match="line 3"):
        qbroker.load_program(Q3 + "const uint n = 3;\nqubit[n] q;\n")
    out, err = capfd.readouterr()
    assert "panicked" not in out + err


def test_the_hub_envelopes_use_the_same_guards() -> None:
    for payload, line in (
        ({"qasm": Q2 + f"qreg q[1];\nrx({nested(DEEP)}) q[0];"}, "line 4"),
        ({"pubs": [[Q3 + f"qubit[{BEYOND}] q;", {}, 10]]}, "line 3"),
    ):
        start = time.perf_counter()
        with pytest.raises(ProgramError, match=line):
            qbroker.load_program(payload)
        assert time.perf_counter() - start < LIMIT_S
    with pytest.raises(ProgramError, match="nested deeper"):
        read_qasm2(Q2 + f"qreg q[1];\nrx({nested(DEEP)}) q[0];")
    with pytest.raises(ProgramError, match="beyond 2\\^64"):
        read_qasm3(Q3 + f"qubit[{BEYOND}] q;")


def test_base64_qpy_in_json_is_checked_like_bytes() -> None:
    truncated = base64.b64encode(qpy_bell()[:40]).decode()
    with pytest.raises(ProgramError, match="QPY"):
        parse_payload(InputFormat.IBM_SAMPLER_V2, {"pubs": [[truncated, {}, 10]]})


# --------------------------------------------------------------------------------------
# inputs the fuzzer found
# --------------------------------------------------------------------------------------

REGRESSION_FILES = sorted(p for p in REGRESSIONS.glob("*") if p.is_file() and p.name[0] != ".")


def regression_target(path: Path) -> str | None:
    """The format a regression file is read as (its name's prefix), None for detection."""
    prefix = path.name.split("--", 1)[0]
    return None if prefix == "detect" else prefix


#: Fuzzer findings not fixed yet, file name -> reason (naming the module at fault): they
#: raise a typed error only thanks to parse_payload's safety net ("reader failed
#: unexpectedly"). Strict: the test fails once a fix lands, so the entry is removed then.
OPEN_BUGS: dict[str, str] = {}


def _regression_param(path: Path) -> Any:
    reason = OPEN_BUGS.get(path.name)
    marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
    return pytest.param(path, id=path.name, marks=marks)


@pytest.mark.parametrize("path", [_regression_param(p) for p in REGRESSION_FILES])
def test_fuzzer_found_input_stays_fixed(path: Path) -> None:
    data = path.read_bytes()
    fmt = regression_target(path)
    start = time.perf_counter()
    try:
        if fmt is None:
            qbroker.load_program(data)
        else:
            parse_payload(InputFormat(fmt), data)
    except QBrokerError as exc:
        assert "failed unexpectedly" not in str(exc), str(exc)
    assert time.perf_counter() - start < 2.0


def test_regression_files_name_a_known_format() -> None:
    for path in REGRESSION_FILES:
        fmt = regression_target(path)
        assert fmt is None or fmt in InputFormat.__members__, path.name
