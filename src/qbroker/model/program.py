"""A program: a format and a payload, proven readable when built (or, for what qbroker's
own writers produce, when first used)."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any, Self

from pydantic import Field, PrivateAttr, model_validator

from qbroker.model._base import Model
from qbroker.model.enums import InputFormat

if TYPE_CHECKING:  # pragma: no cover
    from qiskit import QuantumCircuit

__all__ = ["Program"]


class Program(Model):
    """A quantum program in one format.

    The payload is text for OpenQASM flavours, bytes for QPY and a JSON object for the
    JSON formats. Building a Program parses it, so a Program that exists is readable;
    the parsed form is kept (``program.circuit`` for gate-model programs).

    Example:
        >>> from qbroker import Program, InputFormat
        >>> p = Program(format=InputFormat.OPEN_QASM_V2,
        ...             payload='OPENQASM 2.0; include "qelib1.inc"; qreg q[1]; creg c[1]; '
        ...                     'h q[0]; measure q -> c;')
        >>> p.num_qubits
        1
    """

    format: InputFormat
    payload: str | bytes | dict[str, Any]
    name: str | None = Field(default=None, max_length=200)

    #: The parsed form; None until read (only a Program from :meth:`_from_writer` waits).
    _parsed: Any = PrivateAttr(default=None)
    #: Plain OpenQASM 3 as read (:mod:`qbroker.formats._qasm3_plain`): read completely
    #: when built, its circuit made when first asked for; writers that can write straight
    #: from it do so while no circuit has been handed out (which could have changed since).
    _plain: Any = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _parse(self) -> Self:
        from qbroker.formats import parse_payload, read_plain_payload

        self._plain = read_plain_payload(self.format, self.payload)
        if self._plain is None:
            self._parsed = parse_payload(self.format, self.payload)
        return self

    def _plain_form(self) -> Any:
        """The plain program as read, while no circuit of it exists (else None)."""
        return self._plain if self._parsed is None else None

    @classmethod
    def _from_writer(
        cls, format: InputFormat, payload: str | bytes | dict[str, Any], name: str | None
    ) -> Program:
        """A Program holding what qbroker's own writer for ``format`` produced.

        Reading a writer's output back as it is built made ``convert()`` cost 1.3-2.3x
        the reader and writer alone (measured on 600-gate circuits), so it is read when
        first used (``parsed``, ``circuit``, ``num_qubits`` ...) instead. What is cheap is
        still checked now: the format, the payload's type for that format, its size, the
        name. Payloads from users always go through ``Program(...)`` and are read when
        built.

        Raises:
            ProgramError: the payload is over the size limit.
            ValidationError: a payload of the wrong type for the format, or a bad name.
        """
        from qbroker.errors import ValidationError
        from qbroker.formats._codec import codec
        from qbroker.formats._limits import check_size, payload_size

        fmt = InputFormat(format)
        expected = codec(fmt).payload
        if type(payload) is not expected:
            raise ValidationError(
                "Program",
                [
                    (
                        "payload",
                        f"a {fmt} payload is {expected.__name__}, not {type(payload).__name__}",
                    )
                ],
            )
        if name is not None and (not isinstance(name, str) or len(name) > 200):
            raise ValidationError(
                "Program", [("name", "must be a string of at most 200 characters")]
            )
        if isinstance(payload, str | bytes):
            check_size(payload_size(payload))
        return cls.model_construct(format=fmt, payload=payload, name=name)

    def __eq__(self, other: object) -> bool:
        """Programs are equal when their format, payload and name are (the parsed forms
        follow from those, and some, such as Perceval experiments, compare by identity)."""
        if not isinstance(other, Program):
            return NotImplemented
        return (self.format, self.name, self.payload) == (other.format, other.name, other.payload)

    def __hash__(self) -> int:
        return hash((self.format, self.name, self.digest))

    @property
    def is_analog(self) -> bool:
        return self.format.is_analog

    @property
    def circuit(self) -> QuantumCircuit:
        """The gate-model circuit (Qiskit's in-memory form)."""
        from qiskit import QuantumCircuit

        parsed = self.parsed
        if not isinstance(parsed, QuantumCircuit):
            from qbroker.errors import UnsupportedError

            raise UnsupportedError(f"a {self.format} program is not a gate-model circuit")
        return parsed

    @property
    def parsed(self) -> Any:
        """The parsed form: a QuantumCircuit, or the validated analog program.

        Raises:
            ProgramError: only for a writer's output read here for the first time, if it
                does not read back (a bug in that writer).
        """
        parsed = self._parsed
        if parsed is None:
            if self._plain is not None:
                parsed = self._parsed = self._plain.build()
                return parsed
            from qbroker.formats import parse_payload

            parsed = self._parsed = parse_payload(self.format, self.payload)
        return parsed

    @property
    def num_qubits(self) -> int:
        """Qubits (sites for an analog program; encoded qubits for a photonic one)."""
        if self.is_analog:
            return int(self.parsed.num_sites)
        return int(self.parsed.num_qubits)

    @property
    def num_clbits(self) -> int:
        if self.is_analog:
            return int(self.parsed.num_sites)
        return int(self.parsed.num_clbits)

    @property
    def digest(self) -> str:
        """SHA-256 of the format and payload: equal programs have equal digests."""
        h = hashlib.sha256(self.format.value.encode())
        h.update(b"\0")
        if isinstance(self.payload, bytes):
            h.update(self.payload)
        elif isinstance(self.payload, str):
            h.update(self.payload.encode())
        else:
            h.update(json.dumps(self.payload, sort_keys=True, separators=(",", ":")).encode())
        return h.hexdigest()
