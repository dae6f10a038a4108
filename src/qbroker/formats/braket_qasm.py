"""Amazon Braket's OpenQASM 3 dialect: a reader written for it and a writer for Braket devices.

Braket's dialect is OpenQASM 3 without include files. Its gates are built in under Braket's
names (``cnot``, ``si``, ``v``, ``phaseshift``, ``cphaseshift01``, ``pswap``, ``xy``, ``gpi``,
``ms``, ``prx`` ...); physical qubits are written ``$n``; ``#pragma braket verbatim`` followed
by ``box { ... }`` marks a region the device must run as written (native gates on physical
qubits); ``#pragma braket result ...`` asks for result types, ``#pragma braket noise ...``
adds noise channels and ``#pragma braket unitary(...)`` applies a matrix.

Reading
    A statement-level reader for this dialect builds the ``QuantumCircuit`` directly. Qiskit's
    readers do not fit: on a 10,000-gate Braket program (CPU time, this machine) Qiskit's
    Rust reader, given an include file declaring Braket's gates, takes ~72 ms and cannot
    read ``$n``, ``box``, pragmas, arithmetic such as ``pi/2``, ``U``, ``gphase``, gate
    modifiers or ``measure q[0];`` (and panics on bare ``{ }`` blocks); the ANTLR reader
    takes seconds and rejects pragmas. This reader reads all of those, in ~38 ms per
    10,000 gates. Every error is a ProgramError naming the line and column; hostile input
    is bounded (:data:`MAX_WIDTH`, :data:`MAX_DEPTH`, :data:`MAX_EXPRESSION`).

    What the reader decides (each choice keeps what the program does on Braket):

    - Gates Qiskit has: mapped to Qiskit's classes (``cnot`` -> CX, ``si`` -> Sdg,
      ``v`` -> SX, ``cv`` -> CSX, ``phaseshift`` -> P, ``prx`` -> R, ``xy(t)`` ->
      XXPlusYY(-t), ``xx`` -> RXX, ``U`` -> U ...). Gates it lacks (``gpi``, ``gpi2``,
      ``ms``, ``pswap``, ``cphaseshift00/01/10``) become the small gate classes below, each
      defined exactly (global phase included) in Qiskit's gates, so other formats
      decompose them. Every mapping is checked against the matrices Braket's simulator uses.
    - Physical qubits ``$n`` are qubit ``n`` of a circuit of width ``max(n) + 1``: indices are
      kept, so the program still addresses the same device qubits; unused qubits stay idle.
      A program may not mix ``$n`` with declared qubits. ``metadata["braket_physical_qubits"]``
      is set.
    - Verbatim boxes: their gates are kept, in order, and ``metadata["braket_verbatim"]`` is
      set (Qiskit has no "do not compile" region a writer could carry).
    - Result-type pragmas do not change what is sampled; they are kept, as written, in
      ``metadata["braket_result_types"]`` and otherwise ignored. Noise pragmas change the
      distribution and qbroker's circuits carry no noise channels: they are refused.
      ``#pragma braket unitary`` becomes a ``UnitaryGate`` (Braket's matrices put the first
      target in the most significant place).
    - A program that measures nothing is measured by Braket on every qubit it uses; the
      reader adds those measurements (clbit ``k`` = the ``k``-th used qubit in index order,
      the order of Braket's result keys), drops declared bits nothing writes, and sets
      ``metadata["braket_implicit_measurement"]``. ``measure q[0];`` without a destination
      gets a new bit, in statement order (Braket's order for such results).
    - Arithmetic follows Braket's evaluator: integers divide as integers (``1/2`` is 0) with
      Python's floor and modulo. ``pow(k) @`` uses Braket's matrix power (whole powers are
      repeated exactly). ``input float x;`` becomes a Qiskit ``Parameter``; ``const``
      values are folded; user gate definitions become gates with definitions. Classical
      control flow (``if``, ``for``, ``while``, subroutines) is refused.

Writing
    Without a backend the writer emits Braket's dialect with virtual qubits (``qubit[n] q;``,
    ``bit[m] b;``), Braket's gate names, angles as shortest round-trip floats (parameter
    expressions with float literals, for the same reason as above), and every measurement
    as ``b[j] = measure q[i];`` at the end in clbit order (Braket's result keys list
    measured bits in bit order). Gates Braket lacks are translated exactly (Qiskit's
    synthesis and basis translation; global phase and barriers are dropped). A custom
    gate carrying a standard gate's name (``gate sxdg a {...}``, as Qiskit's OpenQASM 3
    exporter writes) is written as that gate only when its definition has the same matrix,
    and expanded through its definition otherwise (``qbroker.formats._lookalikes``). With a
    simulator backend only its listed gates are used (SV1's list when the catalog lists
    none). With a QPU backend the circuit is fitted to the device's native gates and
    couplers (:func:`qbroker.formats._prepare.on_backend`) and written on physical qubits
    (Braket's numbering: IQM's ``QB1`` is ``$1``) inside a ``#pragma braket verbatim`` box,
    the form Braket requires for native-gate programs. Qiskit's ``r``/``rxx`` become IQM's
    ``prx`` or IonQ's ``gpi``/``gpi2``/``ms`` (MS angle kept in [0, pi/2]), and Rigetti's
    ``rx`` is kept to multiples of pi/2, all exactly (up to global phase). Refused with
    UnsupportedError: classical control flow, operations on a qubit after it is measured,
    a clbit written twice, resets after a qubit was used, delays, and opaque gates.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from qiskit.circuit import CircuitInstruction, Gate, QuantumCircuit

from qbroker.errors import ProgramError, UnsupportedError
from qbroker.formats._codec import Codec, Kind, WriteOptions, circuit_of
from qbroker.formats._limits import OPENQASM_CONSTANTS
from qbroker.formats._lookalikes import resolve_lookalikes
from qbroker.model.enums import BackendType, InputFormat

if TYPE_CHECKING:  # pragma: no cover
    from qiskit.circuit import Clbit, Instruction, Qubit

    from qbroker.model import Backend

__all__ = [
    "CODEC",
    "BraketGate",
    "CPhaseShift00Gate",
    "CPhaseShift01Gate",
    "CPhaseShift10Gate",
    "GPi2Gate",
    "GPiGate",
    "MSGate",
    "PSwapGate",
    "read_braket_qasm",
    "write_braket_qasm",
]

_FORMAT = InputFormat.BRAKET_OPEN_QASM_V3.value
#: Most qubits (or clbits) a program may declare or address; Braket's largest gate-model
#: device has 83 qubits, so this only stops hostile sizes before anything is allocated.
MAX_WIDTH = 65_536
#: Deepest nesting of expressions and of gate definitions calling gate definitions.
MAX_DEPTH = 64
#: Longest expression read (characters): no real angle is longer, and a hostile one would
#: otherwise cost seconds to tokenise. A unitary pragma's matrix may be longer.
MAX_EXPRESSION = 10_000
MAX_MATRIX_TEXT = 400_000


# ======================================================================================
# Braket gates Qiskit has no class for
# ======================================================================================


class BraketGate(Gate):  # type: ignore[misc]  # qiskit ships no type information
    """A Braket gate without a Qiskit class; its definition is exact, global phase included.

    Its matrix is computed with Braket's own formula (``_braket_matrix``, first qubit most
    significant), so matrix-level work (``pow(k) @`` modifiers, simulation) sees the very
    numbers Braket's simulator uses.
    """

    def _braket_matrix(self, *params: float) -> Any:  # pragma: no cover - every subclass has one
        raise NotImplementedError

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        matrix = _little_endian(self._braket_matrix(*(float(p) for p in self.params)))
        return matrix if dtype is None else matrix.astype(dtype)


class GPiGate(BraketGate):
    """IonQ's GPi(phi) = [[0, e^-i phi], [e^i phi, 0]] = i R(pi, phi) (phi in radians)."""

    def __init__(self, phi: Any, label: str | None = None) -> None:
        super().__init__("gpi", 1, [phi], label=label)

    def _braket_matrix(self, *params: float) -> Any:
        import numpy as np

        (phi,) = params
        return np.array([[0, np.exp(-1j * phi)], [np.exp(1j * phi), 0]], dtype=complex)

    def _define(self) -> None:
        qc = QuantumCircuit(1, global_phase=math.pi / 2)
        qc.r(math.pi, self.params[0], 0)
        self.definition = qc


class GPi2Gate(BraketGate):
    """IonQ's GPi2(phi) = R(pi/2, phi) (phi in radians)."""

    def __init__(self, phi: Any, label: str | None = None) -> None:
        super().__init__("gpi2", 1, [phi], label=label)

    def _braket_matrix(self, *params: float) -> Any:
        import numpy as np

        (phi,) = params
        return np.array(
            [[1, -1j * np.exp(-1j * phi)], [-1j * np.exp(1j * phi), 1]], dtype=complex
        ) / np.sqrt(2)

    def _define(self) -> None:
        qc = QuantumCircuit(1)
        qc.r(math.pi / 2, self.params[0], 0)
        self.definition = qc


class MSGate(BraketGate):
    """IonQ's Molmer-Sorensen MS(phi0, phi1, theta) = exp(-i theta/2 s(phi0) (x) s(phi1)).

    ``s(phi) = cos(phi) X + sin(phi) Y``; ``theta`` defaults to pi/2 as in Braket. Equal to
    RXX(theta) conjugated by RZ(phi0) (x) RZ(phi1). Not Qiskit's ``MSGate`` (a global
    n-qubit XX rotation without phases), although both are named ``ms``.
    """

    def __init__(
        self, phi0: Any, phi1: Any, theta: Any = math.pi / 2, label: str | None = None
    ) -> None:
        super().__init__("ms", 2, [phi0, phi1, theta], label=label)

    def _braket_matrix(self, *params: float) -> Any:
        import numpy as np

        phi0, phi1, theta = params
        cos, isin = np.cos(theta / 2), -1j * np.sin(theta / 2)
        return np.array(
            [
                [cos, 0, 0, np.exp(-1j * (phi0 + phi1)) * isin],
                [0, cos, np.exp(-1j * (phi0 - phi1)) * isin, 0],
                [0, np.exp(1j * (phi0 - phi1)) * isin, cos, 0],
                [np.exp(1j * (phi0 + phi1)) * isin, 0, 0, cos],
            ],
            dtype=complex,
        )

    def _define(self) -> None:
        phi0, phi1, theta = self.params
        qc = QuantumCircuit(2)
        qc.rz(-phi0, 0)
        qc.rz(-phi1, 1)
        qc.rxx(theta, 0, 1)
        qc.rz(phi0, 0)
        qc.rz(phi1, 1)
        self.definition = qc


class PSwapGate(BraketGate):
    """Braket's PSwap(theta): SWAP with phase e^(i theta) on |01> and |10>."""

    def __init__(self, theta: Any, label: str | None = None) -> None:
        super().__init__("pswap", 2, [theta], label=label)

    def _braket_matrix(self, *params: float) -> Any:
        import numpy as np

        phase = np.exp(1j * params[0])
        return np.array(
            [[1, 0, 0, 0], [0, 0, phase, 0], [0, phase, 0, 0], [0, 0, 0, 1]], dtype=complex
        )

    def _define(self) -> None:
        theta = self.params[0]
        qc = QuantumCircuit(2, global_phase=theta / 2)
        qc.rzz(theta, 0, 1)
        qc.swap(0, 1)
        self.definition = qc


class _CPhaseShiftOnState(BraketGate):
    """Phase e^(i theta) on one two-qubit basis state (``_STATE``: first, second qubit)."""

    _STATE: tuple[int, int] = (1, 1)
    _NAME = ""

    def __init__(self, theta: Any, label: str | None = None) -> None:
        super().__init__(self._NAME, 2, [theta], label=label)

    def _braket_matrix(self, *params: float) -> Any:
        import numpy as np

        diagonal = np.ones(4, dtype=complex)
        diagonal[2 * self._STATE[0] + self._STATE[1]] = np.exp(1j * params[0])
        return np.diag(diagonal)

    def _define(self) -> None:
        flips = [q for q, bit in enumerate(self._STATE) if bit == 0]
        qc = QuantumCircuit(2)
        for q in flips:
            qc.x(q)
        qc.cp(self.params[0], 0, 1)
        for q in flips:
            qc.x(q)
        self.definition = qc


class CPhaseShift00Gate(_CPhaseShiftOnState):
    """Braket's CPhaseShift00(theta) = diag(e^(i theta), 1, 1, 1): both qubits 0."""

    _STATE = (0, 0)
    _NAME = "cphaseshift00"


class CPhaseShift01Gate(_CPhaseShiftOnState):
    """Braket's CPhaseShift01(theta): phase when the first qubit is 0 and the second is 1."""

    _STATE = (0, 1)
    _NAME = "cphaseshift01"


class CPhaseShift10Gate(_CPhaseShiftOnState):
    """Braket's CPhaseShift10(theta): phase when the first qubit is 1 and the second is 0."""

    _STATE = (1, 0)
    _NAME = "cphaseshift10"


def _little_endian(matrix: Any) -> Any:
    """A matrix in Braket's qubit order (first qubit most significant) in Qiskit's, or back."""
    qubits = matrix.shape[0].bit_length() - 1
    if qubits < 2:
        return matrix
    axes = list(range(qubits - 1, -1, -1))
    tensor = matrix.reshape([2] * (2 * qubits))
    return tensor.transpose(axes + [a + qubits for a in axes]).reshape(matrix.shape)


_BRAKET_CLASSES: dict[str, type[BraketGate]] = {
    "gpi": GPiGate,
    "gpi2": GPi2Gate,
    "ms": MSGate,
    "pswap": PSwapGate,
    "cphaseshift00": CPhaseShift00Gate,
    "cphaseshift01": CPhaseShift01Gate,
    "cphaseshift10": CPhaseShift10Gate,
}


# ======================================================================================
# The gate table: Braket name <-> Qiskit
# ======================================================================================


@dataclass(frozen=True)
class _Builtin:
    """One Braket built-in gate as the reader builds it.

    ``standard`` names a Qiskit standard gate (fast path, parameters passed through);
    otherwise ``make`` builds the operation from the parameters.
    """

    params: int
    qubits: int
    standard: str | None = None
    make: Callable[..., Instruction] | None = None
    optional_params: int = 0
    standard_gate: Any = None  # Qiskit's StandardGate for ``standard``, filled in once


def _builtins() -> dict[str, _Builtin]:
    from qiskit.circuit.library import XXPlusYYGate

    def xy(theta: Any) -> Instruction:
        # Braket XY(t) has +i sin(t/2) off the diagonal, Qiskit XXPlusYY(t) has -i sin(t/2).
        return XXPlusYYGate(-theta, 0.0)

    std = {
        # Braket name: (Qiskit standard gate name, parameters, qubits)
        "i": ("id", 0, 1),
        "h": ("h", 0, 1),
        "x": ("x", 0, 1),
        "y": ("y", 0, 1),
        "z": ("z", 0, 1),
        "s": ("s", 0, 1),
        "si": ("sdg", 0, 1),
        "t": ("t", 0, 1),
        "ti": ("tdg", 0, 1),
        "v": ("sx", 0, 1),
        "vi": ("sxdg", 0, 1),
        "rx": ("rx", 1, 1),
        "ry": ("ry", 1, 1),
        "rz": ("rz", 1, 1),
        "phaseshift": ("p", 1, 1),
        "prx": ("r", 2, 1),
        "U": ("u", 3, 1),
        "cnot": ("cx", 0, 2),
        "cy": ("cy", 0, 2),
        "cz": ("cz", 0, 2),
        "cv": ("csx", 0, 2),
        "ecr": ("ecr", 0, 2),
        "swap": ("swap", 0, 2),
        "iswap": ("iswap", 0, 2),
        "cphaseshift": ("cp", 1, 2),
        "xx": ("rxx", 1, 2),
        "yy": ("ryy", 1, 2),
        "zz": ("rzz", 1, 2),
        "ccnot": ("ccx", 0, 3),
        "cswap": ("cswap", 0, 3),
    }
    table = {name: _Builtin(p, q, standard=s) for name, (s, p, q) in std.items()}
    table["xy"] = _Builtin(1, 2, make=xy)
    for name, cls in _BRAKET_CLASSES.items():
        qubits = 2 if name != "gpi" and name != "gpi2" else 1
        params = 3 if name == "ms" else 1
        table[name] = _Builtin(params, qubits, make=cls, optional_params=1 if name == "ms" else 0)
    return table


#: Qiskit standard gate name -> Braket name, for gates written as they are.
_QISKIT_TO_BRAKET: dict[str, str] = {
    "id": "i",
    "h": "h",
    "x": "x",
    "y": "y",
    "z": "z",
    "s": "s",
    "sdg": "si",
    "t": "t",
    "tdg": "ti",
    "sx": "v",
    "sxdg": "vi",
    "rx": "rx",
    "ry": "ry",
    "rz": "rz",
    "p": "phaseshift",
    "u1": "phaseshift",
    "r": "prx",
    "u": "U",
    "u3": "U",
    "cx": "cnot",
    "cy": "cy",
    "cz": "cz",
    "csx": "cv",
    "ecr": "ecr",
    "swap": "swap",
    "iswap": "iswap",
    "cp": "cphaseshift",
    "rxx": "xx",
    "ryy": "yy",
    "rzz": "zz",
    "ccx": "ccnot",
    "cswap": "cswap",
}

#: Every gate name Braket's dialect defines (the simulator's table; ``unitary`` is a pragma).
BRAKET_GATE_NAMES: frozenset[str] = frozenset(
    [*_QISKIT_TO_BRAKET.values(), "xy", *_BRAKET_CLASSES, "gphase"]
)


# ======================================================================================
# Reading
# ======================================================================================

_IDENT = r"[^\W\d]\w*+"  # possessive: a name is never given back to what follows
# Linear time on any statement: whitespace is matched possessively (``\s*+``: never given
# back), and a group whose trailing whitespace the pattern drops ends on a non-space
# (``(.*\S)``) instead of being lazy (``(.*?)\s*\Z`` tries every end, scanning the rest
# each time). The lazy forms took 26 s on ``b`` + 500 spaces + ``[0] = measure q[0]``.
_DELIMITER = re.compile(r"[;{}]|#[^\n]*")
_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/|/\*", re.S)
_GATE_CALL = re.compile(rf"\s*+({_IDENT})\s*+(?:\((.*)\))?\s*+((?:[^()=@]*[^()=@\s])?)\s*+\Z", re.S)
_FIRST_WORD = re.compile(rf"\s*+({_IDENT}|\S)")
_OPERAND = re.compile(rf"\s*+(?:\$(\d+)|({_IDENT})\s*+(?:\[([^\[\]]*)\])?)\s*+\Z", re.S)
_PHYSICAL = re.compile(r"\$(\d+)")
_VERSION = re.compile(r"\s*+OPENQASM\s++(\d+)(?:\.(\d+))?\s*+\Z")
_QUBIT_DECL = re.compile(rf"\s*+qubit\s*+(?:\[(.*?)\])?\s*+({_IDENT})\s*+\Z", re.S)
_BIT_DECL = re.compile(
    rf"\s*+bit\s*+(?:\[(.*?)\])?\s*+({_IDENT})\s*+(?:=\s*+((?:.*\S)?))?\s*+\Z", re.S
)
_OLD_DECL = re.compile(rf"\s*+(qreg|creg)\s++({_IDENT})\s*+(?:\[(.*?)\])?\s*+\Z", re.S)
_INPUT_DECL = re.compile(rf"\s*+input\s++(float|angle)(?:\s*+\[\s*+\d+\s*+\])?\s++({_IDENT})\s*+\Z")
_CONST_DECL = re.compile(
    rf"\s*+const\s++(float|angle|int|uint)(?:\s*+\[\s*+\d+\s*+\])?\s++({_IDENT})"
    r"\s*+=\s*+(.*\S)\s*+\Z",
    re.S,
)
_MEASURE_ASSIGN = re.compile(r"\s*+(.*?\S)\s*+=\s*+measure\b\s*+(.*\S)\s*+\Z", re.S)
_MEASURE_ARROW = re.compile(r"\s*+measure\b\s*+(.*?\S)\s*+(?:->\s*+(.*\S)\s*+)?\Z", re.S)
_MODIFIER = re.compile(r"\s*+(inv|pow|ctrl|negctrl)\s*+(?:\((.*?)\))?\s*+@", re.S)
_GATE_DEF = re.compile(rf"\s*+gate\s++({_IDENT})\s*+(?:\((.*?)\))?\s*+((?:.*\S)?)\s*+\Z", re.S)
_BOX = re.compile(r"\s*+box\s*+(\[.*?\])?\s*+\Z", re.S)
_PRAGMA = re.compile(r"#pragma\s++braket\s++(\w+)\s*+((?:.*\S)?)\s*+\Z", re.S)

_UNSUPPORTED_KEYWORDS = {
    "if": "classical control flow ('if')",
    "else": "classical control flow ('else')",
    "for": "classical control flow ('for')",
    "while": "classical control flow ('while')",
    "switch": "classical control flow ('switch')",
    "def": "subroutines ('def')",
    "return": "subroutines ('return')",
    "break": "classical control flow ('break')",
    "continue": "classical control flow ('continue')",
    "end": "'end'",
    "let": "aliases ('let')",
    "int": "classical variables",
    "uint": "classical variables",
    "float": "classical variables",
    "angle": "classical variables",
    "bool": "classical variables",
    "complex": "classical variables",
    "array": "classical arrays",
    "duration": "timing ('duration')",
    "stretch": "timing ('stretch')",
    "delay": "timing ('delay')",
    "output": "output variables",
    "extern": "extern functions",
    "cal": "pulse calibrations ('cal')",
    "defcal": "pulse calibrations ('defcal')",
    "defcalgrammar": "pulse calibrations ('defcalgrammar')",
}


class _ReadError(Exception):
    """Raised inside the reader with an offset; turned into a ProgramError at the top."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


@dataclass
class _GateDef:
    """A user ``gate`` definition: parameter names, qubit names and body statements."""

    name: str
    params: list[str]
    qubits: list[str]
    offset: int
    body: list[tuple[str, int]] = field(default_factory=list)
    cache: dict[tuple[Any, ...], Gate] = field(default_factory=dict)


@dataclass
class _Scope:
    """Where statements land: the program, or the body of a gate being instantiated."""

    circuit: QuantumCircuit
    qubits: dict[str, list[Qubit]]
    singles: set[str]
    env: dict[str, Any]
    in_gate: bool
    depth: int = 0
    operand_cache: dict[str, tuple[list[Qubit], bool]] = field(default_factory=dict)
    broadcast_cache: dict[str, list[tuple[Qubit, ...]]] = field(default_factory=dict)


def read_braket_qasm(text: str | bytes) -> QuantumCircuit:
    """Parse a program in Braket's OpenQASM 3 dialect.

    Raises:
        ProgramError: naming the line and column of the first problem.

    Example:
        >>> qc = read_braket_qasm("OPENQASM 3.0; bit[2] b; qubit[2] q; h q[0]; "
        ...                       "cnot q[0], q[1]; b = measure q;")
        >>> dict(qc.count_ops())
        {'measure': 2, 'h': 1, 'cx': 1}
    """
    if isinstance(text, bytes):
        from qbroker.formats import decode_text

        text = decode_text(text)
    if not isinstance(text, str):
        raise ProgramError("the program must be OpenQASM text", format=_FORMAT)
    reader = _Reader(text)
    try:
        return reader.run()
    except _ReadError as exc:
        line, column = _position(reader.text, exc.offset)
        raise ProgramError(str(exc), format=_FORMAT, line=line, column=column) from None
    except RecursionError:
        raise ProgramError("program nested too deeply to read", format=_FORMAT) from None


def _position(text: str, offset: int) -> tuple[int, int]:
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _strip_comments(text: str) -> str:
    """Blank out comments, keeping every newline so offsets still give the right line."""

    def blank(match: re.Match[str]) -> str:
        found = match.group(0)
        if found == "/*":
            raise _ReadError("unterminated '/*' comment", match.start())
        return re.sub(r"[^\n]", " ", found)

    return _COMMENT.sub(blank, text) if "/" in text else text


class _Reader:
    """One pass over the statements, appending straight into a QuantumCircuit."""

    def __init__(self, source: str) -> None:
        self.text = source
        self.qc = QuantumCircuit()
        self.builtins = _builtin_table()
        self.scope = _Scope(self.qc, {}, set(), {}, in_gate=False)
        self.cregs: dict[str, list[Clbit]] = {}
        self.single_bits: set[str] = set()
        self.gates: dict[str, _GateDef] = {}
        self.physical: list[Qubit] | None = None
        self.blocks: list[int] = []
        self.pending_verbatim: int | None = None
        self.collecting: _GateDef | None = None
        self.statements = 0
        self.measured = False
        self.loose_bits: list[Clbit] = []
        self.metadata: dict[str, Any] = {}

    # -- driver ----------------------------------------------------------------------

    def run(self) -> QuantumCircuit:
        text = self.text = _strip_comments(self.text)
        digits = _PHYSICAL.findall(text) if "$" in text else []
        for n in digits:
            if len(n) > 6:
                raise _ReadError(f"physical qubit ${n[:10]}... is out of range", text.find("$" + n))
        physical = [int(n) for n in digits]
        if physical:
            width = max(physical) + 1
            if width > MAX_WIDTH:
                offset = text.find("$" + str(max(physical)))
                raise _ReadError(f"physical qubit ${width - 1} is beyond ${MAX_WIDTH - 1}", offset)
            from qiskit.circuit import QuantumRegister

            name = "q"  # a name the program does not use, so no declaration clashes with it
            while re.search(rf"(?<![\w$]){name}(?!\w)", text):
                name += "_"
            register = QuantumRegister(width, name)
            self.qc.add_register(register)
            self.physical = list(register)
            self.metadata["braket_physical_qubits"] = True
        last = 0
        for match in _DELIMITER.finditer(text):
            start, end = match.span()
            body = text[last:start]
            token = match.group(0)
            if token == ";":
                self.statement(body, last)
            elif token == "{":
                self.open_block(body, last)
            elif token == "}":
                self.expect_blank(body, last)
                self.close_block(start)
            else:
                self.expect_blank(body, last)
                self.pragma(token, start)
            last = end
        self.expect_blank(text[last:], last)
        if self.collecting is not None:
            raise _ReadError(
                f"gate '{self.collecting.name}' is missing its '}}'", self.collecting.offset
            )
        if self.blocks:
            raise _ReadError("'{' is never closed", self.blocks[-1])
        if self.pending_verbatim is not None:
            raise _ReadError(
                "'#pragma braket verbatim' must be followed by a box", self.pending_verbatim
            )
        return self.finish()

    def expect_blank(self, body: str, offset: int) -> None:
        if body and not body.isspace():
            at = offset + len(body) - len(body.lstrip())
            raise _ReadError(f"expected ';' after {body.strip()[:40]!r}", at)

    def finish(self) -> QuantumCircuit:
        qc = self.qc
        if self.loose_bits:
            from qiskit.circuit import ClassicalRegister

            qc.add_register(ClassicalRegister(name=self._fresh_name("m"), bits=self.loose_bits))
        if not self.measured:
            qc = self._measure_used(qc)
        if self.metadata:
            qc.metadata = dict(self.metadata)
        return qc

    def _measure_used(self, qc: QuantumCircuit) -> QuantumCircuit:
        """Add the measurements Braket makes when a program measures nothing."""
        from qiskit.circuit import ClassicalRegister, Measure

        position = {q: i for i, q in enumerate(qc.qubits)}
        used = {position[q] for inst in qc.data for q in inst.qubits}
        if not used:
            return qc
        register = ClassicalRegister(len(used), self._fresh_name("b"))
        # Declared bits are dropped (nothing wrote them), so compose(), which needs as many
        # bits as the source has, cannot copy; no instruction touches a bit, so each moves as
        # it is (the circuit data tracks their parameters).
        out = QuantumCircuit(*qc.qregs, register, global_phase=qc.global_phase)
        for inst in qc.data:
            out._append(inst)
        measure = Measure()
        for k, index in enumerate(sorted(used)):
            out._append(CircuitInstruction(measure, (qc.qubits[index],), (register[k],)))
        self.metadata["braket_implicit_measurement"] = True
        return out

    def _fresh_name(self, base: str) -> str:
        taken = {r.name for r in (*self.qc.qregs, *self.qc.cregs)} | set(self.scope.env)
        name, n = base, 0
        while name in taken:
            n += 1
            name = f"{base}{n}"
        return name

    # -- statements ------------------------------------------------------------------

    def statement(self, body: str, offset: int) -> None:
        if self.collecting is not None:
            self.collecting.body.append((body, offset))
            return
        if self.pending_verbatim is not None:
            raise _ReadError(
                "'#pragma braket verbatim' must be followed by a box", self.pending_verbatim
            )
        self.statements += 1
        self.execute(self.scope, body, offset)

    def execute(self, scope: _Scope, body: str, offset: int) -> None:
        """Run one statement in ``scope`` (the program, or a gate body)."""
        match = _GATE_CALL.match(body)
        if match is not None and match.group(1) not in _NOT_GATES:
            name, args, operands = match.groups()
            self.gate_call(scope, name, args, operands, offset + match.start(1), ())
            return
        first = _FIRST_WORD.match(body)
        if first is None:
            return  # an empty statement (';;') does nothing
        word = first.group(1)
        at = offset + first.start(1)
        handler = _KEYWORD_HANDLERS.get(word)
        if handler is not None:
            if scope.in_gate and word not in _GATE_BODY_KEYWORDS:
                raise _ReadError(f"'{word}' is not allowed inside a gate definition", at)
            handler(self, scope, body, at)
            return
        if word in _UNSUPPORTED_KEYWORDS:
            raise _ReadError(
                f"{_UNSUPPORTED_KEYWORDS[word]} is not supported by qbroker's Braket reader", at
            )
        if "=" in body:
            if scope.in_gate:
                raise _ReadError("assignments are not allowed inside a gate definition", at)
            self.measure_assign(body, at)
            return
        if word == "$":
            raise _ReadError("a statement cannot start with a qubit", at)
        if word == "@":
            raise _ReadError("annotations ('@') are not supported", at)
        raise _ReadError(f"cannot read statement {body.strip()[:40]!r}", at)

    # -- gates -----------------------------------------------------------------------

    def gate_call(
        self,
        scope: _Scope,
        name: str,
        args: str | None,
        operands: str,
        at: int,
        modifiers: tuple[tuple[str, Any], ...],
    ) -> None:
        values = self.arguments(scope, args, at) if args else []
        user = self.gates.get(name)
        builtin = self.builtins.get(name) if user is None else None
        if user is None and builtin is None:
            if name == "gphase":
                self.gphase(scope, values, operands, at, modifiers)
                return
            raise _ReadError(f"unknown gate {name!r}", at)
        if user is not None:
            n_params, n_qubits, optional = len(user.params), len(user.qubits), 0
        else:
            assert builtin is not None
            n_params, n_qubits, optional = builtin.params, builtin.qubits, builtin.optional_params
        if not n_params - optional <= len(values) <= n_params:
            want = f"{n_params - optional} or {n_params}" if optional else str(n_params)
            raise _ReadError(f"gate {name!r} takes {want} parameter(s), got {len(values)}", at)
        if modifiers:
            n_qubits += sum(n for kind, n in modifiers if kind in ("ctrl", "negctrl"))
        qargs_list = self.qargs(scope, operands, n_qubits, name, at)
        data = scope.circuit._data
        if builtin is not None and builtin.standard_gate is not None and not modifiers:
            # The fast path: a Qiskit standard gate appended without a Python gate object.
            standard, make = builtin.standard_gate, _FROM_STANDARD
            for qargs in qargs_list:
                data.append(make(standard, qargs, values))
            return
        if user is not None:
            op: Instruction = self.instantiate(user, values, at, scope.depth)
        elif builtin is not None and builtin.standard is not None:
            op = _standard_gate(builtin.standard, values)
        else:
            assert builtin is not None and builtin.make is not None
            op = builtin.make(*values)
        if modifiers:
            op = self.modify(op, modifiers, at)
        for qargs in qargs_list:
            data.append(CircuitInstruction(op, qargs, ()))

    def qargs(
        self, scope: _Scope, operands: str, arity: int, name: str, at: int
    ) -> list[tuple[Qubit, ...]]:
        """The qubit tuples a gate call applies to (broadcast over registers), cached."""
        found = scope.broadcast_cache.get(operands)
        if found is None:
            count = operands.count(",") + 1  # checked before resolving hostile operand lists
            if count != arity:
                raise _ReadError(f"gate {name!r} acts on {arity} qubit(s), got {count}", at)
            found = _broadcast(self.operands(scope, operands, at), at)
            scope.broadcast_cache[operands] = found
        elif len(found[0]) != arity:
            raise _ReadError(f"gate {name!r} acts on {arity} qubit(s), got {len(found[0])}", at)
        return found

    def append(
        self, scope: _Scope, op: Instruction, qubit_lists: list[list[Qubit]], at: int
    ) -> None:
        data = scope.circuit._data
        for qargs in _broadcast(qubit_lists, at):
            data.append(CircuitInstruction(op, qargs, ()))

    def modify(
        self, op: Instruction, modifiers: tuple[tuple[str, Any], ...], at: int
    ) -> Instruction:
        """Apply ``inv @``, ``pow(k) @``, ``ctrl(n) @``, ``negctrl(n) @``, innermost first."""
        try:
            for kind, value in reversed(modifiers):
                if kind == "inv":
                    op = op.inverse()
                elif kind == "pow":
                    op = _power(op, value)
                else:
                    state = (1 << value) - 1 if kind == "ctrl" else 0
                    op = op.control(value, ctrl_state=state)
        except _ReadError:
            raise
        except Exception as exc:  # Qiskit raises several kinds for impossible modifiers
            raise _ReadError(f"cannot apply the gate modifiers: {exc}", at) from None
        return op

    def gphase(
        self,
        scope: _Scope,
        values: list[Any],
        operands: str,
        at: int,
        modifiers: tuple[tuple[str, Any], ...],
    ) -> None:
        if len(values) != 1:
            raise _ReadError(f"gphase takes 1 parameter, got {len(values)}", at)
        controls = sum(n for kind, n in modifiers if kind in ("ctrl", "negctrl"))
        qubit_lists = self.operands(scope, operands, at) if operands.strip() else []
        if not modifiers:
            if qubit_lists:
                raise _ReadError("gphase takes no qubits", at)
            scope.circuit.global_phase += values[0]
            return
        from qiskit.circuit.library import GlobalPhaseGate

        if len(qubit_lists) != controls:
            raise _ReadError(
                f"controlled gphase acts on {controls} qubit(s), got {len(qubit_lists)}", at
            )
        op = self.modify(GlobalPhaseGate(values[0]), modifiers, at)
        if controls == 0:
            scope.circuit.global_phase += op.params[0]
            return
        self.append(scope, op, qubit_lists, at)

    def instantiate(self, gate: _GateDef, values: list[Any], at: int, depth: int) -> Gate:
        """A Gate for one call of a user definition, its body built with these values."""
        if depth >= MAX_DEPTH:
            raise _ReadError("gate definitions nested too deeply", at)
        key = tuple(values)
        try:
            cached = gate.cache.get(key)
        except TypeError:  # unhashable parameter values
            cached = None
        if cached is not None:
            return cached
        body = QuantumCircuit(len(gate.qubits), name=gate.name)
        env = dict(self.scope.env)
        env.update(zip(gate.params, values, strict=True))
        inner = _Scope(
            body,
            {name: [q] for name, q in zip(gate.qubits, body.qubits, strict=True)},
            set(gate.qubits),
            env,
            in_gate=True,
            depth=depth + 1,
        )
        for statement, offset in gate.body:
            self.execute(inner, statement, offset)
        op = Gate(gate.name, len(gate.qubits), list(values))
        op.definition = body
        try:
            gate.cache[key] = op
        except TypeError:
            pass
        return op

    # -- operands and expressions ----------------------------------------------------

    def arguments(self, scope: _Scope, args: str, at: int) -> list[Any]:
        if not args.strip():
            return []
        if "(" not in args:
            values: list[Any] = []
            for piece in args.split(","):
                try:
                    value: Any = float(piece)
                except ValueError:
                    value = _Expression(piece, scope.env, at).value()
                values.append(_angle(value, piece, at))
            return values
        return [_angle(v, args, at) for v in _Expression(args, scope.env, at).values()]

    def operands(self, scope: _Scope, text: str, at: int) -> list[list[Qubit]]:
        if not text.strip():
            raise _ReadError("the gate needs qubits", at)
        out = []
        cache = scope.operand_cache
        for piece in text.split(","):
            found = cache.get(piece)
            if found is None:
                found = self.qubit_operand(scope, piece, at)
                cache[piece] = found
            out.append(found[0])
        return out

    def qubit_operand(self, scope: _Scope, text: str, at: int) -> tuple[list[Qubit], bool]:
        match = _OPERAND.match(text)
        if match is None:
            raise _ReadError(f"not a qubit: {text.strip()[:40]!r}", at)
        physical, name, index = match.groups()
        if physical is not None:
            if scope.in_gate:
                raise _ReadError("physical qubits cannot appear in a gate definition", at)
            assert self.physical is not None
            return [self.physical[int(physical)]], False
        register = scope.qubits.get(name)
        if register is None:
            if name in self.cregs:
                raise _ReadError(f"{name!r} is a bit register, not qubits", at)
            raise _ReadError(f"undeclared qubit register {name!r}", at)
        if index is None:
            return register, name not in scope.singles
        return [register[i] for i in _indices(index, len(register), name, scope.env, at)], False

    def bit_operand(self, text: str, at: int) -> list[Clbit]:
        match = _OPERAND.match(text)
        if match is None or match.group(1) is not None:
            raise _ReadError(f"not a classical bit: {text.strip()[:40]!r}", at)
        _, name, index = match.groups()
        register = self.cregs.get(name)
        if register is None:
            if name in self.scope.qubits:
                raise _ReadError(f"{name!r} is a qubit register, not bits", at)
            raise _ReadError(f"undeclared bit register {name!r}", at)
        if index is None:
            return register
        return [register[i] for i in _indices(index, len(register), name, self.scope.env, at)]

    def integer(self, text: str, at: int, what: str) -> int:
        value = _Expression(text, self.scope.env, at).value()
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            raise _ReadError(f"{what} must be a whole number, not {text.strip()[:40]!r}", at)
        return value

    # -- blocks and pragmas ----------------------------------------------------------

    def open_block(self, header: str, offset: int) -> None:
        if self.collecting is not None:
            raise _ReadError("blocks are not allowed inside a gate definition", offset)
        first = _FIRST_WORD.match(header)
        at = offset + (first.start(1) if first else 0)
        word = first.group(1) if first else ""
        if word == "gate":
            if self.pending_verbatim is not None:
                raise _ReadError(
                    "'#pragma braket verbatim' must be followed by a box", self.pending_verbatim
                )
            self.define_gate(header, at)
            return
        if word == "box":
            match = _BOX.match(header)
            if match is None:
                raise _ReadError(f"cannot read box header {header.strip()[:40]!r}", at)
            if match.group(1):
                raise _ReadError("box durations are not supported by Braket", at)
            if self.pending_verbatim is not None:
                self.metadata["braket_verbatim"] = True
                self.pending_verbatim = None
            self.statements += 1
            self.blocks.append(at)
            return
        if word in _UNSUPPORTED_KEYWORDS:
            raise _ReadError(
                f"{_UNSUPPORTED_KEYWORDS[word]} is not supported by qbroker's Braket reader", at
            )
        if not header.strip():
            raise _ReadError("bare '{' blocks are not supported", offset + len(header))
        raise _ReadError(f"cannot read block {header.strip()[:40]!r}", at)

    def close_block(self, at: int) -> None:
        if self.collecting is not None:
            self.gates[self.collecting.name] = self.collecting
            self.collecting = None
            return
        if not self.blocks:
            raise _ReadError("'}' without a matching '{'", at)
        self.blocks.pop()

    def define_gate(self, header: str, at: int) -> None:
        match = _GATE_DEF.match(header)
        if match is None:
            raise _ReadError(f"cannot read gate definition {header.strip()[:40]!r}", at)
        if self.blocks:
            raise _ReadError("gate definitions must be at the top level", at)
        name, params, qubits = match.groups()
        param_names = [p.strip() for p in params.split(",")] if params and params.strip() else []
        qubit_names = [q.strip() for q in qubits.split(",")] if qubits.strip() else []
        for item in [*param_names, *qubit_names]:
            if not re.fullmatch(_IDENT, item):
                raise _ReadError(f"gate {name!r}: {item!r} is not a name", at)
        if not qubit_names:
            raise _ReadError(f"gate {name!r} acts on no qubits", at)
        if len(set(param_names + qubit_names)) != len(param_names) + len(qubit_names):
            raise _ReadError(f"gate {name!r} repeats an argument name", at)
        if name in self.gates:
            raise _ReadError(f"gate {name!r} is defined twice", at)
        if name in _RESERVED:
            raise _ReadError(f"{name!r} is a reserved name", at)
        self.statements += 1
        self.collecting = _GateDef(name, param_names, qubit_names, at)

    def pragma(self, line: str, at: int) -> None:
        if self.collecting is not None:
            raise _ReadError("pragmas are not allowed inside a gate definition", at)
        if not line.startswith("#pragma"):
            raise _ReadError(f"unexpected {line.strip()[:20]!r}", at)
        match = _PRAGMA.match(line)
        if match is None:
            raise _ReadError(
                f"unknown pragma {line.strip()[:60]!r} (qbroker reads '#pragma braket ...')", at
            )
        kind, rest = match.groups()
        self.statements += 1
        if kind == "verbatim":
            if rest:
                raise _ReadError(
                    "'#pragma braket verbatim' must stand on its own line, followed by a box", at
                )
            if self.pending_verbatim is not None:
                raise _ReadError(
                    "'#pragma braket verbatim' must be followed by a box", self.pending_verbatim
                )
            self.pending_verbatim = at
        elif kind == "result":
            self.metadata.setdefault("braket_result_types", []).append(rest)
        elif kind == "unitary":
            self.unitary(rest, at)
        elif kind == "noise":
            raise _ReadError(
                "noise channels (#pragma braket noise) change the outcome and qbroker's "
                "circuits cannot carry them",
                at,
            )
        else:
            raise _ReadError(f"unknown pragma 'braket {kind}'", at)

    def unitary(self, rest: str, at: int) -> None:
        """``#pragma braket unitary([[...]]) q[0], q[1]`` (Braket's matrix, big-endian)."""
        import numpy as np
        from qiskit.circuit.library import UnitaryGate

        if self.pending_verbatim is not None:
            raise _ReadError(
                "'#pragma braket verbatim' must be followed by a box", self.pending_verbatim
            )
        text = rest.strip()
        wrapped = text.startswith("(")
        inner_start = 1 if wrapped else 0
        end = _matching_bracket(text, inner_start, at)
        matrix_text = text[inner_start : end + 1]
        tail = text[end + 1 :]
        if wrapped:
            if not tail.lstrip().startswith(")"):
                raise _ReadError("unitary pragma: expected ')' after the matrix", at)
            tail = tail.lstrip()[1:]
        rows = _Expression(matrix_text, {}, at, allow_complex=True).matrix()
        size = len(rows)
        if size == 0 or size & (size - 1) or any(len(r) != size for r in rows):
            raise _ReadError(
                "unitary pragma: the matrix must be square with a power-of-two size", at
            )
        matrix = np.array(rows, dtype=complex)
        qubit_lists = self.operands(self.scope, tail, at)
        if 2 ** len(qubit_lists) != size:
            raise _ReadError(
                f"unitary pragma: a {size}x{size} matrix acts on {size.bit_length() - 1} "
                f"qubit(s), got {len(qubit_lists)}",
                at,
            )
        if not np.allclose(matrix @ matrix.conj().T, np.eye(size), atol=1e-8):
            raise _ReadError("unitary pragma: the matrix is not unitary", at)
        # Braket's matrices put the first target in the most significant position,
        # Qiskit's in the least: the targets go in reversed.
        self.append(self.scope, UnitaryGate(matrix, check_input=False), qubit_lists[::-1], at)

    # -- declarations ------------------------------------------------------------------

    def header(self, scope: _Scope, body: str, at: int) -> None:
        match = _VERSION.match(body)
        if match is None:
            raise _ReadError("cannot read the OPENQASM version", at)
        if self.statements != 1:
            raise _ReadError("'OPENQASM' must be the first statement", at)
        if match.group(1) != "3":
            raise _ReadError(f"Braket programs are OpenQASM 3, not {match.group(1)}", at)

    def include(self, scope: _Scope, body: str, at: int) -> None:
        raise _ReadError(
            "Braket programs take no include files (their gates are built in); "
            'a program with include "stdgates.inc" is Qiskit\'s dialect, OPEN_QASM_V3',
            at,
        )

    def declare_qubits(self, scope: _Scope, body: str, at: int) -> None:
        if body.lstrip().startswith("qubit"):
            match = _QUBIT_DECL.match(body)
            size_text, name = (match.group(1), match.group(2)) if match else (None, "")
        else:
            match = _OLD_DECL.match(body)
            name, size_text = (match.group(2), match.group(3)) if match else ("", None)
        if match is None:
            raise _ReadError(f"cannot read declaration {body.strip()[:40]!r}", at)
        if self.physical is not None:
            raise _ReadError(
                "this program uses physical qubits ($n); it cannot also declare qubits", at
            )
        if self.blocks:
            raise _ReadError("qubits must be declared at the top level", at)
        self.check_new_name(name, at)
        size = 1 if size_text is None else self.integer(size_text, at, "a register size")
        self.check_width(size, len(self.qc.qubits), "qubits", at)
        from qiskit.circuit import QuantumRegister

        register = QuantumRegister(size, name)
        self.qc.add_register(register)
        self.scope.qubits[name] = list(register)
        if size_text is None:
            self.scope.singles.add(name)

    def declare_bits(self, scope: _Scope, body: str, at: int) -> None:
        if body.lstrip().startswith("bit"):
            match = _BIT_DECL.match(body)
            size_text, name, init = match.groups() if match else (None, "", None)
        else:
            match = _OLD_DECL.match(body)
            name, size_text, init = (
                (match.group(2), match.group(3), None) if match else ("", None, None)
            )
        if match is None:
            raise _ReadError(f"cannot read declaration {body.strip()[:40]!r}", at)
        self.check_new_name(name, at)
        size = 1 if size_text is None else self.integer(size_text, at, "a register size")
        self.check_width(size, len(self.qc.clbits), "bits", at)
        from qiskit.circuit import ClassicalRegister

        register = ClassicalRegister(size, name)
        self.qc.add_register(register)
        self.cregs[name] = list(register)
        if size_text is None:
            self.single_bits.add(name)
        if init is not None:
            rhs = re.match(r"measure\b\s*(.+)\Z", init, re.S)
            if rhs is None:
                raise _ReadError("bits can only be initialised from a measurement", at)
            self.measure(self.operands(self.scope, rhs.group(1), at), list(register), at)

    def check_new_name(self, name: str, at: int) -> None:
        if name in self.scope.qubits or name in self.cregs or name in self.scope.env:
            raise _ReadError(f"{name!r} is already declared", at)
        if name in _RESERVED:
            raise _ReadError(f"{name!r} is a reserved name", at)

    def check_width(self, size: int, already: int, what: str, at: int) -> None:
        if size < 1:
            raise _ReadError(f"a register needs at least one of its {what}, not {size}", at)
        if already + size > MAX_WIDTH:
            raise _ReadError(f"more than {MAX_WIDTH} {what} declared", at)

    def declare_input(self, scope: _Scope, body: str, at: int) -> None:
        match = _INPUT_DECL.match(body)
        if match is None:
            raise _ReadError("qbroker reads only 'input float name;' and 'input angle name;'", at)
        from qiskit.circuit import Parameter

        name = match.group(2)
        self.check_new_name(name, at)
        self.scope.env[name] = Parameter(name)

    def declare_const(self, scope: _Scope, body: str, at: int) -> None:
        match = _CONST_DECL.match(body)
        if match is None:
            raise _ReadError("cannot read the constant declaration", at)
        kind, name, expression = match.groups()
        self.check_new_name(name, at)
        value = _Expression(expression, self.scope.env, at).value()
        if kind in ("int", "uint"):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if not isinstance(value, int):
                raise _ReadError(f"constant {name!r} is not a whole number", at)
        else:
            value = _angle(value, expression, at)
        self.scope.env[name] = value

    # -- measurement, reset, barrier -------------------------------------------------

    def measure_assign(self, body: str, at: int) -> None:
        match = _MEASURE_ASSIGN.match(body)
        if match is None:
            raise _ReadError("only measurement results can be assigned ('b = measure q;')", at)
        target, source = match.groups()
        self.measure(self.operands(self.scope, source, at), self.bit_operand(target, at), at)

    def measure_statement(self, scope: _Scope, body: str, at: int) -> None:
        match = _MEASURE_ARROW.match(body)
        if match is None:
            raise _ReadError("cannot read the measurement", at)
        source, target = match.groups()
        qubit_lists = self.operands(self.scope, source, at)
        if target is not None:
            self.measure(qubit_lists, self.bit_operand(target, at), at)
            return
        from qiskit.circuit import Clbit

        qubits = [q for group in qubit_lists for q in group]
        bits = [Clbit() for _ in qubits]
        self.check_width(len(bits), len(self.qc.clbits), "bits", at)
        self.qc.add_bits(bits)
        self.loose_bits.extend(bits)
        self.measure([qubits], bits, at)

    def measure(self, qubit_lists: list[list[Qubit]], bits: list[Clbit], at: int) -> None:
        from qiskit.circuit import Measure

        if len(qubit_lists) != 1:
            raise _ReadError("measure one qubit or one register at a time", at)
        qubits = qubit_lists[0]
        if len(qubits) != len(bits):
            raise _ReadError(f"measuring {len(qubits)} qubit(s) into {len(bits)} bit(s)", at)
        op = Measure()
        data = self.qc._data
        for q, c in zip(qubits, bits, strict=True):
            data.append(CircuitInstruction(op, (q,), (c,)))
        self.measured = True

    def reset(self, scope: _Scope, body: str, at: int) -> None:
        from qiskit.circuit import Reset

        operands = re.match(r"\s*reset\b(.*)\Z", body, re.S)
        assert operands is not None
        op = Reset()
        for group in self.operands(self.scope, operands.group(1), at):
            for q in group:
                self.qc._data.append(CircuitInstruction(op, (q,), ()))

    def barrier(self, scope: _Scope, body: str, at: int) -> None:
        from qiskit.circuit import Barrier

        operands = re.match(r"\s*barrier\b(.*)\Z", body, re.S)
        assert operands is not None
        if operands.group(1).strip():
            qubits = [q for group in self.operands(scope, operands.group(1), at) for q in group]
        else:
            qubits = list(scope.circuit.qubits)
        if len(set(qubits)) != len(qubits):
            raise _ReadError("barrier names a qubit twice", at)
        if qubits:
            scope.circuit._data.append(CircuitInstruction(Barrier(len(qubits)), tuple(qubits), ()))

    def modified_gate(self, scope: _Scope, body: str, at: int) -> None:
        modifiers: list[tuple[str, Any]] = []
        pos = 0
        while True:
            match = _MODIFIER.match(body, pos)
            if match is None:
                break
            kind, argument = match.groups()
            if kind == "inv":
                if argument is not None:
                    raise _ReadError("'inv' takes no argument", at)
                modifiers.append((kind, None))
            elif kind == "pow":
                if argument is None:
                    raise _ReadError("'pow' needs an exponent: pow(k) @", at)
                modifiers.append((kind, _Expression(argument, scope.env, at).value()))
            else:
                count = 1 if argument is None else self.integer(argument, at, "a control count")
                if not 1 <= count <= 64:
                    raise _ReadError(f"control count must be 1 to 64, not {count}", at)
                modifiers.append((kind, count))
            pos = match.end()
        rest = _GATE_CALL.match(body, pos)
        if not modifiers or rest is None:
            raise _ReadError("cannot read the gate modifiers", at)
        name, args, operands = rest.groups()
        self.gate_call(scope, name, args, operands, at, tuple(modifiers))


_KEYWORD_HANDLERS: dict[str, Callable[[_Reader, _Scope, str, int], None]] = {
    "OPENQASM": _Reader.header,
    "include": _Reader.include,
    "qubit": _Reader.declare_qubits,
    "qreg": _Reader.declare_qubits,
    "bit": _Reader.declare_bits,
    "creg": _Reader.declare_bits,
    "input": _Reader.declare_input,
    "const": _Reader.declare_const,
    "measure": _Reader.measure_statement,
    "reset": _Reader.reset,
    "barrier": _Reader.barrier,
    "inv": _Reader.modified_gate,
    "pow": _Reader.modified_gate,
    "ctrl": _Reader.modified_gate,
    "negctrl": _Reader.modified_gate,
}
_NOT_GATES = frozenset([*_KEYWORD_HANDLERS, *_UNSUPPORTED_KEYWORDS])
_GATE_BODY_KEYWORDS = frozenset({"inv", "pow", "ctrl", "negctrl", "barrier"})
_RESERVED = frozenset(
    {"pi", "π", "tau", "τ", "euler", "ℇ", "gphase", "U", *_KEYWORD_HANDLERS, *_UNSUPPORTED_KEYWORDS}
)


def _broadcast(qubit_lists: list[list[Qubit]], at: int) -> list[tuple[Qubit, ...]]:
    """OpenQASM's broadcasting: registers of one length pair up; single qubits repeat."""
    if all(len(group) == 1 for group in qubit_lists):
        qargs = tuple(group[0] for group in qubit_lists)
        if len(set(qargs)) != len(qargs):
            raise _ReadError("a gate names the same qubit twice", at)
        return [qargs]
    lengths = {len(group) for group in qubit_lists if len(group) != 1}
    if len(lengths) != 1:
        raise _ReadError("registers of different sizes in one gate", at)
    (length,) = lengths
    out = []
    for i in range(length):
        qargs = tuple(group[i] if len(group) != 1 else group[0] for group in qubit_lists)
        if len(set(qargs)) != len(qargs):
            raise _ReadError("a gate names the same qubit twice", at)
        out.append(qargs)
    return out


def _indices(text: str, size: int, name: str, env: dict[str, Any], at: int) -> list[int]:
    """``i``, ``a:b`` or ``a:step:b`` (inclusive, as OpenQASM 3) inside ``name[...]``."""
    parts = text.split(":")
    if len(parts) > 3 or not text.strip():
        raise _ReadError(f"cannot read index {text.strip()[:40]!r} of {name!r}", at)
    values = []
    for part in parts:
        value = _Expression(part, env, at).value()
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            raise _ReadError(f"index of {name!r} must be a whole number", at)
        if value < 0:
            value += size
        if not 0 <= value < size:
            raise _ReadError(
                f"index {text.strip()[:40]} is out of range for {name!r} (size {size})", at
            )
        values.append(value)
    if len(values) == 1:
        return values
    start, stop = values[0], values[-1]
    step = values[1] if len(values) == 3 else (1 if stop >= start else -1)
    if step == 0 or (stop - start) * step < 0:
        raise _ReadError(f"empty range {text.strip()} of {name!r}", at)
    return list(range(start, stop + (1 if step > 0 else -1), step))


def _angle(value: Any, text: str, at: int) -> Any:
    """A gate parameter: a finite real number or a Qiskit parameter expression."""
    if isinstance(value, bool):
        raise _ReadError(f"a gate parameter cannot be a boolean: {text.strip()[:40]!r}", at)
    if isinstance(value, int):
        try:
            value = float(value)
        except OverflowError:
            raise _ReadError(f"gate parameter {text.strip()[:40]!r} is too large", at) from None
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _ReadError(f"gate parameter {text.strip()[:40]!r} is not a finite number", at)
        return value
    if isinstance(value, complex):
        raise _ReadError(f"gate parameter {text.strip()[:40]!r} is not a real number", at)
    return value


def _power(op: Instruction, exponent: Any) -> Instruction:
    """``pow(exponent) @ op`` as Braket's simulator computes it.

    Whole powers up to 64 are exact repetitions (of the inverse for negative ones), so
    parametrised gates work too. Other powers use the matrix power Braket uses
    (``scipy.linalg.fractional_matrix_power`` on the gate's matrix in Braket's qubit order):
    on the branch cut (an eigenvalue of exactly -1) the principal power is ill-defined
    and this keeps to Braket's choice.
    """
    if not isinstance(exponent, (int, float)):
        raise TypeError(f"the exponent must be a number, not {exponent}")
    if float(exponent).is_integer() and abs(exponent) <= 64:
        count = int(exponent)
        base = op if count >= 0 else op.inverse()
        qc = QuantumCircuit(op.num_qubits)
        for _ in range(abs(count)):
            qc.append(base, qc.qubits)
        gate = Gate(f"{op.name}_pow_{count}".replace("-", "m"), op.num_qubits, [])
        gate.definition = qc
        return gate
    from qiskit.circuit.library import UnitaryGate
    from qiskit.quantum_info import Operator
    from scipy.linalg import fractional_matrix_power

    matrix = _little_endian(Operator(op).data)
    powered = _little_endian(fractional_matrix_power(matrix, float(exponent)))
    return UnitaryGate(powered, check_input=False)


def _matching_bracket(text: str, start: int, at: int) -> int:
    if start >= len(text) or text[start] != "[":
        raise _ReadError("unitary pragma: expected a matrix '[[...]]'", at)
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "[":
            depth += 1
        elif text[i] == "]":
            depth -= 1
            if depth == 0:
                return i
    raise _ReadError("unitary pragma: unbalanced '['", at)


_FROM_STANDARD = CircuitInstruction.from_standard


def _builtin_table() -> dict[str, _Builtin]:
    table = _BUILTIN_CACHE.get("table")
    if table is None:
        from dataclasses import replace

        from qiskit.circuit.library import get_standard_gate_name_mapping

        mapping = get_standard_gate_name_mapping()
        table = {
            name: replace(entry, standard_gate=mapping[entry.standard]._standard_gate)
            if entry.standard is not None
            else entry
            for name, entry in _builtins().items()
        }
        _BUILTIN_CACHE["table"] = table
    return table


_BUILTIN_CACHE: dict[str, dict[str, _Builtin]] = {}


def _standard_gate(name: str, params: list[Any]) -> Gate:
    from qiskit.circuit.library import get_standard_gate_name_mapping

    cls = type(get_standard_gate_name_mapping()[name])
    gate: Gate = cls(*params)
    return gate


# --------------------------------------------------------------------------------------
# Expressions
# --------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*+(?:"
    r"(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+)"  # 1: integer with a base
    r"|((?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?)(im\b)?"  # 2: number, 3: imaginary
    r"|([^\W\d]\w*)"  # 4: name
    r"|(\*\*|[-+*/%(),\[\]])"  # 5: operator
    r")"
)
_CONSTANT_VALUES = OPENQASM_CONSTANTS
_FLOAT_FUNCTIONS: dict[str, Callable[..., float]] = {
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "arcsin": math.asin,
    "arccos": math.acos,
    "arctan": math.atan,
    "exp": math.exp,
    "log": math.log,
    "sqrt": math.sqrt,
    "ceiling": math.ceil,
    "floor": math.floor,
    "mod": operator.mod,
    "pow": math.pow,
}
_PARAMETER_FUNCTIONS = {"sin", "cos", "tan", "arcsin", "arccos", "arctan", "exp", "log", "sqrt"}


_BRACKETS = re.compile(r"[^()\[\]]+")
_NEST_STEP = {"(": 1, "[": 1, ")": -1, "]": -1}


def _nesting(text: str) -> int:
    """Deepest bracket nesting of ``text`` (C-speed loops; no recursion)."""
    return max(accumulate(map(_NEST_STEP.__getitem__, _BRACKETS.sub("", text))), default=0)


class _Expression:
    """A small recursive-descent evaluator for OpenQASM's arithmetic.

    Numbers are floats (integers stay ``int`` until mixed), ``input`` names are Qiskit
    parameters. Nesting is limited to :data:`MAX_DEPTH` so hostile input cannot exhaust the
    stack; overflow, division by zero and domain errors become read errors.
    """

    def __init__(self, text: str, env: dict[str, Any], at: int, *, allow_complex: bool = False):
        self.text = text
        self.env = env
        self.at = at
        self.allow_complex = allow_complex
        limit = MAX_MATRIX_TEXT if allow_complex else MAX_EXPRESSION
        if len(text) > limit:
            raise _ReadError(
                f"expression of {len(text):,} characters (qbroker reads up to {limit:,})", at
            )
        if len(text) > 256 and _nesting(text) > MAX_DEPTH:
            raise self.error("nested too deeply")  # before tokenising hostile input
        self.tokens = self._tokenize(text)
        self.i = 0

    def _tokenize(self, text: str) -> list[tuple[str, Any]]:
        tokens: list[tuple[str, Any]] = []
        pos, end = 0, len(text)
        while pos < end:
            if text[pos].isspace():
                pos += 1
                continue
            match = _TOKEN.match(text, pos)
            if match is None or match.end() == pos:
                raise self.error(f"unexpected {text[pos : pos + 10]!r}")
            based, number, imaginary, name, op = match.groups()
            if based is not None:
                if len(based) > 300:
                    raise self.error(f"integer {based[:20]}... is too large")
                tokens.append(("num", int(based.replace("_", ""), 0)))
            elif number is not None:
                cleaned = number.replace("_", "")
                value: Any
                if re.fullmatch(r"\d+", cleaned):
                    if len(cleaned) > 300:  # int() of long digit strings is slow, and refused
                        raise self.error(f"integer {number[:20]}... is too large")
                    value = int(cleaned)
                else:
                    value = float(cleaned)
                if imaginary:
                    if not self.allow_complex:
                        raise self.error("imaginary numbers are only allowed in matrices")
                    value = complex(0.0, float(value))
                tokens.append(("num", value))
            elif name is not None:
                tokens.append(("name", name))
            else:
                tokens.append(("op", op))
            pos = match.end()
        return tokens

    def error(self, message: str) -> _ReadError:
        return _ReadError(f"{message} in {self.text.strip()[:40]!r}", self.at)

    # -- entry points ----------------------------------------------------------------

    def value(self) -> Any:
        if not self.tokens:
            raise self.error("missing value")
        value = self._guard(self.expression, 0)
        if self.i != len(self.tokens):
            raise self.error(f"unexpected {self._describe(self.i)}")
        return value

    def values(self) -> list[Any]:
        out = [self._guard(self.expression, 0)]
        while self.peek() == ("op", ","):
            self.i += 1
            out.append(self._guard(self.expression, 0))
        if self.i != len(self.tokens):
            raise self.error(f"unexpected {self._describe(self.i)}")
        return out

    def matrix(self) -> list[list[complex]]:
        rows = self._guard(self.array, 0)
        if self.i != len(self.tokens):
            raise self.error(f"unexpected {self._describe(self.i)}")
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise self.error("a matrix is a list of rows")
        for row in rows:
            for item in row:
                if isinstance(item, list) or not isinstance(item, (int, float, complex)):
                    raise self.error("matrix entries must be numbers")
                if not math.isfinite(abs(complex(item))):
                    raise self.error("matrix entries must be finite")
        return [[complex(x) for x in row] for row in rows]

    def _guard(self, method: Callable[[int], Any], depth: int) -> Any:
        try:
            return method(depth)
        except ZeroDivisionError:
            raise self.error("division by zero") from None
        except OverflowError:
            raise self.error("number too large") from None
        except (ValueError, TypeError) as exc:
            raise self.error(f"cannot evaluate ({exc})") from None

    # -- grammar ---------------------------------------------------------------------

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _describe(self, i: int) -> str:
        return repr(str(self.tokens[i][1])) if i < len(self.tokens) else "end of expression"

    def expect(self, op: str) -> None:
        if self.peek() != ("op", op):
            raise self.error(f"expected {op!r}, found {self._describe(self.i)}")
        self.i += 1

    def array(self, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise self.error("nested too deeply")
        if self.peek() != ("op", "["):
            return self.expression(depth)
        self.i += 1
        items = [self.array(depth + 1)]
        while self.peek() == ("op", ","):
            self.i += 1
            items.append(self.array(depth + 1))
        self.expect("]")
        return items

    def expression(self, depth: int) -> Any:
        value = self.term(depth)
        while True:
            token = self.peek()
            if token == ("op", "+"):
                self.i += 1
                value = value + self.term(depth)
            elif token == ("op", "-"):
                self.i += 1
                value = value - self.term(depth)
            else:
                return value

    def term(self, depth: int) -> Any:
        value = self.unary(depth)
        while True:
            token = self.peek()
            if token == ("op", "*"):
                self.i += 1
                value = value * self.unary(depth)
            elif token == ("op", "/"):
                self.i += 1
                divisor = self.unary(depth)
                if isinstance(value, int) and isinstance(divisor, int):
                    value = value // divisor  # integer division, as Braket evaluates 1/2 (= 0)
                else:
                    value = value / divisor
            elif token == ("op", "%"):
                self.i += 1
                value = self._numbers(value, self.unary(depth), "%", operator.mod)
            else:
                return value

    def unary(self, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise self.error("nested too deeply")
        token = self.peek()
        if token == ("op", "-"):
            self.i += 1
            return -self.unary(depth + 1)
        if token == ("op", "+"):
            self.i += 1
            return self.unary(depth + 1)
        return self.power(depth)

    def power(self, depth: int) -> Any:
        base = self.atom(depth)
        if self.peek() == ("op", "**"):
            self.i += 1
            exponent = self.unary(depth + 1)
            if isinstance(base, int) and isinstance(exponent, int):
                base = float(base)  # float power: a huge result overflows instead of hanging
            result = base**exponent
            if isinstance(result, complex) and not self.allow_complex:
                raise self.error("the result is not a real number")
            return result
        return base

    def atom(self, depth: int) -> Any:
        token = self.peek()
        if token is None:
            raise self.error("missing value")
        kind, value = token
        self.i += 1
        if kind == "num":
            return value
        if kind == "op":
            if value == "(":
                if depth > MAX_DEPTH:
                    raise self.error("nested too deeply")
                inner = self.expression(depth + 1)
                self.expect(")")
                return inner
            raise self.error(f"unexpected {value!r}")
        if self.peek() == ("op", "("):
            return self.call(value, depth)
        if value in self.env:
            return self.env[value]
        if value in _CONSTANT_VALUES:
            return _CONSTANT_VALUES[value]
        raise self.error(f"undeclared identifier {value!r}")

    def call(self, name: str, depth: int) -> Any:
        if name not in _FLOAT_FUNCTIONS:
            raise self.error(f"unknown function {name!r}")
        if depth > MAX_DEPTH:
            raise self.error("nested too deeply")
        self.expect("(")
        args = [self.expression(depth + 1)]
        while self.peek() == ("op", ","):
            self.i += 1
            args.append(self.expression(depth + 1))
        self.expect(")")
        arity = 2 if name in ("mod", "pow") else 1
        if len(args) != arity:
            raise self.error(f"{name}() takes {arity} argument(s)")
        if all(isinstance(a, (int, float)) for a in args):
            return _FLOAT_FUNCTIONS[name](*args)
        if arity == 1 and name in _PARAMETER_FUNCTIONS and hasattr(args[0], "parameters"):
            if name == "sqrt":
                return args[0] ** 0.5
            return getattr(args[0], name)()
        if name == "pow" and not any(isinstance(a, complex) for a in args):
            return args[0] ** args[1]
        raise self.error(f"{name}() cannot take {args[0]!s}")

    def _numbers(self, a: Any, b: Any, op: str, fn: Callable[[float, float], float]) -> Any:
        if not (isinstance(a, (int, float)) and isinstance(b, (int, float))):
            raise self.error(f"{op!r} needs numbers")
        return fn(a, b)


# ======================================================================================
# Writing
# ======================================================================================

_NON_GATES = {"measure", "barrier", "reset", "delay"}
#: The writer's default Qiskit basis when a circuit holds gates Braket lacks.
_WRITE_BASIS = tuple(n for n in _QISKIT_TO_BRAKET if n not in ("u1", "u3"))
_KEEP_PREFIX = "_braket_keep_"


def write_braket_qasm(circuit: object, backend: Backend | None, options: WriteOptions) -> str:
    """OpenQASM 3 in Braket's dialect, for ``backend`` when given.

    Raises:
        UnsupportedError: the circuit uses what Braket's dialect (or the backend) cannot
            express; the message says what.

    Example:
        >>> from qiskit import QuantumCircuit
        >>> qc = QuantumCircuit(2, 2); _ = qc.h(0); _ = qc.cx(0, 1); _ = qc.measure([0, 1], [0, 1])
        >>> print(write_braket_qasm(qc, None, WriteOptions()))
        OPENQASM 3.0;
        bit[2] b;
        qubit[2] q;
        h q[0];
        cnot q[0], q[1];
        b[0] = measure q[0];
        b[1] = measure q[1];
        <BLANKLINE>
    """
    # Before anything goes by name (writability, the transpiler): a custom ``sxdg`` is
    # Braket's ``vi`` when it means sxdg, and a custom ``ecr`` meaning something else is not.
    qc = resolve_lookalikes(circuit_of(circuit))
    if qc.num_clbits and not any(inst.operation.name == "measure" for inst in qc.data):
        # a Braket program without measurements is measured on every qubit: the source's
        # never-written bits (always 0) would come back as qubit outcomes
        raise UnsupportedError(
            "the circuit declares classical bits but measures nothing; Braket would "
            "measure every qubit instead"
        )
    _check_expressible(qc)
    if backend is not None and not backend.is_gate_model:
        raise UnsupportedError(f"{backend.id} is not a gate-model backend")
    if backend is not None and backend.type is BackendType.QPU:
        return _write_native(qc, backend)
    allowed = _allowed_names(backend)
    if backend is not None and qc.num_qubits > backend.configuration.qubit_count:
        raise UnsupportedError(
            f"the circuit needs {qc.num_qubits} qubits; {backend.id} has "
            f"{backend.configuration.qubit_count}"
        )
    if not all(_writable(inst, allowed) for inst in qc.data):
        qc = _translate(qc, allowed)
        _check_expressible(qc)  # synthesis can add resets (``initialize``) the writer drops
    return _emit(qc, allowed, lambda i: f"q[{i}]", declare=f"qubit[{qc.num_qubits}] q;")


#: The gates Braket's on-demand simulators document (SV1's list): the dialect's gates less
#: the vendor-native ones (``gpi``, ``gpi2``, ``ms``, ``prx``) and ``U``, ``cv``, ``gphase``.
PORTABLE_GATE_NAMES: frozenset[str] = BRAKET_GATE_NAMES - {
    "gpi",
    "gpi2",
    "ms",
    "prx",
    "U",
    "cv",
    "gphase",
}


def _allowed_names(backend: Backend | None) -> frozenset[str]:
    """Braket gate names a virtual program may use.

    Without a backend: every gate of the dialect (the program stays as written). For a
    simulator: the gates it lists, or the portable set when the catalog lists none.
    """
    if backend is None:
        return BRAKET_GATE_NAMES
    listed = set(backend.configuration.gate_names)
    if listed and listed <= BRAKET_GATE_NAMES:
        return frozenset(listed)
    return PORTABLE_GATE_NAMES


def _writable(inst: CircuitInstruction, allowed: frozenset[str]) -> bool:
    """Whether one instruction can be written as it is (no Python gate object is built)."""
    name = inst.name
    if name in _NON_GATES:
        return True
    if inst.is_standard_gate():
        if name == "xx_plus_yy":
            return "xy" in allowed and _is_zero(inst.params[1])
        braket = _QISKIT_TO_BRAKET.get(name)
        return braket is not None and braket in allowed
    # Only our own classes: Qiskit's ``ms`` and qiskit-ionq's ``gpi`` (in turns) share names.
    return isinstance(inst.operation, BraketGate) and name in allowed


def _is_zero(value: Any) -> bool:
    try:
        return float(value) == 0.0
    except TypeError:
        return False


def _check_expressible(qc: QuantumCircuit) -> None:
    """Refuse what Braket's dialect cannot say, before any translation runs."""
    if qc.num_vars:
        raise UnsupportedError("Braket's OpenQASM cannot express classical variables")
    qubit_index = {q: i for i, q in enumerate(qc.qubits)}
    clbit_index = {c: i for i, c in enumerate(qc.clbits)}
    touched: set[int] = set()
    measured: set[int] = set()
    written: set[int] = set()
    for inst in qc.data:
        name = inst.name
        if inst.is_control_flow():
            raise UnsupportedError(
                f"Braket's OpenQASM cannot express classical control flow ({name})"
            )
        if name == "barrier":
            continue
        qubits = [qubit_index[q] for q in inst.qubits]
        if name == "delay":
            raise UnsupportedError("Braket's OpenQASM gate programs have no delay instruction")
        if name == "reset":
            if touched.intersection(qubits):
                raise UnsupportedError(
                    "Braket's OpenQASM cannot reset a qubit after it was used (mid-circuit reset)"
                )
            continue
        if measured and not measured.isdisjoint(qubits):
            raise UnsupportedError(
                f"operation {name!r} acts on a qubit after it was measured: Braket programs "
                "measure at the end (no mid-circuit measurement)"
            )
        if name == "measure":
            clbit = clbit_index[inst.clbits[0]]
            if clbit in written:
                raise UnsupportedError(
                    f"clbit {clbit} is written twice; Braket records each bit once"
                )
            written.add(clbit)
            measured.update(qubits)
        elif inst.clbits:
            raise UnsupportedError(f"Braket's OpenQASM cannot express {name!r} on classical bits")
        touched.update(qubits)


def _translate(qc: QuantumCircuit, allowed: frozenset[str]) -> QuantumCircuit:
    """The circuit in gates ``allowed`` has, translated exactly (up to global phase).

    Braket gates kept as they are (``gpi``, ``ms`` ...) are swapped for placeholders the
    translator leaves alone: some share a name with different Qiskit gates (Qiskit's own
    ``ms``, qiskit-ionq's ``gpi`` in turns) that must be translated.
    """
    from qiskit.circuit.equivalence_library import SessionEquivalenceLibrary
    from qiskit.transpiler import PassManager, TranspilerError
    from qiskit.transpiler.passes import BasisTranslator, HighLevelSynthesis

    basis = [n for n in _WRITE_BASIS if _QISKIT_TO_BRAKET[n] in allowed]
    basis += [_KEEP_PREFIX + n for n in _BRAKET_CLASSES if n in allowed]
    basis += sorted(_NON_GATES)
    work = qc.copy_empty_like()
    for inst in qc.data:
        if _writable(inst, allowed) and inst.name not in _NON_GATES:
            op = inst.operation
            if isinstance(op, BraketGate):
                op = Gate(_KEEP_PREFIX + op.name, op.num_qubits, list(op.params))
            work._append(CircuitInstruction(op, inst.qubits, inst.clbits))
        else:
            work._append(inst)
    passes = PassManager(
        [
            HighLevelSynthesis(basis_gates=basis, equivalence_library=SessionEquivalenceLibrary),
            BasisTranslator(SessionEquivalenceLibrary, basis),
        ]
    )
    try:
        translated = passes.run(work)
    except TranspilerError as exc:
        message = " ".join(str(exc).split()).strip("'\"")
        raise UnsupportedError(f"cannot express the circuit in Braket's gates: {message}") from None
    out = translated.copy_empty_like()
    for inst in translated.data:
        op = inst.operation
        if op.name.startswith(_KEEP_PREFIX):
            op = _BRAKET_CLASSES[op.name[len(_KEEP_PREFIX) :]](*op.params)
        out._append(CircuitInstruction(op, inst.qubits, inst.clbits))
    return out


def _emit(
    qc: QuantumCircuit,
    allowed: frozenset[str],
    qubit: Callable[[int], str],
    *,
    declare: str | None,
    lowering: Callable[[str, list[Any], list[str]], list[str]] | None = None,
    verbatim: bool = False,
) -> str:
    """Serialise: declarations, gates (in a verbatim box when asked), then measurements."""
    names = _ParameterNames(qc)
    labels = {q: qubit(i) for i, q in enumerate(qc.qubits)}
    clbit_index = {c: i for i, c in enumerate(qc.clbits)}
    render = names.render
    body: list[str] = []
    measures: dict[int, str] = {}
    for inst in qc.data:
        name = inst.name
        targets = [labels[q] for q in inst.qubits]
        if name == "measure":
            measures[clbit_index[inst.clbits[0]]] = targets[0]
            continue
        if name in ("barrier", "reset"):
            continue  # a barrier changes no outcome; resets left here act on fresh qubits
        params = inst.params
        if lowering is not None:
            body.extend(lowering(name, params, targets))
            continue
        if not inst.is_standard_gate():
            if not isinstance(inst.operation, BraketGate):  # pragma: no cover - translated first
                raise UnsupportedError(f"Braket's OpenQASM has no gate for {name!r}")
        elif name == "xx_plus_yy":
            name, params = "xy", [-params[0]]
        else:
            name = _QISKIT_TO_BRAKET[name]
        args = f"({', '.join(render(p) for p in params)})" if params else ""
        body.append(f"{name}{args} {', '.join(targets)};")
    lines = ["OPENQASM 3.0;"]
    lines.extend(f"input float {n};" for n in names.declared())
    if measures:
        lines.append(f"bit[{qc.num_clbits}] b;")
    if declare is not None and qc.num_qubits:
        lines.append(declare)
    if verbatim and body:
        lines.append("#pragma braket verbatim")
        lines.append("box{")
        lines.extend(body)
        lines.append("}")
    else:
        lines.extend(body)
    lines.extend(f"b[{c}] = measure {measures[c]};" for c in sorted(measures))
    return "\n".join(lines) + "\n"


class _ParameterNames:
    """Unbound Qiskit parameters as ``input float`` names Braket accepts."""

    _ALLOWED = re.compile(r"[\w\s.+\-*/()]*")
    _FUNCTION = re.compile(rf"({_IDENT})\s*\(")
    _NUMBER = re.compile(r"(?<![\w.])(\d+)([.eE][\d.eE+-]*)?(?![\w.])")

    def __init__(self, qc: QuantumCircuit) -> None:
        self.map: dict[Any, Any] = {}
        self.names: list[str] = []
        if not qc.parameters:
            return
        from qiskit.circuit import Parameter

        taken = set(BRAKET_GATE_NAMES) | set(_RESERVED) | {"q", "b"}
        for p in qc.parameters:
            base = re.sub(r"\W", "_", p.name) or "p"
            if base[0].isdigit():
                base = "p_" + base
            name, n = base, 0
            while name in taken:
                n += 1
                name = f"{base}_{n}"
            taken.add(name)
            self.map[p] = Parameter(name)
            self.names.append(name)

    def declared(self) -> list[str]:
        return self.names

    def render(self, value: Any) -> str:
        if type(value) is float:
            if value - value != 0.0:  # inf or nan
                raise UnsupportedError(f"angle {value} is not finite")
            return repr(value)
        if not getattr(value, "parameters", None):
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise UnsupportedError(
                    f"Braket's OpenQASM cannot express the angle {value}"
                ) from None
            if not math.isfinite(number):
                raise UnsupportedError(f"angle {number} is not finite")
            return repr(number)
        text = str(value.subs({p: self.map[p] for p in value.parameters}))
        functions = set(self._FUNCTION.findall(text))
        if (
            not self._ALLOWED.fullmatch(text.replace("**", "*"))
            or not functions <= {"sin", "cos", "tan", "exp", "log", "sqrt"}
            or "I" in re.findall(_IDENT, text)
        ):
            raise UnsupportedError(
                f"Braket's OpenQASM cannot express the parameter expression {value}"
            )
        # Braket divides integers as integers (1/2 is 0): every literal is written as a float.
        return self._NUMBER.sub(lambda m: m.group(0) if m.group(2) else m.group(1) + ".0", text)


# --------------------------------------------------------------------------------------
# Native programs for QPUs
# --------------------------------------------------------------------------------------


def _write_native(qc: QuantumCircuit, backend: Backend) -> str:
    """Native gates on physical qubits, inside one verbatim box."""
    from qbroker.device import gates as device_gates
    from qbroker.formats._prepare import on_backend

    if qc.parameters:
        names = ", ".join(sorted(p.name for p in qc.parameters))
        raise UnsupportedError(f"bind parameter(s) {names} before fitting to {backend.id}")
    natives = {n.lower() for n in backend.configuration.native_gate_names} or {
        n.lower() for n in backend.configuration.gate_names
    }
    fitted = on_backend(qc, backend)
    by_qiskit: dict[str, set[str]] = {}
    for native in natives:
        try:
            qiskit_name = device_gates.qiskit_name(native)
        except KeyError:
            continue
        if qiskit_name is not None:
            by_qiskit.setdefault(qiskit_name, set()).add(native)
    labels = _physical_labels(backend)

    def lowering(name: str, params: list[Any], targets: list[str]) -> list[str]:
        return _lower_native(name, params, targets, by_qiskit, backend.id)

    return _emit(
        fitted,
        frozenset(natives),
        lambda i: f"${labels[i]}",
        declare=None,
        lowering=lowering,
        verbatim=True,
    )


def _physical_labels(backend: Backend) -> list[int]:
    """Braket's number for each qbroker qubit index.

    Braket numbers a device's qubits as its vendor does: Rigetti's and IonQ's from 0 (the
    catalog keeps Rigetti's numbers as labels, gaps included), IQM's from 1 (``QB1`` is
    ``$1``). Labels that are plain numbers or ``QB<n>`` give ``n``; otherwise the index.
    """
    out = []
    for i in range(backend.configuration.qubit_count):
        label = backend.configuration.qubit_labels[i] if backend.configuration.qubit_labels else ""
        match = re.fullmatch(r"(?:QB)?(\d+)", label)
        out.append(int(match.group(1)) if match else i)
    return out


def _lower_native(
    name: str,
    values: list[Any],
    targets: list[str],
    by_qiskit: dict[str, set[str]],
    backend_id: str,
) -> list[str]:
    """One fitted (Qiskit-named) gate as the device's native Braket gates, exactly."""
    natives = by_qiskit.get(name, set())
    params = [float(p) for p in values]
    for p in params:
        if not math.isfinite(p):
            raise UnsupportedError(f"angle {p} of {name!r} is not finite")
    if name == "r" and "prx" in natives:
        return [f"prx({params[0]!r}, {params[1]!r}) {targets[0]};"]
    if name == "r" and {"gpi", "gpi2"} <= natives:
        return _r_as_gpi(params[0], params[1], targets[0])
    if name == "rxx" and "ms" in natives:
        return _rxx_as_ms(params[0], targets)
    if name == "rx" and "rz" in by_qiskit and not _quarter_turn(params[0]):
        # Rigetti's native RX takes only multiples of pi/2: RX(t) = RZ(-pi/2) RX(-pi/2)
        # RZ(t) RX(pi/2) RZ(pi/2), exact, the RZ being virtual on the device.
        rz = sorted(by_qiskit["rz"])[0]
        rx = sorted(natives)[0]
        half = math.pi / 2
        t = targets[0]
        return [
            f"{rz}({half!r}) {t};",
            f"{rx}({half!r}) {t};",
            f"{rz}({_wrap(params[0])!r}) {t};",
            f"{rx}({-half!r}) {t};",
            f"{rz}({-half!r}) {t};",
        ]
    for native in sorted(natives):
        if native in ("gpi", "gpi2", "ms", "prx"):
            continue
        args = f"({', '.join(repr(p) for p in params)})" if params else ""
        return [f"{native}{args} {', '.join(targets)};"]
    raise UnsupportedError(f"{backend_id} has no native gate for {name!r}")


def _wrap(angle: float) -> float:
    """``angle`` in (-pi, pi]."""
    wrapped = math.remainder(angle, math.tau)
    return math.pi if wrapped == -math.pi else wrapped


def _quarter_turn(angle: float) -> bool:
    """Whether ``angle`` is a multiple of pi/2 (to 1e-12)."""
    turns = angle / (math.pi / 2)
    return abs(turns - round(turns)) < 1e-12


def _close(a: float, b: float) -> bool:
    return abs(a - b) < 1e-12


def _r_as_gpi(theta: float, phi: float, target: str) -> list[str]:
    """R(theta, phi) in IonQ's GPi/GPi2, exact up to global phase.

    R(+-pi/2, phi) = GPi2(phi) or GPi2(phi + pi); R(pi, phi) ~ GPi(phi); otherwise
    R(theta, phi) = GPi2(phi + pi/2) . RZ(theta) . GPi2(phi - pi/2) with
    RZ(theta) = GPi(theta/2) . GPi(0).
    """
    theta = _wrap(theta)
    phase = _wrap(phi)
    if _close(theta, 0.0):
        return []
    if _close(theta, math.pi / 2):
        return [f"gpi2({phase!r}) {target};"]
    if _close(theta, -math.pi / 2):
        return [f"gpi2({_wrap(phi + math.pi)!r}) {target};"]
    if _close(abs(theta), math.pi):
        return [f"gpi({phase!r}) {target};"]
    return [
        f"gpi2({_wrap(phi - math.pi / 2)!r}) {target};",
        f"gpi(0.0) {target};",
        f"gpi({_wrap(theta / 2)!r}) {target};",
        f"gpi2({_wrap(phi + math.pi / 2)!r}) {target};",
    ]


def _rxx_as_ms(theta: float, targets: list[str]) -> list[str]:
    """RXX(theta) as IonQ's MS with its angle in [0, pi/2], exact up to global phase.

    RXX(-t) = MS(pi, 0, t) (s(pi) = -X); RXX(t) = RXX(t -+ pi) . RXX(+-pi) and
    RXX(pi) ~ X (x) X = GPi(0) (x) GPi(0) bring |t| below pi/2.
    """
    theta = _wrap(theta)
    out: list[str] = []
    if abs(theta) > math.pi / 2 + 1e-12:
        out += [f"gpi(0.0) {targets[0]};", f"gpi(0.0) {targets[1]};"]
        theta = theta - math.copysign(math.pi, theta)
    if _close(theta, 0.0):
        return out
    phi0 = 0.0 if theta > 0 else math.pi
    out.append(f"ms({phi0!r}, 0.0, {abs(theta)!r}) {targets[0]}, {targets[1]};")
    return out


CODEC = Codec(
    format=InputFormat.BRAKET_OPEN_QASM_V3,
    kind=Kind.GATE,
    payload=str,
    read=read_braket_qasm,
    write=write_braket_qasm,
    description="OpenQASM 3 in Amazon Braket's dialect (built-in gates, $n, verbatim boxes)",
)
