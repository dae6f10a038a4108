"""OpenQASM 2 and 3 readers, on Qiskit's own parsers.

OpenQASM 2 goes through ``qiskit.qasm2.loads`` with the legacy custom instructions, so
``qelib1.inc`` gates Qiskit added later (``sx``, ``p``, ...) read as they did in Qiskit's
original include file. OpenQASM 3 goes through Qiskit's Rust reader
(``qiskit.qasm3.loads_experimental``; ~50x faster than the ANTLR one), given the program
rewritten so that it reads everything Qiskit's own writer emits (constant arithmetic such
as ``pi/2``, ``gate`` definitions, ``U``, ``reset``, hardware qubits ``$n``); see
:func:`_prepare_fast`. That reader prints its diagnostics to the process's standard output
(from Rust) and raises a bare "see printed errors": we capture file descriptor 1 around
the call to turn them into a ProgramError naming the line and column.

Both readers trust their input, so the text first passes
:func:`qbroker.formats._limits.guard_program_text` (nesting, operator chains, integers
beyond 2^64, infinite literals, declared sizes): measured, such input made them crash the
process, hang or wrap integers silently. Programs the Rust reader does not support make it
refuse or *panic* (a ``pyo3_runtime.PanicException``, which derives from ``BaseException``,
e.g. for ``sin(...)``); that is caught, its report on stderr is swallowed, and the
reference reader takes over, within a budget (:data:`MAX_REFERENCE_READER_STATEMENTS`).
"""

from __future__ import annotations

import ast
import functools
import math
import os
import re
import sys
import tempfile
import threading
import unicodedata
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from qbroker.errors import ProgramError, UnsupportedError
from qbroker.formats._codec import Codec, Kind, WriteOptions, circuit_of
from qbroker.formats._limits import _HARDWARE_QUBIT, OPENQASM_CONSTANTS, guard_program_text
from qbroker.formats._prepare import on_backend
from qbroker.model.enums import InputFormat

if TYPE_CHECKING:  # pragma: no cover
    from qiskit import QuantumCircuit

    from qbroker.model import Backend

_QASM2_POSITION = re.compile(r"^[\"']?<input>:(\d+),(\d+):\s*(.*?)[\"']?$", re.S)
_QASM3_ERROR = re.compile(r"Error:\s*(.+)")
_QASM3_POSITION = re.compile(r"\[[^\]]*?:(\d+):(\d+)\]")
_STDOUT_LOCK = threading.Lock()


def _clip(detail: str, limit: int = 300) -> str:
    """A parser's message on one short line (it may quote a megabyte-long token)."""
    detail = " ".join(detail.split())
    return detail if len(detail) <= limit else f"{detail[: limit - 3]}..."


def _is_panic(exc: BaseException) -> bool:
    """A Rust panic surfaced by PyO3 (``pyo3_runtime.PanicException``)."""
    return type(exc).__name__ == "PanicException"


def read_qasm2(text: str) -> QuantumCircuit:
    """Parse OpenQASM 2 text.

    Raises:
        ProgramError: with the line and column of the first problem.
    """
    import qiskit.qasm2

    guard_program_text(text, "OPEN_QASM_V2")
    try:
        with _STDOUT_LOCK, _CapturedOutput(2):  # a Rust panic reports on stderr
            return qiskit.qasm2.loads(
                text,
                custom_instructions=qiskit.qasm2.LEGACY_CUSTOM_INSTRUCTIONS,
                strict=False,
            )
    except qiskit.qasm2.QASM2ParseError as exc:
        message = str(exc).strip()
        match = _QASM2_POSITION.match(message)
        if match:
            line, column, detail = match.groups()
            raise ProgramError(
                _clip(detail), format="OPEN_QASM_V2", line=int(line), column=int(column) + 1
            ) from None
        raise ProgramError(_clip(message), format="OPEN_QASM_V2") from None
    except (RecursionError, OverflowError, ValueError, MemoryError) as exc:
        raise ProgramError(f"{type(exc).__name__}: {exc}", format="OPEN_QASM_V2") from None
    except BaseException as exc:
        if not _is_panic(exc):
            raise
        detail = " ".join(str(exc).split())[:200]
        raise ProgramError(
            f"Qiskit's OpenQASM 2 reader failed on this program ({detail})",
            format="OPEN_QASM_V2",
        ) from None


def read_qasm3(text: str) -> QuantumCircuit:
    """Parse OpenQASM 3 text (Qiskit's dialect: ``include "stdgates.inc"``).

    The fast path is Qiskit's Rust reader, given the text as :func:`_prepare_fast`
    rewrites it (constant arithmetic folded into literals, ``gate`` definitions,
    ``U``, ``reset`` and ``$n`` qubits made readable to it). Programs it still cannot
    read (control flow, ``input`` parameters, gate modifiers ...) go to Qiskit's reference
    (ANTLR) reader, within :data:`MAX_REFERENCE_READER_STATEMENTS`.

    Raises:
        ProgramError: with the line and column of the first problem.
    """
    from qiskit import QuantumCircuit

    from qbroker.formats._qasm3_plain import read_plain

    plain = read_plain(text)  # what it accepts passes the guards below by construction
    if plain is not None:
        return plain.build()
    guard_program_text(text, _V3)
    _refuse_glued_numbers(text)
    fast = _prepare_fast(text)
    rust_error: ProgramError | None = None
    if fast is not None:
        outcome = _read_fast(fast, text)
        if isinstance(outcome, QuantumCircuit):
            _refuse_repeated_operands(outcome)
            return outcome
        rust_error = outcome
    return _read_with_reference_reader(text, rust_error)


_V3 = "OPEN_QASM_V3"


def _refuse_repeated_operands(circuit: QuantumCircuit) -> None:
    """Refuse a gate given one qubit twice (``cz q[1], q[1];``): the reference reader and
    the specification reject it, the fast reader builds it without a word.

    Raises:
        ProgramError: naming the gate, the qubit and the gate's position in the program.
    """
    for position, instruction in enumerate(circuit.data, start=1):
        qubits = instruction.qubits
        if len(qubits) > 1 and len(set(qubits)) != len(qubits):
            repeated = next(q for q in qubits if qubits.count(q) > 1)
            where = circuit.find_bit(repeated)
            name = (
                f"{where.registers[0][0].name}[{where.registers[0][1]}]"
                if where.registers
                else f"${where.index}"
            )
            raise ProgramError(
                f"operation {position} ({instruction.operation.name}) is given qubit {name} "
                "more than once",
                format=_V3,
            )


#: A number with a name glued to it. The fast reader reads ``ry(-1.209pi42) q;`` as
#: ``ry(-1.209)`` and ``ry(1.76U47)`` as ``ry(1.76)``, silently (found by fuzzing): such
#: text is refused, naming it, unless the name is a unit or ``im``.
_GLUED_NUMBER = re.compile(
    r"(?>0[xX][0-9A-Fa-f_]+|0[bB][01_]+|0[oO][0-7_]+"
    r"|[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9_]+)?|\.[0-9][0-9_]*(?:[eE][-+]?[0-9_]+)?)"
    r"([A-Za-z_]\w*)"
)
_NUMBER_SUFFIXES = frozenset({"ns", "us", "ms", "s", "dt", "im"})
_DIGIT_LETTER = re.compile(r"[0-9][A-Za-z_]")


def _refuse_glued_numbers(text: str) -> None:
    """Refuse a number run into a name (``1.209pi42``), which the fast reader misreads.

    Raises:
        ProgramError: naming its line and column.
    """
    from qbroker.formats._limits import _blank_comments, line_and_column

    found = _glued_number(text)
    if found is not None:  # look again without comments and strings
        found = _glued_number(_blank_comments(text))
    if found is None:
        return
    line, column = line_and_column(text, found.start())
    number = found.group(0)[: found.start(1) - found.start()]
    raise ProgramError(
        f"number {_quote(number)} runs into {_quote(found.group(1))} (an operator or a space "
        "missing?)",
        format=_V3,
        line=line,
        column=column,
    )


def _glued_number(text: str) -> re.Match[str] | None:
    # Candidates are a digit followed by a letter (rare, and found fast); then the token
    # around it is looked at once: a name (c3sx), a duration (100ns), an exponent (1e5) ...
    # Each token is scanned at most once (back at most 400 characters), so a megabyte of
    # "1a1a1a..." costs linear time.
    past = 0
    for hint in _DIGIT_LETTER.finditer(text):
        if hint.start() < past:
            continue  # in the token looked at already
        past = _TOKEN_REST.match(text, hint.start()).end()  # type: ignore[union-attr]
        start = hint.start()
        floor = max(0, start - 400)
        while start > floor and (text[start - 1].isalnum() or text[start - 1] in "_."):
            start -= 1
        if (start == floor and start > 0) or text[start - 1 : start] == "$":
            continue  # a long name, or a hardware qubit
        if not (text[start].isdigit() or text[start] == "."):
            continue  # a name with digits in it
        match = _GLUED_NUMBER.match(text, start)
        if match is not None and match.group(1) not in _NUMBER_SUFFIXES:
            return match
    return None


_TOKEN_REST = re.compile(r"[\w.]*")


#: Most statements (``;``) and characters handed to Qiskit's reference (ANTLR) OpenQASM 3
#: reader. It takes ~0.35 ms per statement (measured here: 3,000 gates in 1.0-1.4 s, 50x
#: the fast reader), and its error report lexes the whole rest of the input (a syntax
#: error near the top of 450 KB took 2.7 s). What Qiskit's own writer emits for gates,
#: measurements, barriers and resets takes the fast path at any size, so this bounds only
#: programs using what the fast reader lacks (control flow, ``input``, modifiers, ...).
MAX_REFERENCE_READER_STATEMENTS = 5_000
MAX_REFERENCE_READER_CHARS = 512 * 1024
#: Most statements before the line the fast reader faults for the reference reader to be
#: asked whether it agrees (~0.35 s); past that the fast reader's diagnosis stands, saying
#: what to do if the line is valid OpenQASM 3 it lacks. Input that is wrong (a fuzzer's, an
#: attacker's) thus never costs the reference reader more than this.
MAX_REFERENCE_READER_PREFIX_STATEMENTS = 1_000


def _read_fast(fast: _FastText, text: str) -> QuantumCircuit | ProgramError | None:
    """The circuit from Qiskit's Rust reader, or why it could not read ``text`` (a
    ProgramError, with a position when it named one; None when it gave no reason)."""
    import qiskit.qasm3

    circuit = None
    reason = None
    # stderr (panic reports) is captured around the stdout capture, which may end with a read
    with _STDOUT_LOCK, _CapturedOutput(2), _CappedOutput() as captured:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                circuit = qiskit.qasm3.loads_experimental(fast.text, custom_gates=fast.custom_gates)
                for template in fast.templates:  # each body once, so calls never fail later
                    template.check()
        except (qiskit.qasm3.QASM3ImporterError, RecursionError, OverflowError, ValueError) as exc:
            reason = str(exc)
        except BaseException as exc:  # a Rust panic: a construct this reader lacks
            if not _is_panic(exc):
                raise
            reason = str(exc)
    if circuit is not None and reason is None:
        return fast.finish(circuit)
    if circuit is not None:  # a gate body the fast reader cannot read: no position here
        return None
    return _rust_error(captured.text, fast, text) or _unsupported(reason)


def _unsupported(reason: str | None) -> ProgramError | None:
    """The fast reader's refusal without a position ("this statement is not yet handled
    during OpenQASM 3 import: If(If { ... })"), in a few words."""
    if not reason or "see printed errors" in reason:
        return None
    reason = " ".join(reason.split()).strip("'\"")
    handled = re.search(r"not yet handled during OpenQASM 3 import: (\w+)", reason)
    if handled:
        reason = f"{handled.group(1)} statements"
    return ProgramError(f"Qiskit's fast OpenQASM 3 reader lacks {_clip(reason, 80)}", format=_V3)


def _read_with_reference_reader(text: str, rust_error: ProgramError | None) -> QuantumCircuit:
    """Qiskit's reference reader, for what the fast one could not read.

    When the fast reader named a line, the reference reader first gets the text up to that
    line only (within :data:`MAX_REFERENCE_READER_PREFIX_STATEMENTS`): if it faults the
    program there too, that is the answer, at a cost that does not grow with whatever
    follows (a fuzzer's 200 KB of garbage after a typo on line 4 took 0.5 s to lex for an
    error report that is thrown away). Only if it reads past that line (a construct the
    fast reader lacks) does it get the whole program, within
    :data:`MAX_REFERENCE_READER_STATEMENTS`.
    """
    from qiskit import QuantumCircuit

    if rust_error is not None and rust_error.line is not None:
        prefix = _through_line(text, rust_error.line)
        if not _within_reference_budget(prefix, MAX_REFERENCE_READER_PREFIX_STATEMENTS):
            raise _too_large(prefix, rust_error, prefix=True) from None
        outcome = _reference_read(prefix)
        # both readers fault the program by that line (an error without a position is
        # about a statement of the prefix: the truncation shows as a syntax error after)
        if isinstance(outcome, ProgramError) and (outcome.line or 0) <= rust_error.line:
            raise rust_error from None
        if len(prefix) == len(text):
            if isinstance(outcome, QuantumCircuit):
                return outcome
            raise rust_error from None
    if not _within_reference_budget(text):
        raise _too_large(text, rust_error) from None
    if len(text) > _FLOOD_CHECK_CHARS:
        _refuse_error_floods(text)
    outcome = _reference_read(text)
    if isinstance(outcome, QuantumCircuit):
        return outcome
    # Prefer whichever diagnosis names a position; the Rust one names the token.
    if rust_error is not None and rust_error.line is not None:
        raise rust_error from None
    raise outcome from None


def _reference_read(text: str) -> QuantumCircuit | ProgramError:
    """Qiskit's reference (ANTLR) reader's circuit, or its diagnosis."""
    import qiskit.qasm3

    # its ANTLR parser reports syntax errors on stderr only ("line 6:6 no viable
    # alternative at input ';'"), raising a QASM3ParsingError without a message
    printed = _CapturedOutput(2)
    try:
        with _STDOUT_LOCK, printed, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return qiskit.qasm3.loads(text)
    except ImportError:
        return ProgramError("cannot read this program", format=_V3)
    except RecursionError:
        return ProgramError("nested too deeply to read", format=_V3)
    except Exception as exc:  # the reference reader raises several kinds
        failure: Exception = exc
    except BaseException as exc:
        if not _is_panic(exc):
            raise
        return ProgramError(" ".join(str(exc).split())[:200], format=_V3)
    error = _antlr_error(failure)
    if error.line is None:
        error = _antlr_syntax_error(failure, printed.text) or error
    return error


_ANTLR_SYNTAX_ERROR = re.compile(r"line (\d+):(\d+) ([^\n]*)")


def _antlr_syntax_error(exc: BaseException, printed: str) -> ProgramError | None:
    """Where the ANTLR parser stopped: its offending token (on the exception's cause, a
    ``RecognitionException``) or the "line 6:6 no viable alternative ..." it printed."""
    seen: BaseException | None = exc
    while seen is not None:
        for candidate in (seen, *seen.args):
            token: Any = getattr(candidate, "offendingToken", None)
            if token is not None and getattr(token, "line", None) is not None:
                return ProgramError(
                    f"unexpected {_quote(str(getattr(token, 'text', '') or ''))}",
                    format=_V3,
                    line=int(token.line),
                    column=int(token.column) + 1,
                )
        seen = seen.__cause__ or seen.__context__
    found = _ANTLR_SYNTAX_ERROR.search(printed)
    if found:
        line, column, detail = found.groups()
        return ProgramError(_clip(detail), format=_V3, line=int(line), column=int(column) + 1)
    return None


def _within_reference_budget(text: str, statements: int | None = None) -> bool:
    from qbroker.formats._limits import _blank_comments

    if len(text) > MAX_REFERENCE_READER_CHARS:
        return False
    limit = MAX_REFERENCE_READER_STATEMENTS if statements is None else statements
    return _blank_comments(text).count(";") <= limit


def _too_large(text: str, rust_error: ProgramError | None, *, prefix: bool = False) -> ProgramError:
    """Why a program the fast reader cannot read is not given to the reference reader,
    and what to do about it (one line, under 400 characters).

    Args:
        prefix: ``text`` is the program up to the line the fast reader faulted.
    """
    from qbroker.formats._limits import _blank_comments

    statements = _blank_comments(text).count(";")
    limit = MAX_REFERENCE_READER_PREFIX_STATEMENTS if prefix else MAX_REFERENCE_READER_STATEMENTS
    if len(text) > MAX_REFERENCE_READER_CHARS:
        size = f"{len(text):,} characters (at most {MAX_REFERENCE_READER_CHARS:,})"
    else:
        size = f"{statements:,} statements (at most {limit:,})"
    where = "before it" if prefix else "in all"
    if rust_error is not None and rust_error.line is not None:
        return ProgramError(
            f"{_clip(rust_error.detail, 100)} (Qiskit's fast OpenQASM 3 reader; if this is "
            f"valid OpenQASM 3 it lacks, rewrite it or send QISKIT_QPY: with {size} {where} "
            "the program is too large for the reference reader)",
            format=_V3,
            line=rust_error.line,
            column=rust_error.column,
        )
    why = rust_error.detail if rust_error is not None else "Qiskit's fast reader cannot read it"
    return ProgramError(
        f"{_clip(why, 100)}, and at {size} the program is too large for the reference "
        "reader: rewrite that, split the program or send it as QISKIT_QPY",
        format=_V3,
    )


def _through_line(text: str, line: int) -> str:
    """``text`` up to the end of line ``line`` (1-based)."""
    end = -1
    for _ in range(line):
        end = text.find("\n", end + 1)
        if end < 0:
            return text
    return text[: end + 1]


# --------------------------------------------------------------------------------------
# OpenQASM 3: making programs readable to Qiskit's fast reader
# --------------------------------------------------------------------------------------

#: Prefix of the names the rewritten text uses; a program using it is not rewritten.
_MARK = "__qbroker_"
_CONSTANT_VALUES = OPENQASM_CONSTANTS
# Python reads identifiers NFKC-normalised (ℇ becomes Ɛ): the folder looks names up so.
_FOLDABLE_NAMES = {unicodedata.normalize("NFKC", k): v for k, v in _CONSTANT_VALUES.items()}
#: A float literal the fast reader takes as it is (``.5`` is a syntax error to it, and
#: ``1.e-06``, which Qiskit writes, makes it panic: both are folded to Python's spelling).
_FLOAT = r"(?>[0-9]+\.[0-9]+(?:[eE][-+]?[0-9]+)?|[0-9]+\.(?![0-9eE])|[0-9]+[eE][-+]?[0-9]+)"
_PLAIN_FLOAT = re.compile(rf"\s*-?{_FLOAT}\s*")
_PLAIN_ARGUMENTS = rf"(?>\s*-?{_FLOAT}\s*(?:,\s*-?{_FLOAT}\s*)*)"
_INNER = r"[^()]*+(?:\([^()]*+\)[^()]*+)*+"
_SKIP = r"(?P<skip>//[^\n]*|/\*.*?(?:\*/|\Z)|\"[^\"\n]*\")"
_ARGUMENTS = rf"\((?!{_PLAIN_ARGUMENTS}\))(?P<args>[^()]*+(?:\({_INNER}\)[^()]*+)*+)\)"
#: What the fast reader is given differently: comments and strings (skipped), ``gate``
#: definitions, ``U``, calls whose arguments are not all float literals, and a few words.
#: Every alternative is anchored at the start of a word and uses possessive quantifiers,
#: so one pass is linear in the text. (Built-in constants elsewhere than in a call's
#: arguments are left alone: they only occur where the fast reader reads nothing anyway.)
_FAST_TOKEN = re.compile(
    rf"{_SKIP}|(?<![\w$.])(?:"
    r"gate\s++(?P<gate>[A-Za-z_]\w*+)\s*+(?:\((?P<params>[^()]*+)\))?"
    r"(?P<qubits>[^{};()]{0,200000}+)"  # bounded: a statement may hold 64 headers
    r"\{(?P<body>[^{}]*+)\}"
    rf"|U[ \t]*+\((?P<uargs>[^()]*+(?:\({_INNER}\)[^()]*+)*+)\)"
    rf"|(?P<callee>[A-Za-z_]\w*+)[ \t]*+{_ARGUMENTS}"
    r"|(?P<word>reset|qubit|qreg|gate)(?!\w))",
    re.S,
)
#: The same for a program without those words: the arguments alone (a pattern that starts
#: with '(' is scanned 6x faster; a keyword's arguments, ``if (...)``, folded too, change
#: nothing the fast reader reads).
_FAST_ARGUMENTS = re.compile(rf"{_SKIP}|(?P<callee>){_ARGUMENTS}", re.S)
_WORDS = re.compile(r"(?:gate|reset|U)(?!\w)")
_DECLARATIONS = re.compile(r"(?:qubit|qreg)(?!\w)")


def _has_word(text: str, words: re.Pattern[str]) -> bool:
    """Whether one of ``words`` occurs as a word (``stdgates.inc`` holds no ``gate``)."""
    for match in words.finditer(text):
        at = match.start()
        if at == 0 or not (text[at - 1].isalnum() or text[at - 1] in "_$."):
            return True
    return False


_VERSION = re.compile(r"(?:\s++|//[^\n]*|/\*.*?\*/)*+OPENQASM\s++[0-9.]++\s*+;", re.S)
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
#: Names before parentheses that are not gate calls (their arguments are left alone).
_NOT_GATE_CALLS = frozenset(
    "if while for switch return ctrl negctrl pow inv durationof sizeof gate def defcal cal "
    "extern box measure reset barrier delay int uint float angle bool bit complex duration "
    "stretch array qubit in sin cos tan arcsin arccos arctan exp log sqrt ceiling floor mod "
    "popcount rotl rotr real imag".split()
)
#: Most ``gate`` definitions read on the fast path (each body is read once, ~0.1 ms).
_MAX_FAST_DEFINITIONS = 1000


class _FastText:
    """A program as Qiskit's fast reader is given it, and how to map positions back.

    The fast text is ``user[:start] + prelude + rest``, where ``rest`` is the user's text
    after ``start`` with :attr:`edits` applied and, for hardware qubits, ``$n`` rewritten.

    Attributes:
        text: the rewritten program.
        start: where the prelude (declarations of what the rewriting uses) goes: after
            the ``OPENQASM`` statement.
        prelude: its length.
        edits: (start, end, new length) of each replaced span of the user's text, in order.
        hardware: for programs addressing hardware qubits, the text before ``$n`` became
            ``__qbroker_hw[n]`` (from ``start`` on), else None.
        custom_gates: constructors for the standard gates, ``U``, ``reset`` and the
            program's own ``gate`` definitions.
        templates: the program's ``gate`` definitions.
    """

    def __init__(
        self,
        text: str,
        start: int,
        prelude: int,
        edits: Iterable[tuple[int, int, int]],
        hardware: str | None,
        custom_gates: list[Any],
        templates: list[_GateTemplate],
    ) -> None:
        self.text = text
        self.start = start
        self.prelude = prelude
        self.edits = edits
        self.hardware = hardware
        self.custom_gates = custom_gates
        self.templates = templates

    @property
    def physical(self) -> bool:
        return self.hardware is not None

    def finish(self, circuit: QuantumCircuit) -> QuantumCircuit:
        """The circuit as the reference reader builds it: hardware qubits are qubits of no
        register, with a layout placing qubit i on $i."""
        if not self.physical:
            return circuit
        from qiskit import QuantumCircuit
        from qiskit.circuit import Qubit

        qubits = [Qubit() for _ in range(circuit.num_qubits)]
        out = QuantumCircuit(qubits, list(circuit.clbits), global_phase=circuit.global_phase)
        for register in circuit.cregs:
            out.add_register(register)
        out.compose(circuit, qubits=range(len(qubits)), inplace=True, copy=False)
        return _place_on_hardware(out)

    def original_offset(self, line: int, column: int) -> int:
        """The offset in the user's text of 1-based (line, column) in :attr:`text`."""
        offset = 0
        for _ in range(line - 1):
            offset = self.text.find("\n", offset) + 1
            if offset == 0:
                return len(self.text)
        offset += max(column - 1, 0)
        if offset < self.start:
            return offset
        if offset < self.start + self.prelude:
            return self.start
        offset -= self.prelude
        if self.hardware is not None:
            renamed = [
                (m.start(), m.end(), len(f"{_MARK}hw[{m.group(1)}]"))
                for m in _HARDWARE_QUBIT.finditer(self.hardware)
            ]
            offset = self.start + _undo(renamed, offset - self.start)
        return _undo(self.edits, offset)


def _place_on_hardware(circuit: QuantumCircuit) -> QuantumCircuit:
    """``circuit`` (its qubits of no register, qubit i being hardware qubit $i) with the
    layout the reference reader gives a program addressing hardware qubits."""
    from qiskit.transpiler import Layout, TranspileLayout

    circuit._layout = TranspileLayout(
        initial_layout=Layout.from_qubit_list(circuit.qubits),
        input_qubit_mapping={bit: i for i, bit in enumerate(circuit.qubits)},
        final_layout=None,
    )
    return circuit


def _undo(edits: Iterable[tuple[int, int, int]], offset: int) -> int:
    """Map an offset in an edited text back through ``edits`` (start, end, new length)."""
    delta = 0
    for start, end, length in edits:
        if offset < start + delta:
            break
        if offset < start + delta + length:
            return start  # inside a replacement: its start
        delta += length - (end - start)
    return offset - delta


def _prepare_fast(
    text: str, known: tuple[_GateTemplate, ...] = (), *, trusted: bool = False
) -> _FastText | None:
    """Rewrite ``text`` for Qiskit's fast reader, or None where it is not worth trying.

    The reader lacks arithmetic, the built-in constants, ``gate`` definitions with bodies,
    ``U``, ``reset`` and hardware qubits, all of which Qiskit's own writer emits. So:
    ``pi/2``, ``-3*pi/8``, ``1`` ... become one float literal (:func:`_fold`); ``gate``
    bodies are blanked and their calls built by :class:`_GateTemplate`; ``U`` and
    ``reset`` are renamed to gates declared up front; ``$n`` becomes ``__qbroker_hw[n]``
    of a register declared up front (single ``qubit`` declarations cost the reader
    quadratic time: 4,000 took 2.6 s). Line breaks are kept, so lines stay the same.

    Args:
        known: definitions earlier in the program (when reading a gate body).
        trusted: the text is qbroker's own (a gate body), which may use its names.
    """
    if _MARK in text and not trusted:
        return None
    version = _VERSION.match(text)
    start = version.end() if version else 0
    pieces = []
    edits: list[tuple[int, int, int]] = []
    templates: list[_GateTemplate] = []
    uses_u = uses_reset = virtual = False
    last = start

    def replace(begin: int, end: int, new: str) -> None:
        nonlocal last
        pieces.append(text[last:begin])
        pieces.append(new)
        edits.append((begin, end, len(new)))
        last = end

    words = _has_word(text, _WORDS) or ("$" in text and _has_word(text, _DECLARATIONS))
    # without those words only arguments change: one re.sub (the edits, for positions in
    # error messages, are worked out again only when there is an error)
    scan = _FAST_TOKEN.finditer(text, start) if words else ()
    for match in scan:
        kind = match.lastgroup
        if kind == "body":  # a gate definition
            params = _names(match["params"] or "")
            qubits = _names(match["qubits"])
            if params is None or qubits is None or len(templates) >= _MAX_FAST_DEFINITIONS:
                return None
            templates.append(
                _GateTemplate(
                    match["gate"], params, qubits, match["body"], known + tuple(templates)
                )
            )
            replace(*match.span("body"), "\n" * match["body"].count("\n"))
        elif kind == "uargs":  # the built-in U: a gate declared up front
            uses_u = True
            replace(match.start(), match.start() + 1, f"{_MARK}U")
            folded = _fold_arguments(match["uargs"])
            if folded != match["uargs"]:
                replace(*match.span("uargs"), folded)
        elif kind == "args":  # a call whose arguments are not all float literals
            if match["callee"] in _NOT_GATE_CALLS:
                continue
            folded = _fold_arguments(match["args"])
            if folded != match["args"]:
                replace(*match.span("args"), folded)
        elif kind == "word":
            word = match["word"]
            if word == "gate":  # a definition the pattern above does not take
                return None
            if word == "reset":
                uses_reset = True
                replace(*match.span(), f"{_MARK}reset")
            else:
                virtual = True
    if words:
        pieces.append(text[last:])
        rest = "".join(pieces)
    else:
        rest = _FAST_ARGUMENTS.sub(_fold_match, text[start:])
    declarations = [t.declaration() for t in known]
    hardware = None
    if "$" in text:
        from qbroker.formats._limits import _blank_comments

        indices = set(_HARDWARE_QUBIT.findall(_blank_comments(text)))
        if indices:
            if virtual:
                return None  # mixed addressing: an error the reference reader words
            hardware = rest
            rest = _HARDWARE_QUBIT.sub(rf"{_MARK}hw[\1]", rest)
            declarations.append(f"qubit[{max(map(int, indices)) + 1}] {_MARK}hw;")
    if uses_u:
        declarations.append(f"gate {_MARK}U(a, b, c) q {{ }}")
    if uses_reset:
        declarations.append(f"gate {_MARK}reset q {{ }}")
    prelude = f" {' '.join(declarations)} " if declarations else ""
    return _FastText(
        text[:start] + prelude + rest,
        start,
        len(prelude),
        edits if words else _ArgumentEdits(text, start),
        hardware,
        _custom_gates(known + tuple(templates)),
        templates,
    )


def _fold_match(match: re.Match[str]) -> str:
    """re.sub's replacement for :data:`_FAST_ARGUMENTS`."""
    args = match["args"]
    if args is None:  # a comment or a string
        return match.group(0)
    return f"({_fold_arguments(args)})"


class _ArgumentEdits:
    """The edits :data:`_FAST_ARGUMENTS` made, worked out when first asked for."""

    def __init__(self, text: str, start: int) -> None:
        self._text = text
        self._start = start

    def __iter__(self) -> Iterator[tuple[int, int, int]]:
        for match in _FAST_ARGUMENTS.finditer(self._text, self._start):
            args = match["args"]
            if args is not None:
                folded = _fold_arguments(args)
                if folded != args:
                    yield (*match.span("args"), len(folded))


def _names(text: str) -> tuple[str, ...] | None:
    """The comma-separated identifiers in ``text``, or None if it holds anything else."""
    names = tuple(name.strip() for name in text.split(",")) if text.strip() else ()
    if not all(_IDENTIFIER.fullmatch(name) for name in names):
        return None
    return names


def _custom_gates(templates: tuple[_GateTemplate, ...]) -> list[Any]:
    from qiskit.circuit import Reset
    from qiskit.circuit.library import UGate
    from qiskit.qasm3 import STDGATES_INC_GATES, CustomGate

    gates = list(STDGATES_INC_GATES)
    gates.append(CustomGate(UGate, f"{_MARK}U", 3, 1))
    gates.append(CustomGate(Reset, f"{_MARK}reset", 0, 1))
    gates.extend(CustomGate(t.gate, t.name, len(t.params), len(t.qubits)) for t in templates)
    return gates


def _fold_arguments(arguments: str) -> str:
    """A gate call's arguments with each that is plain arithmetic folded to a literal
    (cached when short: a program repeats the same few, ``pi/2``, ``-pi/4`` ...)."""
    if len(arguments) <= 200:
        return _fold_short_arguments(arguments)
    return _fold_short_arguments.__wrapped__(arguments)


@functools.lru_cache(maxsize=4096)
def _fold_short_arguments(arguments: str) -> str:
    parts = _split_arguments(arguments)
    folded = []
    for part in parts:
        if _PLAIN_FLOAT.fullmatch(part):
            folded.append(part)
            continue
        literal = _fold(part.strip()) if len(part) <= 200 else _fold.__wrapped__(part.strip())
        # keep the line breaks, so that lines in the rewritten text stay the user's
        folded.append(part if literal is None else literal + "\n" * part.count("\n"))
    return ",".join(folded)


def _split_arguments(arguments: str) -> list[str]:
    if "(" not in arguments:
        return arguments.split(",")
    parts, depth, begin = [], 0, 0
    for i, char in enumerate(arguments):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(arguments[begin:i])
            begin = i + 1
    parts.append(arguments[begin:])
    return parts


class _NotFoldable(Exception):
    pass


@functools.lru_cache(maxsize=1024)
def _fold(expression: str) -> str | None:
    """Plain arithmetic on numbers and built-in constants (``+ - * / **`` and signs) as
    one float literal, evaluated as Qiskit's reference reader does (float64; an integer
    divided by an integer is an integer) and printed exactly (``repr``); None for
    anything else (names, calls, durations, division by zero, overflow ...)."""
    try:
        tree = ast.parse(expression.replace("\n", " "), mode="eval")
        value = _evaluate(tree.body)
        result = float(value)
    except (_NotFoldable, SyntaxError, ValueError, TypeError, ArithmeticError, RecursionError):
        return None
    if not math.isfinite(result):
        return None
    return repr(result)


def _evaluate(node: ast.expr) -> int | float:
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        raise _NotFoldable
    if isinstance(node, ast.Name) and node.id in _FOLDABLE_NAMES:
        return _FOLDABLE_NAMES[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _evaluate(node.operand)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        if isinstance(node.op, ast.Div):
            if isinstance(left, int) and isinstance(right, int):
                return left // right  # OpenQASM: integer division (as the reference reader)
            return left / right
        if isinstance(node.op, ast.Pow):
            if (
                isinstance(left, int)
                and isinstance(right, int)
                and left.bit_length() * right > 4096
            ):
                raise _NotFoldable  # an integer of thousands of digits (2**10**9: minutes)
            value = left**right
            if isinstance(value, complex):
                raise _NotFoldable
            return value
    raise _NotFoldable


class _GateTemplate:
    """A ``gate`` definition of the program: the fast reader builds each call as a gate
    whose definition is the body, read (by the fast reader too) when first needed, with the
    call's arguments in place of the parameters -- as the reference reader defines it."""

    def __init__(
        self,
        name: str,
        params: tuple[str, ...],
        qubits: tuple[str, ...],
        body: str,
        earlier: tuple[_GateTemplate, ...],
    ) -> None:
        self.name = name
        self.params = params
        self.qubits = qubits
        self.body = body
        self.earlier = earlier
        # the formal names, replaced in the body: qubits by names of their own (a qubit
        # may be called like a standard gate, ``x``), parameters by the call's values
        self._pattern = re.compile(
            r"(?<![\w$.])(" + "|".join(map(re.escape, params + qubits)) + r")(?!\w)"
        )
        self._fixed: QuantumCircuit | None = None  # without parameters: one definition
        # with parameters: one read per distinct set of values (a QAOA layer calls its own
        # rzz with one angle hundreds of times)
        self._read: dict[tuple[float, ...], QuantumCircuit] = {}

    def declaration(self) -> str:
        """The definition with an empty body (for reading later definitions' bodies)."""
        params = f"({', '.join(self.params)})" if self.params else ""
        return f"gate {self.name}{params} {', '.join(self.qubits)} {{ }}"

    def gate(self, *values: Any) -> Any:
        """One call (the constructor given to the fast reader)."""
        return _defined_gate_class()(self, values)

    def check(self) -> None:
        """Read the body once (with made-up arguments), so that calls cannot fail later.

        Raises:
            ValueError: the fast reader cannot read it.
        """
        self.definition(tuple(0.1 + 0.01 * i for i in range(len(self.params))))

    def definition(self, values: tuple[Any, ...]) -> QuantumCircuit:
        """The body as a circuit, the parameters replaced by ``values``.

        Raises:
            ValueError: the fast reader cannot read it.
        """
        import qiskit.qasm3

        if self._fixed is not None:
            return self._fixed.copy()
        key = tuple(float(v) for v in values)
        known = self._read.get(key)
        if known is not None:
            return known.copy()
        names = {p: f"({v!r})" for p, v in zip(self.params, key, strict=True)}
        names.update((q, f"{_MARK}q{i}") for i, q in enumerate(self.qubits))
        body = self._pattern.sub(lambda m: names[m.group(1)], self.body) if names else self.body
        qubits = "".join(f"qubit {_MARK}q{i};" for i in range(len(self.qubits)))
        text = f'OPENQASM 3.0;\ninclude "stdgates.inc";\n{qubits}\n{body}\n'
        fast = _prepare_fast(text, self.earlier, trusted=True)
        if fast is None or fast.physical:
            raise ValueError(f"cannot read the body of gate {self.name!r}")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                circuit = qiskit.qasm3.loads_experimental(fast.text, custom_gates=fast.custom_gates)
        except qiskit.qasm3.QASM3ImporterError as exc:
            raise ValueError(f"cannot read the body of gate {self.name!r}: {exc}") from None
        for template in fast.templates:  # a body defines no gates; be sure of it
            raise ValueError(f"gate {template.name!r} defined inside gate {self.name!r}")
        if not self.params:
            self._fixed = circuit
            return circuit.copy()
        if len(self._read) < _MAX_BODIES_KEPT:
            self._read[key] = circuit
            return circuit.copy()
        return circuit


#: Bodies kept per gate definition (one per distinct set of parameter values).
_MAX_BODIES_KEPT = 256


@functools.cache
def _defined_gate_class() -> type:
    """The class of calls to a program's own gates (made on first use: importing qbroker
    does not import Qiskit). Reachable as ``qbroker.formats.qasm._DefinedGate`` so that
    such gates pickle."""
    from qiskit.circuit import Gate

    class _DefinedGate(Gate):  # type: ignore[misc]
        """A call of a ``gate`` the program defines; its definition is built on first use."""

        def __init__(self, template: _GateTemplate, params: tuple[Any, ...]) -> None:
            super().__init__(template.name, len(template.qubits), list(params))
            self._template = template

        def _define(self) -> None:
            try:
                self.definition = self._template.definition(tuple(self.params))
            except ValueError as exc:
                raise ProgramError(str(exc), format=_V3) from None

        def __eq__(self, other: object) -> bool:
            # equal to the plain Gate the reference reader builds for the same call
            if not isinstance(other, Gate):
                return NotImplemented
            plain = Gate(self.name, self.num_qubits, self.params)
            plain.definition = self.definition
            if type(other) is _DefinedGate:
                theirs = Gate(other.name, other.num_qubits, other.params)
                theirs.definition = other.definition
                other = theirs
            return bool(plain == other)

        __hash__ = Gate.__hash__

    _DefinedGate.__module__ = __name__
    _DefinedGate.__qualname__ = "_DefinedGate"
    return _DefinedGate


def __getattr__(name: str) -> Any:
    if name == "_DefinedGate":
        return _defined_gate_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _rust_error(diagnostics: str, fast: _FastText, text: str) -> ProgramError | None:
    """The first error the fast reader printed, its position mapped to the user's text."""
    from qbroker.formats._limits import line_and_column

    kind = _QASM3_ERROR.search(diagnostics)
    if not kind:
        return None
    where = _QASM3_POSITION.search(diagnostics)
    if not where:
        return ProgramError(_describe_qasm3(kind.group(1).strip(), ""), format=_V3)
    offset = fast.original_offset(int(where.group(1)), int(where.group(2)))
    line, column = line_and_column(text, offset)
    found = _TOKEN.match(text, offset)
    token = found.group(0) if found and "\n" not in found.group(0) else ""
    return ProgramError(
        _describe_qasm3(kind.group(1).strip(), token), format=_V3, line=line, column=column
    )


_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\S")
_ANTLR_POSITION = re.compile(r"^\"?(?:L(\d+):C(\d+)|(\d+),(\d+)):\s*(.*?)\"?$", re.S)


def _antlr_error(exc: Exception) -> ProgramError:
    message = str(exc).strip().strip("'\"")
    match = _ANTLR_POSITION.match(message)
    if match:
        line, column = (match.group(1), match.group(2)) if match.group(1) else match.group(3, 4)
        return ProgramError(
            _clip(match.group(5)), format=_V3, line=int(line), column=int(column) + 1
        )
    return ProgramError(_clip(message) or type(exc).__name__, format=_V3)


def _quote(token: str) -> str:
    """A token for a one-line message (a name may be megabytes long)."""
    if len(token) > 40:
        token = f"{token[:30]}...({len(token):,} characters)"
    return repr(token)


def _describe_qasm3(kind: str, token: str) -> str:
    """Turn the Rust reader's error kinds into words, quoting the offending token."""
    names = {
        "UndefGateError": "unknown gate",
        "UndefVarError": "undeclared identifier",
        "IncompatibleTypesError": "incompatible types",
        "NumGateParamsError": "wrong number of parameters for",
        "NumGateQubitsError": "wrong number of qubits for",
    }
    label = names.get(kind, kind)
    return f"{label} {_quote(token)}" if token and kind in names else _clip(label)


#: Above this size the error-flood check runs before the reference reader (see below).
_FLOOD_CHECK_CHARS = 32 * 1024
#: Statements that are certainly wrong which are tolerated before the Rust reader runs.
_FLOOD_LIMIT = 32
_STDGATES = frozenset(
    "p x y z h s sdg t tdg sx rx ry rz cx cy cz cp crx cry crz ch swap ccx cswap cu CX "
    "phase cphase id u1 u2 u3 U gphase".split()
)
_KEYWORDS = frozenset(
    "OPENQASM include defcalgrammar def cal defcal gate opaque extern box let break continue "
    "if else end return for while in switch case default nop pragma input output const "
    "readonly mutable qreg qubit creg bool bit int uint float angle complex array void "
    "duration stretch inv pow ctrl negctrl durationof delay reset measure barrier true "
    "false sizeof".split()
)
# Every pattern that starts with a name is anchored at the start of a word: unanchored,
# a 40,000-character name made each of them quadratic (20 s, found by fuzzing).
_LEADING_WORD = re.compile(r"[;{}]\s*([A-Za-z_]\w*)")
_INDEXED_NAME = re.compile(r"(?<![\w$])([A-Za-z_]\w*)\s*\[")
_DEFINED_NAME = re.compile(r"(?<![\w$])(?:gate|opaque|def|extern)\s+([A-Za-z_]\w*)")
_DECLARATION_BODY = re.compile(
    r"(?<![\w$])(?:qubit|bit|int|uint|float|angle|bool|complex|duration|stretch|qreg|creg|"
    r"const|input|output|let|array)\b([^;{}=]*)"
)
_FOR_VARIABLE = re.compile(r"(?<![\w$])for\s+(?:\w+(?:\[[^\]]*\])?\s+)?([A-Za-z_]\w*)\s+in\b")
_SIGNATURE = re.compile(
    r"(?<![\w$])(?:gate|def|defcal|opaque)\s+[A-Za-z_]\w*\s*(?:\(([^)]*)\))?([^{;]*)"
)
_NAME = re.compile(r"(?<![\w$])[A-Za-z_]\w*")
_OPERAND = re.compile(r"(?<![\w$])([A-Za-z_]\w*)\s*[;,]")


def _refuse_error_floods(text: str) -> None:
    """Refuse, before the reference reader reads all of it, a program with many statements
    that are certainly wrong: unknown leading names (gates never defined) and undeclared
    registers.

    It used to run before the Rust reader, which spent time proportional to (errors x
    program size): 2,000 bad statements in a 22,000-line program took 7 s. Since its
    diagnostics go to a small pipe (:class:`_CappedOutput`) that reader's cost is linear
    (~0.1 s for that program), and this check (~40 ms per 10,000 gates) would have been
    half the cost of every good read; it now guards only the reference reader.

    Raises:
        ProgramError: naming the line of the first such statement.
    """
    from qbroker.formats._limits import _blank_comments, line_and_column

    clean = _blank_comments(text)
    known = set(_STDGATES) | _KEYWORDS
    known.update(_DEFINED_NAME.findall(clean))
    for body in _DECLARATION_BODY.findall(clean):  # the declared name comes last
        names = _NAME.findall(body)
        if names:
            known.add(names[-1])
    known.update(_FOR_VARIABLE.findall(clean))
    for params, qargs in _SIGNATURE.findall(clean):  # names local to definitions
        known.update(_NAME.findall(params))
        known.update(_NAME.findall(qargs))
    leading = Counter(_LEADING_WORD.findall(clean))
    used = Counter(_INDEXED_NAME.findall(clean))
    used.update(_OPERAND.findall(clean))
    bad_leading = {w: n for w, n in leading.items() if w not in known}
    bad_indexed = {w: n for w, n in used.items() if w not in known}
    total = sum(bad_leading.values()) + sum(bad_indexed.values())
    if total <= _FLOOD_LIMIT:
        return
    first: tuple[int, str] | None = None
    for word in set(bad_leading) | set(bad_indexed):
        pattern = (
            rf"[;{{}}]\s*({re.escape(word)})\b"
            if word in bad_leading
            else rf"(?<![\w$])({re.escape(word)})\s*[\[;,]"
        )
        match = re.search(pattern, clean)
        if match and (first is None or match.start(1) < first[0]):
            what = "unknown gate or name" if word in bad_leading else "undeclared name"
            first = (match.start(1), f"{what} {word!r}")
    offset, message = first if first is not None else (0, "unknown names")
    line, column = line_and_column(text, offset)
    raise ProgramError(
        f"{message} (and {total - 1:,} more statements using unknown names)",
        format="OPEN_QASM_V3",
        line=line,
        column=column,
    )


class _CappedOutput:
    """fd 1 -> a small non-blocking pipe, for the Rust OpenQASM 3 reader's diagnostics.

    That reader prints every error, and each print costs time proportional to the whole
    program (measured: 2,000 errors in a 22,000-line program, 7 s; 8,000 in 8,000 lines,
    10 s; a 16 MB file of bad lines would take hours). Once the pipe's 4 KB are full its
    next write fails (EAGAIN) and the reader panics, which we catch: a program with
    thousands of errors costs about as much as one with a dozen, and the first errors,
    which are all we report, are in the pipe. Where such a pipe cannot be made, falls
    back to capturing into a temporary file.
    """

    CAPACITY = 4096

    def __enter__(self) -> _CappedOutput:
        self.text = ""
        self._read: int | None = None
        self._fallback: _CapturedOutput | None = None
        sys.stdout.flush()
        try:
            read, write = os.pipe()
        except OSError:
            return self._use_fallback()
        try:
            import fcntl

            setter = getattr(fcntl, "F_SETPIPE_SZ", None)
            if setter is not None:
                fcntl.fcntl(write, setter, self.CAPACITY)
            os.set_blocking(write, False)
            self._saved = os.dup(1)
            os.dup2(write, 1)
        except (ImportError, OSError, ValueError):
            os.close(read)
            os.close(write)
            return self._use_fallback()
        os.close(write)
        self._read = read
        return self

    def _use_fallback(self) -> _CappedOutput:
        self._fallback = _CapturedOutput(1)
        self._fallback.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fallback is not None:
            self._fallback.__exit__(*exc)
            self.text = self._fallback.text
            return
        assert self._read is not None
        os.dup2(self._saved, 1)  # closes the pipe's last write end
        os.close(self._saved)
        chunks: list[bytes] = []
        while True:
            data = os.read(self._read, 65536)
            if not data:
                break
            chunks.append(data)
        os.close(self._read)
        self.text = b"".join(chunks)[:65536].decode("utf-8", errors="replace")
        if self.text:
            _discard_unprinted_diagnostics()


def _discard_unprinted_diagnostics() -> None:
    """Empty the Rust reader's stdout buffer into /dev/null.

    When a write to the full pipe fails, what Rust had not written yet stays in its
    buffer and came out at the start of the *next* read's diagnostics (measured: a program
    read after a flood of errors was reported with the flood's "line 45 ... 'h'"). One tiny
    erroneous read with stdout on /dev/null flushes it.
    """
    import qiskit.qasm3

    sys.stdout.flush()
    saved = os.dup(1)
    sink = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(sink, 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            qiskit.qasm3.loads_experimental("OPENQASM 3.0;\nx;\n")
    except BaseException as exc:  # the error it is there to print; a panic is as good
        if not isinstance(exc, qiskit.qasm3.QASM3ImporterError) and not _is_panic(exc):
            raise
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(sink)


class _CapturedOutput:
    """Redirect a file descriptor (1: stdout, 2: stderr) to a temporary file for a block.

    Native code writes to the descriptor directly, around Python's ``sys.stdout``.
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def __enter__(self) -> _CapturedOutput:
        self._file = tempfile.TemporaryFile(mode="w+b")
        (sys.stdout if self._fd == 1 else sys.stderr).flush()
        try:
            self._saved: int | None = os.dup(self._fd)
            os.dup2(self._file.fileno(), self._fd)
        except (OSError, ValueError):  # no usable descriptor: parse without diagnostics
            self._saved = None
        self.text = ""
        return self

    def __exit__(self, *exc: object) -> None:
        if self._saved is not None:
            os.dup2(self._saved, self._fd)
            os.close(self._saved)
        self._file.seek(0)
        self.text = self._file.read(65536).decode("utf-8", errors="replace")
        self._file.close()


def write_qasm2(circuit: object, backend: Backend | None, options: WriteOptions) -> str:
    """OpenQASM 2 text (``qelib1.inc``; other gates emitted as ``gate`` definitions).

    Raises:
        UnsupportedError: the circuit uses what OpenQASM 2 cannot say (control flow,
            parameters without values ...).
    """
    import qiskit.qasm2

    fitted = _writable(on_backend(circuit_of(circuit), backend))
    try:
        return str(qiskit.qasm2.dumps(fitted))
    except qiskit.qasm2.QASM2ExportError as exc:
        raise UnsupportedError(f"OpenQASM 2 cannot express this circuit: {exc}") from None
    except (TypeError, ValueError, AttributeError) as exc:  # an exporter bug, not our input
        raise _writer_failure("2", exc) from None


def write_qasm3(circuit: object, backend: Backend | None, options: WriteOptions) -> str:
    """OpenQASM 3 text in Qiskit's dialect (``include "stdgates.inc"``).

    Raises:
        UnsupportedError: the circuit uses what Qiskit cannot write as OpenQASM 3, or
            classical logic (an XOR in a condition ...) that Qiskit's OpenQASM 3 readers
            cannot read back.
    """
    import qiskit.qasm3

    fitted = _writable(on_backend(circuit_of(circuit), backend))
    try:
        text = str(qiskit.qasm3.dumps(fitted))
    except qiskit.qasm3.QASM3ExporterError as exc:
        raise UnsupportedError(f"OpenQASM 3 cannot express this circuit: {exc}") from None
    except (TypeError, ValueError, AttributeError) as exc:  # an exporter bug, not our input
        raise _writer_failure("3", exc) from None
    if _has_classical_logic(fitted):
        # Qiskit's exporter writes conditions (``a ^ b``, ...) that neither of its readers
        # reads; text that no reader here takes back is not a conversion.
        try:
            read_qasm3(text)
        except ProgramError as exc:
            raise UnsupportedError(
                "Qiskit's OpenQASM 3 readers cannot read back this circuit's classical logic "
                f"({_clip(str(exc), 160)}); convert to QISKIT_QPY instead"
            ) from None
    return text


def _writer_failure(version: str, exc: Exception) -> UnsupportedError:
    detail = _clip(f"{type(exc).__name__}: {exc}", 160)
    return UnsupportedError(
        f"Qiskit's OpenQASM {version} writer fails on this circuit ({detail}); "
        "convert to QISKIT_QPY instead"
    )


def _writable(circuit: QuantumCircuit) -> QuantumCircuit:
    """``circuit`` as Qiskit's OpenQASM writers can write it, doing the same thing.

    Operations with matrix parameters (``UnitaryGate``, its controlled forms ...), which
    crash both of Qiskit's exporters, are replaced by their definitions; and the registers
    are made to follow the bit order (see :func:`_registers_in_bit_order`).
    """
    return _registers_in_bit_order(_without_matrix_gates(circuit))


def _has_classical_logic(circuit: QuantumCircuit) -> bool:
    from qiskit.circuit import ControlFlowOp

    if circuit.num_vars or circuit.num_stretches:
        return True
    return any(isinstance(inst.operation, ControlFlowOp) for inst in circuit.data)


@functools.cache
def _standard_gate_mapping() -> dict[str, Any]:
    """Qiskit's standard gates by name (built once: each call of Qiskit's function builds
    every gate object anew)."""
    from qiskit.circuit.library import get_standard_gate_name_mapping

    return dict(get_standard_gate_name_mapping())


def _has_matrix_parameter(operation: Any, seen: dict[int, bool]) -> bool:
    """Whether ``operation`` or a gate in its definition (which the writers emit as a
    ``gate``) has a parameter that is not a number or an expression (a matrix)."""
    import numpy as np
    from qiskit.circuit import ControlFlowOp, Gate

    key = id(operation)
    if key in seen:
        return seen[key]
    seen[key] = False  # a definition that refers back to its gate ends here
    if isinstance(operation, ControlFlowOp):
        found = any(
            _has_matrix_parameter(inst.operation, seen)
            for block in operation.blocks
            for inst in block.data
            if not inst.is_standard_gate()
        )
    elif any(isinstance(p, np.ndarray) and p.ndim > 0 for p in operation.params):
        found = True
    else:
        standard = _standard_gate_mapping().get(operation.name)
        found = False
        if not (standard is not None and type(standard) is type(operation)) and isinstance(
            operation, Gate
        ):
            definition = operation.definition
            found = definition is not None and any(
                _has_matrix_parameter(inst.operation, seen)
                for inst in definition.data
                if not inst.is_standard_gate()
            )
    seen[key] = found
    return found


def _without_matrix_gates(
    circuit: QuantumCircuit, seen: dict[int, bool] | None = None
) -> QuantumCircuit:
    """``circuit`` with every operation :func:`_has_matrix_parameter` finds replaced by its
    definition (exact, global phase included), inside control flow too.

    Raises:
        UnsupportedError: naming a gate with matrix parameters that has no definition.
    """
    from qiskit.circuit import ControlFlowOp

    seen = {} if seen is None else seen
    if not any(
        _has_matrix_parameter(inst.operation, seen)
        for inst in circuit.data
        if not inst.is_standard_gate()  # Qiskit's standard gates take numbers only
    ):
        return circuit
    out = circuit.copy_empty_like()
    for inst in circuit.data:
        operation = inst.operation
        if not _has_matrix_parameter(operation, seen):
            out.append(inst)
        elif isinstance(operation, ControlFlowOp):
            blocks = [_without_matrix_gates(block, seen) for block in operation.blocks]
            out.append(inst.replace(operation=operation.replace_blocks(blocks)))
        else:
            out.compose(
                _synthesized(operation), qubits=inst.qubits, clbits=inst.clbits, inplace=True
            )
    return out


def _synthesized(operation: Any) -> QuantumCircuit:
    """``operation`` in ``u`` and ``cx`` (exact, global phase included), by Qiskit's synthesis.

    Its own definition is not enough: a controlled unitary's holds non-gate instructions
    (``circuit-123``) that the OpenQASM 3 writer refuses.

    Raises:
        UnsupportedError: naming the gate when Qiskit cannot synthesise it.
    """
    from qiskit import QuantumCircuit, transpile
    from qiskit.transpiler.exceptions import TranspilerError

    alone = QuantumCircuit(operation.num_qubits, operation.num_clbits)
    alone.append(operation, alone.qubits, alone.clbits)
    try:
        return transpile(alone, basis_gates=["u", "cx"], optimization_level=0)
    except TranspilerError as exc:
        raise UnsupportedError(
            f"Qiskit's OpenQASM writers cannot write gate {operation.name!r} (a matrix "
            f"parameter) and cannot decompose it ({_clip(str(exc), 120)}); convert to "
            "QISKIT_QPY instead"
        ) from None


def _registers_in_bit_order(circuit: QuantumCircuit) -> QuantumCircuit:
    """``circuit`` with registers whose declarations, in order, list its bits in order.

    The writers declare registers in the circuit's register order, and a reader numbers
    bits in declaration order; a circuit whose bits are not that concatenation (Qiskit's
    QPY reads an ``AncillaRegister`` back as a register after the others, bits may belong
    to no register or to several) would come back with its bits permuted. Registers are
    re-ordered, with the bits of no register gathered into new ones; where that cannot
    follow the bit order (a register's bits out of order, shared by registers), one
    register holds every bit. Operations are unchanged.

    Raises:
        UnsupportedError: the registers must change but operations refer to them.
    """
    qregs = _registers_following(circuit, circuit.qubits, circuit.qregs, "q")
    cregs = _registers_following(circuit, circuit.clbits, circuit.cregs, "c")
    if qregs is None and cregs is None:
        return circuit
    from qiskit.converters import circuit_to_dag, dag_to_circuit

    if cregs is not None and _refers_to_registers(circuit):
        lost = {r.name for r in circuit.cregs} - {r.name for r in cregs}
        if lost:
            raise UnsupportedError(
                "OpenQASM would reorder this circuit's classical bits unless its registers "
                f"change, and conditions refer to register(s) {', '.join(sorted(lost))}; "
                "convert to QISKIT_QPY instead"
            )
    dag = circuit_to_dag(circuit)
    if qregs is not None:
        dag.remove_qregs(*dag.qregs.values())
        for qreg in qregs:
            dag.add_qreg(qreg)
    if cregs is not None:
        dag.remove_cregs(*dag.cregs.values())
        for creg in cregs:
            dag.add_creg(creg)
    return dag_to_circuit(dag)


def _registers_following(
    circuit: QuantumCircuit, bits: list[Any], registers: list[Any], name: str
) -> list[Any] | None:
    """Registers declaring ``bits`` in order (None: ``registers`` already do)."""
    if [bit for register in registers for bit in register] == list(bits):
        return None
    kind = type(registers[0]) if registers else None
    if kind is None:
        from qiskit.circuit import ClassicalRegister, QuantumRegister

        kind = ClassicalRegister if name == "c" else QuantumRegister
    owner: dict[Any, Any] = {}
    shared = False
    for register in registers:
        for bit in register:
            shared = shared or bit in owner
            owner[bit] = register
    ordered: list[Any] = []
    if not shared:
        taken = {register.name for register in registers}
        loose: list[Any] = []
        for bit in bits:
            register = owner.get(bit)
            if register is None:
                loose.append(bit)
                continue
            if loose:
                ordered.append(_new_register(kind, loose, name, taken))
                loose = []
            if not ordered or ordered[-1] is not register:
                ordered.append(register)
        if loose:
            ordered.append(_new_register(kind, loose, name, taken))
        if [bit for register in ordered for bit in register] == list(bits):
            return ordered
    return [kind(name=name, bits=list(bits))]


def _new_register(kind: type, bits: list[Any], name: str, taken: set[str]) -> Any:
    unique = name
    while unique in taken:
        unique = f"{unique}_"
    taken.add(unique)
    return kind(name=unique, bits=list(bits))


def _refers_to_registers(circuit: QuantumCircuit) -> bool:
    """Whether a condition or ``switch`` target names a whole classical register."""
    from qiskit.circuit import ClassicalRegister, ControlFlowOp
    from qiskit.circuit.classical import expr

    for inst in circuit.data:
        operation = inst.operation
        if not isinstance(operation, ControlFlowOp):
            continue
        targets = [getattr(operation, "condition", None), getattr(operation, "target", None)]
        for target in targets:
            if isinstance(target, tuple):
                target = target[0]
            if isinstance(target, ClassicalRegister):
                return True
            if isinstance(target, expr.Expr) and any(
                isinstance(var.var, ClassicalRegister) for var in expr.iter_vars(target)
            ):
                return True
        if any(_refers_to_registers(block) for block in operation.blocks):
            return True
    return False


CODECS = (
    Codec(
        format=InputFormat.OPEN_QASM_V2,
        kind=Kind.GATE,
        payload=str,
        read=read_qasm2,
        write=write_qasm2,
        description="OpenQASM 2.0 with qelib1.inc (Qiskit's parser, legacy gate definitions)",
    ),
    Codec(
        format=InputFormat.OPEN_QASM_V3,
        kind=Kind.GATE,
        payload=str,
        read=read_qasm3,
        write=write_qasm3,
        description='OpenQASM 3 in Qiskit\'s dialect (include "stdgates.inc")',
    ),
)
