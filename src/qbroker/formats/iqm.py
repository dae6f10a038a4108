"""IQM native circuits (``IQM_JOB_INPUT_V1``): ``prx``, ``cz``, ``move``, ``measure`` on ``QB1``...

Two dialects of the same instruction list exist, and a payload says which one it uses
through its argument names; qbroker never guesses:

- the Hub's ``IQM_JobInput``: ``prx`` takes ``angle_t`` and ``phase_t`` in **turns**
  (0.5 = pi); instructions name their qubits in ``qubits`` (the shape of IQM's legacy
  wire format, iqm-client's deprecated ``_Circuit`` / ``_Instruction``);
- iqm-client's current model (``iqm.pulse.CircuitOperation``, iqm-client 36, checked in the
  installed source): ``prx`` takes ``angle`` and ``phase`` in **radians**; instructions name
  their qubits in ``locus``.

Either key for the qubits is read; a payload whose angles mix the two units, or whose
``prx`` arguments are neither pair, is refused with a ProgramError naming the field. The
writer emits the Hub form (``qubits``) in turns unless ``WriteOptions(angle_unit="radians")``.
A custom gate carrying a standard gate's name (``gate ecr a, b {...}`` in OpenQASM 3) is
translated as that gate only when its definition has the same matrix, and through its
definition otherwise (``qbroker.formats._lookalikes``), never by its name alone.

Measurements follow ``iqm.qiskit_iqm`` (``MeasurementKey``): one single-qubit ``measure``
per classical bit with key ``<register>_<register size>_<register index>_<bit index>``, so
reading the keys back rebuilds every register at its place and each bit at its position.
Registers that no measurement writes cannot be seen in the keys; the writer then lists
the classical registers in the circuit's ``metadata["qbroker"]``. A key of another shape
(``"m1"`` on three qubits, as hand-written IQM programs use) becomes a register named
after the key, after the structured ones, in order of appearance.

IQM's classical feedback (``cc_prx`` conditioned on an earlier ``measure``'s
``feedback_key``) and ``reset`` are part of iqm-client 36's native operations, so they are
read and written (``if_test((bit, 1))`` around single-qubit rotations); other classical
control (else-branches, conditions on values other than 1 or on several bits, loops) is
refused with a reason.

On the IQM Star architecture (Deneb: qubits around one computational resonator ``CR1``)
a ``cz`` between two qubits goes through the resonator: the writer emits
``move(b, CR1); cz(a, CR1); move(b, CR1)`` (keeping ``b`` in the resonator across
consecutive ``cz`` that share it), which is ``cz(a, b)`` exactly; the reader folds such
sandwiches back into ``cz`` between qubits and refuses a sandwich left open, a second
qubit moved into an occupied resonator, or a gate on a qubit whose state is in the
resonator (IQM's strict MOVE validation).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from qbroker.device import gates as _gates
from qbroker.errors import ProgramError, UnsupportedError
from qbroker.formats._codec import Codec, Kind, WriteOptions, circuit_of
from qbroker.formats._lookalikes import resolve_lookalikes
from qbroker.formats._prepare import on_backend
from qbroker.model.enums import InputFormat

if TYPE_CHECKING:  # pragma: no cover
    from qiskit import QuantumCircuit
    from qiskit.circuit import Clbit
    from qiskit.transpiler import Target

    from qbroker.model import Backend

__all__ = ["CODEC", "MAX_QUBITS", "RESONATOR", "iqm_client_circuit", "read_iqm", "write_iqm"]

FORMAT = InputFormat.IQM_JOB_INPUT_V1.value
#: Highest qubit number read (``QB4096``): a bound on the circuit a payload can make us build.
MAX_QUBITS = 4096
#: The computational resonator of IQM's Star architecture (Deneb), as IQM names it.
RESONATOR = "CR1"

_TAU = 2.0 * math.pi
# Digit counts are bounded so that int() never meets a 5,000-digit number (a ValueError).
_QUBIT_NAME = re.compile(r"QB([1-9][0-9]{0,8})")
_RESONATOR_NAME = re.compile(r"CR([1-9][0-9]{0,8})")
_STRUCTURED_KEY = re.compile(r"^(.*)_([0-9]{1,9})_([0-9]{1,9})_([0-9]{1,9})$")
_TURNS = ("angle_t", "phase_t")
_RADIANS = ("angle", "phase")

# Top-level fields of the Hub's IQM_JobInput, plus iqm-client's PostJobsRequest spellings.
# All but circuits / qubit_mapping / shots are execution settings, not the program.
_ENVELOPE_FIELDS = frozenset(
    {
        "circuits",
        "calibration_set_id",
        "qubit_mapping",
        "custom_settings",
        "dd_mode",
        "dd_strategy",
        "heralding_mode",
        "move_gate_frame_tracking_mode",
        "move_validation_mode",
        "max_circuit_duration_over_t2",
        "active_reset_cycles",
        "shots",
        "move_gate_validation",
        "move_gate_frame_tracking",
    }
)
_CIRCUIT_FIELDS = frozenset(
    {"name", "instructions", "args", "implementation", "qubits", "metadata"}
)
_INSTRUCTION_FIELDS = frozenset({"name", "qubits", "locus", "args", "implementation", "metadata"})
#: IQM's earlier names for the same operations.
_ALIASES = {"phased_rx": "prx", "measurement": "measure"}
#: name -> (exact number of locus components or None for "one or more", allowed args)
_OPERATIONS: dict[str, tuple[int | None, frozenset[str]]] = {
    "prx": (1, frozenset(_TURNS + _RADIANS)),
    "cc_prx": (1, frozenset(_TURNS + _RADIANS + ("feedback_key", "feedback_qubit"))),
    "cz": (2, frozenset()),
    "move": (2, frozenset()),
    "measure": (None, frozenset({"key", "feedback_key"})),
    "barrier": (None, frozenset()),
    "reset": (None, frozenset()),
    "delay": (None, frozenset({"duration"})),
}


def _error(path: str, message: str) -> ProgramError:
    # Messages quote user input (names, keys): keep them one readable line.
    path, message = _clip(path, 120), _clip(message, 240)
    return ProgramError(
        f"{path}: {message}" if path else message, format=FORMAT, field=path or "payload"
    )


def _clip(text: str, limit: int) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------------------
# Reading, stage 1: validate the JSON into instructions in IQM's own terms
# --------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Instr:
    """One validated instruction: physical component names, angles already in radians."""

    name: str
    locus: tuple[str, ...]
    path: str
    angle: float = 0.0
    phase: float = 0.0
    key: str | None = None
    feedback_key: str | None = None
    feedback_qubit: str | None = None
    duration: float = 0.0


@dataclass
class _Parsed:
    name: str
    instructions: list[_Instr]
    declared: list[str]  # the circuit-level "qubits" (physical names), possibly empty
    metadata: dict[str, Any]
    registers: list[tuple[str, int]] | None  # from metadata["qbroker"], when written
    shots: int | None = None
    unit: str | None = None  # "turns" / "radians" once a rotation was seen
    unit_path: str = ""
    where: str = ""  # "circuits.0." in the Hub form, "" for a bare circuit
    names: dict[str, str] = field(default_factory=dict)  # name -> validated physical name


def _parse(payload: Any) -> _Parsed:
    if not isinstance(payload, dict):
        raise _error("", "the job input must be a JSON object")
    if "circuits" in payload:
        extra = sorted(set(payload) - _ENVELOPE_FIELDS)
        if extra:
            raise _error(extra[0], "unexpected field in an IQM job input")
        circuits = payload["circuits"]
        if not isinstance(circuits, list) or not circuits:
            raise _error("circuits", "must be a non-empty list of circuits")
        if len(circuits) != 1:
            raise _error(
                "circuits",
                f"holds {len(circuits)} circuits; a qbroker program is one circuit (split them)",
            )
        body, prefix = circuits[0], "circuits.0"
        mapping = _qubit_mapping(payload.get("qubit_mapping"))
        shots = payload.get("shots")
        if shots is not None and (
            not isinstance(shots, int) or isinstance(shots, bool) or shots < 1
        ):
            raise _error("shots", f"must be a positive integer, not {shots!r}")
    else:
        body, prefix, mapping, shots = payload, "", None, None
    if isinstance(body, str):
        raise _error(prefix, "holds QIR code; qbroker reads IQM native circuits")
    if not isinstance(body, dict):
        raise _error(prefix, "a circuit must be a JSON object")
    where = f"{prefix}." if prefix else ""
    extra = sorted(set(body) - _CIRCUIT_FIELDS)
    if extra:
        raise _error(where + extra[0], "unexpected field in an IQM circuit")
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise _error(where + "name", "a circuit needs a non-empty string name")
    instructions = body.get("instructions")
    if not isinstance(instructions, list):
        raise _error(where + "instructions", "must be a list of instructions")
    if not instructions:
        raise _error(where + "instructions", "a circuit needs at least one instruction")
    metadata = body.get("metadata")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise _error(where + "metadata", "must be a JSON object")
    parsed = _Parsed(name=name, instructions=[], declared=[], metadata={}, registers=None)
    parsed.shots, parsed.where = shots, where
    parsed.metadata = {k: v for k, v in metadata.items() if k != "qbroker"}
    parsed.registers = _registers_of(metadata.get("qbroker"), where + "metadata.qbroker")

    declared = body.get("qubits")
    if declared is not None:
        if not isinstance(declared, list):
            raise _error(where + "qubits", "must be a list of qubit names")
        seen: set[str] = set()
        for i, item in enumerate(declared):
            physical = _component(item, mapping, f"{where}qubits.{i}", parsed.names)
            if physical in seen:
                raise _error(f"{where}qubits.{i}", f"{item!r} is listed twice")
            seen.add(physical)
            parsed.declared.append(physical)
    allowed = set(parsed.declared) if declared is not None else None

    out = parsed.instructions
    for index, raw in enumerate(instructions):
        out.append(_instruction(raw, f"{where}instructions.{index}", mapping, allowed, parsed))
    return parsed


def _qubit_mapping(raw: Any) -> dict[str, str] | None:
    """The Hub's ``[{"logical_name", "physical_name"}]`` (or iqm-client's dict form)."""
    if raw is None:
        return None
    pairs: list[tuple[str, Any, Any]] = []
    if isinstance(raw, dict):
        pairs = [(f"qubit_mapping.{k}", k, v) for k, v in raw.items()]
    elif isinstance(raw, list):
        for i, item in enumerate(raw):
            path = f"qubit_mapping.{i}"
            if not isinstance(item, dict) or set(item) != {"logical_name", "physical_name"}:
                raise _error(path, "must be an object with logical_name and physical_name")
            pairs.append((path, item["logical_name"], item["physical_name"]))
    else:
        raise _error("qubit_mapping", "must be a list of {logical_name, physical_name}")
    mapping: dict[str, str] = {}
    images: dict[str, str] = {}  # physical -> logical
    for path, logical, physical in pairs:
        if not isinstance(logical, str) or not logical:
            raise _error(path, "a logical name must be a non-empty string")
        if logical in mapping:
            raise _error(path, f"logical qubit {logical!r} is mapped twice")
        physical = _physical_name(physical, path)
        if physical in images:
            raise _error(
                path, f"{physical} is the image of both {images[physical]!r} and {logical!r}"
            )
        images[physical] = logical
        mapping[logical] = physical
    return mapping


def _physical_name(name: Any, path: str) -> str:
    if not isinstance(name, str):
        raise _error(path, f"a qubit name must be a string, not {name!r}")
    match = _QUBIT_NAME.fullmatch(name) or _RESONATOR_NAME.fullmatch(name)
    if match is None:
        raise _error(
            path, f"unknown qubit {name!r} (IQM names qubits QB1, QB2 ... and resonators CR1 ...)"
        )
    if int(match.group(1)) > MAX_QUBITS:
        raise _error(path, f"{name} is out of range (qbroker reads up to QB{MAX_QUBITS})")
    return name


def _component(name: Any, mapping: dict[str, str] | None, path: str, cache: dict[str, str]) -> str:
    """A locus component's physical name, validated (cached: payloads repeat names)."""
    if isinstance(name, str):
        found = cache.get(name)
        if found is not None:
            return found
    if mapping is not None:
        if not isinstance(name, str) or name not in mapping:
            raise _error(path, f"{name!r} is not a logical qubit of qubit_mapping")
        physical = mapping[name]
    else:
        physical = _physical_name(name, path)
    cache[name] = physical
    return physical


def _registers_of(raw: Any, path: str) -> list[tuple[str, int]] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("classical_registers"), list):
        raise _error(path, 'must be {"classical_registers": [{"name", "size"}, ...]}')
    registers: list[tuple[str, int]] = []
    for i, item in enumerate(raw["classical_registers"]):
        where = f"{path}.classical_registers.{i}"
        if not isinstance(item, dict) or set(item) != {"name", "size"}:
            raise _error(where, "must be an object with name and size")
        name, size = item["name"], item["size"]
        if not isinstance(name, str) or not name:
            raise _error(where + ".name", "must be a non-empty string")
        if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= 1 << 20:
            raise _error(where + ".size", f"must be a whole number of bits, not {size!r}")
        if any(name == other for other, _ in registers):
            raise _error(where + ".name", f"register {name!r} is listed twice")
        registers.append((name, size))
    return registers


def _instruction(
    raw: Any, path: str, mapping: dict[str, str] | None, allowed: set[str] | None, parsed: _Parsed
) -> _Instr:
    # The hot loop of a read: field paths are only formatted when something is wrong.
    if not isinstance(raw, dict):
        raise _error(path, "an instruction must be a JSON object")
    if not raw.keys() <= _INSTRUCTION_FIELDS:
        extra = [k for k in raw if k not in _INSTRUCTION_FIELDS]
        raise _error(f"{path}.{extra[0]}", "unexpected field in an IQM instruction")
    name = raw.get("name")
    if not isinstance(name, str):
        raise _error(f"{path}.name", "missing or not a string")
    name = _ALIASES.get(name, name)
    spec = _OPERATIONS.get(name)
    if spec is None:
        known = ", ".join(sorted(_OPERATIONS))
        raise _error(f"{path}.name", f"unknown IQM instruction {name!r} (known: {known})")
    arity, allowed_args = spec

    if "locus" in raw:
        if "qubits" in raw:
            raise _error(
                f"{path}.locus", "give the qubits once: 'qubits' (Hub) or 'locus' (iqm-client)"
            )
        key = "locus"
    else:
        key = "qubits"
    names = raw.get(key)
    if not isinstance(names, list) or not names:
        raise _error(f"{path}.{key}", f"{name} needs a non-empty list of qubit names")
    if arity is not None and len(names) != arity:
        raise _error(f"{path}.{key}", f"{name} acts on {arity} qubit(s), not {len(names)}")
    cache = parsed.names
    locus: list[str] = []
    resonator = False
    for i, item in enumerate(names):
        physical = cache.get(item) if isinstance(item, str) else None
        if physical is None:
            physical = _component(item, mapping, f"{path}.{key}.{i}", cache)
        if physical in locus:
            raise _error(f"{path}.{key}.{i}", f"{item!r} appears twice in one instruction")
        if physical[0] == "C":
            resonator = True
        elif allowed is not None and physical not in allowed:
            raise _error(f"{path}.{key}.{i}", f"{item!r} is not among the circuit's qubits")
        locus.append(physical)
    if resonator and name not in ("move", "cz", "barrier"):
        i = next(i for i, c in enumerate(locus) if c[0] == "C")
        raise _error(f"{path}.{key}.{i}", f"{name} cannot act on the resonator {locus[i]}")
    instr = _Instr(name=name, locus=tuple(locus), path=path)

    args = raw.get("args")
    if args:
        if not isinstance(args, dict):
            raise _error(f"{path}.args", "must be a JSON object")
        if not args.keys() <= allowed_args:
            unknown = [a for a in args if a not in allowed_args]
            takes = ", ".join(sorted(allowed_args)) or "no arguments"
            raise _error(f"{path}.args.{unknown[0]}", f"{name} takes {takes}")
    elif args is None or args == {}:
        args = {}
    else:
        raise _error(f"{path}.args", "must be a JSON object")
    if "implementation" in raw or "metadata" in raw:
        implementation = raw.get("implementation")
        if implementation is not None and not isinstance(implementation, str):
            raise _error(f"{path}.implementation", "must be a string")
        if raw.get("metadata") is not None and not isinstance(raw["metadata"], dict):
            raise _error(f"{path}.metadata", "must be a JSON object")

    if name == "prx" or name == "cc_prx":
        instr.angle, instr.phase = _rotation(args, path, parsed)
        if name == "cc_prx":
            instr.feedback_key = _string(args, "feedback_key", path)
            instr.feedback_qubit = _component(
                _string(args, "feedback_qubit", path),
                mapping,
                f"{path}.args.feedback_qubit",
                cache,
            )
    elif name == "measure":
        instr.key = _string(args, "key", path)
        if "feedback_key" in args:
            instr.feedback_key = _string(args, "feedback_key", path)
    elif name == "delay":
        instr.duration = _number(args.get("duration"), f"{path}.args.duration")
        if instr.duration < 0:
            raise _error(f"{path}.args.duration", "a delay cannot be negative")
    return instr


def _string(args: dict[str, Any], name: str, path: str) -> str:
    value = args.get(name)
    if value is None:
        raise _error(f"{path}.args.{name}", "missing")
    if not isinstance(value, str) or not value:
        raise _error(f"{path}.args.{name}", f"must be a non-empty string, not {value!r}")
    return value


def _number(value: Any, path: str) -> float:
    if type(value) is float and math.isfinite(value):
        return value
    if value is None:
        raise _error(path, "missing")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _error(path, f"must be a number, not {value!r}")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond float range
        raise _error(path, f"must be a finite number, not {value!r}") from None
    if not math.isfinite(number):
        raise _error(path, f"must be a finite number, not {value!r}")
    return number


def _rotation(args: dict[str, Any], path: str, parsed: _Parsed) -> tuple[float, float]:
    """(angle, phase) in radians; the argument names say the unit, one unit per payload."""
    if "angle_t" in args or "phase_t" in args:
        unit, names = "turns", _TURNS
        mixed = [a for a in _RADIANS if a in args]
        if mixed:
            given = "angle_t" if "angle_t" in args else "phase_t"
            raise _error(
                f"{path}.args.{mixed[0]}",
                f"mixes turns ({given}) and radians ({mixed[0]}): "
                "use angle_t/phase_t or angle/phase",
            )
    elif "angle" in args or "phase" in args:
        unit, names = "radians", _RADIANS
    else:
        raise _error(
            f"{path}.args.angle_t",
            "missing: prx takes angle_t and phase_t (turns) or angle and phase (radians)",
        )
    if parsed.unit != unit:
        if parsed.unit is not None:
            raise _error(
                f"{path}.args.{names[0]}",
                f"in {unit}, but {parsed.unit_path}.args is in {parsed.unit}; "
                "one payload uses one unit",
            )
        parsed.unit, parsed.unit_path = unit, path
    angle, phase = args.get(names[0]), args.get(names[1])
    for arg, value in ((names[0], angle), (names[1], phase)):
        if value is None:
            raise _error(f"{path}.args.{arg}", f"missing ({names[0]} and {names[1]} come together)")
    angle = _number(angle, f"{path}.args.{names[0]}")
    phase = _number(phase, f"{path}.args.{names[1]}")
    if unit == "turns":
        # Out of one period, reduce in turns first, where it is exact (R(θ) has period 2
        # turns, its phase 1): huge turn counts then neither overflow nor lose the fraction
        # that matters. Within one period the number is kept as written.
        if not -2.0 <= angle <= 2.0:
            angle = math.remainder(angle, 2.0)
        if not -1.0 <= phase <= 1.0:
            phase = math.remainder(phase, 1.0)
        return angle * _TAU, phase * _TAU
    return angle, phase


# --------------------------------------------------------------------------------------
# Reading, stage 2: resonators folded away, keys to classical bits, a QuantumCircuit
# --------------------------------------------------------------------------------------


def read_iqm(payload: Any) -> QuantumCircuit:
    """An IQM job input (Hub form or a bare circuit) as a QuantumCircuit.

    Qubit ``QBn`` becomes qubit ``n - 1`` of one register ``q`` (the circuit is as wide as
    the highest qubit named); ``prx`` becomes ``RGate(angle, phase)`` in radians, ``cc_prx``
    an ``if_test`` on the classical bit its feedback measurement wrote.

    Raises:
        ProgramError: naming the field (``circuits.0.instructions.3.args.angle_t``).
    """
    parsed = _parse(payload)
    return _build(parsed)


@dataclass(slots=True)
class _Gate:
    """One operation on circuit qubits (resonators resolved)."""

    name: str
    qubits: tuple[int, ...]
    instr: _Instr


def _fold_resonators(parsed: _Parsed) -> list[_Gate]:
    """Replace move sandwiches by the qubit they carry (IQM's strict MOVE rules)."""
    held: dict[str, str] = {}  # resonator -> qubit whose state it holds
    moved: dict[str, str] = {}  # qubit -> resonator holding its state
    index: dict[str, int] = {}
    for name in parsed.names.values():
        if name[0] == "Q":
            index[name] = int(name[2:]) - 1
    ops: list[_Gate] = []
    for instr in parsed.instructions:
        name, locus = instr.name, instr.locus
        if name == "move":
            qubit, resonator = locus
            if qubit[0] != "Q" or resonator[0] != "C":
                raise _error(
                    instr.path, f"move goes from a qubit to a resonator, not {qubit} -> {resonator}"
                )
            holder = held.get(resonator)
            if holder is None:
                if qubit in moved:
                    raise _error(instr.path, f"the state of {qubit} is already in {moved[qubit]}")
                held[resonator], moved[qubit] = qubit, resonator
            elif holder == qubit:
                del held[resonator], moved[qubit]
            else:
                raise _error(instr.path, f"{resonator} already holds the state of {holder}")
            continue
        if moved and name != "barrier":
            busy = [c for c in locus if c in moved]
            if busy:
                raise _error(
                    instr.path,
                    f"{name} acts on {busy[0]} while its state is in {moved[busy[0]]} "
                    "(close the move sandwich first)",
                )
        if name == "cz" and (locus[0][0] == "C" or locus[1][0] == "C"):
            if locus[0][0] == locus[1][0]:
                raise _error(instr.path, "cz between two resonators")
            other, resonator = locus if locus[1][0] == "C" else locus[::-1]
            holder = held.get(resonator)
            if holder is None:
                raise _error(
                    instr.path,
                    f"cz with {resonator} while it holds no qubit state (move one in first)",
                )
            ops.append(_Gate("cz", (index[other], index[holder]), instr))
            continue
        if name == "barrier":
            # A barrier may name a resonator: it then orders the qubit the resonator holds.
            spans: dict[int, None] = {}
            for c in locus:
                if c[0] == "Q":
                    spans[index[c]] = None
                elif c in held:
                    spans[index[held[c]]] = None
            if spans:
                ops.append(_Gate("barrier", tuple(spans), instr))
            continue
        ops.append(_Gate(name, tuple([index[c] for c in locus]), instr))
    if held:
        resonator, qubit = next(iter(held.items()))
        raise _error(
            parsed.instructions[-1].path,
            f"the circuit ends with the state of {qubit} still in {resonator} "
            "(close the move sandwich)",
        )
    return ops


def _classical_layout(
    parsed: _Parsed, ops: list[_Gate]
) -> tuple[list[tuple[str, int]], dict[int, list[tuple[int, int]]]]:
    """The classical registers in order, and per measure (by id) its (register, bit) slots.

    Structured keys (``name_size_register_bit``) place each bit; registers no key names
    come from ``metadata.qbroker`` when the writer put them there, else stay empty (IQM
    returns nothing for them). Other keys become registers after those, in order of
    appearance, one bit per measured qubit.
    """
    structured: dict[int, tuple[str, int, str]] = {}  # register index -> (name, size, path)
    placed: dict[int, tuple[int, int]] = {}  # id(measure) -> (register, bit), structured keys
    free: list[_Instr] = []
    seen_keys: dict[str, str] = {}
    for op in ops:
        instr = op.instr
        if instr.name != "measure":
            continue
        key = instr.key
        assert key is not None
        where = f"{instr.path}.args.key"
        if key in seen_keys:
            raise _error(where, f"measurement key {key!r} is already used by {seen_keys[key]}")
        seen_keys[key] = instr.path
        match = _STRUCTURED_KEY.match(key)
        if match is None:
            free.append(instr)
            continue
        name, size = match.group(1), int(match.group(2))
        reg, bit = int(match.group(3)), int(match.group(4))
        if len(instr.locus) != 1:
            raise _error(
                where,
                f"key {key!r} names one classical bit but the measure acts on "
                f"{len(instr.locus)} qubits",
            )
        if size > 1 << 20 or reg > 1 << 16:
            raise _error(where, f"key {key!r} describes an implausibly large register")
        if bit >= size:
            raise _error(where, f"key {key!r}: bit {bit} is outside {name!r} of {size} bits")
        known = structured.setdefault(reg, (name, size, where))
        if known[:2] != (name, size):
            raise _error(
                where,
                f"key {key!r} says register {reg} is {name!r} of {size} bits; "
                f"{known[2]} says {known[0]!r} of {known[1]}",
            )
        placed[id(instr)] = (reg, bit)

    count = max(structured) + 1 if structured else 0
    declared = parsed.registers
    if declared is not None:
        if len(declared) < count:
            raise _error(
                f"{parsed.where}metadata.qbroker.classical_registers",
                f"lists {len(declared)} registers; the measurement keys use {count}",
            )
        for reg, (name, size, where) in structured.items():
            if declared[reg] != (name, size):
                raise _error(
                    where,
                    f"register {reg} is {declared[reg][0]!r} of {declared[reg][1]} bits "
                    "in metadata.qbroker",
                )
        count = len(declared)
    registers: list[tuple[str, int]] = []
    for reg in range(count):
        if reg in structured:
            registers.append(structured[reg][:2])
        elif declared is not None:
            registers.append(declared[reg])
        else:  # never measured, size unknown: empty, as iqm.qiskit_iqm reads it
            registers.append((f"unmeasured{reg}", 0))
    names: set[str] = set()
    for reg, (name, _size) in enumerate(registers):
        if name in names:
            where = structured[reg][2] if reg in structured else f"{parsed.where}metadata.qbroker"
            raise _error(where, f"two classical registers are named {name!r}")
        names.add(name)
    slots: dict[int, list[tuple[int, int]]] = {k: [v] for k, v in placed.items()}
    for instr in free:
        assert instr.key is not None
        if instr.key in names:
            raise _error(f"{instr.path}.args.key", f"key {instr.key!r} clashes with a register")
        names.add(instr.key)
        slots[id(instr)] = [(len(registers), j) for j in range(len(instr.locus))]
        registers.append((instr.key, len(instr.locus)))
    return registers, slots


def _build(parsed: _Parsed) -> QuantumCircuit:
    from qiskit import QuantumCircuit
    from qiskit.circuit import CircuitInstruction, ClassicalRegister, QuantumRegister
    from qiskit.circuit.library import Barrier, CZGate, Measure, Reset
    from qiskit.circuit.library import RGate as _R

    ops = _fold_resonators(parsed)
    registers, slots = _classical_layout(parsed, ops)
    width = 0
    for name in parsed.declared:
        if name[0] == "Q":
            width = max(width, int(name[2:]))
    for op in ops:
        if op.qubits:
            width = max(width, max(op.qubits) + 1)
    qname = "q"
    while any(qname == name for name, _ in registers):
        qname += "_"
    qreg = QuantumRegister(width, qname)
    cregs = [ClassicalRegister(size, name) for name, size in registers]
    qc = QuantumCircuit(qreg, *cregs, name=parsed.name)
    meta = dict(parsed.metadata)
    if parsed.shots is not None:
        meta["shots"] = parsed.shots
    qc.metadata = meta
    qubits = qc.qubits
    # feedback key -> the classical bit its measurement wrote, and the measured qubit
    feedback: dict[str, dict[str, Clbit]] = {}
    append = qc._append
    cz, measure, reset = CZGate(), Measure(), Reset()
    # Qiskit's Rust-side standard gates skip building a Python Gate per instruction (5x
    # faster on 10k gates); both attributes are internal, so fall back to plain gates.
    r_std, cz_std = getattr(_R, "_standard_gate", None), getattr(CZGate, "_standard_gate", None)
    from_standard: Any = getattr(CircuitInstruction, "from_standard", None)
    fast = r_std is not None and cz_std is not None and from_standard is not None
    for op in ops:
        instr, name = op.instr, op.name
        targets = [qubits[i] for i in op.qubits]
        if name == "prx":
            if fast:
                append(
                    from_standard(r_std, targets, (instr.angle, instr.phase)), _standard_gate=True
                )
            else:
                append(CircuitInstruction(_R(instr.angle, instr.phase), targets, ()))
        elif name == "cz":
            if fast:
                append(from_standard(cz_std, targets, ()), _standard_gate=True)
            else:
                append(CircuitInstruction(cz, targets, ()))
        elif name == "measure":
            assert instr.key is not None
            bits: dict[str, Clbit] = {}
            for j, (reg, bit) in enumerate(slots[id(instr)]):
                target, clbit = targets[j], cregs[reg][bit]
                append(CircuitInstruction(measure, (target,), (clbit,)))
                bits[instr.locus[j]] = clbit
            if instr.feedback_key is not None:
                if instr.feedback_key in feedback:
                    raise _error(
                        f"{instr.path}.args.feedback_key",
                        f"feedback key {instr.feedback_key!r} is used twice",
                    )
                feedback[instr.feedback_key] = bits
        elif name == "cc_prx":
            assert instr.feedback_key is not None and instr.feedback_qubit is not None
            source = feedback.get(instr.feedback_key)
            if source is None:
                raise _error(
                    f"{instr.path}.args.feedback_key",
                    f"no earlier measure has feedback_key {instr.feedback_key!r}",
                )
            if instr.feedback_qubit not in source:
                raise _error(
                    f"{instr.path}.args.feedback_qubit",
                    f"{instr.feedback_qubit} is not measured by the feedback measurement",
                )
            clbit = source[instr.feedback_qubit]
            with qc.if_test((clbit, 1)):
                qc.r(instr.angle, instr.phase, targets[0])
        elif name == "barrier":
            append(CircuitInstruction(Barrier(len(targets)), targets, ()))
        elif name == "reset":
            for target in targets:
                append(CircuitInstruction(reset, (target,), ()))
        elif name == "delay":
            for target in targets:
                qc.delay(instr.duration, target, unit="s")
    return qc


def iqm_client_circuit(payload: Any) -> Any:
    """The payload as iqm-client's own ``iqm.pulse.Circuit`` (``locus``, radians).

    iqm-client 36 refuses the Hub's form (``qubits``, turns) as an "obsolete circuit
    type"; this is what ``IQMClient.submit_circuits`` takes. Qubit mappings are applied
    (physical names); MOVE sandwiches are kept as written.

    Raises:
        ProgramError: the payload is not a valid IQM program.
        MissingDependencyError: iqm-client is not installed.
    """
    from qbroker.errors import MissingDependencyError

    parsed = _parse(payload)
    _build(parsed)  # the same checks a read makes (keys, sandwiches, feedback)
    try:
        from iqm.pulse.builder import CircuitOperation
        from iqm.pulse.circuit_operations import Circuit
    except ImportError:
        raise MissingDependencyError("iqm-client's circuit model", "iqm") from None
    operations = []
    for instr in parsed.instructions:
        args: dict[str, Any] = {}
        if instr.name in ("prx", "cc_prx"):
            args = {"angle": instr.angle, "phase": instr.phase}
            if instr.name == "cc_prx":
                args |= {"feedback_key": instr.feedback_key, "feedback_qubit": instr.feedback_qubit}
        elif instr.name == "measure":
            args = {"key": instr.key}
            if instr.feedback_key is not None:
                args["feedback_key"] = instr.feedback_key
        elif instr.name == "delay":
            args = {"duration": instr.duration}
        operations.append(CircuitOperation(name=instr.name, locus=instr.locus, args=args))
    return Circuit(
        name=parsed.name, instructions=tuple(operations), metadata=parsed.metadata or None
    )


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------

#: Qiskit gates written directly as one IQM instruction (iqm.qiskit_iqm does the same);
#: everything else is decomposed onto r + cz first.
_DIRECT = frozenset(
    {"r", "x", "y", "rx", "ry", "cz", "measure", "barrier", "reset", "delay", "id", "if_else"}
)
_IQM_NATIVES = frozenset({"prx", "cz", "move", "measure", "barrier", "reset", "delay", "cc_prx"})
_DELAY_SECONDS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9, "ps": 1e-12}


def write_iqm(circuit: object, backend: Backend | None, options: WriteOptions) -> dict[str, Any]:
    """A QuantumCircuit as the Hub's IQM job input ``{"circuits": [circuit]}``.

    Without a backend the circuit is decomposed onto ``prx`` + ``cz`` between any qubits,
    and qubit ``i`` is named ``QB{i+1}``. With one, it is laid out and routed on the
    backend's couplers and qubits are named by its ``qubit_labels``; on a Star-architecture
    backend (``move`` among its natives) each ``cz`` goes through the resonator ``CR1``.

    Raises:
        UnsupportedError: what IQM's format cannot express (unbound parameters, a bit
            measured twice, classical control other than IQM's feedback ...), or a backend
            whose native gates are not IQM instructions.
    """
    # Before anything goes by name (the direct path, the transpiler): a custom gate named
    # ``ecr`` with another definition must not become IQM's translation of the real ECR.
    qc = resolve_lookalikes(circuit_of(circuit))
    unit = options.angle_unit or "turns"
    if unit not in ("turns", "radians"):
        raise UnsupportedError(f"angle_unit must be 'turns' or 'radians', not {unit!r}")
    if qc.parameters:
        names = ", ".join(sorted(p.name for p in qc.parameters))
        raise UnsupportedError(f"bind parameter(s) {names} before writing IQM instructions")
    for name in qc.count_ops():
        if name in _gates.CONTROL_FLOW and name != "if_else":
            raise UnsupportedError(
                f"IQM's format has no {name}: its only classical control is feedback (cc_prx)"
            )
    star = False
    labels: tuple[str, ...] | None = None
    if backend is None:
        fitted = qc if _is_direct(qc) else _to_native(_reduce_angles(qc))
    else:
        config = backend.configuration
        natives = {n.lower() for n in (config.native_gate_names or config.gate_names)}
        foreign = sorted(natives - _IQM_NATIVES)
        if foreign:
            raise UnsupportedError(
                f"{backend.id}'s native gates ({', '.join(foreign)}) are not IQM instructions"
            )
        _check_operations(qc, backend)
        fitted = on_backend(_reduce_angles(qc), backend)
        if not _is_direct(fitted):
            fitted = _to_native(fitted)
        labels = tuple(config.qubit_labels) if config.qubit_labels else None
        star = "move" in natives
    width = None if backend is None else qc.num_qubits
    return _serialise(fitted, labels, star, unit, source_width=width)


def _is_direct(qc: QuantumCircuit) -> bool:
    for instruction in qc.data:
        name = instruction.name
        if name not in _DIRECT:
            return False
        if name == "if_else":
            for block in instruction.operation.blocks:
                if not _is_direct(block):
                    return False
    return True


def _check_operations(qc: QuantumCircuit, backend: Backend) -> None:
    """Name what the backend does not list, before the transpiler words it less clearly."""
    listed = {o.lower() for o in backend.configuration.operations}
    for name in qc.count_ops():
        if name in _gates.CONTROL_FLOW and name not in listed:
            raise UnsupportedError(
                f"{backend.id} does not list classical feedback ({name}) among its operations"
            )
        if name in ("reset", "delay") and name not in listed:
            raise UnsupportedError(f"{backend.id} does not list {name} among its operations")


@lru_cache(maxsize=1)
def _native_target() -> Target:
    """IQM's gate set between any two qubits: r (= prx) and cz, measure, reset, delay, if."""
    from qiskit.circuit import IfElseOp
    from qiskit.circuit.library import get_standard_gate_name_mapping
    from qiskit.transpiler import Target

    standard = get_standard_gate_name_mapping()
    target = Target(description="IQM prx + cz, all-to-all", num_qubits=None)
    for native in ("prx", "cz"):
        name = _gates.qiskit_name(native)
        assert name is not None
        target.add_instruction(standard[name], name=name)
    for name in ("measure", "reset", "delay"):
        target.add_instruction(standard[name], name=name)
    target.add_instruction(IfElseOp, name="if_else")
    return target


def _native_pass_manager() -> Any:
    """Exact translation onto r + cz: synthesis, basis translation, single-qubit merging.

    Only passes that keep the unitary (no layout, no permutation elision, no
    state-dependent simplification); ~1.5x faster than Qiskit's preset level 1, which
    adds a fixed-point optimisation loop that finds nothing more on this gate set.
    Built per call: a pass manager is not meant to be shared between threads.
    """
    from qiskit.circuit.equivalence_library import SessionEquivalenceLibrary
    from qiskit.transpiler import PassManager
    from qiskit.transpiler.passes import (
        BasisTranslator,
        HighLevelSynthesis,
        Optimize1qGatesDecomposition,
        UnitarySynthesis,
    )

    basis = sorted(_native_target().operation_names)
    return PassManager(
        [
            UnitarySynthesis(basis_gates=basis),
            HighLevelSynthesis(basis_gates=basis, equivalence_library=SessionEquivalenceLibrary),
            BasisTranslator(SessionEquivalenceLibrary, target_basis=basis),
            Optimize1qGatesDecomposition(basis=basis),
        ]
    )


def _reduce_angles(qc: QuantumCircuit) -> QuantumCircuit:
    """Gate angles beyond 4π replaced by the equivalent angle within it, before transpiling.

    Qiskit's basis translation does angle arithmetic symbolically (``φ + π/2`` ...), which
    for a huge angle (``u(0, 1e300, 0)``) loses every digit that matters, while the gate's
    own matrix (cos and sin of the exact float) does not. Every standard gate depends on an
    angle x only through e^{ikx/2} for whole k, so 2·atan2(sin(x/2), cos(x/2)), which keeps
    cos(x/2) and sin(x/2) to the last bit, is the same gate.
    """
    limit = 2 * _TAU
    changed: QuantumCircuit | None = None
    for position, instruction in enumerate(qc.data):
        params = instruction.params
        if not params or instruction.is_control_flow():
            continue
        if not any(isinstance(p, float) and not -limit <= p <= limit for p in params):
            continue
        operation = instruction.operation.copy()
        operation.params = [
            _reduce(p) if isinstance(p, float) and not -limit <= p <= limit else p for p in params
        ]
        if changed is None:
            changed = qc.copy()
        changed.data[position] = instruction.replace(operation=operation)
    return qc if changed is None else changed


def _reduce(angle: float) -> float:
    half = angle / 2.0
    return 2.0 * math.atan2(math.sin(half), math.cos(half))


def _to_native(qc: QuantumCircuit) -> QuantumCircuit:
    from qiskit.transpiler.exceptions import TranspilerError

    try:
        out: QuantumCircuit = _native_pass_manager().run(qc)
    except TranspilerError as exc:
        message = " ".join(str(exc).split()).strip("'\"")
        raise UnsupportedError(f"cannot express the circuit in IQM's gates: {message}") from None
    return out


def _radians_out(angle: float, phase: float) -> tuple[float, float]:
    """Angles out of one period reduced, exactly enough that turns survive the trip.

    R(θ, φ) depends on θ through cos(θ/2), sin(θ/2) and on φ through cos φ, sin φ, so
    atan2 of those recovers an equivalent angle to the last bit, even for θ = 1e300 where
    θ / 2π would have lost every digit that matters. Angles within one period (4π, 2π)
    are left as they are, so a read-back payload writes the same numbers again.
    """
    if not -2 * _TAU <= angle <= 2 * _TAU:
        angle = _reduce(angle)
    if not -_TAU <= phase <= _TAU:
        phase = math.atan2(math.sin(phase), math.cos(phase))
    return angle, phase


@dataclass
class _Writer:
    names: list[str]
    unit: Literal["turns", "radians"]
    star: bool
    out: list[dict[str, Any]] = field(default_factory=list)
    held: int | None = None  # qubit whose state is in the resonator (Star architecture)
    touched: set[int] = field(default_factory=set)

    def emit(self, name: str, qubits: tuple[int, ...], args: dict[str, Any]) -> None:
        if self.held is not None and self.held in qubits:
            self.close()
        self.touched.update(qubits)
        self.out.append({"name": name, "qubits": [self.names[q] for q in qubits], "args": args})

    def rotation(
        self, name: str, qubit: int, angle: float, phase: float, extra: dict[str, Any]
    ) -> None:
        angle, phase = _radians_out(float(angle), float(phase))
        if self.unit == "turns":
            args = {"angle_t": angle / _TAU, "phase_t": phase / _TAU}
        else:
            args = {"angle": angle, "phase": phase}
        self.emit(name, (qubit,), args | extra)

    def cz(self, a: int, b: int) -> None:
        if not self.star:
            self.emit("cz", (a, b), {})
            return
        self.touched.update((a, b))
        if self.held == a:
            a, b = b, a
        if self.held != b:
            self.close()
            self.out.append({"name": "move", "qubits": [self.names[b], RESONATOR], "args": {}})
            self.held = b
        self.out.append({"name": "cz", "qubits": [self.names[a], RESONATOR], "args": {}})

    def close(self) -> None:
        if self.held is not None:
            self.out.append(
                {"name": "move", "qubits": [self.names[self.held], RESONATOR], "args": {}}
            )
            self.held = None


def _label(labels: tuple[str, ...] | None, index: int) -> str:
    if labels is None:
        return f"QB{index + 1}"
    if index >= len(labels):
        raise UnsupportedError(
            f"the backend names {len(labels)} qubits; the circuit uses qubit {index}"
        )
    return labels[index]


def _serialise(
    qc: QuantumCircuit,
    labels: tuple[str, ...] | None,
    star: bool,
    unit: Literal["turns", "radians"],
    *,
    source_width: int | None,
) -> dict[str, Any]:
    if qc.num_qubits == 0:
        raise UnsupportedError("IQM circuits need at least one qubit; this circuit has none")
    writer = _Writer(names=[_label(labels, i) for i in range(qc.num_qubits)], unit=unit, star=star)
    keys, registers = _measurement_keys(qc)
    measured: dict[Clbit, tuple[int, dict[str, Any]]] = {}  # clbit -> (qubit, its measure)
    _write_block(qc, writer, keys, measured)
    writer.close()
    if not writer.out:
        # Nothing to do (or all of it cancelled): IQM needs one instruction, and a barrier
        # over the circuit's qubits does nothing.
        writer.emit("barrier", tuple(range(qc.num_qubits)), {})

    body: dict[str, Any] = {"name": qc.name or "circuit", "instructions": writer.out}
    layout = qc.layout
    if source_width is None or layout is None:
        body["qubits"] = list(writer.names)  # the circuit's own qubits, idle ones included
    else:
        # laid out on a device: the qubits used, and where the source's idle qubits went
        used = set(writer.touched)
        initial = layout.initial_layout
        for virtual, position in layout.input_qubit_mapping.items():
            if position < source_width:
                used.add(initial[virtual])
        body["qubits"] = [writer.names[i] for i in sorted(used)]
    metadata = _json_metadata(qc.metadata)
    if len({keys[bit][1] for bit in measured}) < len(registers):
        # some register is written by no measurement, so no key shows it: list them all
        metadata["qbroker"] = {
            "classical_registers": [{"name": n, "size": s} for n, s in registers]
        }
    if metadata:
        body["metadata"] = metadata
    return {"circuits": [body]}


def _json_metadata(metadata: Any) -> dict[str, Any]:
    if not isinstance(metadata, dict) or not metadata:
        return {}
    kept: dict[str, Any] = {}
    for key, value in metadata.items():
        if not isinstance(key, str) or key == "qbroker":
            continue
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):
            continue  # not JSON: it cannot travel in a JSON job input
        kept[key] = value
    return kept


def _measurement_keys(
    qc: QuantumCircuit,
) -> tuple[dict[Clbit, tuple[str, int]], list[tuple[str, int]]]:
    """iqm.qiskit_iqm's MeasurementKey (and register index) per bit, and the registers.

    When the bits are not exactly the registers laid end to end (bits outside any
    register, a bit in two registers, registers built out of order), the keys describe
    one register ``c`` over all bits in order instead: names are lost, positions kept.
    """
    ordered = [bit for creg in qc.cregs for bit in creg]
    if ordered == list(qc.clbits) and len(set(ordered)) == len(ordered):
        keys: dict[Clbit, tuple[str, int]] = {}
        for r, creg in enumerate(qc.cregs):
            for i, bit in enumerate(creg):
                keys[bit] = (f"{creg.name}_{len(creg)}_{r}_{i}", r)
        # a zero-size register holds no bit but keeps its place (and is listed in metadata)
        return keys, [(creg.name, len(creg)) for creg in qc.cregs]
    n = qc.num_clbits
    if n == 0:
        return {}, []
    return {bit: (f"c_{n}_0_{i}", 0) for i, bit in enumerate(qc.clbits)}, [("c", n)]


def _write_block(
    qc: QuantumCircuit,
    writer: _Writer,
    keys: dict[Clbit, tuple[str, int]],
    measured: dict[Clbit, tuple[int, dict[str, Any]]],
) -> None:
    index = {bit: i for i, bit in enumerate(qc.qubits)}
    # CircuitInstruction.name / .params read Qiskit's Rust data without building a Python
    # gate object per instruction (.operation would).
    for instruction in qc.data:
        name = instruction.name
        qubits = tuple([index[q] for q in instruction.qubits])
        if name == "r":
            params = instruction.params
            writer.rotation("prx", qubits[0], params[0], params[1], {})
        elif name == "cz":
            writer.cz(*qubits)
        elif name in ("x", "y", "rx", "ry"):
            angle = math.pi if name in ("x", "y") else float(instruction.params[0])
            phase = math.pi / 2 if name in ("y", "ry") else 0.0
            writer.rotation("prx", qubits[0], angle, phase, {})
        elif name == "measure":
            clbit = instruction.clbits[0]
            if clbit in measured:
                raise UnsupportedError(
                    f"classical bit {_bit_name(qc, clbit)} is written by two measurements; "
                    "IQM measurement keys are unique, so only one measurement may write a bit"
                )
            writer.emit("measure", qubits, {"key": keys[clbit][0]})
            measured[clbit] = (qubits[0], writer.out[-1])
        elif name == "barrier":
            writer.emit("barrier", qubits, {})
        elif name == "reset":
            writer.emit("reset", qubits, {})
        elif name == "delay":
            writer.emit("delay", qubits, {"duration": _delay_seconds(instruction.operation)})
        elif name == "id":
            continue
        elif name == "if_else":
            _write_feedback(qc, instruction, qubits, writer, measured)
        elif name in _gates.CONTROL_FLOW:
            raise UnsupportedError(
                f"IQM's format has no {name}: only IQM feedback (cc_prx) is classical control"
            )
        else:
            raise UnsupportedError(f"IQM has no instruction for {name!r}")


def _bit_name(qc: QuantumCircuit, clbit: Clbit) -> str:
    location = qc.find_bit(clbit)
    if location.registers:
        register, i = location.registers[0]
        return f"{register.name}[{i}]"
    return f"clbit {location.index}"


def _write_feedback(
    qc: QuantumCircuit,
    instruction: Any,
    qubits: tuple[int, ...],
    writer: _Writer,
    measured: dict[Clbit, tuple[int, dict[str, Any]]],
) -> None:
    """``if (bit == 1) { rotations }`` as IQM's cc_prx, fed by the measure that wrote ``bit``."""
    from qiskit.circuit import ClassicalRegister
    from qiskit.circuit import Clbit as _Clbit

    op = instruction.operation
    true_body, false_body = op.blocks[0], (op.blocks[1] if len(op.blocks) > 1 else None)
    if false_body is not None and false_body.data:
        raise UnsupportedError("IQM feedback (cc_prx) has no else-branch")
    condition = op.condition
    if not isinstance(condition, tuple):
        raise UnsupportedError(
            "IQM feedback conditions on one measured bit being 1, not on an expression"
        )
    target, value = condition
    if isinstance(target, ClassicalRegister):
        if len(target) != 1:
            raise UnsupportedError(
                f"IQM feedback conditions on one bit, not on register {target.name} "
                f"of {len(target)}"
            )
        target = target[0]
    if not isinstance(target, _Clbit) or value not in (1, True):
        raise UnsupportedError(
            f"IQM feedback runs gates when a measured bit is 1, not when it is {value!r}"
        )
    source = measured.get(target)
    if source is None:
        raise UnsupportedError(
            f"the if-block conditions on {_bit_name(qc, target)} before any measurement writes it"
        )
    feedback_qubit, measure = source
    key = measure["args"]["key"]
    measure["args"]["feedback_key"] = key
    extra = {"feedback_key": key, "feedback_qubit": writer.names[feedback_qubit]}
    wires = [qubits[i] for i in range(len(true_body.qubits))]
    local = {bit: wires[i] for i, bit in enumerate(true_body.qubits)}
    for inner in true_body.data:
        gate = inner.operation
        q = local[inner.qubits[0]] if inner.qubits else 0
        if gate.name == "r":
            writer.rotation("cc_prx", q, gate.params[0], gate.params[1], extra)
        elif gate.name in ("x", "y", "rx", "ry"):
            angle = math.pi if gate.name in ("x", "y") else float(gate.params[0])
            phase = math.pi / 2 if gate.name in ("y", "ry") else 0.0
            writer.rotation("cc_prx", q, angle, phase, extra)
        elif gate.name in ("barrier", "id"):
            continue
        else:
            raise UnsupportedError(
                "IQM feedback (cc_prx) conditions single-qubit rotations only; "
                f"the if-block holds {gate.name}"
            )


def _delay_seconds(op: Any) -> float:
    factor = _DELAY_SECONDS.get(op.unit)
    if factor is None:
        raise UnsupportedError(
            f"a delay in {op.unit!r} has no duration in IQM's format (which takes seconds)"
        )
    return float(op.params[0]) * factor


CODEC = Codec(
    format=InputFormat.IQM_JOB_INPUT_V1,
    kind=Kind.GATE,
    payload=dict,
    read=read_iqm,
    write=write_iqm,
    description="IQM native circuit: prx/cz/move/measure on QB1... (turns or radians)",
)
