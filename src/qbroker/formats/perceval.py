"""Photonic programs for Quandela's processors: Perceval experiments in dual-rail encoding.

A gate-model circuit becomes a photonic *experiment* through perceval-interop's
``QiskitConverter``. Each qubit is one photon in a pair of modes (dual rail): a photon in
the pair's first mode is |0>, in its second mode |1>. One-qubit gates are beam splitters
and phase shifters; CNOTs cannot be deterministic with linear optics, so each one costs two
extra modes and succeeds only sometimes:

* post-selected CNOT (Ralph et al.): two empty ancilla modes, no extra photon, success 1/9;
  the run only counts when every qubit's pair holds exactly one photon at the end
  (a coincidence post-selection), so it cannot feed later measurements or feed-forward.
* heralded CNOT (Knill): two ancilla modes carrying one photon each, success 2/27 = 0.074;
  success is announced by the heralds, independent of the qubits' own detection.

qbroker uses Perceval's own choice (``use_postselection=True``): post-selected CNOTs
wherever the converter can prove the post-selection stays valid, heralded ones elsewhere.
That needs the fewest photons (a backend's photon limit is usually the binding one) and
has the higher success rate, at the price that each further CNOT divides the rate of kept
runs by 9 (heralded: by 13.5): a 2-qubit Bell pair keeps 1/9 of the runs, a 3-qubit GHZ
state 1/81, so only small circuits are practical on hardware. CZ is compiled to H-CX-H so
that it can use the post-selected CNOT too (a heralded CZ would also succeed 2/27 only).
perceval-interop 1.2.6 sometimes gets the mix wrong (a post-selection on the heralded
ancillas, which then keeps no run at all); such an experiment is rebuilt with heralded
CNOTs only, which need no post-selection.

Before conversion every gate is translated exactly into gates Perceval's catalog
implements exactly (h, x, y, z, s, sdg, t, tdg, rx, ry, rz, p, cx, swap): for any other
one-qubit gate the converter would fall back on a numerical fit.

Payload: Perceval's serialised experiment, text starting ``:PCVL:``
(``perceval.serialization.serialize(processor.experiment)``; a ``Processor`` itself has
no serialiser in Perceval 1.3). What qbroker needs to turn photon counts back into bits
travels inside it:

* which modes encode which qubit: the experiment's dual-rail ports (``q0`` on modes 0-1,
  ``q1`` on modes 2-3 ...), in mode order;
* the input state, heralds and post-selection: the experiment's own fields;
* which classical bit reads which qubit: the experiment's name,
  ``qbroker:clbits=<q>,<q>,...`` with one entry per classical bit (bit 0 first), the
  index of the dual-rail qubit measured into it or ``-`` for a bit nothing writes (it
  reads 0). An experiment without that name reads every qubit into the bit of the same
  index.

Photonic programs cannot be turned back into gate-model ones (``convert`` says why).
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import sys
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qbroker.errors import MissingDependencyError, ProgramError, UnsupportedError
from qbroker.formats._codec import Codec, Kind, WriteOptions, circuit_of
from qbroker.model.enums import InputFormat

if TYPE_CHECKING:  # pragma: no cover
    from qiskit import QuantumCircuit

    from qbroker.model import Backend

__all__ = [
    "CODEC",
    "MAX_CONVERTER_CNOTS",
    "MAX_CONVERTER_GATES",
    "PhotonicProgram",
    "check_photonic_limits",
    "import_perceval",
    "read_perceval",
    "write_perceval",
]

_FORMAT = InputFormat.PERCEVAL.value
_PREFIX = ":PCVL:"
_ZIP_PREFIX = ":PCVL:zip:"
_TAG = "qbroker:clbits="
_TAG_PATTERN = re.compile(r"^qbroker:clbits=((?:\d+|-)(?:,(?:\d+|-))*)?$")

#: Gates Perceval's catalog builds exactly; everything else is translated into these first.
#: ``cz`` is left out on purpose: as H-CX-H it can use the post-selected CNOT (1/9) instead
#: of the heralded CZ (2/27). ``swap`` is a free mode permutation.
PHOTONIC_BASIS = ("h", "x", "y", "z", "s", "sdg", "t", "tdg", "rx", "ry", "rz", "p", "cx", "swap")

#: Most CNOTs (after translation into :data:`PHOTONIC_BASIS`) handed to perceval-interop's
#: converter. It picks the post-selected CNOTs by trying every subset of the circuit's
#: CNOTs, 2^n of them, even when asked for heralded ones only: measured here 0.1-0.3 s at
#: 16 CNOTs (2 to 20 qubits), doubling with each further one (1.7 s at 19, 20 qubits;
#: a 20-qubit, 601-gate random circuit with 132 never finished).
MAX_CONVERTER_CNOTS = 16
#: Most gates handed to the converter: Perceval re-validates every component already
#: placed each time it adds one, so the cost is quadratic (measured here: 600 one-qubit
#: gates 0.5 s, 1,200 1.9 s, 2,400 10 s, whatever the width).
MAX_CONVERTER_GATES = 1000


def _bad(message: str, field: str) -> ProgramError:
    """A ProgramError whose one-line message starts with the field at fault."""
    return ProgramError(f"{field}: {message}", format=_FORMAT, field=field)


def import_perceval() -> Any:
    """``perceval``, imported without letting it replace ``sys.excepthook``.

    Importing Perceval installs its own excepthook (uncaught exceptions go to its logger);
    a library must not change its host's process-wide hooks, so the old one is put back.

    Raises:
        MissingDependencyError: without the quandela extra.
    """
    hook = sys.excepthook
    try:
        import perceval
    except ImportError:
        raise MissingDependencyError("the PERCEVAL format", "quandela") from None
    finally:
        sys.excepthook = hook
    return perceval


@dataclass(frozen=True)
class PhotonicProgram:
    """A Perceval experiment plus what qbroker needs to read its detections as bits.

    Attributes:
        experiment: the ``perceval.Experiment``.
        text: its serialised form (the payload).
        qubit_modes: for each qubit, the first of its two modes (|0>; |1> is the next).
        clbit_qubits: for each classical bit, the qubit measured into it (None: reads 0).
        num_modes: modes the experiment uses, heralded ones included.
        num_photons: photons in the input state, heralded ones included.
        heralds: heralded output modes and the photon count each must show.
        postselection: the experiment's post-selection condition ("" when none).
    """

    experiment: Any = field(repr=False)
    text: str = field(repr=False)
    qubit_modes: tuple[int, ...]
    clbit_qubits: tuple[int | None, ...]
    num_modes: int
    num_photons: int
    heralds: tuple[tuple[int, int], ...]
    postselection: str

    @property
    def num_qubits(self) -> int:
        return len(self.qubit_modes)

    @property
    def num_clbits(self) -> int:
        return len(self.clbit_qubits)

    def processor(self, backend: str = "SLOS") -> Any:
        """A fresh ``perceval.Processor`` running this experiment on a local ``backend``."""
        pcvl = import_perceval()
        return pcvl.Processor(backend, self.experiment.copy())

    def output_positions(self) -> tuple[int, ...]:
        """Where each qubit's first mode sits in an output state without heralded modes
        (the form Perceval's ``Processor.probs()`` reports)."""
        heralded = {mode for mode, _ in self.heralds}
        position: dict[int, int] = {}
        for mode in range(self.num_modes):
            if mode not in heralded:
                position[mode] = len(position)
        return tuple(position[m] for m in self.qubit_modes)

    def qubit_bits(self, photons: Any, positions: tuple[int, ...] | None = None) -> str | None:
        """One output state (photon count per non-heralded mode) -> the qubits' values in
        qubit order, or None when some qubit's pair does not hold exactly one photon."""
        where = self.output_positions() if positions is None else positions
        counts = list(photons)
        bits: list[str] = []
        for first in where:
            pair = (counts[first], counts[first + 1])
            if pair == (1, 0):
                bits.append("0")
            elif pair == (0, 1):
                bits.append("1")
            else:
                return None
        return "".join(bits)

    def decode(self, photons: Any, positions: tuple[int, ...] | None = None) -> str | None:
        """One output state (photon count per non-heralded mode) -> a qbroker counts key.

        Returns None when some qubit's pair does not hold exactly one photon (not a valid
        dual-rail outcome: such runs are discarded, as on the hardware).
        """
        bits = self.qubit_bits(photons, positions)
        if bits is None:
            return None
        return "".join("0" if q is None else bits[q] for q in self.clbit_qubits)


# --------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------


def read_perceval(text: str) -> PhotonicProgram:
    """Read a serialised Perceval experiment (``:PCVL:Experiment:...`` or its zipped form).

    Raises:
        ProgramError: not a serialised experiment, or one without an input state or
            dual-rail ports (qbroker could not tell its qubits), naming the field.
        MissingDependencyError: without the quandela extra.
    """
    if not isinstance(text, str) or not text.lstrip().startswith(_PREFIX):
        raise ProgramError(f"a Perceval program starts with {_PREFIX!r}", format=_FORMAT)
    text = text.strip()
    pcvl = import_perceval()
    body = _unzip(text) if text.startswith(_ZIP_PREFIX) else text
    tag = body[len(_PREFIX) :].split(":", 1)[0]
    if tag != "Experiment":
        hint = " (serialise processor.experiment, not the circuit)" if tag == "ACircuit" else ""
        raise ProgramError(
            f"expected a serialised Experiment, found {tag or 'nothing'!r}{hint}",
            format=_FORMAT,
        )
    try:
        experiment = pcvl.serialization.deserialize(body)
    except RecursionError:
        raise ProgramError("the experiment is nested too deeply", format=_FORMAT) from None
    except Exception as exc:  # protobuf, base64 and Perceval's own errors
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise ProgramError(f"Perceval cannot read it: {detail}", format=_FORMAT) from None
    return describe(experiment, text)


def _unzip(text: str) -> str:
    """Inflate a ``:PCVL:zip:`` payload with a size cap (a zip bomb is refused, not
    expanded)."""
    from qbroker.formats import max_program_bytes

    limit = max_program_bytes()
    try:
        packed = base64.b64decode(text[len(_ZIP_PREFIX) :], validate=True)
        inflater = zlib.decompressobj()
        data = inflater.decompress(packed, limit + 1)
        if len(data) > limit or inflater.unconsumed_tail:
            raise ProgramError(
                f"the zipped experiment inflates beyond the {limit:,}-byte program limit",
                format=_FORMAT,
            )
        if not inflater.eof:
            raise ProgramError("the zipped experiment is truncated", format=_FORMAT)
        return data.decode("utf-8")
    except (binascii.Error, ValueError, zlib.error) as exc:
        raise ProgramError(
            f"the zipped experiment does not decode: {exc}", format=_FORMAT
        ) from None


def describe(experiment: Any, text: str | None = None) -> PhotonicProgram:
    """Collect qubits, classical bits, modes and photons of a Perceval experiment.

    Raises:
        ProgramError: no input state, no dual-rail port, or a malformed qbroker name tag.
    """
    pcvl = import_perceval()
    from perceval.utils import Encoding

    state = experiment.input_state
    if state is None:
        raise _bad("the experiment has no input state", "input_state")
    size = int(experiment.circuit_size)
    firsts: list[int] = []
    seen: set[int] = set()
    for mode in range(size):
        port = experiment.get_output_port(mode)
        if port is None or id(port) in seen:
            continue
        seen.add(id(port))
        if getattr(port, "encoding", None) == Encoding.DUAL_RAIL:
            firsts.append(mode)
    if not firsts:
        raise _bad(
            "the experiment has no dual-rail port, so its detections cannot be read as qubits",
            "output_ports",
        )
    clbits = _parse_tag(str(experiment.name or ""), len(firsts))
    if text is None:
        text = str(pcvl.serialization.serialize(experiment))
    post = experiment.post_select_fn
    return PhotonicProgram(
        experiment=experiment,
        text=text,
        qubit_modes=tuple(firsts),
        clbit_qubits=clbits,
        num_modes=size,
        num_photons=int(state.n),
        heralds=tuple(sorted((int(m), int(v)) for m, v in experiment.heralds.items())),
        postselection="" if post is None else str(post),
    )


def _parse_tag(name: str, qubits: int) -> tuple[int | None, ...]:
    if not name.startswith(_TAG):
        return tuple(range(qubits))
    match = _TAG_PATTERN.match(name)
    if not match:
        raise _bad(f"experiment name {name[:60]!r} is not 'qbroker:clbits=<qubit|->,...'", "name")
    entries = match.group(1).split(",") if match.group(1) else []
    out: list[int | None] = []
    for i, entry in enumerate(entries):
        if entry == "-":
            out.append(None)
            continue
        q = int(entry)
        if q >= qubits:
            raise _bad(
                f"classical bit {i} reads qubit {q}, but the experiment has {qubits} qubits", "name"
            )
        out.append(q)
    return tuple(out)


# --------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------


def write_perceval(circuit: object, backend: Backend | None, options: WriteOptions) -> str:
    """A gate-model circuit as a serialised dual-rail Perceval experiment (a photonic
    program is passed through, checked against ``backend``).

    Measurements must come last on each qubit (photons are detected once, at the end);
    they only say which classical bit reads which qubit.

    Raises:
        UnsupportedError: what a photonic experiment cannot express (a measurement
            followed by gates, resets, classical control, unbound parameters), a backend
            that is not photonic, or more modes or photons than ``backend`` has.
    """
    if backend is not None and not backend.is_photonic:
        raise UnsupportedError(f"{backend.id} is not a photonic backend")
    if isinstance(circuit, PhotonicProgram):  # PERCEVAL -> PERCEVAL: only the limits to check
        if backend is not None:
            check_photonic_limits(circuit, backend)
        return circuit.text
    gates, clbits = _split_measurements(circuit_of(circuit))
    _check_converter_budget(gates, backend)
    experiment = _convert(gates)
    experiment.name = _TAG + ",".join("-" if q is None else str(q) for q in clbits)
    program = describe(experiment)
    if backend is not None:
        check_photonic_limits(program, backend)
    return program.text


def _check_converter_budget(gates: QuantumCircuit, backend: Backend | None) -> None:
    """Refuse, before the converter runs, a circuit it would need too many modes or
    photons for (every CNOT adds two ancilla modes, post-selected or heralded), or too
    long to convert (:data:`MAX_CONVERTER_CNOTS`, :data:`MAX_CONVERTER_GATES`).

    Raises:
        UnsupportedError: naming the limit and what the circuit needs.
    """
    qubits = gates.num_qubits
    cnots = sum(1 for inst in gates.data if inst.name == "cx")
    limits = backend.configuration.photonic_properties if backend is not None else None
    if backend is not None and limits is not None:
        modes = 2 * qubits + 2 * cnots
        if modes > limits.max_modes:
            raise UnsupportedError(_too_many_modes(modes, qubits, backend.id, limits.max_modes))
        if qubits > limits.max_photons:
            raise UnsupportedError(
                f"the experiment needs at least {qubits} photons (one per qubit); "
                f"{backend.id} has at most {limits.max_photons}"
            )
    if cnots > MAX_CONVERTER_CNOTS:
        raise UnsupportedError(
            f"the circuit needs {cnots} CNOTs in photonic gates; qbroker converts at most "
            f"{MAX_CONVERTER_CNOTS} (perceval-interop tries all 2^{cnots} subsets of them "
            "to place post-selected CNOTs)"
        )
    if len(gates.data) > MAX_CONVERTER_GATES:
        raise UnsupportedError(
            f"the circuit needs {len(gates.data):,} photonic gates; qbroker converts "
            f"at most {MAX_CONVERTER_GATES:,} (Perceval's cost grows with the square of "
            "the gate count)"
        )


def _split_measurements(qc: QuantumCircuit) -> tuple[QuantumCircuit, tuple[int | None, ...]]:
    """The unitary part on one register, and which qubit each classical bit reads."""
    from qiskit import QuantumCircuit
    from qiskit.circuit import ControlFlowOp, Gate

    if qc.num_qubits == 0:
        raise UnsupportedError("a circuit without qubits has no photonic form")
    if qc.parameters:
        names = ", ".join(sorted(p.name for p in qc.parameters)[:5])
        raise UnsupportedError(f"the circuit has unbound parameters ({names}); bind them first")
    gates = QuantumCircuit(qc.num_qubits)
    reads: list[int | None] = [None] * qc.num_clbits
    measured: set[int] = set()
    for position, inst in enumerate(qc.data):
        op = inst.operation
        qubits = [qc.find_bit(q).index for q in inst.qubits]
        if op.name in ("barrier", "delay", "id"):
            continue
        if op.name == "measure":
            reads[qc.find_bit(inst.clbits[0]).index] = qubits[0]
            measured.add(qubits[0])
            continue
        if isinstance(op, ControlFlowOp) or inst.clbits or getattr(op, "condition", None):
            raise UnsupportedError(
                f"instruction {position} ({op.name}) uses classical control; a photonic "
                "experiment detects photons only at the end"
            )
        if op.name == "reset":
            raise UnsupportedError(
                f"instruction {position} resets a qubit; a dual-rail photon cannot be reset"
            )
        if not isinstance(op, Gate):
            raise UnsupportedError(f"instruction {position} ({op.name}) is not a gate")
        touched = measured.intersection(qubits)
        if touched:
            raise UnsupportedError(
                f"qubit {min(touched)} is measured before instruction {position} ({op.name}); "
                "a photonic experiment measures only at the end"
            )
        gates.append(op, [gates.qubits[i] for i in qubits])
    return _to_photonic_basis(gates), tuple(reads)


def _to_photonic_basis(gates: QuantumCircuit) -> QuantumCircuit:
    """``gates`` rewritten exactly into :data:`PHOTONIC_BASIS` (all-to-all, no layout)."""
    if all(inst.operation.name in PHOTONIC_BASIS for inst in gates.data):
        return gates
    from qiskit.transpiler import Target
    from qiskit.transpiler.exceptions import TranspilerError

    from qbroker._transpiler import staged_pass_manager

    target = Target.from_configuration(
        basis_gates=list(PHOTONIC_BASIS), num_qubits=gates.num_qubits
    )
    try:
        out = staged_pass_manager(target, optimization_level=1).run(gates)
    except TranspilerError as exc:
        message = " ".join(str(exc).split())
        raise UnsupportedError(f"cannot express the circuit in photonic gates: {message}") from None
    return out


def _convert(gates: QuantumCircuit) -> Any:
    """perceval-interop's QiskitConverter, told to build experiments (not the deprecated
    processors, whose construction logs a warning to standard output)."""
    import_perceval()
    from perceval.components import catalog
    from perceval_interop import QiskitConverter

    class _Converter(QiskitConverter):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(backend_name="SLOS")
            # documented hooks ("users could override them")
            self.create_hcnot_processor = catalog["heralded cnot"].build_experiment
            self.create_hcz_processor = catalog["heralded cz"].build_experiment
            self.create_ppcnot_processor = catalog["postprocessed cnot"].build_experiment

        def _create_catalog_1_qubit_gate(self, gate_name: str, **kwargs: Any) -> Any:
            param: Any = kwargs.get("param")
            if gate_name in ("rx", "ry", "rz"):
                return catalog[gate_name].build_experiment(theta=float(param))
            if gate_name == "ph":
                return catalog[gate_name].build_experiment(phi=float(param))
            return catalog[gate_name].build_experiment()

    rails = set(range(2 * gates.num_qubits))
    for use_postselection in (True, False):
        try:
            processor = _Converter().convert(gates, use_postselection=use_postselection)
        except Exception as exc:  # AssertionError, NotImplementedError, UnknownGateError ...
            detail = " ".join(str(exc).split()) or type(exc).__name__
            raise UnsupportedError(
                f"perceval-interop cannot convert the circuit: {detail}"
            ) from None
        experiment = processor.experiment
        post = experiment.post_select_fn
        # perceval-interop 1.2.6 sometimes writes a post-selection on the heralded ancilla
        # modes when it mixes post-selected and heralded CNOTs (e.g. a controlled-U3 then a
        # CY sharing a control): that experiment never keeps a run. Heralded CNOTs alone
        # need no post-selection and are always right.
        if post is None or set(post.modes) <= rails:
            return experiment
    raise UnsupportedError(  # pragma: no cover - heralded-only experiments post-select nothing
        "perceval-interop produced an experiment whose post-selection reads ancilla modes"
    )


# --------------------------------------------------------------------------------------
# limits
# --------------------------------------------------------------------------------------


def check_photonic_limits(program: PhotonicProgram | Any, backend: Backend) -> None:
    """Refuse a photonic program that needs more modes or photons than ``backend`` has.

    Raises:
        UnsupportedError: naming the limit, e.g. ``the experiment needs 28 modes (24 for
            12 qubits in dual rail, 4 for CNOT ancillas); quandela.qpu.belenos has at
            most 24``.
    """
    parsed = getattr(program, "parsed", program)
    if not isinstance(parsed, PhotonicProgram):
        raise UnsupportedError("only a photonic (Perceval) program has photonic limits")
    limits = backend.configuration.photonic_properties
    if limits is None or not backend.is_photonic:
        raise UnsupportedError(f"{backend.id} is not a photonic backend")
    if parsed.num_modes > limits.max_modes:
        raise UnsupportedError(
            _too_many_modes(parsed.num_modes, parsed.num_qubits, backend.id, limits.max_modes)
        )
    if parsed.num_modes < limits.min_modes:
        raise UnsupportedError(
            f"the experiment uses {parsed.num_modes} modes; {backend.id} needs at least "
            f"{limits.min_modes}"
        )
    herald_photons = parsed.num_photons - parsed.num_qubits
    photons_why = f"{parsed.num_qubits} qubits" + (
        f" + {herald_photons} heralded" if herald_photons > 0 else ""
    )
    if parsed.num_photons > limits.max_photons:
        raise UnsupportedError(
            f"the experiment needs {parsed.num_photons} photons ({photons_why}); "
            f"{backend.id} has at most {limits.max_photons}"
        )
    if parsed.num_photons < limits.min_photons:
        raise UnsupportedError(
            f"the experiment has {parsed.num_photons} photons; {backend.id} needs at least "
            f"{limits.min_photons}"
        )


def _too_many_modes(modes: int, qubits: int, backend_id: str, most: int) -> str:
    rails = 2 * qubits
    ancillas = f", {modes - rails} for CNOT ancillas" if modes > rails else ""
    return (
        f"the experiment needs {modes} modes ({rails} for {qubits} qubits in dual rail"
        f"{ancillas}); {backend_id} has at most {most}"
    )


def fock_states(modes: int, photons: int) -> int:
    """Number of ways ``photons`` photons sit in ``modes`` modes (the size of the output
    space an exact simulation enumerates)."""
    return math.comb(modes + photons - 1, photons) if modes > 0 else 0


CODEC = Codec(
    format=InputFormat.PERCEVAL,
    kind=Kind.PHOTONIC,
    payload=str,
    read=read_perceval,
    write=write_perceval,
    description="Perceval experiment (':PCVL:'), dual-rail qubits from a gate-model circuit",
    extra="quandela",
)
