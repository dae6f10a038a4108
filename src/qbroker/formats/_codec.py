"""The conversion registry: one codec per format, and the edges between formats.

Gate-model formats meet in one in-memory form, Qiskit's ``QuantumCircuit``: a codec reads
its payload into a circuit and writes a circuit into its payload, so every gate-model
format reaches every other through that hub. Analog (AHS) programs and photonic
(Perceval) processors keep their own forms: an AHS program converts only to AHS, and a
gate-model circuit can be turned into a photonic processor but not back.

A codec lives in its own module (``qbroker.formats.<name>``) that defines ``CODEC`` and is
imported only when its format is first used, so ``import qbroker`` stays light and a
missing optional SDK only disables the formats that need it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from qbroker.errors import MissingDependencyError, UnsupportedError
from qbroker.model.enums import InputFormat

if TYPE_CHECKING:  # pragma: no cover
    from qiskit import QuantumCircuit

    from qbroker.model import Backend

Payload = str | bytes | dict[str, Any]


class Kind(StrEnum):
    """What a format describes."""

    GATE = "gate"
    ANALOG = "analog"
    PHOTONIC = "photonic"


@dataclass(frozen=True)
class WriteOptions:
    """Choices a writer may honour.

    Attributes:
        angle_unit: for formats whose angles can be radians or turns (IQM), which one to
            write. ``None`` means the format's documented default.
        gateset: for formats with several gate sets (IonQ ``qis`` / ``native``).
    """

    angle_unit: Literal["radians", "turns"] | None = None
    gateset: str | None = None


@dataclass(frozen=True)
class Codec:
    """How to read and write one format.

    Attributes:
        format: the format.
        kind: gate-model, analog or photonic.
        payload: the payload's Python type: ``str`` (text), ``bytes`` (binary) or ``dict``
            (a JSON object).
        read: payload -> in-memory form (a QuantumCircuit for gate-model formats). Raises
            ProgramError naming the line or field.
        write: in-memory form (+ target backend, options) -> payload, or None when the
            format is read-only. Raises UnsupportedError naming what the format cannot
            express.
        write_plain: plain OpenQASM 3 as read (a ``PlainCircuit``) -> payload, exactly what
            ``write`` makes of its circuit without a backend, or None where it cannot tell
            (then ``write`` runs); None when the codec has no such writer.
        extra: the qbroker extra whose SDK the codec needs, if any.
        description: one line for ``qbroker formats``.
    """

    format: InputFormat
    kind: Kind
    payload: type
    read: Callable[[Any], Any]
    write: Callable[[Any, Backend | None, WriteOptions], Any] | None
    description: str
    extra: str | None = None
    detects: Callable[[Any], bool] | None = field(default=None, compare=False)
    write_plain: Callable[[Any], Any] | None = field(default=None, compare=False)


#: format -> module defining its ``CODEC``.
CODEC_MODULES: dict[InputFormat, str] = {
    InputFormat.OPEN_QASM_V2: "qbroker.formats.qasm",
    InputFormat.OPEN_QASM_V3: "qbroker.formats.qasm",
    InputFormat.BRAKET_OPEN_QASM_V3: "qbroker.formats.braket_qasm",
    InputFormat.QISKIT_QPY: "qbroker.formats.qpy",
    InputFormat.IONQ_CIRCUIT_V1: "qbroker.formats.ionq",
    InputFormat.IQM_JOB_INPUT_V1: "qbroker.formats.iqm",
    InputFormat.BRAKET_AHS_PROGRAM: "qbroker.formats.ahs",
    InputFormat.PERCEVAL: "qbroker.formats.perceval",
    InputFormat.CIRQ_JSON: "qbroker.formats.cirq_json",
    InputFormat.IBM_SAMPLER_V2: "qbroker.formats.hub_inputs",
    InputFormat.QUDORA_JOB_INPUT: "qbroker.formats.hub_inputs",
    InputFormat.KIPU_JOB_INPUT: "qbroker.formats.hub_inputs",
}

_LOADED: dict[InputFormat, Codec] = {}


def codec(fmt: InputFormat) -> Codec:
    """The codec of ``fmt``.

    Raises:
        UnsupportedError: qbroker has no codec for it.
        MissingDependencyError: the codec's SDK is not installed (names the extra).
    """
    cached = _LOADED.get(fmt)
    if cached is not None:
        return cached
    module_name = CODEC_MODULES.get(fmt)
    if module_name is None:
        raise UnsupportedError(f"qbroker cannot read or write {fmt} programs")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and not exc.name.startswith("qbroker"):
            raise MissingDependencyError(f"the {fmt} format", _extra_for(exc.name)) from None
        raise
    codecs = getattr(module, "CODECS", None) or (
        (module.CODEC,) if hasattr(module, "CODEC") else ()
    )
    for item in codecs:
        _LOADED[item.format] = item
    if fmt not in _LOADED:
        raise UnsupportedError(f"{module_name} does not define a codec for {fmt}")
    return _LOADED[fmt]


def available_codecs() -> list[Codec]:
    """Every codec whose module imports here (formats needing a missing SDK are left out)."""
    found: list[Codec] = []
    for fmt in CODEC_MODULES:
        try:
            found.append(codec(fmt))
        except (UnsupportedError, ImportError):
            continue
    return found


def _extra_for(module: str) -> str:
    top = module.split(".")[0]
    return {
        "braket": "braket",
        "perceval": "quandela",
        "perceval_interop": "quandela",
        "iqm": "iqm",
        "cirq": "cirq",
        "cirq_ionq": "cirq",
        "qiskit_ibm_runtime": "ibm",
    }.get(top, "all")


def circuit_of(value: Any) -> QuantumCircuit:
    """``value`` as a QuantumCircuit, or UnsupportedError."""
    from qiskit import QuantumCircuit

    if not isinstance(value, QuantumCircuit):
        raise UnsupportedError("not a gate-model circuit")
    return value
