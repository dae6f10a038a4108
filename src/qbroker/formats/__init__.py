"""Reading, writing and converting programs.

Every format has a codec (:mod:`qbroker.formats._codec`). Gate-model programs meet in one
in-memory form, Qiskit's ``QuantumCircuit``; analog (AHS) programs keep their own
(:class:`~qbroker.formats.ahs.AnalogProgram`), and photonic (Perceval) processors theirs.

Example:
    >>> import qbroker
    >>> bell = qbroker.load_program("examples/bell.qasm")               # doctest: +SKIP
    >>> ionq = qbroker.convert(bell, "IONQ_CIRCUIT_V1")                  # doctest: +SKIP
    >>> [(e.source, e.target) for e in qbroker.conversions()][:2]        # doctest: +SKIP
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from qbroker.errors import FormatDetectionError, ProgramError, QBrokerError, UnsupportedError
from qbroker.formats._codec import Codec, Kind, Payload, WriteOptions, available_codecs, codec
from qbroker.formats._limits import (
    DEFAULT_MAX_PROGRAM_BYTES,
    check_circuit,
    check_json_values,
    check_size,
    guard_gate_definitions,
    json_constant,
    line_and_column,
    max_program_bytes,
    payload_size,
)
from qbroker.model.enums import InputFormat

if TYPE_CHECKING:  # pragma: no cover
    import os

    from qiskit import QuantumCircuit

    from qbroker.model import Backend, Program

__all__ = [
    "DEFAULT_MAX_PROGRAM_BYTES",
    "Codec",
    "Conversion",
    "Kind",
    "WriteOptions",
    "check_size",
    "codec",
    "conversions",
    "convert",
    "decode_text",
    "detect_format",
    "max_program_bytes",
    "parse_json",
    "parse_payload",
    "read_plain_payload",
]

_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
_VERSION = re.compile(r"^\s*OPENQASM\s+([0-9]+)(?:\.([0-9]+))?\s*;", re.M)
_STDGATES = re.compile(r'^\s*include\s+"stdgates\.inc"\s*;', re.M)
_QPY_MAGIC = b"QISKIT"
_PERCEVAL_MAGIC = ":PCVL:"
_LONG_DIGITS = re.compile(r"[0-9]{4300}")


def decode_text(data: bytes) -> str:
    """Decode UTF-8 (a BOM allowed), naming the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProgramError(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start}"
        ) from None


def detect_format(content: str | bytes | dict[str, Any]) -> InputFormat:
    """Recognise a program's format from its content.

    OpenQASM 3 with ``include "stdgates.inc"`` is Qiskit's dialect; without it, Braket's
    (whose gates are built in). A JSON object ``{"qasm": ...}`` is read as a Qudora job input
    (pass ``format="KIPU_JOB_INPUT"`` for Kipu's).

    Raises:
        FormatDetectionError: when nothing recognisable is found.
    """
    if isinstance(content, dict):
        return _detect_json(content)
    if isinstance(content, bytes):
        if content.startswith(_QPY_MAGIC):
            return InputFormat.QISKIT_QPY
        content = decode_text(content)
    stripped = content.lstrip()
    if not stripped:
        raise FormatDetectionError("the program is empty")
    if stripped.startswith(("{", "[")):
        try:
            document = parse_json(stripped, None)
        except FormatDetectionError:
            raise
        except ProgramError as exc:
            if exc.line is None:  # parsed, but with numbers qbroker refuses: say so
                raise
            raise FormatDetectionError(
                f"looks like JSON but does not parse: {exc.detail}",
                line=exc.line,
                column=exc.column,
            ) from None
        if not isinstance(document, dict):
            raise FormatDetectionError(
                f"a JSON program must be an object, not {type(document).__name__}"
            )
        return _detect_json(document)
    if stripped.startswith(_PERCEVAL_MAGIC):
        return InputFormat.PERCEVAL
    head = _COMMENTS.sub("", content[:8192])
    match = _VERSION.search(head)
    if match:
        major = match.group(1)
        if major == "2":
            return InputFormat.OPEN_QASM_V2
        if major == "3":
            if _STDGATES.search(head):
                return InputFormat.OPEN_QASM_V3
            return InputFormat.BRAKET_OPEN_QASM_V3
        raise FormatDetectionError(f"unsupported OpenQASM version {match.group(0).strip()!r}")
    raise FormatDetectionError(
        "cannot tell the format: expected an 'OPENQASM 2.0;' / 'OPENQASM 3.0;' header "
        "or a JSON program (pass format= to say which)"
    )


def _detect_json(document: dict[str, Any]) -> InputFormat:
    body = document.get("ahs_program", document)
    if isinstance(body, dict) and "setup" in body and "hamiltonian" in body:
        return InputFormat.BRAKET_AHS_PROGRAM
    if "pubs" in document:
        return InputFormat.IBM_SAMPLER_V2
    if set(document) == {"qasm"}:
        return InputFormat.QUDORA_JOB_INPUT
    if document.get("cirq_type") == "Circuit":
        return InputFormat.CIRQ_JSON
    if "circuit" in document and ("qubits" in document or "gateset" in document):
        return InputFormat.IONQ_CIRCUIT_V1
    if "instructions" in document or (
        isinstance(document.get("circuits"), list)
        and all(isinstance(c, dict) and "instructions" in c for c in document["circuits"])
    ):
        return InputFormat.IQM_JOB_INPUT_V1
    raise FormatDetectionError(f"unrecognised JSON program (top-level keys {sorted(document)[:6]})")


def parse_json(text: str, fmt: str | None) -> Any:
    """Parse a JSON program's text, refusing what no program needs.

    ``NaN``, ``Infinity``, numbers that overflow a float, integers beyond 2^64 and
    nesting deeper than 64 levels are refused (naming the field), and huge integer
    literals are never converted (Python's own limit would raise a bare ValueError).

    Raises:
        ProgramError: naming the line and column of a syntax error, or the field.
    """
    try:
        # numbers stay on json's C fast path (a hook per number costs ~5 us: 0.7 s for a
        # 3 MB program); what they may hold is checked on the parsed document
        document = json.loads(text, parse_constant=json_constant)
    except json.JSONDecodeError as exc:
        raise ProgramError(exc.msg, format=fmt, line=exc.lineno, column=exc.colno) from None
    except RecursionError:
        raise ProgramError(
            "JSON nested too deeply (more than 64 levels)", format=fmt, line=1, column=1
        ) from None
    except ValueError:  # an integer of more than 4,300 digits (Python's own limit)
        where = _LONG_DIGITS.search(text)
        line, column = line_and_column(text, where.start()) if where else (None, None)
        raise ProgramError(
            "an integer literal of more than 4,300 digits", format=fmt, line=line, column=column
        ) from None
    check_json_values(document, fmt)
    return document


def parse_payload(fmt: InputFormat, payload: Payload) -> Any:
    """Parse and validate a payload of a given format; return its in-memory form.

    Every reader is held to qbroker's error contract here: a reader that fails in a way
    it did not foresee (a crash inside an SDK's parser, unbounded recursion, memory)
    still raises a ProgramError, worded "the <format> reader failed unexpectedly" so
    that fuzzing can tell such bugs from deliberate refusals.

    Raises:
        ProgramError: the payload is not a valid program of that format.
        UnsupportedError: qbroker cannot read that format.
    """
    item = codec(fmt)
    value = _coerce(payload, item)
    try:
        parsed = item.read(value)
    except QBrokerError:
        raise
    except RecursionError:
        raise ProgramError("nested too deeply to read", format=item.format.value) from None
    except MemoryError:
        raise ProgramError("too large to read in memory", format=item.format.value) from None
    except Exception as exc:
        raise ProgramError(
            f"the {item.format.value} reader failed unexpectedly ({type(exc).__name__}: "
            f"{' '.join(str(exc).split())[:160]})",
            format=item.format.value,
        ) from exc
    except BaseException as exc:  # a Rust panic in an SDK (PyO3's PanicException)
        if type(exc).__name__ != "PanicException":
            raise
        raise ProgramError(
            f"the {item.format.value} reader failed unexpectedly (PanicException: "
            f"{' '.join(str(exc).split())[:160]})",
            format=item.format.value,
        ) from None
    if item.kind is Kind.GATE:
        check_circuit(parsed, item.format.value)
    return parsed


def read_plain_payload(fmt: InputFormat, payload: Payload) -> Any:
    """Plain OpenQASM 3 (what Qiskit's exporter writes) read without building its circuit
    (:mod:`qbroker.formats._qasm3_plain`), or None for every other payload, which
    :func:`parse_payload` reads (and words the errors of)."""
    if fmt is not InputFormat.OPEN_QASM_V3 or not isinstance(payload, str):
        return None
    if payload_size(payload) > max_program_bytes():
        return None
    from qbroker.formats._qasm3_plain import read_plain

    return read_plain(payload)


def _coerce(payload: Payload, item: Codec) -> Any:
    fmt = item.format.value
    if isinstance(payload, (str, bytes)):
        check_size(payload_size(payload))
    if item.payload is dict:
        if isinstance(payload, dict):
            check_json_values(payload, fmt)
            return payload
        text = decode_text(payload) if isinstance(payload, bytes) else payload
        if not text.strip():
            raise ProgramError("the program is empty", format=fmt)
        document = parse_json(text, fmt)
        if not isinstance(document, dict):
            raise ProgramError("a JSON program must be an object", format=fmt)
        return document
    if isinstance(payload, dict):
        raise ProgramError(f"a {fmt} payload is not a JSON object", format=fmt)
    if item.payload is bytes:
        return payload  # readers of binary formats accept base64 text too
    text = decode_text(payload) if isinstance(payload, bytes) else payload
    if not text.strip():
        raise ProgramError("the program is empty", format=fmt)
    if item.format is InputFormat.BRAKET_OPEN_QASM_V3:
        # Braket's reader has its own guards but keeps definitions, and a definition that
        # doubles 60 times (2^60 gates) hangs every writer that expands it later.
        guard_gate_definitions(text, fmt)
    return text


@dataclass(frozen=True)
class Conversion:
    """One supported edge of the conversion graph.

    Attributes:
        source, target: the formats.
        via: the in-memory form the conversion passes through.
        refuses: what the target cannot express (the conversion refuses such programs
            with a reason), empty when nothing.
    """

    source: InputFormat
    target: InputFormat
    via: str
    refuses: str = ""


def conversions() -> list[Conversion]:
    """Every conversion qbroker can make here (formats whose SDK is missing are left out)."""
    codecs = available_codecs()
    edges: list[Conversion] = []
    for src in codecs:
        for dst in codecs:
            if dst.write is None:
                continue
            if src.kind is Kind.GATE and dst.kind in (Kind.GATE, Kind.PHOTONIC):
                via = "QuantumCircuit" if dst.kind is Kind.GATE else "QuantumCircuit -> dual-rail"
            elif src.kind is dst.kind:
                via = "AnalogProgram" if src.kind is Kind.ANALOG else "Processor"
            else:
                continue
            edges.append(Conversion(src.format, dst.format, via, _REFUSES.get(dst.format, "")))
    return edges


_REFUSES: dict[InputFormat, str] = {
    InputFormat.BRAKET_OPEN_QASM_V3: (
        "classical control flow, mid-circuit measurement or reset, a bit written twice, delays"
    ),
    InputFormat.OPEN_QASM_V2: "control flow beyond single-bit if",
    InputFormat.IONQ_CIRCUIT_V1: (
        "mid-circuit measurement, reset of a used qubit, classical control, "
        "non-commuting Pauli evolution"
    ),
    InputFormat.IQM_JOB_INPUT_V1: (
        "classical control other than IQM feedback (cc_prx on a measured bit = 1), "
        "a bit measured twice, delays in dt"
    ),
    InputFormat.KIPU_JOB_INPUT: "what OpenQASM 2 cannot express",
    InputFormat.PERCEVAL: (
        "measurement before the end, reset, classical control, "
        "more modes or photons than the backend has"
    ),
    InputFormat.CIRQ_JSON: (
        "classical control, classical bits no measurement writes, a bit written twice"
    ),
    InputFormat.IBM_SAMPLER_V2: "unbound parameters",
}


def convert(
    program: Program | QuantumCircuit | str | bytes | os.PathLike[str] | dict[str, Any],
    target_format: InputFormat | str,
    backend: Backend | None = None,
    *,
    options: WriteOptions | None = None,
) -> Program:
    """Convert ``program`` into ``target_format`` without changing what it does.

    With a ``backend``, the output uses that backend's native gates, qubit names and
    couplers (the circuit is laid out and routed on the device first).

    Raises:
        UnsupportedError: the edge does not exist (e.g. AHS -> gate model), or the target
            cannot express this program; the message says why.
        MissingDependencyError: the target's SDK is not installed (names the extra).
    """
    from qbroker._api import load_program
    from qbroker.model import Program

    program = load_program(program)  # a Program as is; a path, text, JSON or circuit read
    target = InputFormat(target_format)
    src, dst = codec(program.format), codec(target)
    if dst.write is None:
        raise UnsupportedError(f"qbroker reads {target} but cannot write it")
    if src.kind is not dst.kind and not (src.kind is Kind.GATE and dst.kind is Kind.PHOTONIC):
        raise UnsupportedError(_why_not(src, dst))
    if (
        backend is not None
        and backend.configuration.supported_input_formats
        and (target not in backend.configuration.supported_input_formats)
    ):
        takes = ", ".join(f.value for f in backend.configuration.supported_input_formats)
        raise UnsupportedError(f"{backend.id} does not take {target} (it takes {takes})")
    plain = program._plain_form() if backend is None else None
    if plain is not None and dst.write_plain is not None:
        payload = dst.write_plain(plain)
        if payload is not None:
            return Program._from_writer(target, payload, program.name)
    payload = dst.write(program.parsed, backend, options or WriteOptions())
    return Program._from_writer(target, payload, program.name)


def _why_not(src: Codec, dst: Codec) -> str:
    if src.kind is Kind.ANALOG:
        return (
            f"an analog (AHS) program cannot become {dst.format}: it describes a Hamiltonian "
            "over time, not a sequence of gates"
        )
    if dst.kind is Kind.ANALOG:
        return (
            f"a {src.format} gate-model circuit cannot become an analog (AHS) program: "
            "there is no faithful gate-to-Hamiltonian translation"
        )
    if src.kind is Kind.PHOTONIC:
        return f"a photonic (Perceval) processor cannot be turned back into {dst.format}"
    return f"no conversion from {src.format} to {dst.format}"
