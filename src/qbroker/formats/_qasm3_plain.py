"""A direct reader for plain OpenQASM 3: the text Qiskit's exporter and common tools write.

Plain means: ``OPENQASM 3.0;`` and ``include "stdgates.inc";``, then only ``qubit[n] q;`` /
``bit[n] c;`` declarations, calls of ``stdgates.inc`` gates (and of the program's own
``gate`` definitions) on indexed qubits or hardware qubits ``$n``, with arguments that are
float literals or constant arithmetic (``pi/2``, ``-3*pi/8``), ``c[i] = measure q[j];``,
``c = measure q;`` and barriers, one statement after another with little whitespace
between them. Such a program is read into a list of operations without Qiskit's reader
(:func:`read_plain`), and :meth:`PlainCircuit.build` makes from it the very circuit
:func:`qbroker.formats.qasm.read_qasm3` builds through Qiskit's reader: the same registers,
bits, gates, parameters (arguments are folded by the same code) and layout.

Anything else, down to a comment, a leading zero in an index or a repeated operand, makes
:func:`read_plain` return None and the program goes the full way (its guards, Qiskit's
readers, their diagnostics). So this path never reports an error itself, and everything it
accepts passes :func:`qbroker.formats._limits.guard_program_text` by construction: no
nesting, at most a few dozen operators, names and lines per statement, no integer longer
than 15 digits, exponents of at most two digits (no infinite literal), at most
:data:`MAX_PLAIN_BITS` declared qubits and bits.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any

from qbroker.formats.qasm import _PLAIN_FLOAT, _fold

if TYPE_CHECKING:  # pragma: no cover
    from qiskit import QuantumCircuit

    from qbroker.formats.qasm import _GateTemplate

__all__ = ["PlainCircuit", "read_plain"]

#: Most qubits, and most classical bits, a plain program may declare (more: the full path).
MAX_PLAIN_BITS = 4096
#: Most ``gate`` definitions a plain program may hold.
MAX_PLAIN_DEFINITIONS = 64

_NAME = r"[A-Za-z_][A-Za-z0-9_]{0,63}"
_GAP = r"[ \t\r\n]{0,64}"  # between statements: at most 64 line breaks
_OPERAND = rf"(?:{_NAME}\[(?:0|[1-9][0-9]{{0,4}})\]|\$(?:0|[1-9][0-9]{{0,4}}))"
_ATOM = r"(?:(?:[0-9]{1,15}(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]{1,2})?|pi|tau|euler)"
_EXPRESSION = rf"[ \t]*-?[ \t]*{_ATOM}(?:[ \t]*[-+*/][ \t]*-?[ \t]*{_ATOM}){{0,7}}[ \t]*"
_ARGUMENTS = rf"{_EXPRESSION}(?:,{_EXPRESSION}){{0,3}}"
_NEXT = r"[ \t]*,[ \t]*"
#: One statement (and the whitespace before it). Gate calls come early (most statements
#: are), their arguments checked by :data:`_ARGUMENT_LIST` once per distinct text.
_STATEMENT = re.compile(
    rf"({_GAP}(?:"
    rf"barrier[ \t]+(?P<barrier>(?:{_OPERAND}|{_NAME})(?:{_NEXT}(?:{_OPERAND}|{_NAME})){{0,63}})"
    r"[ \t]*;|"
    rf"(?P<name>{_NAME})(?:\((?:(?P<angle>-?[0-9]{{1,15}}\.[0-9]{{1,24}})|(?P<args>[^()\n;]{{1,240}}))\))?"
    rf"[ \t]+(?P<q0>{_OPERAND})"
    rf"(?:{_NEXT}(?P<q1>{_OPERAND})(?:{_NEXT}(?P<q2>{_OPERAND})(?:{_NEXT}(?P<q3>{_OPERAND}))?)?)?"
    r"[ \t]*;"
    rf"|(?P<decl>qubit|bit)\[(?P<size>[1-9][0-9]{{0,4}})\][ \t]+(?P<reg>{_NAME})[ \t]*;"
    rf"|(?P<bits>{_NAME}(?:\[(?:0|[1-9][0-9]{{0,4}})\])?)[ \t]*=[ \t]*measure[ \t]+"
    rf"(?P<measured>{_OPERAND}|{_NAME})[ \t]*;"
    rf"|gate[ \t]+(?P<gate>{_NAME})[ \t]*(?:\((?P<params>[^()\n]{{0,400}})\))?"
    r"(?P<formal>[^{};()\n]{1,2000})\{(?P<body>[^{}]{0,20000})\}"
    r"))"
)
_ARGUMENT_LIST = re.compile(_ARGUMENTS)
_HEADER = re.compile(
    rf"{_GAP}OPENQASM[ \t]+3(?:\.0)?[ \t]*;{_GAP}include[ \t]+\"stdgates\.inc\"[ \t]*;"
)
_END = re.compile(_GAP + r"\Z")
_BODY_ATOM = rf"(?:{_ATOM}|{_NAME})"
_BODY_EXPRESSION = (
    rf"[ \t]*-?[ \t]*{_BODY_ATOM}(?:[ \t]*[-+*/][ \t]*-?[ \t]*{_BODY_ATOM}){{0,7}}[ \t]*"
)
#: A gate body: calls on the formal qubits, arguments over the formal parameters.
_BODY = re.compile(
    rf"(?:{_GAP}{_NAME}(?:\({_BODY_EXPRESSION}(?:,{_BODY_EXPRESSION}){{0,3}}\))?[ \t]+"
    rf"{_NAME}(?:{_NEXT}{_NAME}){{0,15}}[ \t]*;){{0,256}}{_GAP}"
)
#: One call in a body that :data:`_BODY` accepted (so the calls tile it).
_BODY_CALL = re.compile(
    rf"{_GAP}(?P<name>{_NAME})(?:\((?P<args>[^()]*)\))?[ \t]+"
    rf"(?P<operands>{_NAME}(?:{_NEXT}{_NAME}){{0,15}})[ \t]*;"
)
_MAX_FORMALS = 16


class PlainCircuit:
    """A plain program's registers and operations (what :func:`read_plain` read).

    Attributes:
        registers: ("qubit" | "bit", name, size) in declaration order (qubit registers
            are absent when the program addresses hardware qubits).
        hardware: the program addresses hardware qubits ``$n`` (qubit n is ``$n``).
        num_qubits, num_clbits: the circuit's width.
        ops: in program order: (gate, params, qubits, -1) for a gate (a ``_StandardGate``
            or a ``_GateTemplate``), ("measure", (), (qubit,), clbit), ("barrier", (),
            qubits, -1).
        templates: the program's ``gate`` definitions.
    """

    __slots__ = ("hardware", "num_clbits", "num_qubits", "ops", "registers", "templates")

    def __init__(
        self,
        registers: list[tuple[str, str, int]],
        hardware: bool,
        num_qubits: int,
        num_clbits: int,
        ops: list[tuple[Any, tuple[float, ...], tuple[int, ...], int]],
        templates: list[_GateTemplate],
    ) -> None:
        self.registers = registers
        self.hardware = hardware
        self.num_qubits = num_qubits
        self.num_clbits = num_clbits
        self.ops = ops
        self.templates = templates

    @property
    def cregs(self) -> list[tuple[str, int]]:
        return [(name, size) for kind, name, size in self.registers if kind == "bit"]

    def build(self) -> QuantumCircuit:
        """The circuit :func:`qbroker.formats.qasm.read_qasm3` builds for this program."""
        from qiskit import QuantumCircuit
        from qiskit.circuit import (
            Barrier,
            CircuitInstruction,
            ClassicalRegister,
            Measure,
            QuantumRegister,
            Qubit,
        )

        from qbroker.formats.qasm import _place_on_hardware

        registers = [
            QuantumRegister(size, name) if kind == "qubit" else ClassicalRegister(size, name)
            for kind, name, size in self.registers
        ]
        if self.hardware:
            circuit = QuantumCircuit([Qubit() for _ in range(self.num_qubits)], *registers)
        else:
            circuit = QuantumCircuit(*registers)
        qubits, clbits = circuit.qubits, circuit.clbits
        standard = CircuitInstruction.from_standard
        measure = Measure()
        instructions = []
        operands_of: dict[tuple[int, ...], tuple[Any, ...]] = {}
        for gate, params, wires, clbit in self.ops:
            operands = operands_of.get(wires)
            if operands is None:
                operands = operands_of[wires] = tuple([qubits[q] for q in wires])
            kind = type(gate)
            if kind is _StandardGate:
                instructions.append(standard(gate.standard, operands, params))
            elif gate == "measure":
                instructions.append(CircuitInstruction(measure, operands, (clbits[clbit],)))
            elif gate == "barrier":
                instructions.append(CircuitInstruction(Barrier(len(wires)), operands, ()))
            else:  # a call of the program's own gate
                instructions.append(CircuitInstruction(gate.template.gate(*params), operands, ()))
        circuit._data.extend(instructions)
        return _place_on_hardware(circuit) if self.hardware else circuit


class _StandardGate:
    """A ``stdgates.inc`` gate as Qiskit's reader builds it."""

    __slots__ = ("name", "num_params", "num_qubits", "standard")

    def __init__(self, standard: Any, name: str, num_params: int, num_qubits: int) -> None:
        self.standard = standard
        self.name = name  # Qiskit's name for it (``CX`` is ``cx``, ``phase`` is ``p``)
        self.num_params = num_params
        self.num_qubits = num_qubits


@functools.cache
def _standard_gates() -> dict[str, _StandardGate]:
    """``stdgates.inc`` as Qiskit's reader maps it (the gates it builds as standard ones)."""
    from qiskit.qasm3 import STDGATES_INC_GATES

    found = {}
    for entry in STDGATES_INC_GATES:
        standard = getattr(entry.constructor, "_standard_gate", None)
        if standard is None:  # pragma: no cover - every stdgates.inc gate is standard
            continue
        name = entry.constructor(*([0.0] * entry.num_params)).name
        found[entry.name] = _StandardGate(standard, name, entry.num_params, entry.num_qubits)
    return found


@functools.cache
def _reserved() -> frozenset[str]:
    """Names a plain program may not give its registers or gates."""
    from qbroker.formats._limits import OPENQASM_CONSTANTS
    from qbroker.formats.qasm import _KEYWORDS, _NOT_GATE_CALLS, _STDGATES

    return frozenset(
        {*_KEYWORDS, *_NOT_GATE_CALLS, *_STDGATES, *OPENQASM_CONSTANTS, *_standard_gates()}
    )


def read_plain(text: str) -> PlainCircuit | None:
    """``text`` read as a plain program, or None when it is anything else (see the module
    docstring): then the full reader decides, with its guards and diagnostics."""
    from qbroker.formats.qasm import _MARK

    header = _HEADER.match(text)
    if header is None or _MARK in text:
        return None
    key = _text_key(text)
    if key == _last_rejected[0]:
        return None  # just scanned (load_program asks, then the OpenQASM 3 reader)
    statements = _STATEMENT.findall(text, header.end())
    covered = header.end() + sum(map(len, [s[0] for s in statements]))
    if _END.match(text, covered) is None:
        _last_rejected[0] = key
        return None
    try:
        return _Reading().read(text, statements)
    except (_NotPlain, KeyError, ValueError, OverflowError):
        _last_rejected[0] = key
        return None


#: The last text found not plain. A wrong hit (another text with the same key) only sends
#: that text the full way, which reads every program; so neither races nor a reused id can
#: change what is read.
_last_rejected: list[tuple[int, int, str, str] | None] = [None]


def _text_key(text: str) -> tuple[int, int, str, str]:
    return (id(text), len(text), text[:64], text[-64:])


class _NotPlain(Exception):
    pass


def _argument_value(text: str) -> float | None:
    """One argument as the full reader gives it to Qiskit's reader: a float literal as it
    is, other constant arithmetic folded by the same code; None when it does not fold."""
    if _PLAIN_FLOAT.fullmatch(text):
        return float(text)
    folded = _fold(text.strip())
    return None if folded is None else float(folded)


class _Reading:
    def __init__(self) -> None:
        self.registers: list[tuple[str, str, int]] = []
        self.qubit_of = _Qubits(self)  # "q[3]" -> 3, "$5" -> 5
        self.clbit_of: dict[str, int] = {}
        self.qubit_registers: dict[str, list[int]] = {}
        self.clbit_registers: dict[str, list[int]] = {}
        self.num_qubits = 0
        self.num_clbits = 0
        self.hardware = False
        self.gates: dict[str, Any] = dict(_standard_gates())
        self.templates: list[_GateTemplate] = []
        self.arguments: dict[str, tuple[float, ...]] = {}

    def read(self, text: str, statements: list[tuple[str, ...]]) -> PlainCircuit:
        ops: list[tuple[Any, tuple[float, ...], tuple[int, ...], int]] = []
        append = ops.append
        gates, qubit_of, arguments = self.gates, self.qubit_of, self.arguments
        for (
            _,
            barrier,
            name,
            angle,
            args,
            q0,
            q1,
            q2,
            q3,
            decl,
            size,
            reg,
            bits,
            measured,
            gate,
            params,
            formal,
            body,
        ) in statements:
            if name:
                known = gates[name]
                if angle:  # one float literal (it reads as Qiskit's reader reads it)
                    values: tuple[float, ...] = (float(angle),)
                else:
                    values = () if not args else arguments.get(args) or self.fold(args)
                if q1:
                    if q2:
                        wires: tuple[int, ...] = (qubit_of[q0], qubit_of[q1], qubit_of[q2])
                        if q3:
                            wires = (*wires, qubit_of[q3])
                        if len(set(wires)) != len(wires):
                            raise _NotPlain
                    else:
                        wires = (qubit_of[q0], qubit_of[q1])
                        if wires[0] == wires[1]:
                            raise _NotPlain
                else:
                    wires = (qubit_of[q0],)
                if len(values) != known.num_params or len(wires) != known.num_qubits:
                    raise _NotPlain
                append((known, values, wires, -1))
            elif measured:
                self.measure(bits, measured, ops)
            elif decl:
                self.declare(decl, reg, int(size))
            elif barrier:
                wires = tuple(w for operand in barrier.split(",") for w in self.wires(operand))
                if len(set(wires)) != len(wires):
                    raise _NotPlain
                append(("barrier", (), wires, -1))
            elif gate:
                self.define(gate, params, formal, body)
            else:  # pragma: no cover - the pattern has no other alternative
                raise _NotPlain
        if self.hardware and self.qubit_registers:
            raise _NotPlain  # mixed addressing: the full reader words the error
        if self.templates:
            self.check_templates(text)
        return PlainCircuit(
            self.registers,
            self.hardware,
            self.num_qubits,
            self.num_clbits,
            ops,
            self.templates,
        )

    def fold(self, args: str) -> tuple[float, ...]:
        """A call's arguments as the full reader gives them to Qiskit's reader: float
        literals as they are, other (constant) arithmetic folded by the same code."""
        if _ARGUMENT_LIST.fullmatch(args) is None:
            raise _NotPlain
        values = []
        for part in args.split(","):
            value = _argument_value(part)
            if value is None:
                raise _NotPlain
            values.append(value)
        found = self.arguments[args] = tuple(values)
        return found

    def declare(self, kind: str, name: str, size: int) -> None:
        if name in _reserved() or name in self.gates or name in self.qubit_registers:
            raise _NotPlain
        if name in self.clbit_registers:
            raise _NotPlain
        qubits = kind == "qubit"
        start = self.num_qubits if qubits else self.num_clbits
        if start + size > MAX_PLAIN_BITS:
            raise _NotPlain
        self.registers.append((kind, name, size))
        lookup: dict[str, int]
        if qubits:
            self.num_qubits += size
            registers, lookup = self.qubit_registers, self.qubit_of
        else:
            self.num_clbits += size
            registers, lookup = self.clbit_registers, self.clbit_of
        registers[name] = list(range(start, start + size))
        lookup.update((f"{name}[{i}]", start + i) for i in range(size))

    def wires(self, operand: str) -> list[int]:
        operand = operand.strip()
        if operand.startswith("$"):
            return [self.hardware_qubit(operand)]
        if "[" in operand:
            return [self.qubit_of[operand]]
        return self.qubit_registers[operand]

    def hardware_qubit(self, operand: str) -> int:
        index = int(operand[1:])
        if index >= MAX_PLAIN_BITS:
            raise _NotPlain
        self.hardware = True
        self.num_qubits = max(self.num_qubits, index + 1)
        self.qubit_of[operand] = index
        return index

    def measure(self, bits: str, measured: str, ops: list[Any]) -> None:
        if "[" in bits:
            wires = self.wires(measured)
            if len(wires) != 1:
                raise _NotPlain
            ops.append(("measure", (), (wires[0],), self.clbit_of[bits]))
            return
        clbits = self.clbit_registers[bits]
        if measured.startswith("$") or "[" in measured:
            raise _NotPlain
        wires = self.qubit_registers[measured]
        if len(wires) != len(clbits):
            raise _NotPlain
        ops.extend(("measure", (), (q,), c) for q, c in zip(wires, clbits, strict=True))

    def define(self, name: str, params: str, formal: str, body: str) -> None:
        from qbroker.formats.qasm import _GateTemplate, _names

        parameters = _names(params or "")
        qubits = _names(formal)
        if (
            parameters is None
            or not qubits
            or len(qubits) > _MAX_FORMALS
            or len(parameters) > 4
            or name in _reserved()
            or name in self.gates
            or name in self.qubit_registers
            or name in self.clbit_registers
            or len(self.templates) >= MAX_PLAIN_DEFINITIONS
            or _BODY.fullmatch(body) is None
        ):
            raise _NotPlain
        template = _GateTemplate(name, parameters, qubits, body, tuple(self.templates))
        self.templates.append(template)
        self.gates[name] = _Defined(template, self.body_plan(body, qubits))

    def body_plan(
        self, body: str, qubits: tuple[str, ...]
    ) -> tuple[tuple[_StandardGate, tuple[str, ...], tuple[int, ...]], ...] | None:
        """A body made only of ``stdgates.inc`` calls on distinct formal qubits, as
        (gate, argument texts, formal qubit positions) per call; None for anything else
        (calls of the program's own gates included)."""
        position = {q: i for i, q in enumerate(qubits)}
        plan = []
        covered = 0
        for call in _BODY_CALL.finditer(body):
            covered += len(call[0])
            known = self.gates.get(call["name"])
            if type(known) is not _StandardGate:
                return None
            operands = tuple(position.get(o.strip(), -1) for o in call["operands"].split(","))
            args = tuple(call["args"].split(",")) if call["args"] else ()
            if (
                -1 in operands
                or len(set(operands)) != len(operands)
                or len(operands) != known.num_qubits
                or len(args) != known.num_params
            ):
                return None
            plan.append((known, args, operands))
        if _END.match(body, covered) is None:
            return None
        return tuple(plan)

    def check_templates(self, text: str) -> None:
        """Read each body once, as the full reader does (so that calls cannot fail
        later), with the fast reader's printing captured; any failure: not plain."""
        from qbroker.formats._limits import _scan_gate_definitions
        from qbroker.formats.qasm import _STDOUT_LOCK, _CappedOutput, _CapturedOutput

        if _scan_gate_definitions(text) is not None:  # expands too far: the guard words it
            raise _NotPlain
        unplanned = [
            template for template in self.templates if self.gates[template.name].plan is None
        ]
        if not unplanned:  # bodies of standard-gate calls only: Qiskit's reader reads them
            return
        with _STDOUT_LOCK, _CapturedOutput(2), _CappedOutput():
            try:
                for template in unplanned:
                    template.check()
            except BaseException as exc:
                if isinstance(exc, KeyboardInterrupt | SystemExit):
                    raise
                raise _NotPlain from None


class _Qubits(dict[str, int]):
    """Operand -> qubit; a hardware qubit ``$n`` is qubit n, added when first met."""

    def __init__(self, reading: _Reading) -> None:
        super().__init__()
        self.reading = reading

    def __missing__(self, operand: str) -> int:
        if not operand.startswith("$"):
            raise KeyError(operand)
        return self.reading.hardware_qubit(operand)


class _Defined:
    """A call of the program's own gate (a :class:`_GateTemplate`), with its body's plan
    when the body is made of standard-gate calls only (:meth:`_Reading.body_plan`)."""

    __slots__ = ("num_params", "num_qubits", "plan", "template")

    def __init__(
        self,
        template: _GateTemplate,
        plan: tuple[tuple[_StandardGate, tuple[str, ...], tuple[int, ...]], ...] | None = None,
    ) -> None:
        self.template = template
        self.plan = plan
        self.num_params = len(template.params)
        self.num_qubits = len(template.qubits)

    def definition(self, values: tuple[float, ...]) -> QuantumCircuit | None:
        """The body for ``values`` as Qiskit's reader reads it (the same gates, parameters
        folded by the same code), built without reading it; None without a plan or when
        an argument does not fold to a number."""
        if self.plan is None:
            return None
        from qiskit import QuantumCircuit
        from qiskit.circuit import CircuitInstruction

        template = self.template
        names = {p: f"({v!r})" for p, v in zip(template.params, values, strict=True)}
        circuit = QuantumCircuit(self.num_qubits)
        qubits = circuit.qubits
        for known, args, operands in self.plan:
            folded = []
            for arg in args:
                text = template._pattern.sub(lambda m: names[m.group(1)], arg) if names else arg
                value = _argument_value(text)
                if value is None:
                    return None
                folded.append(value)
            circuit._append(
                CircuitInstruction.from_standard(
                    known.standard, tuple(qubits[i] for i in operands), tuple(folded)
                )
            )
        return circuit
