"""Cirq circuits serialised by ``cirq.to_json`` (CIRQ_JSON), read and written exactly.

Conventions (the same ones Cirq itself uses):

* Qubits: every qubit the circuit touches, in Cirq's default order (``sorted``, the order
  ``cirq.unitary`` and ``cirq.Simulator`` use), becomes Qiskit qubit 0, 1, 2 ... So
  ``LineQubit(i)`` is qubit ``i`` when the line has no gaps; ``GridQubit`` s go row by row.
  The writer uses ``LineQubit(i)`` for Qiskit qubit ``i`` and places an identity on qubits
  no operation touches, so the width survives the round trip.
* Classical bits: each measurement key becomes one classical register named after the key
  (made a valid identifier), with one bit per measured qubit in the measurement's own
  qubit order; registers follow the keys' first appearance in the circuit (moment by
  moment, operation by operation), which is the order Cirq's OpenQASM export declares
  them. Flattened, classical bit 0 is the first qubit of the first key, as a qbroker counts
  key reads it (leftmost character). A key measured twice is refused: Cirq would keep
  both records, a classical register keeps one.
* The writer groups measurements the same way: one key per Qiskit classical register
  (its name), measuring the register's bits in order in the circuit's last moment. A
  circuit that measures mid-way gets one key per classical bit (``<register>_<index>``,
  Cirq's OpenQASM importer's naming), each in a new moment so that bit 0 comes first.
  What Cirq keys cannot say (a classical bit no measurement writes, a bit written twice,
  bits written out of order mid-way, classical control) is refused with the reason.

Gates map with their exact matrix, global phase included (``XPowGate(t, s)`` is
``e^{iπts} X^t``; Cirq's ``Rx``/``Ry``/``Rz`` are Qiskit's rx/ry/rz): Pauli, H, S, T and
their powers, rx/ry/rz, PhasedX, CNOT/CZ/SWAP/iSWAP and their powers, XX/YY/ZZ powers,
CCX/CCZ and their powers, CSWAP, controlled gates, matrix gates, global phases, resets and
measurements (``invert_mask`` becomes X before and after the measurement). Any other gate
with a unitary on up to 4 qubits becomes a ``UnitaryGate`` of that matrix; noise channels,
symbolic parameters, classically controlled operations and qudits are refused.

Speed: Cirq's own JSON layer costs ~70 µs per operation each way, so the common
operations (the gates above on Line/Grid/Named qubits, measurements, resets, identities,
global phases) are read and written straight from and to their JSON form, and only the
rest goes through ``cirq.read_json`` (per operation; the whole circuit when it holds
sub-circuits, unrolled up to :data:`MAX_UNROLLED_OPERATIONS`). Cirq itself is imported only
when needed. The writer reads Qiskit's standard gates by name and parameters (building
each instruction's Python gate object cost more than the rest of the writer): ~2 ms for
600 gates on 20 qubits. The writer never goes through OpenQASM
(``cirq.contrib.qasm_import``): OpenQASM 2 drops the global phase and gives every classical
bit its own key, so that route is not exact.
"""

from __future__ import annotations

import cmath
import functools
import json
import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from qbroker.errors import MissingDependencyError, ProgramError, UnsupportedError
from qbroker.formats._codec import Codec, Kind, WriteOptions, circuit_of
from qbroker.formats._lookalikes import resolve_lookalikes
from qbroker.formats._prepare import on_backend
from qbroker.model.enums import InputFormat

if TYPE_CHECKING:  # pragma: no cover
    from qiskit import QuantumCircuit
    from qiskit.circuit import Qubit

    from qbroker.formats._qasm3_plain import PlainCircuit
    from qbroker.model import Backend

__all__ = ["CODEC", "read_cirq_json", "write_cirq_json"]

_FORMAT = InputFormat.CIRQ_JSON.value
_PI = math.pi
#: Largest gate given to Qiskit as a plain matrix (a 4-qubit unitary is 16 x 16).
_MAX_MATRIX_QUBITS = 4

Appender = Callable[["QuantumCircuit", float, "list[Qubit]"], None]
QubitKey = tuple[Any, ...]


def _bad(message: str, field: str) -> ProgramError:
    """A ProgramError whose one-line message starts with the field at fault."""
    return ProgramError(f"{field}: {message}", format=_FORMAT, field=field)


def _clipped(value: Any) -> str:
    """``repr(value)`` cut to fit a one-line message (hostile input can be megabytes)."""
    if value is None:
        return "nothing"
    if isinstance(value, (list, dict)):
        return "a list" if isinstance(value, list) else "an object"
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def _cirq() -> Any:
    try:
        import cirq
    except ImportError:
        raise MissingDependencyError("the CIRQ_JSON format", "cirq") from None
    return cirq


class _NeedsWholeCircuit(Exception):
    """An operation (a sub-circuit) that only Cirq's whole-circuit reader can place."""


# --------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------


def read_cirq_json(document: dict[str, Any]) -> QuantumCircuit:
    """A ``cirq.to_json`` circuit as a Qiskit circuit with the same unitary and bits.

    Raises:
        ProgramError: not a Cirq circuit, or an operation Cirq cannot read (naming the
            field, e.g. ``moments.3.operations.1``), or a NaN or infinite angle.
        UnsupportedError: an operation with no exact Qiskit form (naming where and why).
        MissingDependencyError: without the cirq extra, for operations only Cirq reads.
    """
    if not isinstance(document, dict):
        raise ProgramError("a Cirq circuit is a JSON object", format=_FORMAT)
    kind = document.get("cirq_type")
    if kind != "Circuit":
        raise _bad(f"expected cirq_type 'Circuit', found {_clipped(kind)}", "cirq_type")
    moments = document.get("moments")
    if not isinstance(moments, list):
        raise _bad("'moments' must be a list", "moments")
    try:
        entries = _read_moments(moments)
    except _NeedsWholeCircuit:
        entries = _read_whole(document)
    except RecursionError:
        raise ProgramError("the circuit is nested too deeply", format=_FORMAT) from None
    return _build(entries)


# An entry: (where, kind, data, qubit keys). Kinds: "eigen" (appender, t, s), "rot"
# (qiskit name, rads), "id", "measure" (key, invert mask), "cswap", "reset", "phase"
# (radians), "cirq" (a Cirq operation).
Entry = tuple[str, str, Any, list[QubitKey]]

_EIGEN_TYPES: dict[str, tuple[str, int]] = {
    "XPowGate": ("x", 1),
    "_PauliX": ("x", 1),
    "YPowGate": ("y", 1),
    "_PauliY": ("y", 1),
    "ZPowGate": ("z", 1),
    "_PauliZ": ("z", 1),
    "HPowGate": ("h", 1),
    "CXPowGate": ("cx", 2),
    "CNotPowGate": ("cx", 2),
    "CZPowGate": ("cz", 2),
    "SwapPowGate": ("swap", 2),
    "ISwapPowGate": ("iswap", 2),
    "XXPowGate": ("xx", 2),
    "YYPowGate": ("yy", 2),
    "ZZPowGate": ("zz", 2),
    "CCXPowGate": ("ccx", 3),
    "CCZPowGate": ("ccz", 3),
}
_ROTATIONS = {"Rx": "rx", "Ry": "ry", "Rz": "rz"}


def _read_moments(moments: list[Any]) -> list[Entry]:
    entries: list[Entry] = []
    for m, moment in enumerate(moments):
        where_m = f"moments.{m}"
        operations = moment.get("operations") if isinstance(moment, dict) else None
        if not isinstance(operations, list):
            raise _bad("a moment is an object with an 'operations' list", where_m)
        busy: set[QubitKey] = set()
        for o, op in enumerate(operations):
            where = f"{where_m}.operations.{o}"
            entry = _fast_entry(op, where)
            if entry is None:
                entry = _cirq_entry(op, where)
            keys = entry[3]
            if len(set(keys)) != len(keys):
                raise _bad("an operation names a qubit twice", where)
            overlap = busy.intersection(keys)
            if overlap:
                raise _bad(
                    f"operations of one moment overlap on qubit {_show(min(overlap))}", where
                )
            busy.update(keys)
            entries.append(entry)
    return entries


def _number(value: Any, where: str) -> float | None:
    """A finite JSON number, None when ``value`` is not a plain number (Cirq decides)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer beyond float range (JSON allows any digits)
        number = math.inf
    if not math.isfinite(number):
        shown = value if isinstance(value, float) else f"an integer of {len(str(value))} digits"
        raise _bad(f"{shown} is not a finite number", where)
    return number


def _qubit_key(d: Any) -> QubitKey | None:
    if not isinstance(d, dict):
        return None
    kind = d.get("cirq_type")
    if kind == "LineQubit" and type(d.get("x")) is int and len(d) == 2:
        return ("LineQubit", d["x"])
    if kind == "GridQubit" and type(d.get("row")) is int and type(d.get("col")) is int:
        return ("GridQubit", d["row"], d["col"]) if len(d) == 3 else None
    if kind == "NamedQubit" and isinstance(d.get("name"), str) and len(d) == 2:
        return ("NamedQubit", d["name"])
    return None


def _fast_entry(op: Any, where: str) -> Entry | None:
    """The operations most circuits consist of, read without Cirq; None for the rest."""
    if not isinstance(op, dict):
        raise _bad("an operation is a JSON object", where)
    kind = op.get("cirq_type")
    if not isinstance(kind, str):
        raise _bad(f"'cirq_type' must be a type name, found {_clipped(kind)}", f"{where}.cirq_type")
    if kind == "TaggedOperation" and isinstance(op.get("tags"), list):
        return _fast_entry(op.get("sub_operation"), f"{where}.sub_operation")
    raw: Any
    if kind == "SingleQubitPauliStringGateOperation":
        gate, raw = op.get("pauli"), [op.get("qubit")]
    elif kind == "GateOperation":
        gate, raw = op.get("gate"), op.get("qubits")
    else:
        return None
    if not isinstance(gate, dict) or not isinstance(raw, list):
        return None
    keys = [_qubit_key(q) for q in raw]
    if any(k is None for k in keys):
        return None
    qubits: list[QubitKey] = keys  # type: ignore[assignment]
    name = gate.get("cirq_type")
    here = f"{where}.gate"
    if not isinstance(name, str):
        raise _bad(f"'cirq_type' must be a type name, found {_clipped(name)}", f"{here}.cirq_type")
    if name in _EIGEN_TYPES:
        family, arity = _EIGEN_TYPES[name]
        if arity != len(qubits) or set(gate) != {"cirq_type", "exponent", "global_shift"}:
            return None
        t = _number(gate["exponent"], f"{here}.exponent")
        s = _number(gate["global_shift"], f"{here}.global_shift")
        if t is None or s is None:
            return None
        return (where, "eigen", (_APPENDERS[family], t, s), qubits)
    if name in _ROTATIONS and len(qubits) == 1 and set(gate) == {"cirq_type", "rads"}:
        rads = _number(gate["rads"], f"{here}.rads")
        return None if rads is None else (where, "rot", (_ROTATIONS[name], rads), qubits)
    if name == "IdentityGate" and gate.get("num_qubits") == len(qubits):
        return (where, "id", None, qubits)
    if name == "CSwapGate" and len(qubits) == 3 and len(gate) == 1:
        return (where, "cswap", None, qubits)
    if name == "ResetChannel" and len(qubits) == 1 and gate.get("dimension", 2) == 2:
        return (where, "reset", None, qubits)
    if name == "GlobalPhaseGate" and not qubits:
        coefficient = gate.get("coefficient")
        if isinstance(coefficient, dict) and coefficient.get("cirq_type") == "complex":
            real = _number(coefficient.get("real"), f"{here}.coefficient.real")
            imag = _number(coefficient.get("imag"), f"{here}.coefficient.imag")
            if real is not None and imag is not None and (real or imag):
                return (where, "phase", math.atan2(imag, real), qubits)
        return None
    if name == "MeasurementGate":
        key, mask = gate.get("key"), gate.get("invert_mask", [])
        extra = set(gate) - {"cirq_type", "num_qubits", "key", "invert_mask", "qid_shape"}
        shape = gate.get("qid_shape", [2] * len(qubits))
        if (
            isinstance(key, str)
            and not extra
            and gate.get("num_qubits") == len(qubits)
            and isinstance(mask, list)
            and all(isinstance(b, bool) for b in mask)
            and len(mask) <= len(qubits)
            and shape == [2] * len(qubits)
        ):
            return (
                where,
                "measure",
                (key, [*mask, *([False] * (len(qubits) - len(mask)))]),
                qubits,
            )
    return None


def _cirq_entry(op: Any, where: str) -> Entry:
    """An operation only Cirq can read: read that one operation with ``cirq.read_json``."""
    _check_declared_counts(op, where)
    cirq = _cirq()
    try:
        value = cirq.read_json(json_text=json.dumps(op, allow_nan=True))
    except RecursionError:
        raise _bad("the operation is nested too deeply", where) from None
    except Exception as exc:  # Cirq raises ValueError, KeyError, TypeError ... per field
        detail = " ".join(str(exc).split()).strip("'\"") or type(exc).__name__
        raise _bad(f"Cirq cannot read it: {detail}", where) from None
    if not isinstance(value, cirq.Operation):
        raise _bad(f"expected an operation, found {type(value).__name__}", where)
    if isinstance(value.untagged, cirq.CircuitOperation):
        raise _NeedsWholeCircuit
    return (where, "cirq", value, [_key_of(cirq, q, where) for q in value.qubits])


#: Fields that give a number of qubits (or copies, or controls) Cirq builds a shape from.
_COUNT_FIELDS = frozenset({"num_qubits", "n_qubits", "num_copies", "num_controls"})


def _check_declared_counts(node: Any, where: str) -> None:
    """Refuse a gate that declares more qubits than the JSON names: Cirq builds the gate's
    shape (a tuple per qubit) before it compares the count with the operation's qubits,
    and ``MeasurementGate(num_qubits=2**31)`` did not finish."""
    qubits = 0
    counts: list[tuple[str, int]] = []
    stack: list[tuple[Any, str]] = [(node, where)]
    while stack:
        value, path = stack.pop()
        if isinstance(value, dict):
            kind = value.get("cirq_type")
            if isinstance(kind, str) and kind.endswith(("Qubit", "Qid")):
                qubits += 1
            for key, item in value.items():
                if key in _COUNT_FIELDS and type(item) is int:
                    counts.append((f"{path}.{key}", item))
                elif isinstance(item, (dict, list)):
                    stack.append((item, f"{path}.{key}"))
        elif isinstance(value, list):
            stack.extend(
                (item, f"{path}.{i}")
                for i, item in enumerate(value)
                if isinstance(item, (dict, list))
            )
    for path, count in counts:
        if count > qubits:
            raise _bad(f"{count:,} declared, but only {qubits} qubit(s) are named", path)


def _key_of(cirq: Any, qid: Any, where: str) -> QubitKey:
    """The qubit's key; Cirq's reader builds qubits from any JSON value (``LineQubit("1")``),
    which then cannot be ordered, so coordinates must be whole numbers and names strings."""
    if type(qid) is cirq.LineQubit:
        key: QubitKey = ("LineQubit", qid.x)
    elif type(qid) is cirq.GridQubit:
        key = ("GridQubit", qid.row, qid.col)
    elif type(qid) is cirq.NamedQubit:
        key = ("NamedQubit", qid.name)
    else:
        key = ("cirq", qid)
    if key[0] == "NamedQubit":
        if not isinstance(key[1], str):
            raise _bad(f"a NamedQubit's name must be a string, found {_clipped(key[1])}", where)
    elif key[0] != "cirq" and not all(type(v) is int for v in key[1:]):
        shown = ", ".join(_clipped(v) for v in key[1:])
        raise _bad(f"a {key[0]}'s coordinates must be integers, found {shown}", where)
    try:
        hash(key)
    except TypeError:
        raise _bad(f"{type(qid).__name__} with an unhashable coordinate", where) from None
    return key


def _read_whole(document: dict[str, Any]) -> list[Entry]:
    """Cirq's reader on the whole circuit, sub-circuits unrolled (slower; rarely needed)."""
    _check_declared_counts(document, "moments")
    cirq = _cirq()
    try:
        circuit = cirq.read_json(json_text=json.dumps(document, allow_nan=True))
    except RecursionError:
        raise ProgramError("the circuit is nested too deeply", format=_FORMAT) from None
    except Exception as exc:
        detail = " ".join(str(exc).split()).strip("'\"") or type(exc).__name__
        raise ProgramError(f"Cirq cannot read it: {detail}", format=_FORMAT) from None
    if not isinstance(circuit, cirq.Circuit):
        raise _bad(f"expected a circuit, found {type(circuit).__name__}", "cirq_type")
    size = _unrolled_size(cirq, circuit, {})
    if size > MAX_UNROLLED_OPERATIONS:
        raise _bad(
            f"sub-circuits repeat to {size:,} operations; qbroker unrolls at most "
            f"{MAX_UNROLLED_OPERATIONS:,}",
            "moments",
        )
    try:
        circuit = cirq.unroll_circuit_op(circuit, deep=True, tags_to_check=None)
    except Exception as exc:  # e.g. a repeat_until loop, which has no fixed unrolling
        detail = " ".join(str(exc).split()).strip("'\"") or type(exc).__name__
        raise UnsupportedError(f"moments: Cirq cannot unroll the sub-circuits: {detail}") from None
    entries: list[Entry] = []
    for m, moment in enumerate(circuit):
        for o, op in enumerate(moment.operations):
            where = f"moments.{m}.operations.{o}"
            entries.append((where, "cirq", op, [_key_of(cirq, q, where) for q in op.qubits]))
    return entries


#: Most operations sub-circuits (``CircuitOperation``) may unroll to: Cirq unrolls and
#: qbroker converts each at ~100 µs, and ``repetitions`` is one number in the JSON.
MAX_UNROLLED_OPERATIONS = 5_000


def _unrolled_size(cirq: Any, circuit: Any, seen: dict[int, int]) -> int:
    """Operations ``circuit`` holds once its sub-circuits are unrolled (not unrolling)."""
    known = seen.get(id(circuit))
    if known is not None:
        return known
    size = 0
    for op in circuit.all_operations():
        inner = op.untagged
        if isinstance(inner, cirq.CircuitOperation):
            size += abs(int(inner.repetitions)) * _unrolled_size(cirq, inner.circuit, seen)
        else:
            size += 1
    seen[id(circuit)] = size
    return size


def _show(key: QubitKey) -> str:
    if key[0] == "cirq":
        return repr(key[1])
    return f"{key[0]}({', '.join(repr(v) for v in key[1:])})"


def _ordered(keys: set[QubitKey]) -> list[QubitKey]:
    """Cirq's default qubit order: plain tuples sort the same way for Line- or GridQubits
    alone; any other mix is sorted by Cirq itself."""
    kinds = {k[0] for k in keys}
    if kinds <= {"LineQubit"} or kinds <= {"GridQubit"}:
        return sorted(keys)
    cirq = _cirq()
    made = {k: _make_qid(cirq, k) for k in keys}
    try:
        return sorted(keys, key=lambda k: made[k])
    except TypeError:  # e.g. a LineQid whose x is a string, beside one whose x is a number
        shown = ", ".join(sorted(_show(k) for k in keys)[:4])
        raise _bad(f"the qubits cannot be put in order ({shown})", "moments") from None


def _make_qid(cirq: Any, key: QubitKey) -> Any:
    if key[0] == "LineQubit":
        return cirq.LineQubit(key[1])
    if key[0] == "GridQubit":
        return cirq.GridQubit(key[1], key[2])
    if key[0] == "NamedQubit":
        return cirq.NamedQubit(key[1])
    return key[1]


def _build(entries: list[Entry]) -> QuantumCircuit:
    from qiskit import QuantumCircuit, QuantumRegister

    keys: set[QubitKey] = set()
    for entry in entries:
        keys.update(entry[3])
    for key in keys:
        if key[0] == "cirq" and getattr(key[1], "dimension", 2) != 2:
            raise UnsupportedError(
                f"{key[1]!r} is a qudit of dimension {key[1].dimension}; only qubits convert"
            )
    order = _ordered(keys)
    qc = QuantumCircuit(QuantumRegister(len(order), "q"))
    index = {k: qc.qubits[i] for i, k in enumerate(order)}
    state = _Registers()
    for where, kind, data, qubit_keys in entries:
        targets = [index[k] for k in qubit_keys]
        if kind == "eigen":
            append, t, s = data
            qc.global_phase += _PI * t * s
            append(qc, t, targets)
        elif kind == "rot":
            getattr(qc, data[0])(data[1], targets[0])
        elif kind == "measure":
            state.measure(qc, data[0], data[1], targets, where)
        elif kind == "cswap":
            qc.cswap(*targets)
        elif kind == "reset":
            qc.reset(targets[0])
        elif kind == "phase":
            qc.global_phase += data
        elif kind == "cirq":
            _append_cirq_op(qc, data, targets, where, state)
    return qc


class _Registers:
    """Measurement keys seen so far, and the register names they became."""

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.names: set[str] = set()

    def measure(
        self, qc: QuantumCircuit, key: str, mask: list[bool], targets: list[Qubit], where: str
    ) -> None:
        from qiskit import ClassicalRegister

        if key in self.keys:
            raise UnsupportedError(
                f"{where}: measurement key {key!r} is used twice; a classical register keeps "
                "one result per bit"
            )
        self.keys.add(key)
        register = ClassicalRegister(len(targets), _register_name(key, self.names))
        qc.add_register(register)
        flipped = [q for q, flip in zip(targets, mask, strict=False) if flip]
        for q in flipped:
            qc.x(q)
        for q, c in zip(targets, register, strict=True):
            qc.measure(q, c)
        for q in flipped:
            qc.x(q)


def _register_name(key: str, taken: set[str]) -> str:
    name = re.sub(r"\W", "_", key, flags=re.ASCII) or "m"
    if not re.match(r"[A-Za-z_]", name):
        name = f"m_{name}"
    base, n = name, 1
    while name in taken:
        name = f"{base}_{n}"
        n += 1
    taken.add(name)
    return name


def _append_cirq_op(
    qc: QuantumCircuit, op: Any, targets: list[Qubit], where: str, state: _Registers
) -> None:
    cirq = _cirq()
    untagged = op.untagged
    if isinstance(untagged, cirq.ClassicallyControlledOperation):
        raise UnsupportedError(f"{where}: classically controlled operations are not converted")
    gate = op.gate
    if isinstance(gate, cirq.MeasurementGate):
        if getattr(gate, "confusion_map", None):
            raise UnsupportedError(
                f"{where}: measurement {gate.key!r} has a confusion map (a readout error model), "
                "which is not a circuit operation"
            )
        if any(d != 2 for d in cirq.qid_shape(gate)):
            raise UnsupportedError(f"{where}: measurement of qudits")
        state.measure(qc, str(gate.key), list(gate.full_invert_mask()), targets, where)
        return
    if gate is None:
        raise UnsupportedError(f"{where}: {type(untagged).__name__} has no gate to convert")
    _append_gate(cirq, qc, gate, targets, where)


def _exponent(cirq: Any, gate: Any, where: str) -> tuple[float, float]:
    if cirq.is_parameterized(gate):
        names = ", ".join(sorted(str(p) for p in cirq.parameter_names(gate))[:5])
        raise UnsupportedError(
            f"{where}: {gate!r} has symbolic parameters ({names}); resolve them first "
            "(cirq.resolve_parameters)"
        )
    try:
        t, s = float(gate.exponent), float(getattr(gate, "global_shift", 0.0))
    except (OverflowError, TypeError, ValueError):
        raise _bad(f"{gate!r} has an exponent that is not a finite number", where) from None
    if not (math.isfinite(t) and math.isfinite(s)):
        raise _bad("a NaN or infinite exponent", where)
    return t, s


def _append_gate(cirq: Any, qc: QuantumCircuit, gate: Any, qubits: list[Qubit], where: str) -> None:
    """Append ``gate`` on ``qubits`` to ``qc`` with its exact matrix (global phase too)."""
    if isinstance(gate, cirq.IdentityGate):
        return
    if isinstance(gate, cirq.GlobalPhaseGate):
        if cirq.is_parameterized(gate):
            raise UnsupportedError(f"{where}: symbolic global phase; resolve it first")
        qc.global_phase += cmath.phase(complex(gate.coefficient))
        return
    if isinstance(gate, cirq.ResetChannel):
        for q in qubits:
            qc.reset(q)
        return
    # Cirq's Rx/Ry/Rz keep their angle exactly (exponent * pi would round it).
    rads = getattr(gate, "_rads", None)
    if isinstance(gate, (cirq.Rx, cirq.Ry, cirq.Rz)) and rads is not None:
        if cirq.is_parameterized(gate):
            _exponent(cirq, gate, where)
        name = {cirq.Rx: "rx", cirq.Ry: "ry", cirq.Rz: "rz"}[type(gate)]
        if not math.isfinite(float(rads)):
            raise _bad("a NaN or infinite angle", where)
        getattr(qc, name)(float(rads), qubits[0])
        return
    simple = _eigen_appender(gate)
    if simple is not None:
        t, shift = _exponent(cirq, gate, where)
        qc.global_phase += _PI * t * shift
        simple(qc, t, qubits)
        return
    if isinstance(gate, cirq.PhasedXPowGate):
        t, shift = _exponent(cirq, gate, where)
        p = float(gate.phase_exponent)
        qc.global_phase += _PI * t * shift
        qc.p(-_PI * p, qubits[0])
        _x_power(qc, t, qubits)
        qc.p(_PI * p, qubits[0])
        return
    if isinstance(gate, cirq.CSwapGate):
        qc.cswap(*qubits)
        return
    if isinstance(gate, cirq.ControlledGate):
        _append_controlled(cirq, qc, gate, qubits, where)
        return
    if isinstance(gate, cirq.MatrixGate) or (
        len(qubits) <= _MAX_MATRIX_QUBITS
        and not cirq.is_parameterized(gate)
        and cirq.has_unitary(gate)
    ):
        if cirq.is_parameterized(gate):
            _exponent(cirq, gate, where)
        if any(d != 2 for d in cirq.qid_shape(gate)):
            raise UnsupportedError(f"{where}: {gate!r} acts on qudits")
        # Cirq's matrix is big-endian in the gate's qubit order, Qiskit's little-endian.
        qc.unitary(cirq.unitary(gate), list(reversed(qubits)), label=str(gate)[:40])
        return
    if cirq.is_parameterized(gate):
        _exponent(cirq, gate, where)
    if not cirq.has_unitary(gate):
        raise UnsupportedError(
            f"{where}: {gate!r} is not unitary (a noise channel or a non-unitary operation); "
            "only gates, measurements and resets convert"
        )
    raise UnsupportedError(
        f"{where}: {gate!r} acts on {len(qubits)} qubits; qbroker converts unnamed gates of at "
        f"most {_MAX_MATRIX_QUBITS}"
    )


def _append_controlled(
    cirq: Any, qc: QuantumCircuit, gate: Any, qubits: list[Qubit], where: str
) -> None:
    from qiskit import QuantumCircuit

    n = gate.num_controls()
    if any(d != 2 for d in cirq.qid_shape(gate)):
        raise UnsupportedError(f"{where}: {gate!r} acts on qudits")
    products = list(gate.control_values.expand())
    if len(products) != 1:
        raise UnsupportedError(
            f"{where}: {gate!r} fires on several control patterns; only one converts"
        )
    values = [int(v) for v in products[0]]
    sub = gate.sub_gate
    body = QuantumCircuit(len(qubits) - n)
    _append_gate(cirq, body, sub, list(body.qubits), where)
    ctrl_state = sum(v << i for i, v in enumerate(values))
    if len(body.data) == 1 and body.global_phase == 0 and not body.data[0].clbits:
        inner = body.data[0].operation
        if list(body.data[0].qubits) == list(body.qubits):
            qc.append(inner.control(n, ctrl_state=ctrl_state), qubits)
            return
    qc.append(body.to_gate(label=str(sub)[:40]).control(n, ctrl_state=ctrl_state), qubits)


# The eigen-gates: (qc, exponent, qubits) -> appends the gate with exponent ``t`` and no
# global shift (the caller adds the shift's phase, ``pi * t * s``). Cirq gates are
# periodic in the exponent with period 2 when the shift is 0, so ``t % 2`` picks the
# named Qiskit gate exactly.


def _x_power(qc: QuantumCircuit, t: float, q: list[Qubit]) -> None:
    r = t % 2
    if r == 0:
        return
    if r == 1:
        qc.x(q[0])
    elif r == 0.5:
        qc.sx(q[0])
    elif r == 1.5:
        qc.sxdg(q[0])
    else:  # X^t = e^{i pi t / 2} Rx(pi t)
        qc.rx(_PI * t, q[0])
        qc.global_phase += _PI * t / 2


def _y_power(qc: QuantumCircuit, t: float, q: list[Qubit]) -> None:
    r = t % 2
    if r == 0:
        return
    if r == 1:
        qc.y(q[0])
    else:  # Y^t = e^{i pi t / 2} Ry(pi t)
        qc.ry(_PI * t, q[0])
        qc.global_phase += _PI * t / 2


_Z_NAMED = {1.0: "z", 0.5: "s", 1.5: "sdg", 0.25: "t", 1.75: "tdg"}


def _z_power(qc: QuantumCircuit, t: float, q: list[Qubit]) -> None:
    r = t % 2
    if r == 0:
        return
    named = _Z_NAMED.get(r)
    if named is not None:
        getattr(qc, named)(q[0])
    else:  # Z^t = diag(1, e^{i pi t}) = P(pi t)
        qc.p(_PI * t, q[0])


def _h_power(qc: QuantumCircuit, t: float, q: list[Qubit]) -> None:
    r = t % 2
    if r == 0:
        return
    if r == 1:
        qc.h(q[0])
        return
    # H = Ry(pi/4) Z Ry(-pi/4), so H^t = Ry(pi/4) Z^t Ry(-pi/4).
    qc.ry(-_PI / 4, q[0])
    qc.p(_PI * t, q[0])
    qc.ry(_PI / 4, q[0])


def _cx_power(qc: QuantumCircuit, t: float, q: list[Qubit]) -> None:
    r = t % 2
    if r == 0:
        return
    if r == 1:
        qc.cx(q[0], q[1])
        return
    # X^t = H Z^t H, so C(X^t) = H_t CP(pi t) H_t.
    qc.h(q[1])
    qc.cp(_PI * t, q[0], q[1])
    qc.h(q[1])


def _cz_power(qc: QuantumCircuit, t: float, q: list[Qubit]) -> None:
    r = t % 2
    if r == 0:
        return
    if r == 1:
        qc.cz(q[0], q[1])
    else:
        qc.cp(_PI * t, q[0], q[1])


def _swap_power(qc: QuantumCircuit, t: float, q: list[Qubit]) -> None:
    r = t % 2
    if r == 0:
        return
    if r == 1:
        qc.swap(q[0], q[1])
        return
    # SWAP = CX(a,b) CX(b,a) CX(a,b) and CX(a,b) is its own inverse, so
    # SWAP^t = CX(a,b) CX(b,a)^t CX(a,b).
    a, b = q
    qc.cx(a, b)
    qc.h(a)
    qc.cp(_PI * t, b, a)
    qc.h(a)
    qc.cx(a, b)


def _iswap_power(qc: QuantumCircuit, t: float, q: list[Qubit]) -> None:
    from qiskit.circuit.library import XXPlusYYGate

    r = t % 4  # iSWAP has period 4 (iSWAP^2 = Z Z)
    if r == 0:
        return
    if r == 1:
        qc.iswap(q[0], q[1])
    else:  # iSWAP^t = exp(i pi t (XX + YY) / 4) = XXPlusYY(-pi t)
        qc.append(XXPlusYYGate(-_PI * t), [q[0], q[1]])


def _pauli_pair(name: str) -> Any:
    def append(qc: QuantumCircuit, t: float, q: list[Qubit]) -> None:
        r = t % 2
        if r == 0:
            return
        # P⊗P^t = e^{i pi t / 2} exp(-i pi t/2 P⊗P) = e^{i pi t / 2} R_PP(pi t)
        getattr(qc, name)(_PI * t, q[0], q[1])
        qc.global_phase += _PI * t / 2

    return append


def _ccx_power(qc: QuantumCircuit, t: float, q: list[Qubit]) -> None:
    r = t % 2
    if r == 0:
        return
    if r == 1:
        qc.ccx(q[0], q[1], q[2])
        return
    qc.h(q[2])
    qc.mcp(_PI * t, [q[0], q[1]], q[2])
    qc.h(q[2])


def _ccz_power(qc: QuantumCircuit, t: float, q: list[Qubit]) -> None:
    r = t % 2
    if r == 0:
        return
    if r == 1:
        qc.ccz(q[0], q[1], q[2])
    else:
        qc.mcp(_PI * t, [q[0], q[1]], q[2])


_APPENDERS: dict[str, Appender] = {
    "x": _x_power,
    "y": _y_power,
    "z": _z_power,
    "h": _h_power,
    "cx": _cx_power,
    "cz": _cz_power,
    "swap": _swap_power,
    "iswap": _iswap_power,
    "xx": _pauli_pair("rxx"),
    "yy": _pauli_pair("ryy"),
    "zz": _pauli_pair("rzz"),
    "ccx": _ccx_power,
    "ccz": _ccz_power,
}


@functools.cache
def _eigen_classes() -> tuple[tuple[type, Appender], ...]:
    """(Cirq gate class, appender) for gates that reach us as Cirq objects."""
    import cirq

    return (
        (cirq.XPowGate, _x_power),
        (cirq.YPowGate, _y_power),
        (cirq.ZPowGate, _z_power),
        (cirq.HPowGate, _h_power),
        (cirq.CXPowGate, _cx_power),
        (cirq.CZPowGate, _cz_power),
        (cirq.SwapPowGate, _swap_power),
        (cirq.ISwapPowGate, _iswap_power),
        (cirq.XXPowGate, _APPENDERS["xx"]),
        (cirq.YYPowGate, _APPENDERS["yy"]),
        (cirq.ZZPowGate, _APPENDERS["zz"]),
        (cirq.CCXPowGate, _ccx_power),
        (cirq.CCZPowGate, _ccz_power),
    )


def _eigen_appender(gate: Any) -> Appender | None:
    for cls, append in _eigen_classes():
        if isinstance(gate, cls):
            return append
    return None


# --------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------

GateDict = dict[str, Any]


def write_cirq_json(
    circuit: object, backend: Backend | None, options: WriteOptions
) -> dict[str, Any]:
    """A Qiskit circuit as ``cirq.to_json`` output (a JSON object ``cirq.read_json`` reads).

    Raises:
        UnsupportedError: what Cirq measurement keys cannot express (see the module
            docstring), classical control, unbound parameters, non-finite angles.
    """
    # Standard gates are written by name: a custom gate named like one (``gate rzz(t) a, b
    # {...}`` from OpenQASM 3) is made the standard gate or its own definition first.
    qc = on_backend(resolve_lookalikes(circuit_of(circuit)), backend)
    if qc.parameters:
        names = ", ".join(sorted(p.name for p in qc.parameters)[:5])
        raise UnsupportedError(f"the circuit has unbound parameters ({names}); bind them first")
    ops: list[tuple[GateDict, list[int]]] = []
    measures: list[tuple[int, int, int]] = []  # (ops before it, qubit, clbit)
    last_gate: dict[int, int] = {}
    phase = float(qc.global_phase)
    # find_bit() per bit, and inst.operation (which builds a Python gate for Qiskit's
    # standard gates) cost more than the rest of the writer together: bits are looked up
    # in dicts, and standard gates are read by name and params only.
    qubit_index = {q: i for i, q in enumerate(qc.qubits)}
    clbit_index = {c: i for i, c in enumerate(qc.clbits)}
    for position, inst in enumerate(qc.data):
        name = inst.name
        qubits = [qubit_index[q] for q in inst.qubits]
        if name == "measure":
            measures.append((len(ops), qubits[0], clbit_index[inst.clbits[0]]))
            continue
        if name == "barrier":
            continue
        for q in qubits:
            last_gate[q] = len(ops)
        phase += _gate_dicts(inst, qubits, position, ops)
    groups = _clbit_groups(qc)
    return _document(qc.num_qubits, qc.num_clbits, ops, measures, last_gate, phase, groups)


def write_cirq_plain(plain: PlainCircuit) -> dict[str, Any] | None:
    """:func:`write_cirq_json` of plain OpenQASM 3 as read (the same document as for its
    circuit, written without building it), or None for what only that writer handles
    (a gate outside its by-name tables, a program's own gate that is not the standard
    gate of its name exactly)."""
    from qiskit import QuantumCircuit

    from qbroker.formats._qasm3_plain import _Defined, _StandardGate

    ops: list[tuple[GateDict, list[int]]] = []
    measures: list[tuple[int, int, int]] = []
    last_gate: dict[int, int] = {}
    lefts: list[float] = []  # phases the gate dicts leave out (zeros change no sum)
    resolved: dict[tuple[Any, ...], tuple[str, tuple[float, ...], float] | None] = {}
    # the global phase resolve_lookalikes gives the circuit, summed as it sums it
    resolution: QuantumCircuit | None = None
    fixed_gates, angled_gates, isfinite = _FIXED, _ANGLED, math.isfinite
    for position, (gate, params, wires, clbit) in enumerate(plain.ops):
        kind = type(gate)
        if kind is _StandardGate:
            name, values = gate.name, params
        elif clbit >= 0:
            measures.append((len(ops), wires[0], clbit))
            continue
        elif kind is _Defined:
            key = (gate, params)
            if key in resolved:
                found = resolved[key]
            else:
                found = resolved[key] = _standard_namesake(gate, params)
            if found is None:
                return None
            name, values, between = found
            if resolution is None:
                resolution = QuantumCircuit()
            resolution.global_phase += between
        else:  # a barrier
            continue
        for q in wires:
            last_gate[q] = len(ops)
        # the common gates written out here (what _standard_dicts does for them)
        if not values:
            fixed = fixed_gates.get(name)
            if fixed is not None:
                ops.append((fixed, wires))  # type: ignore[arg-type]
                continue
        elif len(values) == 1 and isfinite(values[0]):
            angled = angled_gates.get(name)
            if angled is not None:
                ops.append((angled(values[0]), wires))  # type: ignore[arg-type]
                continue
        left = _standard_dicts(name, values, list(wires), position, ops)
        if left is None:
            return None
        if left:
            lefts.append(left)
    phase = float(resolution.global_phase) if resolution is not None else 0.0
    for left in lefts:
        phase += left
    cregs = plain.cregs
    starts = [sum(size for _, size in cregs[:i]) for i in range(len(cregs))]
    groups = [
        (name, list(range(start, start + size)))
        for (name, size), start in zip(cregs, starts, strict=True)
    ]
    return _document(plain.num_qubits, plain.num_clbits, ops, measures, last_gate, phase, groups)


def _standard_namesake(
    defined: Any, params: tuple[float, ...]
) -> tuple[str, tuple[float, ...], float] | None:
    """(name, params, phase) of the standard gate a call of the program's own gate becomes
    in :func:`~qbroker.formats._lookalikes.resolve_lookalikes` (with the phase between
    them, which it adds to the circuit's), or None when the call is anything else.
    ``defined`` is the plain reader's ``_Defined``: a body of standard-gate calls is built
    directly, anything else read as the full reader reads it."""
    from qbroker.formats._lookalikes import (
        _Keyed,
        _standard_form,
        _standard_gates,
        standard_form_of,
    )

    template = defined.template
    if template.name not in _standard_gates():
        return None
    definition = defined.definition(params)
    if definition is not None:
        found = standard_form_of(template.name, params, definition)
    else:
        found = _standard_form(_Keyed(template.gate(*params)))
    if found is None:
        return None
    gate, phase = found
    if not all(type(p) is float for p in gate.params):
        return None
    return gate.name, tuple(gate.params), phase


def _document(
    num_qubits: int,
    num_clbits: int,
    ops: list[tuple[GateDict, list[int]]],
    measures: list[tuple[int, int, int]],
    last_gate: dict[int, int],
    phase: float,
    groups: list[tuple[str, list[int]]],
) -> dict[str, Any]:
    """The Cirq circuit document of gates and measurements read off a circuit."""
    schedule = _Schedule(num_qubits)
    touched = {q for _, qs in ops for q in qs} | {q for _, q, _ in measures}
    for q in range(num_qubits):
        if q not in touched:
            schedule.place({"cirq_type": "IdentityGate", "num_qubits": 1}, [q])
    if math.remainder(phase, 2 * _PI):
        schedule.place(_global_phase(phase), [])
    if measures or num_clbits:
        _check_written_once(num_clbits, measures)
    terminal = all(last_gate.get(q, -1) < at for at, q, _ in measures)
    if terminal:
        schedule.extend(ops)
        _place_grouped_measurements(schedule, measures, groups)
    else:
        _place_bitwise_measurements(schedule, ops, measures, groups)
    return schedule.document()


class _Schedule:
    """Moments filled as ``cirq.InsertStrategy.EARLIEST`` would: each operation goes to the
    first moment after the last one touching its qubits."""

    def __init__(self, num_qubits: int) -> None:
        self.moments: list[list[dict[str, Any]]] = []
        self.frontier = [0] * num_qubits
        # one dict per qubit, shared by its operations (like the gate dicts: only read)
        self.line = [{"cirq_type": "LineQubit", "x": q} for q in range(num_qubits)]

    def place(self, gate: GateDict, qubits: list[int], at: int | None = None) -> int:
        frontier = self.frontier
        line = self.line
        if at is not None:
            m = at
        elif len(qubits) == 1:
            m = frontier[qubits[0]]
        else:
            m = max([frontier[q] for q in qubits], default=0)
        moments = self.moments
        while len(moments) <= m:
            moments.append([])
        moments[m].append(
            {
                "cirq_type": "GateOperation",
                "gate": gate,
                "qubits": [line[q] for q in qubits],
            }
        )
        for q in qubits:
            frontier[q] = m + 1
        return m

    def extend(self, ops: list[tuple[GateDict, list[int]]]) -> None:
        """:meth:`place` each of ``ops`` in turn (the same moments; the loop of a long
        circuit, written out for one- and two-qubit gates)."""
        frontier = self.frontier
        line = self.line
        moments = self.moments
        # one operand list per qubit for its single-qubit gates (only read, like the dicts)
        single = [[qubit] for qubit in line]
        for gate, qubits in ops:
            if len(qubits) == 1:
                q = qubits[0]
                m = frontier[q]
                operands = single[q]
                frontier[q] = m + 1
            elif len(qubits) == 2:
                a, b = qubits
                m = frontier[a]
                if frontier[b] > m:
                    m = frontier[b]
                operands = [line[a], line[b]]
                frontier[a] = frontier[b] = m + 1
            else:
                self.place(gate, qubits)
                continue
            if m == len(moments):  # frontiers never pass the last moment + 1
                moments.append([])
            moments[m].append({"cirq_type": "GateOperation", "gate": gate, "qubits": operands})

    def document(self) -> dict[str, Any]:
        return {
            "cirq_type": "Circuit",
            "moments": [{"cirq_type": "Moment", "operations": ops} for ops in self.moments],
        }


def _measurement(key: str, n: int) -> GateDict:
    return {"cirq_type": "MeasurementGate", "num_qubits": n, "key": key, "invert_mask": []}


def _clbit_groups(qc: QuantumCircuit) -> list[tuple[str, list[int]]]:
    """Measurement keys and the flattened classical bits each covers, in bit order."""
    flat = [qc.find_bit(c).index for reg in qc.cregs for c in reg]
    if flat == list(range(qc.num_clbits)):
        return [(reg.name, [qc.find_bit(c).index for c in reg]) for reg in qc.cregs]
    return [("c", list(range(qc.num_clbits)))]  # loose or overlapping bits: one key


def _check_written_once(num_clbits: int, measures: list[tuple[int, int, int]]) -> None:
    written = [c for _, _, c in measures]
    if len(set(written)) != len(written):
        twice = next(c for c in written if written.count(c) > 1)
        raise UnsupportedError(
            f"classical bit {twice} is written by two measurements; a Cirq measurement key "
            "keeps each result, a classical bit only the last"
        )
    missing = sorted(set(range(num_clbits)) - set(written))
    if missing:
        raise UnsupportedError(
            f"classical bit {missing[0]} is never measured; a Cirq measurement key cannot "
            "hold a constant bit"
        )


def _place_grouped_measurements(
    schedule: _Schedule, measures: list[tuple[int, int, int]], groups: list[tuple[str, list[int]]]
) -> None:
    """One key per register after every gate, registers in order (a register that shares
    a qubit with the one before it starts a new moment)."""
    qubit_of = {c: q for _, q, c in measures}
    at = len(schedule.moments)
    busy: set[int] = set()
    for name, clbits in groups:
        qubits = [qubit_of[c] for c in clbits]
        if not qubits:
            continue
        if len(set(qubits)) != len(qubits):
            raise UnsupportedError(
                f"register {name!r} measures one qubit into two of its bits; a Cirq "
                "measurement names each qubit once"
            )
        if busy.intersection(qubits):
            at, busy = len(schedule.moments), set()
        schedule.place(_measurement(name, len(qubits)), qubits, at=at)
        busy.update(qubits)


def _place_bitwise_measurements(
    schedule: _Schedule,
    ops: list[tuple[GateDict, list[int]]],
    measures: list[tuple[int, int, int]],
    groups: list[tuple[str, list[int]]],
) -> None:
    """Mid-circuit measurements: one key per classical bit, each in a new last moment so
    the keys appear in program order, which must then be classical-bit order."""
    order = [c for _, _, c in measures]
    for i in range(1, len(order)):
        if order[i] < order[i - 1]:
            raise UnsupportedError(
                f"the circuit measures mid-way and writes classical bit {order[i]} after bit "
                f"{order[i - 1]}; Cirq lays bits out in the order their keys first appear"
            )
    key_of = {c: f"{name}_{i}" for name, clbits in groups for i, c in enumerate(clbits)}
    pending = iter(measures)
    upcoming = next(pending, None)
    for position in range(len(ops) + 1):
        while upcoming is not None and upcoming[0] == position:
            _, q, c = upcoming
            schedule.place(_measurement(key_of[c], 1), [q], at=len(schedule.moments))
            upcoming = next(pending, None)
        if position < len(ops):
            schedule.place(*ops[position])


def _eigen(name: str, exponent: float, shift: float = 0.0) -> GateDict:
    return {"cirq_type": name, "exponent": exponent, "global_shift": shift}


def _complex(z: complex) -> dict[str, Any]:
    return {"cirq_type": "complex", "real": float(z.real), "imag": float(z.imag)}


def _global_phase(radians: float) -> GateDict:
    return {"cirq_type": "GlobalPhaseGate", "coefficient": _complex(cmath.exp(1j * radians))}


def _u_gates(p: list[float]) -> tuple[list[tuple[GateDict, int]], float]:
    theta, phi, lam = p  # U(θ, φ, λ) = e^{i(φ+λ)/2} Rz(φ) Ry(θ) Rz(λ)
    gates = [
        ({"cirq_type": "Rz", "rads": lam}, 0),
        ({"cirq_type": "Ry", "rads": theta}, 0),
        ({"cirq_type": "Rz", "rads": phi}, 0),
    ]
    return gates, (phi + lam) / 2


#: Qiskit gates without parameters -> the Cirq gate with exactly their matrix (one dict
#: per gate, shared by every occurrence, as Cirq's own ``to_json`` output is only read).
_FIXED: dict[str, GateDict] = {
    "x": _eigen("_PauliX", 1.0),
    "y": _eigen("_PauliY", 1.0),
    "z": _eigen("_PauliZ", 1.0),
    "h": _eigen("HPowGate", 1.0),
    "s": _eigen("ZPowGate", 0.5),
    "sdg": _eigen("ZPowGate", -0.5),
    "t": _eigen("ZPowGate", 0.25),
    "tdg": _eigen("ZPowGate", -0.25),
    "sx": _eigen("XPowGate", 0.5),
    "sxdg": _eigen("XPowGate", -0.5),
    "cx": _eigen("CXPowGate", 1.0),
    "cz": _eigen("CZPowGate", 1.0),
    "swap": _eigen("SwapPowGate", 1.0),
    "iswap": _eigen("ISwapPowGate", 1.0),
    "ccx": _eigen("CCXPowGate", 1.0),
    "ccz": _eigen("CCZPowGate", 1.0),
    "cswap": {"cirq_type": "CSwapGate"},
}

#: Qiskit gates of one angle -> the Cirq gate with exactly their matrix, for that angle.
_ANGLED: dict[str, Callable[[float], GateDict]] = {
    "rx": lambda a: {"cirq_type": "Rx", "rads": a},
    "ry": lambda a: {"cirq_type": "Ry", "rads": a},
    "rz": lambda a: {"cirq_type": "Rz", "rads": a},
    "p": lambda a: _eigen("ZPowGate", a / _PI),
    "u1": lambda a: _eigen("ZPowGate", a / _PI),
    "cp": lambda a: _eigen("CZPowGate", a / _PI),
    "cu1": lambda a: _eigen("CZPowGate", a / _PI),
    "rxx": lambda a: _eigen("XXPowGate", a / _PI, -0.5),
    "ryy": lambda a: _eigen("YYPowGate", a / _PI, -0.5),
    "rzz": lambda a: _eigen("ZZPowGate", a / _PI, -0.5),
}


def _gate_dicts(
    inst: Any, qubits: list[int], position: int, out: list[tuple[GateDict, list[int]]]
) -> float:
    """Append Cirq gate dicts with exactly ``inst``'s unitary to ``out``; return the global
    phase they leave out. ``inst`` is a ``CircuitInstruction``, of the circuit or of a
    definition (position: the circuit's instruction it comes from, for messages)."""
    name = inst.name
    if not inst.clbits:  # the common gates, by name: inst.operation is not built
        left = _standard_dicts(name, inst.params, qubits, position, out)
        if left is not None:
            return left
    op = inst.operation
    if inst.is_control_flow() or inst.clbits or getattr(op, "condition", None):
        raise UnsupportedError(
            f"instruction {position} ({name}) uses classical control, which qbroker does not "
            "convert to Cirq"
        )
    if name == "unitary":
        matrix = op.to_matrix()
        # Qiskit's matrix is little-endian in its qubits, Cirq's big-endian.
        rows = [[_complex(z) for z in row] for row in matrix]
        gate = {"cirq_type": "MatrixGate", "matrix": rows, "qid_shape": [2] * len(qubits)}
        out.append((gate, list(reversed(qubits))))
        return 0.0
    if name == "reset":
        out.extend(({"cirq_type": "ResetChannel", "dimension": 2}, [q]) for q in qubits)
        return 0.0
    if name in ("id", "delay"):
        out.extend(({"cirq_type": "IdentityGate", "num_qubits": 1}, [q]) for q in qubits)
        return 0.0
    definition = getattr(op, "definition", None)
    if definition is None:
        raise UnsupportedError(
            f"instruction {position} ({name}) has no Cirq equivalent and no definition"
        )
    phase = float(definition.global_phase)
    inner = {bit: qubits[i] for i, bit in enumerate(definition.qubits)}
    for sub in definition.data:
        phase += _gate_dicts(sub, [inner[b] for b in sub.qubits], position, out)
    return phase


def _standard_dicts(
    name: str,
    params: list[Any] | tuple[Any, ...],
    qubits: list[int],
    position: int,
    out: list[tuple[GateDict, list[int]]],
) -> float | None:
    """The Cirq gate dicts of a standard gate known by name (appended to ``out``; the
    global phase they leave out returned), or None for a gate not in these tables."""
    fixed = _FIXED.get(name)
    if fixed is not None and not params:
        out.append((fixed, qubits))
        return 0.0
    angled = _ANGLED.get(name)
    if angled is not None and len(params) == 1:
        out.append((angled(_finite(name, params, position)[0]), qubits))
        return 0.0
    if name in ("u", "u3") and len(params) == 3:
        gates, phase = _u_gates(_finite(name, params, position))
        out.extend((g, [qubits[at]]) for g, at in gates)
        return phase
    return None


def _finite(name: str, params: list[Any] | tuple[Any, ...], position: int) -> list[float]:
    values = [float(p) for p in params]
    for v in values:
        if not math.isfinite(v):
            raise UnsupportedError(f"instruction {position} ({name}) has a NaN or infinite angle")
    return values


CODEC = Codec(
    format=InputFormat.CIRQ_JSON,
    kind=Kind.GATE,
    payload=dict,
    read=read_cirq_json,
    write=write_cirq_json,
    write_plain=write_cirq_plain,
    description="Cirq circuit serialised by cirq.to_json (measurement keys -> registers)",
    extra="cirq",
)
