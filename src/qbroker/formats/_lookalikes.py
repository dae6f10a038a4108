"""Custom gates that carry a standard gate's name, made what they are before a writer
translates by name.

Qiskit's OpenQASM 3 reader (and qbroker's) turns an in-file ``gate rzz(t) a, b {...}`` —
Qiskit's exporter writes such definitions for the gates ``stdgates.inc`` lacks: ``rzz``,
``sxdg``, ``ecr`` ... — into a plain ``Gate`` whose *name* is the standard one. Everything
downstream goes by name: Qiskit's translation passes count a custom ``rzz`` as already in
an ``rzz`` basis and translate a custom ``ecr`` with the library's ECR entry, and a writer
that maps names to its own gates writes the standard gate. Each is silently wrong when the
file's definition means something else, and a refusal when a nested lookalike survives.

:func:`resolve_lookalikes` compares each such gate with the standard gate of its name as a
matrix: when they are equal (up to a phase, moved to the circuit's global phase) it becomes
the standard gate; otherwise it is replaced by its definition, itself resolved the same way.
A custom gate whose definition holds a lookalike (at any depth) is replaced by its
definition too, since a translator would expand it and then meet the lookalike by name.
A gate is never translated by its name alone.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from qbroker.errors import UnsupportedError

if TYPE_CHECKING:  # pragma: no cover
    from qiskit import QuantumCircuit
    from qiskit.circuit import CircuitInstruction, Gate

__all__ = ["resolve_lookalikes"]

#: Widest lookalike compared with the standard gate of its name as a matrix (wider ones
#: are expanded through their definition, which is always exact).
MAX_COMPARED_QUBITS = 4

#: Instructions Qiskit keeps in Rust that are never gates: skipped without building them.
_NON_GATES = frozenset({"measure", "barrier", "reset", "delay"})


def resolve_lookalikes(circuit: QuantumCircuit) -> QuantumCircuit:
    """``circuit`` with every custom gate named like a standard one made what it is.

    Returns ``circuit`` itself when it holds no such gate (the common case costs one pass
    over the instructions). Control-flow blocks are resolved too.

    Raises:
        UnsupportedError: a lookalike that differs from its standard namesake and has no
            definition to expand (no reader builds one).

    Example:
        >>> import qbroker
        >>> text = ('OPENQASM 3.0; include "stdgates.inc";\\n'
        ...         'gate ecr a, b { h a; cx a, b; }\\nqubit[2] q; ecr q[0], q[1];')
        >>> circuit = qbroker.Program(format="OPEN_QASM_V3", payload=text).circuit
        >>> [i.name for i in resolve_lookalikes(circuit).data]
        ['h', 'cx']
    """
    return _Resolver().resolve(circuit)


class _Resolver:
    """One resolution: remembers which custom gates hide a lookalike, by name and body."""

    def __init__(self) -> None:
        from qiskit.circuit.equivalence_library import SessionEquivalenceLibrary

        self.library = SessionEquivalenceLibrary
        self.standard = _standard_gates()
        self.hiding: dict[tuple[Any, ...], bool] = {}

    def resolve(self, circuit: QuantumCircuit) -> QuantumCircuit:
        if not any(self.affected(inst) for inst in circuit.data):
            return circuit
        out = circuit.copy_empty_like()
        self.inline(circuit, out, None)
        return out

    def is_lookalike(self, op: Any) -> bool:
        """A custom gate a translator or writer would take for a standard one by its name."""
        return _is_custom(op) and (op.name in self.standard or self.library.has_entry(op))

    def hides(self, op: Any) -> bool:
        """Whether ``op`` is a custom gate with a lookalike somewhere in its definition."""
        if not _is_custom(op):
            return False
        definition = op.definition
        if definition is None:
            return False
        # Gates of one name share a body (up to parameters); its names decide the answer.
        key = (op.name, op.num_qubits, tuple(inst.name for inst in definition.data))
        found = self.hiding.get(key)
        if found is None:
            found = self.hiding[key] = any(
                self.is_lookalike(inst.operation) or self.hides(inst.operation)
                for inst in definition.data
                if not inst.is_standard_gate() and inst.name not in _NON_GATES
            )
        return found

    def affected(self, inst: CircuitInstruction) -> bool:
        """Whether resolution changes this instruction."""
        if inst.is_standard_gate() or inst.name in _NON_GATES:
            return False
        if inst.is_control_flow():
            return any(
                self.affected(inner) for block in inst.operation.blocks for inner in block.data
            )
        op = inst.operation
        return self.is_lookalike(op) or self.hides(op)

    def inline(self, circuit: QuantumCircuit, out: QuantumCircuit, wires: list[Any] | None) -> None:
        """Append ``circuit``, resolved, to ``out``: its qubit ``i`` is ``wires[i]`` of
        ``out`` (None: ``circuit`` is ``out``'s source and shares its bits)."""
        index = {q: i for i, q in enumerate(circuit.qubits)}
        for inst in circuit.data:
            if not self.affected(inst):
                out._append(inst if wires is None else inst.replace(qubits=_on(inst, wires, index)))
                continue
            op = inst.operation
            qubits = inst.qubits if wires is None else _on(inst, wires, index)
            if inst.is_control_flow():
                blocks = [self.resolve(block) for block in op.blocks]
                out._append(inst.replace(operation=op.replace_blocks(blocks), qubits=qubits))
                continue
            found = _standard_form(_Keyed(op)) if self.is_lookalike(op) else None
            if found is not None:
                gate, phase = found
                out.global_phase += phase
                out._append(gate, qubits, ())
                continue
            definition = op.definition
            if definition is None:  # pragma: no cover - readers define every custom gate
                raise UnsupportedError(
                    f"the gate '{op.name}' is not the standard {op.name} and has no definition"
                )
            out.global_phase += definition.global_phase
            self.inline(definition, out, list(qubits))


def _on(inst: CircuitInstruction, wires: list[Any], index: dict[Any, int]) -> list[Any]:
    return [wires[index[q]] for q in inst.qubits]


@lru_cache(maxsize=1)
def _standard_gates() -> dict[str, Any]:
    from qiskit.circuit.library import get_standard_gate_name_mapping

    mapping: dict[str, Any] = get_standard_gate_name_mapping()
    return mapping


def _is_custom(op: Any) -> bool:
    """A gate defined by its definition alone (not a standard gate nor Qiskit library's)."""
    from qiskit.circuit import Gate

    if not isinstance(op, Gate) or getattr(op, "_standard_gate", None) is not None:
        return False
    return not type(op).__module__.startswith("qiskit.circuit.library")


class _Keyed:
    """A lookalike as a cache key: equal when the name, parameters and definition (so the
    matrix) are, whichever gate object carries them."""

    __slots__ = ("key", "op")

    def __init__(self, op: Gate) -> None:
        self.op = op
        # a call of a program's own ``gate`` (qbroker's OpenQASM 3 reader): the definition
        # is that gate's body, so the body object stands for it without being built
        template = getattr(op, "_template", None)
        if template is not None:
            body: Any = ("template", template)
        else:
            definition = op.definition
            body = _fingerprint(definition) if definition is not None else None
        self.key = (op.name, op.num_qubits, tuple(_hashable(p) for p in op.params), body)

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Keyed) and self.key == other.key


@lru_cache(maxsize=512)
def _standard_form(keyed: _Keyed) -> tuple[Gate, float] | None:
    """(the standard gate the lookalike equals, the phase between them), or None."""
    op = keyed.op
    if not _comparable(op.name, op.num_qubits, op.params) or op.definition is None:
        return None
    return standard_form_of(op.name, op.params, op.definition)


def _comparable(name: str, num_qubits: int, params: Any) -> bool:
    """A gate of this name, width and parameters can be compared with the standard one."""
    from qiskit.circuit import Gate

    template = _standard_gates().get(name)
    return (
        isinstance(template, Gate)
        and template.num_qubits == num_qubits
        and 0 < num_qubits <= MAX_COMPARED_QUBITS
        and len(template.params) == len(params)
        and all(isinstance(p, float | int) for p in params)
    )


def standard_form_of(
    name: str, params: Any, definition: QuantumCircuit
) -> tuple[Gate, float] | None:
    """(the standard gate ``name(*params)``, the phase between it and ``definition``) when
    ``definition`` is that gate up to a global phase, else None."""
    import numpy as np
    from qiskit.quantum_info import Operator

    if not _comparable(name, definition.num_qubits, params):
        return None
    candidate = _standard_gates()[name].base_class(*params)
    want = np.asarray(candidate.to_matrix(), dtype=complex)
    have = _small_unitary(definition)
    if have is None:
        have = Operator(definition).data
    k = int(np.argmax(np.abs(want)))
    ratio = have.flat[k] / want.flat[k]
    if abs(abs(ratio) - 1.0) < 1e-12 and np.allclose(have, ratio * want, rtol=0, atol=1e-12):
        return candidate, float(np.angle(ratio))
    return None


def _small_unitary(circuit: QuantumCircuit) -> Any:
    """The unitary of a definition made of standard gates (numpy, as Qiskit's ``Operator``
    gives it: little-endian in the qubits), or None for anything else."""
    import numpy as np

    n = circuit.num_qubits
    if not 0 < n <= MAX_COMPARED_QUBITS or circuit.clbits:
        return None
    dim = 2**n
    total = np.eye(dim, dtype=complex)
    index = {q: i for i, q in enumerate(circuit.qubits)}
    for inst in circuit.data:
        if not inst.is_standard_gate() or any(not isinstance(p, float | int) for p in inst.params):
            return None
        k = len(inst.qubits)
        gate = np.asarray(inst.operation.to_matrix(), dtype=complex).reshape((2,) * (2 * k))
        # tensor axis of qubit q is n-1-q (big-endian rows); a gate's own rows likewise
        axes = [n - 1 - index[q] for q in reversed(inst.qubits)]
        tensor = np.tensordot(gate, total.reshape((2,) * n + (dim,)), (range(k, 2 * k), axes))
        total = np.moveaxis(tensor, range(k), axes).reshape(dim, dim)
    phase = circuit.global_phase
    if not isinstance(phase, float | int):
        return None
    return total * np.exp(1j * float(phase)) if phase else total


def _fingerprint(circuit: QuantumCircuit) -> tuple[Any, ...]:
    """Everything a definition's matrix depends on, as a hashable value."""
    index = {q: i for i, q in enumerate(circuit.qubits)}
    parts: list[Any] = [_hashable(circuit.global_phase)]
    for inst in circuit.data:
        op = inst.operation
        inner = None
        if not inst.is_standard_gate() and getattr(op, "definition", None) is not None:
            inner = _fingerprint(op.definition)
        params = tuple(_hashable(p) for p in op.params)
        parts.append((op.name, params, tuple(index[q] for q in inst.qubits), inner))
    return tuple(parts)


def _hashable(param: Any) -> Any:
    if isinstance(param, float | int | complex | str):
        return param
    data = getattr(param, "tobytes", None)  # a matrix (UnitaryGate): its exact bytes
    return (getattr(param, "shape", None), data()) if data is not None else repr(param)
