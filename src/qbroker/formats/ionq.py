"""IonQ's JSON circuit format (``IONQ_CIRCUIT_V1``): the ``qis`` and ``native`` gate sets.

Spec followed: the input of an ``ionq.circuit.v1`` job in IonQ's API v0.4 (the
``QisCircuitInput`` / ``NativeCircuitInput`` schemas; the Hub's ``AzureIonq_JobInput`` is
the same object), checked field by field against the two vendor serialisers, cirq-ionq
1.7 (``cirq_ionq.Serializer``) and qiskit-ionq 1.1 (``qiskit_circ_to_ionq_circ``)::

    {"gateset": "qis" | "native", "qubits": n,
     "circuit": [{"gate": "h", "targets": [0]},
                 {"gate": "x", "targets": [1], "controls": [0]},
                 {"gate": "rz", "targets": [1], "rotation": 0.5}, ...],
     "registers": {"c": [0, 1]}}

Reading accepts every spelling the ecosystem writes: ``gate`` or the Hub schema's
``type`` (names case-insensitive, so the Hub's ``pauliExp`` reads); ``target`` or
``targets``; ``control`` or ``controls``; ``not`` / ``cnot`` for ``x``; a native ``zz``'s
angle as ``angle`` (IonQ, qiskit-ionq) or ``phase`` (cirq-ionq); ``format`` and ``name``.
Unknown fields, gates, out-of-range qubits and non-finite numbers are refused with a
ProgramError naming the field (``circuit.3.gate``). ``gateset`` defaults to ``qis`` and
``qubits`` to one more than the highest index used, as IonQ does.

Gate meaning (what reading builds, and what writing guarantees):

* ``qis``: rotations in radians with the usual ``exp(-i θ P / 2)`` convention; ``v`` is
  √X (Qiskit's ``sx``), ``si`` / ``ti`` / ``vi`` the inverses; ``xx`` / ``yy`` / ``zz``
  are ``exp(-i θ PP / 2)``. ``controls`` (any number on reading, at most 7 on writing,
  IonQ's limit) control the gate's standard matrix. ``pauliexp`` (``terms`` in Qiskit's
  label order, ``coefficients``, ``time``) is ``exp(-i time Σ c P)``; only commuting
  terms are accepted, because only those have an exact gate form.
* ``native``: parameters in turns. ``gpi(φ) = [[0, e^{-2πiφ}], [e^{2πiφ}, 0]]``,
  ``gpi2(φ) = R(π/2, 2πφ)``, ``ms(φ0, φ1, θ=0.25) = exp(-iπθ (cos 2πφ0 X + sin 2πφ0 Y) ⊗
  (cos 2πφ1 X + sin 2πφ1 Y))``, ``zz(θ) = exp(-iπθ Z⊗Z)`` — the matrices of
  qiskit-ionq's and cirq-ionq's gate classes. Read into Qiskit's standard gates (``r``,
  ``rz``, ``rxx``, ``rzz``), so they convert onwards.

Writing decomposes into the ``qis`` gate set by default: standard gates map one to one,
controlled gates keep up to 7 controls where IonQ can say them exactly (a controlled gate
with a phase, such as ``cp``, also gets the phase on its controls), and anything else goes
through Qiskit's synthesis and basis translation first. A custom gate carrying a standard
gate's name (``gate rzz(t) a, b {...}``, as Qiskit's OpenQASM 3 exporter writes gates that
``stdgates.inc`` lacks) becomes that standard gate when its definition has the same matrix,
and is expanded through its definition otherwise (never translated by its name alone).
``WriteOptions(gateset="native")``,
or a backend whose native gates are all IonQ's (``azure.ionq.aria``: gpi, gpi2, ms;
``azure.ionq.forte``: gpi, gpi2, zz), writes the native gate set: the circuit is
translated to ``rz`` / ``sx`` / ``x`` plus ``rxx`` (or ``rzz``) unless its gates already
map directly (as one read from native JSON does), then every ``rz`` becomes a change of
the qubit's phase frame (the "virtual Z" IonQ's own compiler uses) folded into the
following ``gpi`` / ``gpi2`` / ``ms`` phases. Written phases are in [0, 1) turns, ``ms``
angles in (0, 0.25] and ``zz`` angles in [-0.25, 0.25] (signed, as qiskit-ionq writes
them); larger entangling angles become an extra ``gpi`` pair or a frame change. The
decomposition is exact up to global phase (huge angles are first reduced with the true
pi, not a float 2pi); the frame left at the end is written out as two ``gpi`` pulses when
the circuit measures nothing (so the JSON's unitary equals the circuit's), and dropped
when it measures, because Z rotations just before the final measurement change no
outcome. IonQ is all-to-all, so no layout or routing is done: qubit ``i`` of the circuit
is IonQ qubit ``i``, and ``qubits`` is the circuit's width (plus one, see below).

Classical bits. IonQ measures every qubit once, at the end; ``registers`` names which
qubits' outcomes form each classical register (IonQ v0.4 ``Registers``: name -> list of
qubit indices, entry ``j`` is bit ``j`` of that register). Writing:

* a circuit without classical bits writes no ``registers``; IonQ then reports every qubit,
  and reading such JSON measures qubit ``i`` into bit ``i`` of a register ``meas``;
* otherwise ``registers`` lists the circuit's classical registers in order (one register
  ``c`` over all bits when the bits are not exactly partitioned by registers), and bit
  ``j`` names the qubit whose *last* measurement wrote it — so ``measure q[0] -> c[2]``,
  measuring only some qubits, one qubit into two bits and several registers all come back
  with the same distribution over classical bits;
* a bit nothing measures reads 0; it is pointed at a qubit no gate touches (one is added
  when every qubit is used), which IonQ measures as 0;
* refused (UnsupportedError, with the reason): a gate on a qubit after its measurement
  (mid-circuit measurement), ``reset`` of a qubit already used (a reset of a fresh qubit
  is a no-op and is dropped), control flow and any other classical instruction,
  unbound parameters, Pauli evolutions with non-commuting or complex terms, and gates
  Qiskit cannot translate. ``barrier`` and ``delay`` carry no meaning for IonQ and are
  dropped.

Reading builds the gates, then the measurements of ``registers`` (``null`` entries, which
IonQ's v0.4 schema allows, are bits never measured).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from qbroker.errors import ProgramError, QBrokerError, UnsupportedError
from qbroker.formats._codec import Codec, Kind, WriteOptions, circuit_of
from qbroker.formats._lookalikes import resolve_lookalikes
from qbroker.model.enums import InputFormat

if TYPE_CHECKING:  # pragma: no cover
    from qiskit import QuantumCircuit
    from qiskit.circuit import CircuitInstruction, Gate

    from qbroker.model import Backend

__all__ = ["CODEC", "MAX_CONTROLS", "MAX_QUBITS", "read_ionq", "write_ionq"]

_FORMAT = InputFormat.IONQ_CIRCUIT_V1.value
#: The most qubits a program read here may declare (a hostile ``qubits`` would otherwise
#: allocate without bound); far above any IonQ system or simulator.
MAX_QUBITS = 4096
#: IonQ's limit on the controls of one qis gate ("up to seven controls").
MAX_CONTROLS = 7

_TAU = 2.0 * math.pi
_HALF_PI = 0.5 * math.pi

# --- reading ---------------------------------------------------------------------------

_TOP_FIELDS = frozenset({"gateset", "qubits", "circuit", "registers", "name", "format"})
_QUBIT_FIELDS = frozenset({"gate", "type", "target", "targets", "control", "controls"})


class _Spec(NamedTuple):
    """How to read one gate: targets it takes (-1: any), its fields, its parameter kind."""

    arity: int
    allowed: frozenset[str]
    kind: str


def _specs() -> dict[str, dict[str, _Spec]]:
    def spec(arity: int, kind: str, *fields: str) -> _Spec:
        return _Spec(arity, _QUBIT_FIELDS | frozenset(fields), kind)

    qis = {g: spec(1, "fixed") for g in ("x", "not", "cnot", "y", "z", "h", "s", "si", "t")}
    qis |= {g: spec(1, "fixed") for g in ("ti", "v", "vi")}
    qis["swap"] = spec(2, "fixed")
    qis |= {g: spec(1, "rotation", "rotation") for g in ("rx", "ry", "rz")}
    qis |= {g: spec(2, "rotation", "rotation") for g in ("xx", "yy", "zz")}
    qis["pauliexp"] = spec(-1, "pauliexp", "terms", "coefficients", "time")
    native = {
        "gpi": spec(1, "gpi", "phase"),
        "gpi2": spec(1, "gpi2", "phase"),
        "ms": spec(2, "ms", "phases", "angle"),
        "zz": spec(2, "native_zz", "angle", "phase"),
        "nop": spec(-1, "nop"),
    }
    return {"qis": qis, "native": native}


_SPECS = _specs()


def _error(message: str, field: str = "payload") -> ProgramError:
    where = f"{field}: " if field != "payload" else ""
    return ProgramError(f"{where}{message}", format=_FORMAT, field=field)


def _int(value: Any, field: str) -> int:
    """A JSON integer (an integral float such as ``1.0`` too; never a boolean)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _error(f"must be an integer, not {_show(value)}", field)
    if isinstance(value, float):
        if not value.is_integer():
            raise _error(f"must be an integer, not {value!r}", field)
        return int(value)
    return value


def _number(value: Any, field: str) -> float:
    """A finite JSON number."""
    if type(value) is float and math.isfinite(value):  # the common case, checked first
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _error(f"must be a number, not {_show(value)}", field)
    try:
        number = float(value)
    except OverflowError:  # an integer beyond float range
        raise _error("number out of range", field) from None
    if not math.isfinite(number):
        raise _error(f"must be finite, not {number!r}", field)
    return number


def _key(key: Any) -> str:
    """A JSON key as it may appear in a one-line field path."""
    text = str(key)
    return text if text.isprintable() and len(text) <= 40 else _show(text)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def read_ionq(payload: Any) -> QuantumCircuit:
    """An IonQ JSON circuit (``qis`` or ``native``) as a QuantumCircuit.

    Raises:
        ProgramError: a field is missing, unknown or out of range (named, e.g.
            ``circuit.3.targets``).
        UnsupportedError: a ``pauliexp`` whose terms do not commute (no exact gate form).
    """
    if not isinstance(payload, dict):
        raise _error("an IonQ program must be a JSON object")
    for key in payload:
        if key not in _TOP_FIELDS:
            raise _error(
                f"unknown field (an IonQ circuit has {', '.join(sorted(_TOP_FIELDS))})",
                _key(key),
            )
    gateset = payload.get("gateset", "qis")
    if gateset not in ("qis", "native"):
        raise _error(f"must be 'qis' or 'native', not {_show(gateset)}", "gateset")
    fmt = payload.get("format")
    if fmt is not None and not (isinstance(fmt, str) and fmt.startswith("ionq.circuit.")):
        raise _error(f"must name an ionq.circuit format, not {_show(fmt)}", "format")
    name = payload.get("name")
    if name is not None and not isinstance(name, str):
        raise _error("must be a string", "name")
    if "circuit" not in payload:
        raise _error("missing field", "circuit")
    entries = payload["circuit"]
    if not isinstance(entries, list):
        raise _error("must be a list of gates", "circuit")

    specs = _SPECS[gateset]
    parsed = [_parse_entry(entry, i, gateset, specs) for i, entry in enumerate(entries)]
    registers = _parse_registers(payload.get("registers"))

    declared = payload.get("qubits")
    if declared is None:
        used = [max(p.qubits) for p in parsed if p.qubits] + [
            q for qs in registers.values() for q in qs if q is not None
        ]
        if not used:
            raise _error("missing field (and no gate names a qubit)", "qubits")
        n = max(used) + 1
    else:
        n = _int(declared, "qubits")
    if not 1 <= n <= MAX_QUBITS:
        raise _error(f"must be between 1 and {MAX_QUBITS}, not {n}", "qubits")
    for p in parsed:
        if p.qubits and max(p.qubits) >= n:
            raise _error(f"qubit {max(p.qubits)} is out of range for 'qubits': {n}", p.field())
    for reg, qs in registers.items():
        for j, index in enumerate(qs):
            if index is not None and index >= n:
                raise _error(
                    f"qubit {index} is out of range for 'qubits': {n}",
                    f"registers.{_key(reg)}.{j}",
                )
    return _build(n, parsed, registers, name)


class _Entry:
    """One validated gate (qubit indices not yet checked against ``qubits``)."""

    __slots__ = (
        "controls",
        "extra",
        "gate",
        "index",
        "keys",
        "kind",
        "params",
        "qubits",
        "targets",
    )

    def __init__(
        self,
        gate: str,
        kind: str,
        targets: list[int],
        controls: list[int],
        params: tuple[float, ...],
        index: int,
        keys: tuple[str, str],
        extra: Any = None,
    ) -> None:
        self.gate = gate
        self.kind = kind
        self.targets = targets
        self.controls = controls
        self.qubits = controls + targets if controls else targets
        self.params = params
        self.index = index
        self.keys = keys  # the spellings used for targets and controls, to name errors
        self.extra = extra

    def field(self) -> str:
        """The field holding this gate's highest qubit (for an out-of-range error)."""
        top = max(self.qubits)
        key = self.keys[0] if top in self.targets else self.keys[1]
        return f"circuit.{self.index}.{key}"


def _is_indices(value: Any) -> bool:
    if type(value) is not list:
        return False
    for q in value:  # a loop, not all(genexpr): this runs for every gate
        if type(q) is not int or q < 0:
            return False
    return True


def _qubit_list(entry: dict[str, Any], i: int, single: str, many: str) -> tuple[list[int], str]:
    """The qubits under ``single`` or ``many`` (either spelling), validated; and the key."""
    if single in entry and many in entry:
        raise _error(f"give '{single}' or '{many}', not both", f"circuit.{i}.{many}")
    if single in entry:
        return [_index(entry[single], f"circuit.{i}.{single}")], single
    if many not in entry:
        return [], many
    values = entry[many]
    if not isinstance(values, list):
        raise _error("must be a list of qubit indices", f"circuit.{i}.{many}")
    return [_index(v, f"circuit.{i}.{many}.{j}") for j, v in enumerate(values)], many


def _index(value: Any, field: str) -> int:
    q = _int(value, field)
    if q < 0:
        raise _error(f"qubit index {q} is negative", field)
    return q


def _gate_name(entry: dict[str, Any], i: int, gateset: str) -> tuple[str, _Spec]:
    """The slow path of reading a gate's name: the ``type`` spelling, case, errors."""
    if "gate" in entry and "type" in entry and entry["gate"] != entry["type"]:
        raise _error("'gate' and 'type' disagree", f"circuit.{i}.type")
    key = "gate" if "gate" in entry else "type"
    raw = entry.get(key)
    if raw is None:
        raise _error("missing field", f"circuit.{i}.gate")
    if not isinstance(raw, str):
        raise _error(f"must be a gate name, not {_show(raw)}", f"circuit.{i}.{key}")
    specs = _SPECS[gateset]
    spec = specs.get(raw.lower())
    if spec is None:
        other = "native" if gateset == "qis" else "qis"
        hint = f" (a {other} gate: set 'gateset')" if raw.lower() in _SPECS[other] else ""
        raise _error(
            f"unknown {gateset} gate {raw!r}{hint}; {gateset} gates are "
            + ", ".join(sorted(specs)),
            f"circuit.{i}.{key}",
        )
    return raw.lower(), spec


def _parse_entry(entry: Any, i: int, gateset: str, specs: dict[str, _Spec]) -> _Entry:
    # Field names are built only on the error paths: this runs once per gate.
    if type(entry) is not dict:
        raise _error("must be a JSON object describing one gate", f"circuit.{i}")
    gate = entry.get("gate")
    spec = specs.get(gate) if type(gate) is str and "type" not in entry else None
    if spec is None:
        gate, spec = _gate_name(entry, i, gateset)
    assert isinstance(gate, str)
    if not spec.allowed.issuperset(entry):
        bad = next(k for k in entry if k not in spec.allowed)
        raise _error(f"{gate} takes no field {_show(bad)}", f"circuit.{i}.{_key(bad)}")

    targets = entry.get("targets")
    target_key = "targets"
    if targets is None or "target" in entry or not _is_indices(targets):
        targets, target_key = _qubit_list(entry, i, "target", "targets")
    controls = entry.get("controls")
    control_key = "controls"
    if controls is None and "control" not in entry:
        controls = []
    elif controls is None or "control" in entry or not _is_indices(controls):
        controls, control_key = _qubit_list(entry, i, "control", "controls")
    kind = spec.kind
    keys = (target_key, control_key)
    if kind == "pauliexp":
        if controls:
            raise _error("pauliexp takes no controls", f"circuit.{i}.{control_key}")
        return _parse_pauliexp(entry, i, targets, keys)
    arity = len(targets) if kind == "nop" else spec.arity
    if len(targets) != arity:
        if not targets:
            raise _error("missing field", f"circuit.{i}.targets")
        raise _error(
            f"{gate} acts on {arity} qubit(s), not {len(targets)}", f"circuit.{i}.{target_key}"
        )
    if controls:
        if gateset == "native":
            raise _error("native gates take no controls", f"circuit.{i}.{control_key}")
    elif gate == "cnot":
        raise _error("cnot needs a control", f"circuit.{i}.controls")
    if (controls or arity > 1) and len(set(controls) | set(targets)) != len(controls) + len(
        targets
    ):
        raise _error("a gate cannot use the same qubit twice", f"circuit.{i}.{target_key}")

    params: tuple[float, ...] = ()
    if kind == "rotation":
        params = (_required_number(entry, i, "rotation"),)
    elif kind in ("gpi", "gpi2"):
        params = (_required_number(entry, i, "phase"),)
    elif kind == "ms":
        phases = entry.get("phases")
        if phases is None:
            raise _error("missing field", f"circuit.{i}.phases")
        if type(phases) is not list or len(phases) != 2:
            raise _error("must be a list of two phases (turns)", f"circuit.{i}.phases")
        angle = _number(entry["angle"], f"circuit.{i}.angle") if "angle" in entry else 0.25
        params = (
            _number(phases[0], f"circuit.{i}.phases.0"),
            _number(phases[1], f"circuit.{i}.phases.1"),
            angle,
        )
    elif kind == "native_zz":
        if "angle" in entry and "phase" in entry:
            raise _error("give 'angle' or 'phase', not both", f"circuit.{i}.phase")
        params = (_required_number(entry, i, "phase" if "phase" in entry else "angle"),)
    return _Entry(gate, kind, targets, controls, params, i, keys)


def _required_number(entry: dict[str, Any], i: int, key: str) -> float:
    value = entry.get(key)
    if type(value) is float and math.isfinite(value):
        return value
    if value is None:
        raise _error("missing field", f"circuit.{i}.{key}")
    return _number(value, f"circuit.{i}.{key}")


def _parse_pauliexp(
    entry: dict[str, Any], i: int, targets: list[int], keys: tuple[str, str]
) -> _Entry:
    where = f"circuit.{i}"
    terms = entry.get("terms")
    if not isinstance(terms, list) or not terms:
        raise _error("must be a non-empty list of Pauli strings", f"{where}.terms")
    coefficients = entry.get("coefficients")
    if not isinstance(coefficients, list) or len(coefficients) != len(terms):
        raise _error("must be a list with one number per term", f"{where}.coefficients")
    time = _required_number(entry, i, "time")
    if not targets:
        raise _error("missing field", f"{where}.targets")
    if len(set(targets)) != len(targets):
        raise _error("a gate cannot use the same qubit twice", f"{where}.{keys[0]}")
    for j, term in enumerate(terms):
        if not isinstance(term, str) or len(term) != len(targets) or set(term) - set("IXYZ"):
            raise _error(
                f"must be a string of I/X/Y/Z, one per target ({len(targets)})",
                f"{where}.terms.{j}",
            )
    coeffs = tuple(_number(c, f"{where}.coefficients.{j}") for j, c in enumerate(coefficients))
    if not _paulis_commute(terms):
        raise UnsupportedError(
            f"{where}: pauliexp terms do not commute; qbroker cannot convert it exactly "
            "(only IonQ's compiler synthesises that)"
        )
    return _Entry("pauliexp", "pauliexp", targets, [], (time, *coeffs), i, keys, list(terms))


def _paulis_commute(terms: Sequence[str]) -> bool:
    for i, a in enumerate(terms):
        for b in terms[i + 1 :]:
            clashes = sum(1 for x, y in zip(a, b, strict=True) if "I" not in (x, y) and x != y)
            if clashes % 2:
                return False
    return True


def _parse_registers(raw: Any) -> dict[str, list[int | None]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _error("must map register names to lists of qubit indices", "registers")
    out: dict[str, list[int | None]] = {}
    for name, qubits in raw.items():
        field = f"registers.{_key(name)}"
        if not isinstance(qubits, list):
            raise _error("must be a list of qubit indices", field)
        out[str(name)] = [
            None if q is None else _index(q, f"{field}.{j}") for j, q in enumerate(qubits)
        ]
    return out


def _build(
    n: int,
    parsed: list[_Entry],
    registers: dict[str, list[int | None]],
    name: str | None,
) -> QuantumCircuit:
    from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
    from qiskit.circuit import CircuitInstruction
    from qiskit.circuit.library import Measure

    qreg = QuantumRegister(n, "q")
    cregs = (
        [ClassicalRegister(len(qs), reg) for reg, qs in registers.items()]
        if registers
        else [ClassicalRegister(n, "meas")]
    )
    circuit = QuantumCircuit(qreg, *cregs, name=name) if name else QuantumCircuit(qreg, *cregs)
    qubits = circuit.qubits
    make = _GateFactory(circuit)
    for entry in parsed:
        make.append(entry)
    circuit.global_phase = make.phase
    measure = Measure()
    append = circuit._append
    if registers:
        for creg, qs in zip(cregs, registers.values(), strict=True):
            for bit, q in zip(creg, qs, strict=True):
                if q is not None:
                    append(CircuitInstruction(measure, (qubits[q],), (bit,)))
    else:
        for q, bit in zip(qubits, cregs[0], strict=True):
            append(CircuitInstruction(measure, (q,), (bit,)))
    return circuit


class _GateFactory:
    """Appends parsed IonQ gates to a circuit as Qiskit standard gates.

    Uncontrolled gates take the fast road (shared singleton gates, and rotations built in
    Rust by ``CircuitInstruction.from_standard``); controlled gates are built once per
    shape and cached.
    """

    def __init__(self, circuit: QuantumCircuit) -> None:
        from qiskit.circuit import CircuitInstruction
        from qiskit.circuit import library as lib

        self.lib = lib
        self.circuit = circuit
        self.qubits = circuit.qubits
        self.instruction = CircuitInstruction
        self.phase = 0.0
        self.fixed: dict[str, Any] = {
            "x": lib.XGate(), "not": lib.XGate(), "cnot": lib.XGate(), "y": lib.YGate(),
            "z": lib.ZGate(), "h": lib.HGate(), "s": lib.SGate(), "si": lib.SdgGate(),
            "t": lib.TGate(), "ti": lib.TdgGate(), "v": lib.SXGate(), "vi": lib.SXdgGate(),
            "swap": lib.SwapGate(),
        }  # fmt: skip
        self.rotations: dict[str, type[Gate]] = {
            "rx": lib.RXGate, "ry": lib.RYGate, "rz": lib.RZGate,
            "xx": lib.RXXGate, "yy": lib.RYYGate, "zz": lib.RZZGate,
        }  # fmt: skip
        # Rotations built in Rust where this Qiskit offers it (about twice as fast).
        standard = {g: getattr(cls, "_standard_gate", None) for g, cls in self.rotations.items()}
        fast = hasattr(CircuitInstruction, "from_standard") and all(standard.values())
        self.standard: dict[str, Any] = standard if fast else {}
        self.r_gate = getattr(lib.RGate, "_standard_gate", None) if fast else None
        self.one_control: dict[str, Any] = {
            "x": lib.CXGate(), "y": lib.CYGate(), "z": lib.CZGate(), "h": lib.CHGate(),
            "s": lib.CSGate(), "si": lib.CSdgGate(), "v": lib.CSXGate(),
            "swap": lib.CSwapGate(),
        }  # fmt: skip
        self.controlled: dict[tuple[str, int], Any] = {}

    def add(self, op: Any, indices: Sequence[int]) -> None:
        qubits = self.qubits
        self.circuit._append(self.instruction(op, tuple(qubits[i] for i in indices), ()))

    def add_standard(self, gate: Any, indices: Sequence[int], params: tuple[float, ...]) -> None:
        qubits = self.qubits
        instruction = self.instruction.from_standard(
            gate, tuple(qubits[i] for i in indices), params
        )
        self.circuit._append(instruction, _standard_gate=True)

    def append(self, entry: _Entry) -> None:
        gate, kind, p = entry.gate, entry.kind, entry.params
        if not entry.controls:
            if kind == "fixed":
                self.add(self.fixed[gate], entry.targets)
                return
            if kind == "rotation":
                standard = self.standard.get(gate)
                if standard is not None:
                    self.add_standard(standard, entry.targets, p)
                else:
                    self.add(self.rotations[gate](p[0]), entry.targets)
                return
        lib = self.lib
        if kind in ("gpi", "gpi2"):
            theta = math.pi if kind == "gpi" else _HALF_PI
            if kind == "gpi":
                self.phase += _HALF_PI  # R(pi, phi) = -i GPI(phi): keep the JSON's unitary
            if self.r_gate is not None:
                self.add_standard(self.r_gate, entry.targets, (theta, _TAU * p[0]))
            else:
                self.add(lib.RGate(theta, _TAU * p[0]), entry.targets)
        elif kind == "ms":
            a, b = entry.targets
            phi0, phi1 = _TAU * p[0], _TAU * p[1]
            if phi0:
                self.add(lib.RZGate(-phi0), (a,))
            if phi1:
                self.add(lib.RZGate(-phi1), (b,))
            self.add(lib.RXXGate(_TAU * p[2]), (a, b))
            if phi0:
                self.add(lib.RZGate(phi0), (a,))
            if phi1:
                self.add(lib.RZGate(phi1), (b,))
        elif kind == "native_zz":
            self.add(lib.RZZGate(_TAU * p[0]), entry.targets)
        elif kind == "pauliexp":
            from qiskit.quantum_info import SparsePauliOp

            operator = SparsePauliOp(entry.extra, coeffs=list(p[1:]))
            self.add(lib.PauliEvolutionGate(operator, time=p[0]), entry.targets)
        elif kind != "nop":
            self.add(self._controlled(gate, kind, p, len(entry.controls)), entry.qubits)

    def _controlled(self, gate: str, kind: str, p: tuple[float, ...], k: int) -> Any:
        lib = self.lib
        if kind == "rotation":
            if k == 1 and gate in ("rx", "ry", "rz"):
                return {"rx": lib.CRXGate, "ry": lib.CRYGate, "rz": lib.CRZGate}[gate](p[0])
            return self.rotations[gate](p[0]).control(k)
        if k == 1 and gate in self.one_control:
            return self.one_control[gate]
        if gate in ("x", "not", "cnot"):
            return lib.CCXGate() if k == 2 else lib.MCXGate(k)
        if gate == "z" and k == 2:
            return lib.CCZGate()
        key = (gate, k)
        cached = self.controlled.get(key)
        if cached is None:
            cached = self.controlled[key] = self.fixed[gate].control(k)
        return cached


# --- writing ---------------------------------------------------------------------------

_IONQ_NATIVE_GATES = frozenset({"gpi", "gpi2", "ms", "zz", "nop"})

#: Qiskit standard gates that are one qis gate, without and with parameters.
_QIS_PLAIN = {
    "x": "x", "y": "y", "z": "z", "h": "h", "s": "s", "sdg": "si", "t": "t", "tdg": "ti",
    "sx": "v", "sxdg": "vi", "swap": "swap",
}  # fmt: skip
_QIS_ROTATION = {"rx": "rx", "ry": "ry", "rz": "rz", "rxx": "xx", "ryy": "yy", "rzz": "zz"}
#: Standard controlled gates with all controls closed: (qis base gate, number of controls).
_QIS_CONTROLLED = {
    "cx": ("x", 1), "cy": ("y", 1), "cz": ("z", 1), "ch": ("h", 1), "ccx": ("x", 2),
    "crx": ("rx", 1), "cry": ("ry", 1), "crz": ("rz", 1),
}  # fmt: skip
#: What the qis translation targets: every gate here has a direct form above.
_QIS_BASIS = (
    "x", "y", "z", "h", "s", "sdg", "t", "tdg", "sx", "sxdg", "rx", "ry", "rz", "p", "u",
    "cx", "cy", "cz", "ch", "ccx", "crx", "cry", "crz", "cp", "swap", "cswap",
    "rxx", "ryy", "rzz",
)  # fmt: skip
_NON_GATES = ("measure", "barrier", "delay", "reset")
_SKIP = frozenset({"id", "global_phase"})

Rotation = tuple[str, float | None]


def _one_qubit(name: str, params: Sequence[float]) -> tuple[float, list[Rotation]] | None:
    """A single-qubit standard gate as ``e^{i alpha}`` times qis gates (circuit order).

    The phase matters once the gate is controlled: C-U = C-V followed by a phase on the
    controls. None when the gate is not one of these.
    """
    if name in ("x", "y", "z", "h"):
        return 0.0, [(name, None)]
    if name in ("rx", "ry", "rz"):
        return 0.0, [(name, params[0])]
    if name in ("p", "u1"):
        return params[0] / 2, [("rz", params[0])]
    fixed = _FIXED_PHASED.get(name)
    if fixed is not None:
        return fixed
    if name in ("u", "u3", "u2"):
        theta, phi, lam = (_HALF_PI, *params) if name == "u2" else params
        return (phi + lam) / 2, [("rz", lam), ("ry", theta), ("rz", phi)]
    if name == "r":
        theta, phi = params
        return 0.0, [("rz", -phi), ("rx", theta), ("rz", phi)]
    if name == "id":
        return 0.0, []
    return None


_FIXED_PHASED: dict[str, tuple[float, list[Rotation]]] = {
    "s": (math.pi / 4, [("rz", _HALF_PI)]),
    "sdg": (-math.pi / 4, [("rz", -_HALF_PI)]),
    "t": (math.pi / 8, [("rz", math.pi / 4)]),
    "tdg": (-math.pi / 8, [("rz", -math.pi / 4)]),
    "sx": (math.pi / 4, [("rx", _HALF_PI)]),
    "sxdg": (-math.pi / 4, [("rx", -_HALF_PI)]),
}


class _NeedsTranslation(Exception):
    """A gate with no direct IonQ form: the circuit goes through Qiskit's translation."""


def _qis_gate(
    name: str, targets: list[int], controls: list[int], angle: float | None
) -> dict[str, Any]:
    gate: dict[str, Any] = {"gate": name, "targets": list(targets)}  # no shared lists
    if controls:
        gate["controls"] = list(controls)
    if angle is not None:
        gate["rotation"] = angle
    return gate


class _QisEmitter:
    """Qiskit instructions -> qis gates, one to one where IonQ has the gate."""

    def __init__(self) -> None:
        self.gates: list[dict[str, Any]] = []

    def gate(self, inst: CircuitInstruction, qs: list[int]) -> None:
        name = inst.name
        out = self.gates
        if inst.is_standard_gate():
            plain = _QIS_PLAIN.get(name)
            if plain is not None:
                out.append({"gate": plain, "targets": qs})
                return
            rotation = _QIS_ROTATION.get(name)
            if rotation is not None:
                out.append({"gate": rotation, "targets": qs, "rotation": float(inst.params[0])})
                return
            controlled = _QIS_CONTROLLED.get(name)
            if controlled is not None:
                base, k = controlled
                angle = float(inst.params[0]) if inst.params else None
                out.append(_qis_gate(base, qs[k:], qs[:k], angle))
                return
            if name in _SKIP:
                return
            single = _one_qubit(name, [float(p) for p in inst.params])
            if single is not None:
                out.extend(_qis_gate(g, qs, [], a) for g, a in single[1] if a != 0.0)
                return
        op = inst.operation
        from qiskit.circuit import ControlledGate

        if isinstance(op, ControlledGate):
            self._controlled(op, qs)
        elif name == "PauliEvolution":
            self._pauli(op, qs)
        else:
            raise _NeedsTranslation(name)

    def _controlled(self, op: Any, qs: list[int]) -> None:
        base, k = op.base_gate, op.num_ctrl_qubits
        if (
            getattr(base, "_standard_gate", None) is None
            or len(op.params) != len(base.params)
            or op.num_qubits != k + base.num_qubits
        ):
            raise _NeedsTranslation(op.name)
        controls, targets = qs[:k], qs[k:]
        body: list[dict[str, Any]] = []
        if base.name == "swap":
            if k + 1 > MAX_CONTROLS:
                raise _NeedsTranslation(op.name)
            a, b = targets
            # C-SWAP(a, b) = CX(b -> a) · C..CX(controls + a -> b) · CX(b -> a)
            body = [
                _qis_gate("x", [a], [b], None),
                _qis_gate("x", [b], [*controls, a], None),
                _qis_gate("x", [a], [b], None),
            ]
        else:
            single = _one_qubit(base.name, [float(p) for p in base.params])
            if single is None or k > MAX_CONTROLS:
                raise _NeedsTranslation(op.name)
            alpha, sequence = single
            body = [_qis_gate(g, targets, controls, a) for g, a in sequence]
            # The base gate's phase e^{i alpha} becomes a phase on "all controls set":
            # C^k(e^{ia}) = C^{k-1}P(a) on the last control = C^{k-1}Rz(a) then C^{k-2}P(a/2)...
            remaining = list(controls)
            while remaining and alpha:
                last = remaining.pop()
                body.append(_qis_gate("rz", [last], list(remaining), alpha))
                alpha /= 2
        state = op.ctrl_state
        flips = [
            _qis_gate("x", [c], [], None) for i, c in enumerate(controls) if not state >> i & 1
        ]
        self.gates.extend([*flips, *body, *flips])

    def _pauli(self, op: Any, qs: list[int]) -> None:
        labels, coeffs, time = _pauli_terms(op)
        keep = [(t, c) for t, c in zip(labels, coeffs, strict=True) if set(t) != {"I"}]
        if not keep or time == 0.0:
            return  # the identity (up to global phase)
        sign = -1.0 if time < 0 else 1.0
        self.gates.append(
            {
                "gate": "pauliexp",
                "targets": qs,
                "terms": [t for t, _ in keep],
                "coefficients": [sign * c for _, c in keep],
                "time": sign * time,
            }
        )

    def finish(self, measures: bool) -> list[dict[str, Any]]:
        return self.gates


def _pauli_terms(op: Any) -> tuple[list[str], list[float], float]:
    """A PauliEvolutionGate's terms, real coefficients and time; refused when inexact."""
    from qiskit.quantum_info import SparsePauliOp

    operator = op.operator
    parts = operator if isinstance(operator, list) else [operator]
    total = None
    for part in parts:
        sparse = (
            part if isinstance(part, SparsePauliOp) else SparsePauliOp.from_sparse_observable(part)
        )
        total = sparse if total is None else total + sparse
    assert total is not None
    total = total.simplify(atol=0.0)
    if any(c.imag for c in total.coeffs):
        raise UnsupportedError(
            "IonQ's pauliexp takes real coefficients; this Pauli evolution has complex ones"
        )
    # SparsePauliOp keeps each Pauli's phase in its coefficient, so labels carry no sign.
    labels = [str(label) for label in total.paulis.to_labels()]
    if not _paulis_commute(labels):
        raise UnsupportedError(
            "a Pauli evolution with non-commuting terms has no exact gate form "
            "(a product formula would approximate it)"
        )
    time = float(op.time)
    return labels, [float(c.real) for c in total.coeffs], time


def _reduce(angle: float) -> float:
    """``angle`` in [-pi, pi], reduced with the true pi (exact even for huge angles)."""
    if -math.pi < angle <= math.pi:
        return angle
    return math.atan2(math.sin(angle), math.cos(angle))


def _turns(angle: float) -> float:
    """Radians -> turns in [0, 1)."""
    turns = (_reduce(angle) / _TAU) % 1.0
    return 0.0 if turns >= 1.0 else turns


#: Diagonal gates: only move the phase frame (radians of Rz, up to global phase).
_FRAME = {"z": math.pi, "s": _HALF_PI, "sdg": -_HALF_PI, "t": math.pi / 4, "tdg": -math.pi / 4}
#: Gates that are one R(theta, phi) pulse with theta = pi/2 (gpi2) or pi (gpi).
_PULSE = {
    "sx": (_HALF_PI, 0.0),
    "sxdg": (_HALF_PI, math.pi),
    "x": (math.pi, 0.0),
    "y": (math.pi, _HALF_PI),
}


class _NativeEmitter:
    """Qiskit instructions -> gpi / gpi2 / ms or zz, with Z rotations as phase frames.

    ``frame[q]`` is a Z rotation already applied to qubit ``q`` but not yet written: the
    circuit so far is ``Rz(frame) · written``. A pulse R(theta, phi) after it equals
    ``Rz(frame) · R(theta, phi - frame)``, so it is written with its phase shifted; MS
    phases shift the same way, and ZZ commutes with the frame.
    """

    def __init__(self, num_qubits: int, entangler: str) -> None:
        self.frame = [0.0] * num_qubits
        self.entangler = entangler
        self.gates: list[dict[str, Any]] = []

    def gate(self, inst: CircuitInstruction, qs: list[int]) -> None:
        if not inst.is_standard_gate():
            raise _NeedsTranslation(inst.name)
        name = inst.name
        if name in ("rz", "p", "u1"):
            self._z(qs[0], float(inst.params[0]))
            return
        turn = _FRAME.get(name)
        if turn is not None:
            self._z(qs[0], turn)
            return
        pulse = _PULSE.get(name)
        if pulse is not None:
            self._pulse(qs[0], *pulse)
            return
        if name == "h":  # H = Ry(pi/2) · Z up to phase
            self._z(qs[0], math.pi)
            self._pulse(qs[0], _HALF_PI, _HALF_PI)
            return
        if name in ("r", "rx", "ry"):
            theta = float(inst.params[0])
            phi = float(inst.params[1]) if name == "r" else (0.0 if name == "rx" else _HALF_PI)
            if theta < 0:  # R(-theta, phi) = R(theta, phi + pi)
                theta, phi = -theta, phi + math.pi
            if theta in (_HALF_PI, math.pi):
                self._pulse(qs[0], theta, phi)
                return
            if theta == 0.0:
                return
            raise _NeedsTranslation(name)
        if name in _SKIP:
            return
        if self.entangler == "ms" and name in ("rxx", "ryy"):
            axis = 0.0 if name == "rxx" else _HALF_PI
            self._ms(qs[0], qs[1], float(inst.params[0]), axis)
            return
        if self.entangler == "zz" and name == "rzz":
            self._zz(qs[0], qs[1], float(inst.params[0]))
            return
        raise _NeedsTranslation(name)

    def _z(self, q: int, angle: float) -> None:
        self.frame[q] = _reduce(self.frame[q] + _reduce(angle))

    def _pulse(self, q: int, theta: float, phi: float) -> None:
        self.gates.append(
            {
                "gate": "gpi2" if theta == _HALF_PI else "gpi",
                "target": q,
                "phase": _turns(phi - self.frame[q]),
            }
        )

    def _ms(self, a: int, b: int, theta: float, axis: float) -> None:
        """exp(-i theta/2 P), P = n(axis) ⊗ n(axis): one MS with angle in (0, 0.25] turns."""
        turns = _reduce(theta) / _TAU  # [-0.5, 0.5]; exp(-i(theta+2pi)/2 P) = -exp(...)
        flip = False
        if abs(turns) > 0.25:  # exp(-i theta/2 P) = ∓i P · exp(-i (theta ∓ pi)/2 P)
            turns -= math.copysign(0.5, turns)
            flip = True
        phase_a = axis
        if turns < 0:  # n(phi + pi) = -n(phi) flips the rotation
            turns, phase_a = -turns, axis + math.pi
        if turns:
            self.gates.append(
                {
                    "gate": "ms",
                    "targets": [a, b],
                    "phases": [_turns(phase_a - self.frame[a]), _turns(axis - self.frame[b])],
                    "angle": turns,
                }
            )
        if flip:  # P = n(axis) ⊗ n(axis) = R(pi, axis) ⊗ R(pi, axis) up to phase
            self._pulse(a, math.pi, axis)
            self._pulse(b, math.pi, axis)

    def _zz(self, a: int, b: int, theta: float) -> None:
        """RZZ(theta) = ZZ(theta / 2pi turns), angle kept within [-0.25, 0.25] turns."""
        turns = _reduce(theta) / _TAU
        if abs(turns) > 0.25:  # RZZ(theta) = RZZ(theta ∓ pi) · (-i Z⊗Z), Z ∝ Rz(pi)
            turns -= math.copysign(0.5, turns)
            self._z(a, math.pi)
            self._z(b, math.pi)
        if turns:
            self.gates.append({"gate": "zz", "targets": [a, b], "angle": turns})

    def finish(self, measures: bool) -> list[dict[str, Any]]:
        if not measures:
            # Rz(alpha) = GPI(alpha / 4pi turns) · GPI(0): keeps the JSON's unitary equal to
            # the circuit's. With measurements these trailing Z rotations change nothing.
            for q, alpha in enumerate(self.frame):
                if alpha:
                    self.gates.append({"gate": "gpi", "target": q, "phase": 0.0})
                    self.gates.append({"gate": "gpi", "target": q, "phase": _turns(alpha / 2)})
            self.frame = [0.0] * len(self.frame)
        return self.gates


class _Scan:
    """What a walk over the circuit found about its measurements."""

    def __init__(self) -> None:
        self.sources: dict[int, int] = {}  # clbit -> qubit whose last measurement wrote it
        self.measured: set[int] = set()
        self.touched: set[int] = set()  # qubits some gate acts on


def _walk(circuit: QuantumCircuit, emitter: _QisEmitter | _NativeEmitter | None) -> _Scan:
    """Check the circuit is expressible in IonQ JSON and feed its gates to ``emitter``.

    Raises:
        UnsupportedError: mid-circuit measurement, reset of a used qubit, control flow or
            other classical instructions.
        _NeedsTranslation: the emitter met a gate it has no direct form for.
    """
    scan = _Scan()
    index = {q: i for i, q in enumerate(circuit.qubits)}
    clbit_index = {c: i for i, c in enumerate(circuit.clbits)}
    measured, touched = scan.measured, scan.touched
    for position, inst in enumerate(circuit.data):
        name = inst.name
        if name == "barrier" or name == "delay":
            continue
        qs = [index[q] for q in inst.qubits]
        if name == "measure":
            scan.sources[clbit_index[inst.clbits[0]]] = qs[0]
            measured.add(qs[0])
            continue
        if name == "reset":
            if qs[0] in touched or qs[0] in measured:
                raise UnsupportedError(
                    f"IonQ JSON cannot express reset (instruction {position} resets qubit "
                    f"{qs[0]} after it was used)"
                )
            continue  # a fresh qubit is already |0>
        if inst.is_control_flow():
            raise UnsupportedError(
                "IonQ JSON cannot express classical control or control flow "
                f"({name} at instruction {position})"
            )
        if inst.clbits or not (inst.is_standard_gate() or _is_gate(inst.operation)):
            raise UnsupportedError(
                f"IonQ JSON cannot express the '{name}' instruction (instruction {position})"
            )
        if measured and not measured.isdisjoint(qs):
            q = next(q for q in qs if q in measured)
            raise UnsupportedError(
                f"IonQ JSON cannot express mid-circuit measurement: {name} on qubit {q} at "
                f"instruction {position} comes after its measurement (IonQ measures once, "
                "at the end)"
            )
        touched.update(qs)
        if name == "PauliEvolution":
            _pauli_terms(inst.operation)  # refuse inexact ones before any translation
        if emitter is not None:
            emitter.gate(inst, qs)
    return scan


def _is_gate(op: Any) -> bool:
    from qiskit.circuit import Gate

    return isinstance(op, Gate)


def _choose_gateset(backend: Backend | None, options: WriteOptions) -> tuple[str, str]:
    """(gateset, native two-qubit gate) from the options, else from the backend's gates."""
    natives = (
        {g.lower() for g in backend.configuration.native_gate_names}
        if backend is not None
        else set()
    )
    gateset = options.gateset
    if gateset is None:
        ionq = bool(natives) and natives <= _IONQ_NATIVE_GATES and "gpi2" in natives
        gateset = "native" if ionq else "qis"
    if gateset not in ("qis", "native"):
        raise UnsupportedError(f"IonQ JSON has gate sets 'qis' and 'native', not {gateset!r}")
    entangler = "zz" if "zz" in natives and "ms" not in natives else "ms"
    return gateset, entangler


def _translate(circuit: QuantumCircuit, gateset: str, entangler: str) -> QuantumCircuit:
    """``circuit`` in gates the emitter maps directly (exact, up to global phase)."""
    from qiskit.circuit.equivalence_library import SessionEquivalenceLibrary
    from qiskit.transpiler import PassManager
    from qiskit.transpiler.passes import (
        BasisTranslator,
        HighLevelSynthesis,
        Optimize1qGatesDecomposition,
        UnitarySynthesis,
    )

    native = gateset == "native"
    gates = ("rz", "sx", "x", "rxx" if entangler == "ms" else "rzz") if native else _QIS_BASIS
    basis = [*gates, *_NON_GATES]
    circuit = _default_pauli_synthesis(_exact_angles(circuit))
    passes: list[Any] = [
        UnitarySynthesis(basis_gates=basis),
        # qubits_initially_zero=False: any borrowed idle qubit is restored, so the
        # translation is exact on every input state, not only from |0...0>.
        HighLevelSynthesis(
            basis_gates=basis,
            equivalence_library=SessionEquivalenceLibrary,
            qubits_initially_zero=False,
        ),
        BasisTranslator(SessionEquivalenceLibrary, basis),
    ]
    if native:
        passes.append(Optimize1qGatesDecomposition(basis=["rz", "sx", "x"]))
    try:
        circuit = resolve_lookalikes(circuit)
        return PassManager(passes).run(circuit)
    except QBrokerError:
        raise
    except RecursionError:
        raise UnsupportedError(
            "IonQ JSON cannot express this circuit: gate definitions nested too deeply"
        ) from None
    except Exception as exc:  # Qiskit raises TranspilerError, QiskitError, CircuitError
        message = " ".join(str(exc).split()).strip("'\"")
        raise UnsupportedError(f"IonQ JSON cannot express this circuit: {message}") from None


def _exact_angles(circuit: QuantumCircuit) -> QuantumCircuit:
    """Huge gate angles reduced modulo 4pi with the true pi before Qiskit sees them.

    Every standard gate's matrix, and so every controlled one's, is 4pi-periodic in each
    angle, and ``2 atan2(sin(a/2), cos(a/2))`` reduces exactly (libm's sin/cos reduce with
    the true pi). Qiskit's 1-qubit optimiser reduces with a float 2pi, which at 3e15 rad
    is off by radians.
    """
    from qiskit.circuit import ControlledGate

    limit = 4 * math.pi

    def huge(inst: CircuitInstruction) -> bool:
        if not inst.params or not any(isinstance(p, float) and abs(p) > limit for p in inst.params):
            return False
        if inst.is_standard_gate():
            return True
        op = inst.operation
        return isinstance(op, ControlledGate) and op.base_gate._standard_gate is not None

    if not any(huge(inst) for inst in circuit.data):
        return circuit
    out = circuit.copy_empty_like()
    for inst in circuit.data:
        if huge(inst):
            params = [
                2.0 * math.atan2(math.sin(p / 2), math.cos(p / 2))
                if isinstance(p, float) and abs(p) > limit
                else p
                for p in inst.params
            ]
            if inst.is_standard_gate():
                inst = inst.replace(params=params)
            else:
                op = inst.operation.copy()
                op.params = params
                inst = inst.replace(operation=op)
        out._append(inst)
    return out


def _default_pauli_synthesis(circuit: QuantumCircuit) -> QuantumCircuit:
    """Pauli evolutions re-made with the default product formula (exact for commuting
    terms, which :func:`_pauli_terms` has checked); a randomised one (QDrift) is not."""
    if not any(inst.name == "PauliEvolution" for inst in circuit.data):
        return circuit
    from qiskit.circuit.library import PauliEvolutionGate

    out = circuit.copy_empty_like()
    for inst in circuit.data:
        if inst.name == "PauliEvolution":
            op = inst.operation
            inst = inst.replace(operation=PauliEvolutionGate(op.operator, time=op.time))
        out._append(inst)
    return out


def write_ionq(circuit: object, backend: Backend | None, options: WriteOptions) -> dict[str, Any]:
    """A circuit as IonQ JSON (see the module docstring for gate sets and classical bits).

    Raises:
        UnsupportedError: what IonQ JSON cannot express, or more qubits than ``backend``.
    """
    qc = circuit_of(circuit)
    gateset, entangler = _choose_gateset(backend, options)
    if backend is not None and not backend.is_gate_model:
        raise UnsupportedError(f"{backend.id} is not a gate-model backend")
    if qc.num_qubits == 0:
        raise UnsupportedError("IonQ JSON needs at least one qubit")
    if qc.num_parameters:
        names = ", ".join(sorted(p.name for p in qc.parameters))
        raise UnsupportedError(f"bind parameter(s) {names} before writing IonQ JSON")
    if backend is not None:
        _check_width(qc.num_qubits, backend)

    def emitter() -> _QisEmitter | _NativeEmitter:
        return _QisEmitter() if gateset == "qis" else _NativeEmitter(qc.num_qubits, entangler)

    out = emitter()
    try:
        scan = _walk(qc, out)
    except _NeedsTranslation:
        _walk(qc, None)  # refuse what IonQ cannot say before paying for a translation
        translated = _translate(qc, gateset, entangler)
        out = emitter()
        try:
            scan = _walk(translated, out)
        except _NeedsTranslation as exc:  # pragma: no cover - the basis is all direct
            raise UnsupportedError(f"IonQ JSON cannot express the gate {exc}") from None
    gates = out.finish(measures=bool(scan.measured))

    width = qc.num_qubits
    document: dict[str, Any] = {"gateset": gateset, "qubits": width, "circuit": gates}
    if qc.num_clbits:
        registers, width = _registers(qc, scan, width)
        document["qubits"] = width
        document["registers"] = registers
    if backend is not None:
        _check_width(width, backend)
    return document


def _check_width(width: int, backend: Backend) -> None:
    if width > backend.configuration.qubit_count:
        raise UnsupportedError(
            f"the circuit needs {width} qubits; {backend.id} has "
            f"{backend.configuration.qubit_count}"
        )


def _registers(qc: QuantumCircuit, scan: _Scan, width: int) -> tuple[dict[str, list[int]], int]:
    """IonQ ``registers`` giving every classical bit the qubit that last wrote it."""
    flat = [bit for creg in qc.cregs for bit in creg]
    layout = (
        [(creg.name, creg.size) for creg in qc.cregs]
        if flat == list(qc.clbits)
        else [("c", qc.num_clbits)]
    )
    sources = scan.sources
    idle = -1
    if len(sources) < qc.num_clbits:
        # A bit nothing measures reads 0: point it at a qubit no gate touches.
        idle = next((q for q in range(width) if q not in scan.touched), width)
        width = max(width, idle + 1)
    registers: dict[str, list[int]] = {}
    offset = 0
    for name, size in layout:
        registers[name] = [sources.get(j, idle) for j in range(offset, offset + size)]
        offset += size
    return registers, width


CODEC = Codec(
    format=InputFormat.IONQ_CIRCUIT_V1,
    kind=Kind.GATE,
    payload=dict,
    read=read_ionq,
    write=write_ionq,
    description="IonQ JSON circuit (API v0.4): qis gates, or native gpi/gpi2/ms/zz in turns",
)
