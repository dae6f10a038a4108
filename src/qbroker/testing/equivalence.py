"""Proof that a conversion keeps what a program does: the equivalence harness.

:func:`check_conversion` converts a program with :func:`qbroker.formats.convert`, reads the
output back (building the output :class:`~qbroker.model.Program` parses it) and compares
it with the source, exactly (no sampling):

* ``unitary``: the measurement-free parts are the same operator up to global phase
  (``qiskit.quantum_info.Operator.equiv``). When the source measures, the two operators
  may differ only by what commutes with its final measurements (a writer may drop a Z
  rotation just before a measurement): ``V U^dagger`` must be block diagonal in the
  measured qubits' basis. Run when both circuits are pure gates plus terminal
  measurements, have the same width (at most :data:`MAX_UNITARY_QUBITS`) and no backend
  moved the qubits.
* ``statevector``: for a source that measures nothing, the states both prepare from
  |0...0> are equal up to global phase, after mapping each logical qubit to where the
  output leaves it (identity, or the backend layout's final permutation); every other
  output qubit must end in |0>.
* ``distribution``: for a source with classical bits, the full probability distribution
  over classical bits, keyed as qbroker keys counts (classical bit 0 is the leftmost
  character), is the same. Mid-circuit measurements, resets and ``if``/``switch``/``for``/
  ``while`` blocks are simulated exactly by branching on every outcome. This is layout
  free: a physical circuit read back must measure the right qubits into the right bits.
* ``clbits``: the output has as many classical bits as the source (a source without
  classical bits may gain the "measure every qubit" bits formats such as IonQ JSON imply).
* ``qubit-probabilities``: for a source without classical bits that is not a pure gate
  circuit (resets), the final probabilities of its qubits.
* ``ir``: analog (AHS) programs: the output's Braket IR equals the source's, number by
  number. ``photonic``: a PERCEVAL output is simulated exactly with Perceval's SLOS and
  its decoded bit strings (over classical bits, or over qubits when the source measures
  nothing) compared with the source.

Outcome of a case: ``exact`` (every check that applies passed), ``refused`` (the
conversion raised UnsupportedError; its reason is kept), ``wrong`` (a check failed, the
output does not read back, or the converter crashed; ``diff`` says how) or ``unchecked``
(nothing could be compared: too wide, unbound parameters, an instruction the exact
simulator does not know; ``reason`` says which).

Example:
    >>> import qbroker
    >>> from qbroker.testing import check_conversion
    >>> bell = qbroker.load_program("examples/bell.qasm")          # doctest: +SKIP
    >>> check_conversion(bell, "IONQ_CIRCUIT_V1").outcome          # doctest: +SKIP
    'exact'
"""

from __future__ import annotations

import functools
import math
import time
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from qbroker.errors import QBrokerError, UnsupportedError
from qbroker.model.enums import InputFormat

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    from qiskit import QuantumCircuit
    from qiskit.circuit import CircuitInstruction

    from qbroker.model import Backend, Program

__all__ = [
    "MAX_PHOTONIC_STATES",
    "MAX_SIMULATED_QUBITS",
    "MAX_UNITARY_QUBITS",
    "EquivalenceReport",
    "Outcome",
    "assert_equivalent",
    "check_conversion",
    "compare_circuits",
    "exact_distribution",
]

Outcome = Literal["exact", "refused", "wrong", "unchecked"]

#: Widest measurement-free part compared as a full operator (2^10 x 2^10 matrices).
MAX_UNITARY_QUBITS = 10
#: Most qubits a gate acts on, across the circuit, that the exact simulator holds (2^20
#: amplitudes, 16 MiB).
MAX_SIMULATED_QUBITS = 20
#: Largest photonic output space (photon arrangements) simulated with SLOS (~0.1 s).
MAX_PHOTONIC_STATES = 200_000
#: Most simultaneous measurement branches the exact simulator follows.
MAX_BRANCHES = 4096
#: Largest probability difference accepted as equal (float64 rounding over thousands of
#: gates stays near 1e-12).
PROBABILITY_TOLERANCE = 1e-7
_NEGLIGIBLE = 1e-12


@dataclass(frozen=True)
class EquivalenceReport:
    """What :func:`check_conversion` found for one program and one target format.

    Attributes:
        source, target: the formats.
        outcome: ``exact``, ``refused``, ``wrong`` or ``unchecked``.
        reason: the refusal's reason, why nothing could be checked, or the first failed
            check in one line.
        diff: for ``wrong``: what differs (probabilities per key, per-bit marginals ...).
        checks: the checks that ran and passed, in order.
        output: the converted program (None when refused or crashed).
        seconds: time taken (conversion and checks).
        backend: the backend id the conversion targeted, if any.
    """

    source: InputFormat
    target: InputFormat
    outcome: Outcome
    reason: str = ""
    diff: str = ""
    checks: tuple[str, ...] = ()
    output: Program | None = field(default=None, repr=False, compare=False)
    seconds: float = 0.0
    backend: str | None = None

    @property
    def edge(self) -> str:
        """``SRC->DST``, as tests and reports name an edge."""
        return f"{self.source.value}->{self.target.value}"

    @property
    def ok(self) -> bool:
        """Not wrong (exact, refused with a reason, or not checkable)."""
        return self.outcome != "wrong"

    def __str__(self) -> str:
        on = f" on {self.backend}" if self.backend else ""
        detail = f": {self.reason}" if self.reason else ""
        checks = f" [{', '.join(self.checks)}]" if self.checks else ""
        return f"{self.edge}{on}: {self.outcome}{checks}{detail}"


# --------------------------------------------------------------------------------------
# the entry points
# --------------------------------------------------------------------------------------


def check_conversion(
    program: Program, target_format: InputFormat | str, backend: Backend | None = None
) -> EquivalenceReport:
    """Convert ``program`` to ``target_format`` (on ``backend`` if given) and prove the output
    does what the source does.

    Never raises for what the conversion does: a refusal is ``refused``, a crash or an
    unreadable output is ``wrong``.

    Example:
        >>> report = check_conversion(program, "IQM_JOB_INPUT_V1")      # doctest: +SKIP
        >>> report.outcome, report.checks                               # doctest: +SKIP
        ('exact', ('clbits', 'unitary', 'distribution'))
    """
    from qbroker.formats import convert

    target = InputFormat(target_format)
    started = time.perf_counter()
    base = EquivalenceReport(
        source=program.format,
        target=target,
        outcome="unchecked",
        backend=backend.id if backend is not None else None,
    )
    try:
        output = convert(program, target, backend)
        output.parsed  # noqa: B018 - convert() reads its output lazily: read it here
    except UnsupportedError as exc:
        reason = str(exc).strip()
        return replace(
            base,
            outcome="refused",
            reason=reason or f"{type(exc).__name__} without a reason",
            seconds=time.perf_counter() - started,
        )
    except QBrokerError as exc:  # e.g. the output does not read back: the writer is wrong
        return replace(
            base,
            outcome="wrong",
            reason=f"the output does not read back: {type(exc).__name__}: {exc}",
            seconds=time.perf_counter() - started,
        )
    except Exception as exc:  # a crash is a bug, never a refusal
        return replace(
            base,
            outcome="wrong",
            reason=f"the conversion crashed: {type(exc).__name__}: {exc}",
            diff="".join(traceback.format_exception(exc)[-6:]),
            seconds=time.perf_counter() - started,
        )
    try:
        outcome, reason, diff, checks = _compare_programs(program, output, backend)
    except Exception as exc:  # a harness failure must not pass for a verdict on the codec
        outcome, reason, diff, checks = (
            "unchecked",
            f"the harness failed: {type(exc).__name__}: {exc}",
            "".join(traceback.format_exception(exc)[-6:]),
            (),
        )
    return replace(
        base,
        outcome=outcome,
        reason=reason,
        diff=diff,
        checks=checks,
        output=output,
        seconds=time.perf_counter() - started,
    )


def assert_equivalent(
    program: Program,
    target_format: InputFormat | str,
    backend: Backend | None = None,
    *,
    allow_refusal: bool = True,
    allow_unchecked: bool = False,
) -> EquivalenceReport:
    """:func:`check_conversion`, failing (AssertionError) unless the outcome is acceptable.

    For adapter authors' tests: ``wrong`` always fails; ``refused`` fails unless
    ``allow_refusal``; ``unchecked`` fails unless ``allow_unchecked``.
    """
    report = check_conversion(program, target_format, backend)
    allowed = {"exact"}
    if allow_refusal:
        allowed.add("refused")
    if allow_unchecked:
        allowed.add("unchecked")
    if report.outcome not in allowed:
        raise AssertionError(f"{report}\n{report.diff}".rstrip())
    return report


def compare_circuits(
    source: QuantumCircuit,
    output: QuantumCircuit,
    *,
    final_layout: Sequence[int] | None = None,
    relabel: bool = False,
) -> tuple[Outcome, str, str, tuple[str, ...]]:
    """Compare two gate-model circuits as :func:`check_conversion` does.

    Args:
        source: the logical circuit.
        output: the circuit to prove equivalent (physical or logical).
        final_layout: for each source qubit, the output qubit holding its state at the end
            (None: the same index). Given, the operator comparison is skipped (qubits
            moved) and states are compared through it.
        relabel: accept any relabelling of the qubits (as after a backend's layout and
            routing) when comparing states; distributions over classical bits never
            depend on it.

    Returns:
        (outcome, reason, diff, checks passed).
    """
    return _compare_gate(source, output, final_layout, relabel=relabel)


def exact_distribution(circuit: QuantumCircuit) -> dict[str, float]:
    """Exact outcome probabilities over ``circuit``'s classical bits, from |0...0>.

    Keys are qbroker counts keys: character ``i`` is classical bit ``i`` (bit 0 leftmost);
    a bit nothing writes reads 0. Mid-circuit measurements, resets and classical control
    are followed exactly. Outcomes below 1e-12 are left out.

    Raises:
        UnsupportedError: the circuit cannot be simulated exactly (too many qubits touched,
            unbound parameters, an instruction without a matrix or definition).
    """
    try:
        return _Simulator(circuit).distribution()
    except _Unsimulable as exc:
        raise UnsupportedError(f"cannot simulate exactly: {exc}") from None


# --------------------------------------------------------------------------------------
# comparing programs
# --------------------------------------------------------------------------------------

_Verdict = tuple[Outcome, str, str, tuple[str, ...]]


def _compare_programs(source: Program, output: Program, backend: Backend | None) -> _Verdict:
    from qiskit import QuantumCircuit

    from qbroker.formats import Kind, codec

    target_kind = codec(output.format).kind
    if source.is_analog:
        return _compare_analog(source.parsed, output.parsed)
    if target_kind is Kind.PHOTONIC:
        return _compare_photonic(source.parsed, output.parsed)
    if not isinstance(source.parsed, QuantumCircuit):
        return "unchecked", f"no comparison for a {source.format} source", "", ()
    if not isinstance(output.parsed, QuantumCircuit):
        return "wrong", f"the {output.format} output is not a gate-model circuit", "", ()
    return _compare_gate(source.parsed, output.parsed, None, relabel=backend is not None)


def _compare_gate(
    source: QuantumCircuit,
    output: QuantumCircuit,
    layout: Sequence[int] | None,
    *,
    relabel: bool = False,
) -> _Verdict:
    """Compare two circuits; with ``relabel`` the output's qubits may be any relabelling of
    the source's (a backend's layout and routing, vendor qubit numbering)."""
    checks: list[str] = []
    unchecked: list[str] = []
    if source.parameters or output.parameters:
        names = ", ".join(sorted(p.name for p in source.parameters | output.parameters))
        return "unchecked", f"unbound parameters ({names}) have no distribution", "", ()
    # classical bits first: a changed number of bits is the bluntest bit-order bug
    src_bits, out_bits = source.num_clbits, output.num_clbits
    if src_bits:
        if out_bits != src_bits:
            return (
                "wrong",
                f"classical bits: the source has {src_bits}, the output {out_bits}",
                _registers(source, output),
                tuple(checks),
            )
        checks.append("clbits")
    mapping: list[int] | None = list(layout) if layout is not None else None
    if mapping is None and not relabel:
        mapping = list(range(source.num_qubits))
    if mapping is not None and (
        len(mapping) != source.num_qubits
        or len(set(mapping)) != len(mapping)
        or any(not 0 <= m < output.num_qubits for m in mapping)
    ):
        return (
            "wrong",
            f"qubits: the source's {source.num_qubits} qubits cannot map onto the output's "
            f"{output.num_qubits} through {mapping}",
            "",
            tuple(checks),
        )
    src_split = _split_terminal(source)
    out_split = _split_terminal(output)

    # operator comparison: same qubits, pure gates + terminal measurements
    if (
        layout is None
        and src_split is not None
        and out_split is not None
        and source.num_qubits == output.num_qubits
        and source.num_qubits <= MAX_UNITARY_QUBITS
        and (not src_split.measured or src_split.measured == out_split.measured)
    ):
        try:
            verdict = _compare_operators(src_split, out_split)
        except _Unsimulable as exc:
            unchecked.append(f"unitary: {exc}")
        else:
            if verdict is None:
                checks.append("unitary")
            elif not relabel:
                return "wrong", verdict[0], verdict[1], tuple(checks)
            # relabelled qubits: the operators may differ by a permutation; the state and
            # distribution checks below decide

    # states from |0...0>, for sources that measure nothing
    if src_split is not None and out_split is not None and not src_split.measured:
        if "unitary" not in checks:
            try:
                verdict = _compare_states(src_split.gates, out_split.gates, mapping)
            except _Unsimulable as exc:
                unchecked.append(f"statevector: {exc}")
            else:
                if verdict is not None:
                    return "wrong", verdict[0], verdict[1], tuple(checks)
                checks.append("statevector")

    # the full distribution over classical bits (layout free)
    if src_bits:
        try:
            expected = _Simulator(source).distribution()
            actual = _Simulator(output).distribution()
        except _Unsimulable as exc:
            unchecked.append(f"distribution: {exc}")
        else:
            verdict = _compare_distributions(expected, actual)
            if verdict is not None:
                return "wrong", verdict[0], verdict[1], tuple(checks)
            checks.append("distribution")
    elif "unitary" not in checks and "statevector" not in checks:
        # no classical bits and not a pure gate circuit (resets ...): compare the final
        # probabilities of the qubits
        if mapping is None:
            unchecked.append("qubit probabilities: the output's qubit order is unknown")
        else:
            try:
                expected = _Simulator(source, reads=list(range(source.num_qubits))).distribution()
                actual = _Simulator(output, reads=mapping, ignore_clbits=True).distribution()
            except _Unsimulable as exc:
                unchecked.append(f"qubit probabilities: {exc}")
            else:
                verdict = _compare_distributions(expected, actual, what="qubit")
                if verdict is not None:
                    return "wrong", verdict[0], verdict[1], tuple(checks)
                checks.append("qubit-probabilities")
    if not (set(checks) - {"clbits"}):
        return "unchecked", "; ".join(unchecked) or "nothing to compare", "", tuple(checks)
    return "exact", "", "", tuple(checks)


def _registers(source: QuantumCircuit, output: QuantumCircuit) -> str:
    def describe(qc: QuantumCircuit) -> str:
        regs = ", ".join(f"{r.name}[{r.size}]" for r in qc.cregs) or "none"
        return f"{qc.num_clbits} bits in registers {regs}"

    return f"source: {describe(source)}\noutput: {describe(output)}"


@dataclass(frozen=True)
class _Split:
    """A circuit as a pure gate circuit plus terminal measurements."""

    gates: QuantumCircuit
    #: clbit index -> qubit index of the last measurement writing it
    measured: dict[int, int]


def _split_terminal(circuit: QuantumCircuit) -> _Split | None:
    """``circuit`` without its terminal measurements, or None when it is not pure gates
    plus terminal measurements (mid-circuit measurement, reset, classical control)."""
    used_after: set[int] = set()
    measured: dict[int, int] = {}
    keep: list[CircuitInstruction] = []
    for instruction in reversed(circuit.data):
        op = instruction.operation
        qubits = [circuit.find_bit(q).index for q in instruction.qubits]
        if op.name == "measure":
            if qubits[0] in used_after:
                return None
            clbit = circuit.find_bit(instruction.clbits[0]).index
            measured.setdefault(clbit, qubits[0])  # walking backwards: the last write wins
            continue
        if op.name in ("barrier", "delay"):
            continue
        if instruction.clbits or op.name == "reset" or not _is_unitary_like(op):
            return None
        used_after.update(qubits)
        keep.append(instruction)
    gates = circuit.copy_empty_like()
    for instruction in reversed(keep):
        gates.append(instruction)
    return _Split(gates=gates, measured=measured)


def _is_unitary_like(op: Any) -> bool:
    from qiskit.circuit import ControlFlowOp, Gate

    if isinstance(op, ControlFlowOp):
        return False
    if isinstance(op, Gate):
        return True
    definition = getattr(op, "definition", None)
    if definition is None:
        return False
    return all(
        i.operation.name in ("barrier", "delay") or _is_unitary_like(i.operation)
        for i in definition.data
    )


def _compare_operators(src: _Split, out: _Split) -> tuple[str, str] | None:
    import numpy as np
    from qiskit.quantum_info import Operator

    try:
        u = Operator(src.gates)
        v = Operator(out.gates)
    except Exception as exc:
        raise _Unsimulable(f"no operator: {exc}") from None
    if not src.measured:
        if u.equiv(v, rtol=1e-6, atol=1e-7):
            return None
        return (
            "the measurement-free parts are different operators (beyond global phase)",
            _operator_diff(u.data, v.data),
        )
    # V U^dagger may only mix states that agree on every measured qubit
    m = v.data @ u.data.conj().T
    n = src.gates.num_qubits
    mask_bits = sum(1 << q for q in set(src.measured.values()))
    index = np.arange(2**n)
    crossing = ((index[:, None] ^ index[None, :]) & mask_bits) != 0
    leak = float(np.max(np.abs(m[crossing]))) if crossing.any() else 0.0
    if leak <= 1e-6:
        return None
    return (
        f"the operators differ by more than what commutes with the final measurements "
        f"(largest mixing amplitude {leak:.3g})",
        _operator_diff(u.data, v.data),
    )


def _operator_diff(u: np.ndarray, v: np.ndarray) -> str:
    import numpy as np

    # align the global phase on the largest entry, then show where they differ most
    k = np.unravel_index(int(np.argmax(np.abs(u))), u.shape)
    phase = v[k] / u[k] if abs(u[k]) > 1e-12 and abs(v[k]) > 1e-12 else 1.0
    delta = np.abs(v - phase * u)
    worst = np.unravel_index(int(np.argmax(delta)), delta.shape)
    return (
        f"largest difference {float(delta[worst]):.3g} at row {worst[0]}, column {worst[1]} "
        f"(source {complex(u[worst]):.4f}, output {complex(v[worst] / phase):.4f})"
    )


def _compare_states(
    source: QuantumCircuit, output: QuantumCircuit, mapping: Sequence[int] | None
) -> tuple[str, str] | None:
    """Compare the states two pure circuits prepare from |0...0>, up to global phase.

    With ``mapping`` (source qubit i -> output qubit), every other output qubit must end in
    |0>. Without one, any relabelling of the qubits is accepted: qubits left in |0> are
    set aside on both sides, and the rest are matched through their one-qubit reduced
    states, then the whole state is compared for each consistent matching.
    """
    import numpy as np

    if source.num_qubits > MAX_SIMULATED_QUBITS:
        raise _Unsimulable(f"{source.num_qubits} qubits; at most {MAX_SIMULATED_QUBITS}")
    src_state, src_axes = _Simulator(source).final_state()
    out_state, out_axes = _Simulator(output, keep=mapping or ()).final_state()
    if mapping is not None:
        index = {q: a for a, q in enumerate(out_axes)}
        pairs = [(src_axes.index(q), index[mapping[q]]) for q in src_axes] + [
            (None, index[mapping[q]]) for q in range(source.num_qubits) if q not in src_axes
        ]
        return _states_under(src_state, out_state, pairs, out_axes, source, mapping)
    # any relabelling: drop qubits in |0> (a pure state whose qubit is |0> is a product)
    src_core, src_keep = _without_zero_qubits(src_state)
    out_core, out_keep = _without_zero_qubits(out_state)
    if src_core.ndim != out_core.ndim:
        return (
            "the prepared states differ: the source leaves "
            f"{src_core.ndim} qubits out of |0>, the output {out_core.ndim}",
            f"source qubits {[src_axes[a] for a in src_keep]}, "
            f"output qubits {[out_axes[a] for a in out_keep]}",
        )
    rho_src = [_reduced(src_core, a) for a in range(src_core.ndim)]
    rho_out = [_reduced(out_core, a) for a in range(out_core.ndim)]
    options = [
        [b for b in range(out_core.ndim) if np.allclose(rho_src[a], rho_out[b], atol=1e-6)]
        for a in range(src_core.ndim)
    ]
    order = sorted(range(src_core.ndim), key=lambda a: len(options[a]))
    tried = 0

    def search(position: int, chosen: dict[int, int]) -> dict[int, int] | None:
        nonlocal tried
        if position == len(order):
            tried += 1
            permuted = np.moveaxis(
                out_core, [chosen[a] for a in range(src_core.ndim)], list(range(src_core.ndim))
            )
            overlap = abs(complex(np.vdot(src_core.ravel(), permuted.ravel())))
            return chosen if abs(overlap - 1.0) <= 1e-6 else None
        a = order[position]
        for b in options[a]:
            if b in chosen.values() or tried > 5040:
                continue
            found = search(position + 1, {**chosen, a: b})
            if found is not None:
                return found
        return None

    if src_core.ndim == 0 or search(0, {}) is not None:
        return None
    return (
        "the prepared states differ under every relabelling of the qubits",
        "source one-qubit states: "
        + "; ".join(
            f"q{src_axes[src_keep[a]]} P(1)={float(rho_src[a][1, 1].real):.4f}"
            for a in range(src_core.ndim)
        )
        + " | output: "
        + "; ".join(
            f"q{out_axes[out_keep[b]]} P(1)={float(rho_out[b][1, 1].real):.4f}"
            for b in range(out_core.ndim)
        ),
    )


def _states_under(
    src_state: Any,
    out_state: Any,
    pairs: Sequence[tuple[int | None, int]],
    out_axes: list[int],
    source: QuantumCircuit,
    mapping: Sequence[int],
) -> tuple[str, str] | None:
    import numpy as np

    # expected output: each source axis on its mapped output axis, every other one |0>
    n, m = src_state.ndim, out_state.ndim
    padded = np.zeros((2,) * m, dtype=complex)
    padded[(Ellipsis,) + (0,) * (m - n)] = src_state
    targets = [b for a, b in pairs if a is not None]
    sources = [a for a, _ in pairs if a is not None]
    expected = np.moveaxis(padded, sources, targets) if n else padded
    overlap = complex(np.vdot(expected.ravel(), out_state.ravel()))
    if abs(abs(overlap) - 1.0) <= 1e-6:
        return None
    p_exp = np.abs(expected) ** 2
    p_out = np.abs(out_state) ** 2
    worst = np.unravel_index(int(np.argmax(np.abs(p_exp - p_out))), p_exp.shape)
    where = ", ".join(f"q{out_axes[a]}={int(v)}" for a, v in enumerate(worst))
    return (
        f"the prepared states differ (|<expected|output>| = {abs(overlap):.6f})",
        f"largest probability difference at output basis state ({where}): expected "
        f"{float(p_exp[worst]):.6f}, output {float(p_out[worst]):.6f}; source qubit i is "
        f"output qubit {list(mapping)}[i]",
    )


def _reduced(state: Any, axis: int) -> Any:
    """The 2x2 reduced density matrix of one axis of a pure state."""
    import numpy as np

    psi = np.moveaxis(state, axis, 0).reshape(2, -1)
    return psi @ psi.conj().T


def _without_zero_qubits(state: Any) -> tuple[Any, list[int]]:
    """The state without the axes that are |0> (a product factor), and the kept axes."""
    keep: list[int] = []
    core = state
    removed = 0
    for axis in range(state.ndim):
        rho = _reduced(core, axis - removed)
        if abs(rho[1, 1]) <= 1e-9:
            index: list[Any] = [slice(None)] * core.ndim
            index[axis - removed] = 0
            core = core[tuple(index)]
            removed += 1
        else:
            keep.append(axis)
    return core, keep


def _compare_distributions(
    expected: dict[str, float], actual: dict[str, float], what: str = "bit"
) -> tuple[str, str] | None:
    keys = sorted(set(expected) | set(actual))
    deltas = {k: actual.get(k, 0.0) - expected.get(k, 0.0) for k in keys}
    worst = max(deltas, key=lambda k: abs(deltas[k]), default=None)
    if worst is None or abs(deltas[worst]) <= PROBABILITY_TOLERANCE:
        return None
    lines = [
        f"{k}: source {expected.get(k, 0.0):.6f}, output {actual.get(k, 0.0):.6f}"
        for k in sorted(keys, key=lambda k: -abs(deltas[k]))[:8]
        if abs(deltas[k]) > PROBABILITY_TOLERANCE
    ]
    width = len(worst)
    marginals = []
    for i in range(width):
        p_src = sum(p for k, p in expected.items() if k[i] == "1")
        p_out = sum(p for k, p in actual.items() if k[i] == "1")
        flag = "  <-- differs" if abs(p_src - p_out) > PROBABILITY_TOLERANCE else ""
        marginals.append(f"{what} {i}: P(1) source {p_src:.6f}, output {p_out:.6f}{flag}")
    hint = _swap_hint(expected, actual)
    total = sum(abs(d) for d in deltas.values()) / 2
    return (
        f"the distributions over {what}s differ (total variation {total:.6f}; "
        f"key {worst!r}: source {expected.get(worst, 0.0):.6f}, output "
        f"{actual.get(worst, 0.0):.6f}){hint}",
        "\n".join(lines + marginals),
    )


def _swap_hint(expected: dict[str, float], actual: dict[str, float]) -> str:
    """Name the likeliest bit-order bug: the output is the source with keys reversed."""
    reversed_expected = {k[::-1]: p for k, p in expected.items()}
    keys = set(reversed_expected) | set(actual)
    if all(
        abs(reversed_expected.get(k, 0.0) - actual.get(k, 0.0)) <= PROBABILITY_TOLERANCE
        for k in keys
    ):
        return "; the output is the source with its bit order reversed"
    return ""


# --------------------------------------------------------------------------------------
# analog and photonic
# --------------------------------------------------------------------------------------


def _compare_analog(source: Any, output: Any) -> _Verdict:
    to_dict = getattr(output, "to_json_dict", None)
    if to_dict is None:
        return "wrong", "the output is not an analog program", "", ()
    difference = _first_difference(source.to_json_dict(), output.to_json_dict(), "")
    if difference is None:
        return "exact", "", "", ("ir",)
    return "wrong", f"the AHS programs differ at {difference[0] or 'the top'}", difference[1], ()


def _first_difference(a: Any, b: Any, path: str) -> tuple[str, str] | None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                return f"{path}.{key}".lstrip("."), "present in only one of them"
            found = _first_difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return path.lstrip("."), f"{len(a)} entries vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = _first_difference(x, y, f"{path}.{i}")
            if found:
                return found
        return None
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        if math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-30):
            return None
        return path.lstrip("."), f"source {a!r}, output {b!r}"
    if a != b:
        return path.lstrip("."), f"source {a!r}, output {b!r}"
    return None


def _compare_photonic(source: Any, output: Any) -> _Verdict:
    """Run the photonic output (and a photonic source) on Perceval's exact SLOS simulator,
    decode the detections and compare them with the source's distribution."""
    from qiskit import QuantumCircuit

    if getattr(output, "qubit_modes", None) is None:
        return "wrong", "the PERCEVAL output does not say which modes encode which qubit", "", ()
    if isinstance(source, QuantumCircuit):
        if source.parameters:
            return "unchecked", "unbound parameters have no distribution", "", ()
        by_qubits = source.num_clbits == 0
        source_bits = source.num_clbits
    else:
        by_qubits = source.num_clbits == 0
        source_bits = source.num_clbits
    if not by_qubits and output.num_clbits != source_bits:
        return (
            "wrong",
            f"classical bits: the source has {source_bits}, the output {output.num_clbits}",
            "",
            (),
        )
    try:
        actual = _photonic_distribution(output, by_qubits)
        if isinstance(source, QuantumCircuit):
            reads = list(range(source.num_qubits)) if by_qubits else None
            expected = _Simulator(source, reads=reads).distribution()
        else:
            expected = _photonic_distribution(source, by_qubits)
    except _Unsimulable as exc:
        return "unchecked", str(exc), "", ()
    verdict = _compare_distributions(expected, actual, what="qubit" if by_qubits else "bit")
    if verdict is not None:
        return "wrong", verdict[0], verdict[1], ()
    return "exact", "", "", ("photonic",) if by_qubits else ("clbits", "photonic")


def _photonic_distribution(program: Any, by_qubits: bool) -> dict[str, float]:
    """Exact decoded distribution of a photonic program (over its classical bits, or its
    qubits), normalised over the runs heralds, post-selection and dual rail keep."""
    modes, photons = int(program.num_modes), int(program.num_photons)
    states = math.comb(modes + photons - 1, photons) if modes > 0 else 0
    if states > MAX_PHOTONIC_STATES:
        raise _Unsimulable(
            f"{photons} photons in {modes} modes make {states:,} output states; the exact "
            f"photonic check enumerates at most {MAX_PHOTONIC_STATES:,}"
        )
    try:
        outcome = program.processor("SLOS").probs()
    except Exception as exc:
        raise _Unsimulable(
            f"Perceval's SLOS simulation failed: {type(exc).__name__}: {exc}"
        ) from None
    positions = tuple(program.output_positions())
    decoded: dict[str, float] = {}
    for state, probability in outcome["results"].items():
        key = (
            program.qubit_bits(state, positions) if by_qubits else program.decode(state, positions)
        )
        if key is not None:
            decoded[key] = decoded.get(key, 0.0) + float(probability)
    kept = sum(decoded.values())
    if kept <= _NEGLIGIBLE:
        raise _Unsimulable("no photonic run passes heralds, post-selection and dual rail")
    return {k: p / kept for k, p in sorted(decoded.items()) if p / kept > _NEGLIGIBLE}


# --------------------------------------------------------------------------------------
# the exact simulator
# --------------------------------------------------------------------------------------


class _Unsimulable(Exception):
    """The exact simulator cannot follow this circuit (the message says why)."""


@dataclass(eq=False)
class _Branch:
    """One measurement history: its probability, state and classical bits."""

    probability: float
    state: Any  # numpy tensor, one axis per simulated qubit
    bits: dict[int, int]
    #: clbit -> axis of a terminal measurement applied at the very end
    deferred: dict[int, int]


_MATRIX_CACHE: dict[tuple[str, int, tuple[float, ...]], Any] = {}
_SKIPPED = frozenset({"barrier", "delay"})


class _Simulator:
    """Exact, branching statevector simulation of a circuit's instructions.

    Only qubits some instruction touches get an axis (a physical circuit read back on a
    156-qubit device touches a handful). Terminal measurements are applied once at the end
    on the final state; other measurements and resets branch on each outcome.
    """

    def __init__(
        self,
        circuit: QuantumCircuit,
        *,
        reads: Sequence[int] | None = None,
        keep: Iterable[int] = (),
        ignore_clbits: bool = False,
    ) -> None:
        self.circuit = circuit
        self.reads = list(reads or [])
        self.num_clbits = 0 if ignore_clbits else circuit.num_clbits
        self.ignore_clbits = ignore_clbits
        touched = set(keep) | set(self.reads)
        self._collect(circuit, [circuit.find_bit(q).index for q in circuit.qubits], touched)
        if len(touched) > MAX_SIMULATED_QUBITS:
            raise _Unsimulable(
                f"{len(touched)} qubits are used; the exact simulator holds at most "
                f"{MAX_SIMULATED_QUBITS}"
            )
        self.axes = sorted(touched)
        self.axis_of = {q: a for a, q in enumerate(self.axes)}
        self.clbit_index = {bit: i for i, bit in enumerate(circuit.clbits)}

    # ---- discovery ----------------------------------------------------------------------

    def _collect(self, circuit: QuantumCircuit, qubit_map: list[int], touched: set[int]) -> None:
        index = {q: qubit_map[i] for i, q in enumerate(circuit.qubits)}
        for instruction in circuit.data:
            if instruction.operation.name in _SKIPPED:
                continue
            touched.update(index[q] for q in instruction.qubits)

    # ---- running ------------------------------------------------------------------------

    def _start(self) -> list[_Branch]:
        import numpy as np

        state = np.zeros((2,) * len(self.axes), dtype=complex)
        state[(0,) * len(self.axes)] = 1.0
        return [_Branch(1.0, state, {}, {})]

    def _run_top(self) -> list[_Branch]:
        circuit = self.circuit
        deferrable = self._deferrable(circuit)
        qubit_axes = {q: self.axis_of.get(circuit.find_bit(q).index, -1) for q in circuit.qubits}
        clbits = {c: i for c, i in self.clbit_index.items()}
        branches = self._start()
        for position, instruction in enumerate(circuit.data):
            branches = self._step(
                instruction, branches, qubit_axes, clbits, defer=position in deferrable
            )
        return branches

    def _deferrable(self, circuit: QuantumCircuit) -> set[int]:
        """Positions of measurements nothing later depends on (applied at the end)."""
        from qiskit.circuit import ControlFlowOp

        result: set[int] = set()
        used_after: set[Any] = set()
        control_after = False
        for position in range(len(circuit.data) - 1, -1, -1):
            instruction = circuit.data[position]
            op = instruction.operation
            if op.name == "measure":
                if instruction.qubits[0] not in used_after and not control_after:
                    result.add(position)
                used_after.update(instruction.qubits)
                continue
            if op.name in _SKIPPED:
                continue
            if isinstance(op, ControlFlowOp):
                control_after = True
            used_after.update(instruction.qubits)
        return result

    def _step(
        self,
        instruction: CircuitInstruction,
        branches: list[_Branch],
        qubit_axes: dict[Any, int],
        clbits: dict[Any, int],
        *,
        defer: bool = False,
    ) -> list[_Branch]:
        from qiskit.circuit import ControlFlowOp

        op = instruction.operation
        name = op.name
        if name in _SKIPPED:
            return branches
        axes = [qubit_axes[q] for q in instruction.qubits]
        if name == "measure":
            clbit = clbits.get(instruction.clbits[0]) if not self.ignore_clbits else None
            if defer:
                for branch in branches:
                    if clbit is not None:
                        branch.deferred[clbit] = axes[0]
                        branch.bits.pop(clbit, None)
                return branches
            return self._measure(branches, axes[0], clbit)
        if name == "reset":
            return self._reset(branches, axes[0])
        if isinstance(op, ControlFlowOp):
            return self._control_flow(instruction, branches, qubit_axes, clbits)
        if getattr(op, "params", None) and any(_is_unbound(p) for p in op.params):
            raise _Unsimulable(f"{name} has unbound parameters")
        matrix = _matrix(op)
        if matrix is not None:
            for branch in branches:
                branch.state = _apply(branch.state, matrix, axes)
            return branches
        definition = getattr(op, "definition", None)
        if definition is None:
            raise _Unsimulable(f"no matrix or definition for instruction {name!r}")
        inner_q = {q: axes[i] for i, q in enumerate(definition.qubits)}
        inner_c = {
            c: clbits.get(instruction.clbits[i], -1) for i, c in enumerate(definition.clbits)
        }
        for inner in definition.data:
            branches = self._step(inner, branches, inner_q, inner_c)
        if not _is_unbound(definition.global_phase) and float(definition.global_phase) != 0:
            angle = float(definition.global_phase)
            phase = complex(math.cos(angle), math.sin(angle))
            for branch in branches:
                branch.state = branch.state * phase
        return branches

    def _measure(self, branches: list[_Branch], axis: int, clbit: int | None) -> list[_Branch]:
        out: list[_Branch] = []
        for branch in branches:
            for outcome, probability, state in _project(branch.state, axis):
                bits = dict(branch.bits)
                deferred = dict(branch.deferred)
                if clbit is not None and clbit >= 0:
                    bits[clbit] = outcome
                    deferred.pop(clbit, None)
                out.append(_Branch(branch.probability * probability, state, bits, deferred))
        return self._pruned(out)

    def _reset(self, branches: list[_Branch], axis: int) -> list[_Branch]:
        import numpy as np

        out: list[_Branch] = []
        for branch in branches:
            for outcome, probability, state in _project(branch.state, axis):
                if outcome == 1:
                    state = np.flip(state, axis=axis).copy()
                out.append(
                    _Branch(
                        branch.probability * probability,
                        state,
                        dict(branch.bits),
                        dict(branch.deferred),
                    )
                )
        return self._pruned(out)

    def _pruned(self, branches: list[_Branch]) -> list[_Branch]:
        kept = [b for b in branches if b.probability > _NEGLIGIBLE]
        if len(kept) > MAX_BRANCHES:
            raise _Unsimulable(
                f"more than {MAX_BRANCHES} measurement histories (mid-circuit measurements)"
            )
        return kept

    def _control_flow(
        self,
        instruction: CircuitInstruction,
        branches: list[_Branch],
        qubit_axes: dict[Any, int],
        clbits: dict[Any, int],
    ) -> list[_Branch]:
        from qiskit.circuit import BoxOp, ForLoopOp, IfElseOp, SwitchCaseOp, WhileLoopOp

        op = instruction.operation

        def run(block: QuantumCircuit, subset: list[_Branch]) -> list[_Branch]:
            inner_q = {q: qubit_axes[instruction.qubits[i]] for i, q in enumerate(block.qubits)}
            inner_c = dict(clbits)
            for i, c in enumerate(block.clbits):
                inner_c[c] = clbits.get(instruction.clbits[i], -1)
            for inner in block.data:
                if inner.operation.name in ("break_loop", "continue_loop"):
                    raise _Unsimulable("break/continue inside a loop")
                subset = self._step(inner, subset, inner_q, inner_c)
            return subset

        if isinstance(op, IfElseOp):
            true_body, false_body = op.blocks[0], (op.blocks[1] if len(op.blocks) > 1 else None)
            taken: list[_Branch] = []
            skipped: list[_Branch] = []
            for b in branches:
                (taken if self._condition(op.condition, b, clbits) else skipped).append(b)
            out = run(true_body, taken) if taken else []
            if false_body is not None and skipped:
                skipped = run(false_body, skipped)
            return self._pruned(out + skipped)
        if isinstance(op, BoxOp):
            return run(op.blocks[0], branches)
        if isinstance(op, ForLoopOp):
            indexset, parameter, body = op.params
            for value in indexset:
                block = body if parameter is None else body.assign_parameters({parameter: value})
                branches = run(block, branches)
            return branches
        if isinstance(op, WhileLoopOp):
            body = op.blocks[0]
            done: list[_Branch] = []
            active = branches
            for _ in range(1000):
                looping: list[_Branch] = []
                for b in active:
                    (looping if self._condition(op.condition, b, clbits) else done).append(b)
                if not looping:
                    return self._pruned(done)
                active = run(body, looping)
            raise _Unsimulable("a while loop ran 1000 times")
        if isinstance(op, SwitchCaseOp):
            out = []
            for branch in branches:
                value = self._value(op.target, branch, clbits)
                for labels, block in op.cases_specifier():
                    if any(_matches(label, value) for label in labels):
                        out += run(block, [branch])
                        break
                else:
                    out.append(branch)
            return self._pruned(out)
        raise _Unsimulable(f"control flow {op.name!r}")

    # ---- classical values -----------------------------------------------------------------

    def _bit(self, bit: Any, branch: _Branch, clbits: dict[Any, int]) -> int:
        index = clbits.get(bit, self.clbit_index.get(bit))
        if index is None or index < 0:
            raise _Unsimulable("a condition reads a bit outside the circuit")
        if index in branch.deferred:  # pragma: no cover - deferral excludes this
            raise _Unsimulable("a condition reads a deferred measurement")
        return branch.bits.get(index, 0)

    def _value(self, target: Any, branch: _Branch, clbits: dict[Any, int]) -> int:
        from qiskit.circuit import ClassicalRegister, Clbit
        from qiskit.circuit.classical import expr

        if isinstance(target, Clbit):
            return self._bit(target, branch, clbits)
        if isinstance(target, ClassicalRegister):
            return sum(self._bit(b, branch, clbits) << i for i, b in enumerate(target))
        if isinstance(target, expr.Expr):
            return int(self._eval(target, branch, clbits))
        raise _Unsimulable(f"a classical target {type(target).__name__}")

    def _condition(self, condition: Any, branch: _Branch, clbits: dict[Any, int]) -> bool:
        if isinstance(condition, tuple):
            target, value = condition
            return self._value(target, branch, clbits) == int(value)
        return bool(self._eval(condition, branch, clbits))

    def _eval(self, node: Any, branch: _Branch, clbits: dict[Any, int]) -> int | bool:
        from qiskit.circuit.classical import expr, types

        if isinstance(node, expr.Var):
            if isinstance(node.var, (tuple, list)) or node.var is None:
                raise _Unsimulable("a classical variable")
            try:
                return self._value(node.var, branch, clbits)
            except _Unsimulable:
                raise _Unsimulable("a classical variable") from None
        if isinstance(node, expr.Value):
            return node.value  # type: ignore[no-any-return]
        if isinstance(node, expr.Cast):
            inner = self._eval(node.operand, branch, clbits)
            if isinstance(node.type, types.Bool):
                return bool(inner)
            return int(inner)
        if isinstance(node, expr.Unary):
            value = self._eval(node.operand, branch, clbits)
            if node.op is expr.Unary.Op.LOGIC_NOT:
                return not value
            width = getattr(node.type, "width", 1)
            if isinstance(node.type, types.Bool):
                return not value
            return ~int(value) & ((1 << width) - 1)
        if isinstance(node, expr.Binary):
            a = self._eval(node.left, branch, clbits)
            b = self._eval(node.right, branch, clbits)
            ops = expr.Binary.Op
            table: dict[Any, Any] = {
                ops.BIT_AND: lambda: int(a) & int(b),
                ops.BIT_OR: lambda: int(a) | int(b),
                ops.BIT_XOR: lambda: int(a) ^ int(b),
                ops.LOGIC_AND: lambda: bool(a) and bool(b),
                ops.LOGIC_OR: lambda: bool(a) or bool(b),
                ops.EQUAL: lambda: a == b,
                ops.NOT_EQUAL: lambda: a != b,
                ops.LESS: lambda: a < b,
                ops.LESS_EQUAL: lambda: a <= b,
                ops.GREATER: lambda: a > b,
                ops.GREATER_EQUAL: lambda: a >= b,
            }
            if node.op not in table:
                raise _Unsimulable(f"classical operator {node.op.name}")
            result = table[node.op]()
            if isinstance(node.type, types.Bool):
                return bool(result)
            return int(result)
        raise _Unsimulable(f"classical expression {type(node).__name__}")

    # ---- results --------------------------------------------------------------------------

    def final_state(self) -> tuple[Any, list[int]]:
        """The final state (no measurement may branch) and the qubit index of each axis."""
        branches = self._run_top()
        if len(branches) != 1:
            raise _Unsimulable("the circuit branches on measurements")
        return branches[0].state, list(self.axes)

    def distribution(self) -> dict[str, float]:
        """Probabilities over the classical bits (then ``reads``), keyed bit 0 leftmost."""
        import numpy as np

        read_axes = [self.axis_of[q] for q in self.reads]
        width = self.num_clbits + len(read_axes)
        result: dict[str, float] = {}
        for branch in self._run_top():
            deferred = list(branch.deferred.items())
            targets = [(clbit, axis) for clbit, axis in deferred] + [
                (self.num_clbits + j, axis) for j, axis in enumerate(read_axes)
            ]
            measured_axes = sorted({axis for _, axis in targets})
            base = ["0"] * width
            for clbit, value in branch.bits.items():
                if 0 <= clbit < self.num_clbits:
                    base[clbit] = str(value)
            if not measured_axes:
                text = "".join(base)
                result[text] = result.get(text, 0.0) + branch.probability
                continue
            probabilities = np.abs(branch.state) ** 2
            others = tuple(a for a in range(probabilities.ndim) if a not in measured_axes)
            marginal = probabilities.sum(axis=others) if others else probabilities
            # the marginal's axes follow measured_axes
            position = {axis: i for i, axis in enumerate(measured_axes)}
            for outcome in zip(*np.nonzero(marginal > _NEGLIGIBLE / 10), strict=True):
                p = float(marginal[outcome]) * branch.probability
                if p <= _NEGLIGIBLE:
                    continue
                key = list(base)
                for clbit, axis in targets:
                    key[clbit] = str(int(outcome[position[axis]]))
                text = "".join(key)
                result[text] = result.get(text, 0.0) + p
        return {k: result[k] for k in sorted(result)}


def _matches(label: Any, value: int) -> bool:
    from qiskit.circuit import SwitchCaseOp

    return label is SwitchCaseOp.DEFAULT or int(label) == value


def _is_unbound(value: Any) -> bool:
    from qiskit.circuit import ParameterExpression

    return isinstance(value, ParameterExpression) and bool(value.parameters)


def _matrix(op: Any) -> Any:
    """The op's unitary, or None when it has none of its own (simulate its definition)."""
    import numpy as np
    from qiskit.circuit import Gate

    if not isinstance(op, Gate):
        return None
    standard = op.name in _standard_names()
    key: tuple[str, int, tuple[float, ...]] | None = None
    if standard and type(op).__name__ != "AnnotatedOperation":
        try:
            key = (op.name, op.num_qubits, tuple(float(p) for p in op.params))
        except (TypeError, ValueError):
            key = None
        if key is not None and key in _MATRIX_CACHE:
            return _MATRIX_CACHE[key]
    if not standard and op.definition is not None:
        return None
    try:
        matrix = np.asarray(op.to_matrix(), dtype=complex)
    except Exception:
        return None
    if key is not None and len(_MATRIX_CACHE) < 4096:
        _MATRIX_CACHE[key] = matrix
    return matrix


@functools.cache
def _standard_names() -> frozenset[str]:
    from qiskit.circuit.library import get_standard_gate_name_mapping

    return frozenset(get_standard_gate_name_mapping())


def _apply(state: Any, matrix: Any, axes: Sequence[int]) -> Any:
    """Apply a k-qubit matrix (Qiskit order: qarg j is bit j of the index) to ``axes``."""
    import numpy as np

    k = len(axes)
    if k == 0:
        return state * complex(matrix.reshape(-1)[0])
    tensor = matrix.reshape((2,) * (2 * k))
    # tensor axes: outputs (qarg k-1 ... qarg 0), then inputs (qarg k-1 ... qarg 0)
    inputs = [2 * k - 1 - j for j in range(k)]
    moved = np.tensordot(tensor, state, axes=(inputs, list(axes)))
    # moved axes: outputs (qarg k-1 ... qarg 0), then the untouched state axes in order
    return np.moveaxis(moved, list(range(k)), [axes[k - 1 - t] for t in range(k)])


def _project(state: Any, axis: int) -> list[tuple[int, float, Any]]:
    """The outcomes of measuring ``axis``: (outcome, probability, collapsed state)."""
    import numpy as np

    out: list[tuple[int, float, Any]] = []
    for outcome in (0, 1):
        index: list[Any] = [slice(None)] * state.ndim
        index[axis] = 1 - outcome
        collapsed = state.copy()
        collapsed[tuple(index)] = 0
        probability = float(np.vdot(collapsed.ravel(), collapsed.ravel()).real)
        if probability > _NEGLIGIBLE:
            out.append((outcome, probability, collapsed / math.sqrt(probability)))
    return out
