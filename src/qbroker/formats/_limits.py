"""Limits and guards applied before (and right after) a parser sees the input.

The readers hand text to Qiskit's parsers, which trust their input: measured here, 10^5
nested parentheses, or 10^4 chained operators in one OpenQASM 3 expression, overflow the
native stack of the Rust readers (the process dies with SIGSEGV); ``qreg q[99999999999]``
or ``qubit[100000000] q`` allocate until the machine gives up; integers beyond 2^64 make
the OpenQASM 2 reader panic and are silently wrapped modulo 2^64 by the OpenQASM 3 one
(``qubit[18446744073709551617] q`` became one qubit); ``1e999`` reads as an infinite angle;
``2.0**2.0**...`` takes seconds per thousand operators. The guards here refuse such input
with a ProgramError naming the line and column (or the JSON field) before any parser runs,
in time linear in the input. They are deliberately generous: no real program comes near.
"""

from __future__ import annotations

import functools
import math
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from qbroker.errors import ProgramError

if TYPE_CHECKING:  # pragma: no cover
    from qiskit import QuantumCircuit

#: Largest program qbroker reads, in bytes. Override with QBROKER_MAX_PROGRAM_BYTES.
DEFAULT_MAX_PROGRAM_BYTES = 16 * 1024 * 1024
#: Deepest nesting of brackets in program text, and of arrays/objects in a JSON program.
MAX_NESTING_DEPTH = 64
#: Most operators (``+ - * / % ^ ~ ! & | < > =``, and an index right after an index, as in
#: ``q[0][0]``) in one statement of program text: 5*10^4 chained ``=`` made the OpenQASM 3
#: reader die with SIGSEGV, 2*10^5 chained indices ran for minutes (fuzzing, session 3).
MAX_STATEMENT_OPERATORS = 256
#: Most names one statement may write side by side without a separator (``h q`` has one,
#: ``input float t`` two; ``s _g s _g ...`` 20,000 made Qiskit's OpenQASM 3 reader run for
#: minutes, one error per name).
MAX_JUXTAPOSED_NAMES = 64
#: Most statements whose brackets do not balance (each is an error for the parser).
MAX_UNBALANCED_STATEMENTS = 32
#: Most lines one statement may span (a missing ';' makes the rest of a file one
#: statement, and Qiskit's OpenQASM 3 reader spends time per error times program size).
MAX_STATEMENT_LINES = 1000
#: Most qubits, and most classical bits, a program may declare (the largest device in
#: the catalog has a few hundred).
MAX_DECLARED_BITS = 100_000
#: Most elementary gates one ``gate`` definition may expand to (definitions calling
#: earlier ones twice each double: 60 of them make 2^60 gates, which Qiskit's OpenQASM 3
#: reference reader expands eagerly, ~4 s per 16,000).
MAX_GATE_EXPANSION = 100_000
#: Largest integer a program may write (register sizes, indices, shots ...).
MAX_INTEGER = 2**64 - 1


#: OpenQASM 3's built-in constants (the specification's names and their Unicode forms).
OPENQASM_CONSTANTS: dict[str, float] = {
    "pi": math.pi,
    "π": math.pi,
    "tau": math.tau,
    "τ": math.tau,
    "euler": math.e,
    "ℇ": math.e,
}


_LIMIT_OVERRIDE: ContextVar[int | None] = ContextVar("qbroker_max_program_bytes", default=None)


@contextmanager
def program_size_limit(limit: int | None) -> Iterator[None]:
    """Within the block, :func:`max_program_bytes` is ``limit`` (None: no change).

    ``load_program(max_bytes=...)`` uses it so that the limit it was given also holds for
    the parse that building the Program runs, instead of the environment's.
    """
    if limit is None:
        yield
        return
    token = _LIMIT_OVERRIDE.set(max(int(limit), 1))
    try:
        yield
    finally:
        _LIMIT_OVERRIDE.reset(token)


def max_program_bytes() -> int:
    """The size limit in force: ``load_program(max_bytes=)``'s, QBROKER_MAX_PROGRAM_BYTES,
    or the default."""
    override = _LIMIT_OVERRIDE.get()
    if override is not None:
        return override
    raw = os.environ.get("QBROKER_MAX_PROGRAM_BYTES")
    if raw is None:
        return DEFAULT_MAX_PROGRAM_BYTES
    try:
        value = int(raw)
    except ValueError:
        raise ProgramError(
            f"QBROKER_MAX_PROGRAM_BYTES must be a whole number of bytes, not {raw!r}",
            field="QBROKER_MAX_PROGRAM_BYTES",
        ) from None
    return max(value, 1)


def check_size(size: int, limit: int | None = None) -> None:
    """Refuse ``size`` bytes when over ``limit`` (default: :func:`max_program_bytes`)."""
    limit = max_program_bytes() if limit is None else limit
    if size > limit:
        raise ProgramError(
            f"program is {size:,} bytes, over the {limit:,}-byte limit "
            "(raise it with QBROKER_MAX_PROGRAM_BYTES or max_bytes=)"
        )


def payload_size(content: str | bytes) -> int:
    """Size in bytes of text or bytes as they would be stored (UTF-8 for text)."""
    if isinstance(content, bytes) or content.isascii():
        return len(content)
    return len(content.encode("utf-8", "surrogatepass"))


# --------------------------------------------------------------------------------------
# program text (OpenQASM 2 and 3, Braket's dialect)
# --------------------------------------------------------------------------------------

_COMMENT_OR_STRING = re.compile(r"//[^\n]*|/\*.*?(?:\*/|\Z)|\"[^\"\n]*\"", re.S)
_COMMENT_LINE = re.compile(r"//[^\n]*\n?|/\*.*?(?:\*/|\Z)|\"[^\"\n]*\"", re.S)
# Scanning a 10,000-gate program must cost a few milliseconds, so each check first finds
# candidates with a pattern that starts with a literal character class (which Python's
# regex engine skips through quickly) and then looks closely only there.
_LONG_NUMBER_HINT = re.compile(
    r"[0-9][0-9_]{19}|0[xX][0-9A-Fa-f_]{17}|0[bB][01_]{65}|0[oO][0-7_]{22}"
)
_LONG_NUMBER = re.compile(
    r"(?:0[xX][0-9A-Fa-f_]+|0[bB][01_]+|0[oO][0-7_]+|[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][+-]?[0-9]+)?)"
)
_RUN_CHARACTERS = "0123456789abcdefABCDEF_"


def _long_runs(text: str) -> list[int]:
    """Offsets where 17 or more digits, hex digits or underscores follow each other (the
    only places an integer beyond 2^64 can be written), found with numpy."""
    import numpy as np

    data = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    if data.size < 17:
        return []
    inside = _run_table()[data].view(np.int8)
    edges = np.diff(np.concatenate(([0], inside, [0])).astype(np.int8))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    found = starts[(ends - starts) >= 17]
    if not found.size:
        return []
    return [_char_offset(text, int(b)) for b in found]


@functools.cache
def _run_table() -> Any:
    import numpy as np

    table = np.zeros(256, dtype=bool)
    for c in _RUN_CHARACTERS:
        table[ord(c)] = True
    return table


_BIG_EXPONENT_HINT = re.compile(r"[eE]\+?[0-9]{3}")
_NUMBER_BEFORE = re.compile(r"(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)\Z")
_DECLARATION_HINT = re.compile(r"qreg|creg|qubit|bit|uint|int|float|angle")
_DECLARATION = re.compile(
    r"(?:(qreg|creg)\s+[A-Za-z_]\w*\s*\[\s*([0-9]+)\s*\]"
    r"|(qubit|bit|int|uint|float|angle|qreg|creg)\s*\[\s*([0-9]+)\s*\]"
    r"|(qubit|bit)\s+[A-Za-z_])"
)
_QUBIT_KEYWORDS = frozenset({"qreg", "qubit"})


def _word_start(text: str, at: int) -> bool:
    """Whether ``at`` starts a token (not the middle of a name, number or ``$n``)."""
    if at == 0:
        return True
    before = text[at - 1]
    return not (before.isalnum() or before in "_.$")


def _word_end(text: str, at: int) -> bool:
    return at >= len(text) or not (text[at].isalnum() or text[at] in "_.")


def guard_program_text(text: str, fmt: str) -> None:
    """Refuse program text a parser would crash, hang or allocate without bound on.

    Checks, in time linear in the text: bracket nesting (at most
    :data:`MAX_NESTING_DEPTH`), operators per statement (:data:`MAX_STATEMENT_OPERATORS`),
    integer literals (at most 2^64 - 1), float literals that overflow to infinity, and the
    qubits and bits declared or addressed as hardware qubits ``$n`` (:data:`MAX_DECLARED_BITS`
    each).

    Raises:
        ProgramError: naming the line and column of the first problem.
    """
    problem = _scan_text(text)
    if problem is not None:
        # Comments and strings may hold anything: look again without them (blanked out,
        # so offsets and therefore lines and columns stay the same).
        problem = _scan_text(_blank_comments(text, keep_lines=False))
    if problem is not None:
        offset, message = problem
        line, column = line_and_column(text, offset)
        raise ProgramError(message, format=fmt, line=line, column=column)


def guard_gate_definitions(text: str, fmt: str) -> None:
    """Refuse ``gate`` definitions that expand to more than :data:`MAX_GATE_EXPANSION`
    gates (the part of :func:`guard_program_text` every OpenQASM reader needs, even one
    with its own parser: writers and transpilers expand definitions later).

    Raises:
        ProgramError: naming the line of the definition.
    """
    found = _scan_gate_definitions(text)
    if found is not None:
        found = _scan_gate_definitions(_blank_comments(text))
    if found is not None:
        line, column = line_and_column(text, found[0])
        raise ProgramError(found[1], format=fmt, line=line, column=column)


def line_and_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset`` in ``text``."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _blank_comments(text: str, *, keep_lines: bool = True) -> str:
    """``text`` with comments and strings replaced by spaces (same length, so offsets
    still point at the same places); without ``keep_lines`` the line breaks that end
    or sit inside comments go too (commented-out code does not make a statement long)."""
    if keep_lines:
        return _COMMENT_OR_STRING.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    return _COMMENT_LINE.sub(lambda m: " " * len(m.group(0)), text)


def _scan_text(text: str) -> tuple[int, str] | None:
    """(offset, message) of the first limit ``text`` breaks, or None."""
    found = _scan_structure(text)
    if found is not None:
        return found
    for start in _long_runs(text):
        if text[start : start + 2].lower() in ("0x", "0b", "0o"):
            pass
        elif start > 1 and text[start - 2 : start].lower() in ("0x", "0b", "0o"):
            start -= 2  # a run of hex digits after its 0x prefix
        if not _word_start(text, start):
            continue
        match = _LONG_NUMBER.match(text, start)
        if match is None or not _word_end(text, match.end()):
            continue
        literal = match.group(0).replace("_", "")
        if literal[:2].lower() in ("0x", "0b", "0o"):
            value = int(literal, 0) if len(literal) <= 80 else MAX_INTEGER + 1
        elif "." in literal or "e" in literal or "E" in literal:
            if math.isinf(float(literal)):
                return start, f"number {_short(literal)} is beyond a 64-bit float (infinite)"
            continue
        else:
            value = int(literal) if len(literal) <= 24 else MAX_INTEGER + 1
        if value > MAX_INTEGER:
            return start, f"integer {_short(literal)} is beyond 2^64"
    for hint in _BIG_EXPONENT_HINT.finditer(text):
        mantissa = _NUMBER_BEFORE.search(text, max(0, hint.start() - 400), hint.start())
        if mantissa is None or not _word_start(text, mantissa.start()):
            continue
        end = hint.end()
        while end < len(text) and text[end].isdigit():
            end += 1
        if not _word_end(text, end):
            continue
        literal = text[mantissa.start() : end].replace("_", "")
        if math.isinf(float(literal)):
            return (
                mantissa.start(),
                f"number {_short(literal)} is beyond a 64-bit float (infinite)",
            )
    found = _scan_gate_definitions(text)
    if found is not None:
        return found
    qubits = bits = 0
    for hint in _DECLARATION_HINT.finditer(text):
        if not _word_start(text, hint.start()):
            continue
        match = _DECLARATION.match(text, hint.start())
        if match is None:
            continue
        keyword = match.group(1) or match.group(3) or match.group(5)
        size = int(match.group(2) or match.group(4) or 1)
        if keyword in _QUBIT_KEYWORDS:
            qubits += size
        elif keyword in ("creg", "bit"):
            bits += size
        if size > MAX_DECLARED_BITS or qubits > MAX_DECLARED_BITS or bits > MAX_DECLARED_BITS:
            what = "qubits" if keyword in _QUBIT_KEYWORDS else "bits"
            return (
                match.start(),
                f"declares more than {MAX_DECLARED_BITS:,} {what} ({keyword}[{size:,}] here)",
            )
    if "$" in text:
        # a hardware qubit $n makes the readers create qubits $0 ... $n (measured: `h
        # $1000000;` took Qiskit's reference reader 13 s and a million qubits)
        for match in _HARDWARE_QUBIT.finditer(text):
            index = match.group(1)
            if len(index) > 6 or int(index) >= MAX_DECLARED_BITS:
                return match.start(), (
                    f"hardware qubit ${_short(index)} is beyond the {MAX_DECLARED_BITS:,} "
                    "qubits a program may use"
                )
    return None


_HARDWARE_QUBIT = re.compile(r"\$([0-9]+)")


#: Possessive throughout: with backtracking, an 80,000-character name followed by ``;``
#: took 12 s (quadratic; found by fuzzing, session 3).
_GATE_DEFINITION = re.compile(r"gate\s++([A-Za-z_]\w*+)[^{};]*+\{([^{}]*+)\}")
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")


def _scan_gate_definitions(text: str) -> tuple[int, str] | None:
    """Refuse gate definitions whose full expansion is more than MAX_GATE_EXPANSION gates."""
    if "gate" not in text:
        return None
    size: dict[str, int] = {}
    for match in _GATE_DEFINITION.finditer(text):
        if not _word_start(text, match.start()):
            continue
        name, body = match.group(1), match.group(2)
        total = 0
        for statement in body.split(";"):
            calls = [size[t] for t in _IDENTIFIER.findall(statement) if t in size]
            total += max(calls, default=1 if statement.strip() else 0)
        size[name] = max(total, 1)
        if size[name] > MAX_GATE_EXPANSION:
            return match.start(), (
                f"gate {name!r} expands to more than {MAX_GATE_EXPANSION:,} gates"
            )
    return None


_CHUNK = 1 << 20


def _scan_structure(text: str) -> tuple[int, str] | None:
    """Bracket nesting and operators per statement, with numpy over the text's bytes, a
    megabyte at a time (so a 16 MB program needs tens of MB, not hundreds)."""
    import numpy as np

    step_table, separator_table, operator_table = _tables()
    data = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    if data.size == 0:
        return None
    depth_carry = 0  # running sum of +1/-1 before this chunk
    floor_carry = 0  # its running minimum (clamped at 0)
    ops_carry = 0  # operators so far in the statement the chunk starts in
    lines_carry = 0  # and line breaks
    names_carry = 0  # and juxtaposed names
    word_table = _word_table()
    round_table, square_table = _bracket_tables()
    carries = {id(round_table): 0.0, id(square_table): 0.0}
    unbalanced = 0
    first_unbalanced: int | None = None
    statement_start = 0
    for begin in range(0, data.size, _CHUNK):
        chunk = data[begin : begin + _CHUNK]
        running = np.cumsum(step_table[chunk], dtype=np.int32)
        running += depth_carry
        if floor_carry < 0 or int(running.min()) < 0:
            # a stray closing bracket does not make what follows nest below zero
            floor = np.minimum(np.minimum.accumulate(running), floor_carry)
            depth = running - np.minimum(floor, 0)
            floor_carry = int(floor[-1])
        else:
            depth = running
        if int(depth.max()) > MAX_NESTING_DEPTH:
            over = int(np.argmax(depth > MAX_NESTING_DEPTH))
            return _char_offset(text, begin + over), (
                f"brackets nested deeper than {MAX_NESTING_DEPTH} levels"
            )
        depth_carry = int(running[-1])
        separators = separator_table[chunk]
        ids = np.cumsum(separators, dtype=np.int32)
        operators = operator_table[chunk]
        if _CHAINED_INDEX.search(chunk.tobytes()) is not None:
            operators = operators | _chained_indices(chunk)
        counts = np.bincount(ids[operators], minlength=int(ids[-1]) + 1)
        counts[0] += ops_carry
        starts = np.flatnonzero(separators)
        worst = int(np.argmax(counts))
        if counts[worst] > MAX_STATEMENT_OPERATORS:
            at = statement_start if worst == 0 else begin + int(starts[worst - 1])
            return _statement_offset(text, at), (
                f"a statement with more than {MAX_STATEMENT_OPERATORS} operators"
            )
        newlines = np.bincount(ids[chunk == 10], minlength=int(ids[-1]) + 1)
        newlines[0] += lines_carry
        longest = int(np.argmax(newlines))
        if newlines[longest] > MAX_STATEMENT_LINES:
            at = statement_start if longest == 0 else begin + int(starts[longest - 1])
            return _statement_offset(text, at), (
                f"a statement running over more than {MAX_STATEMENT_LINES:,} lines (a missing ';'?)"
            )
        lines_carry = int(newlines[-1])
        juxtaposed = _juxtaposed_names(chunk, begin, data, word_table)
        names = np.bincount(ids[juxtaposed], minlength=int(ids[-1]) + 1)
        names[0] += names_carry
        most = int(np.argmax(names))
        if names[most] > MAX_JUXTAPOSED_NAMES:
            at = statement_start if most == 0 else begin + int(starts[most - 1])
            return _statement_offset(text, at), (
                f"a statement with more than {MAX_JUXTAPOSED_NAMES} names in a row "
                "without separators"
            )
        names_carry = int(names[-1])
        # statements whose () or [] do not balance: one is a typo the parser reports, a
        # flood of them is garbage (the OpenQASM 3 reader's cost grows with errors x size)
        for bracket in (round_table, square_table):
            balance = np.bincount(ids, weights=bracket[chunk], minlength=int(ids[-1]) + 1)
            balance[0] += carries[id(bracket)]
            carries[id(bracket)] = float(balance[-1])
            broken = np.flatnonzero(balance[:-1] != 0)
            if broken.size:
                if first_unbalanced is None:
                    where = int(broken[0])
                    first_unbalanced = (
                        statement_start if where == 0 else begin + int(starts[where - 1])
                    )
                unbalanced += int(broken.size)
        if unbalanced > MAX_UNBALANCED_STATEMENTS and first_unbalanced is not None:
            return _statement_offset(text, first_unbalanced), (
                f"{unbalanced:,} statements with unbalanced brackets, the first here"
            )
        ops_carry = int(counts[-1])
        if starts.size:
            statement_start = begin + int(starts[-1])
    return None


def _juxtaposed_names(chunk: Any, begin: int, data: Any, word_table: Any) -> Any:
    """Positions (in ``chunk``) where a name starts right after another name, number or
    closing bracket with only whitespace between (``s _g``, ``h q``)."""
    import numpy as np

    word = word_table[chunk]  # letters, digits, '_' (and any non-ASCII byte)
    starts_word = word.copy()
    starts_word[1:] &= ~word[:-1]
    if begin > 0:
        starts_word[0] &= not bool(word_table[data[begin - 1]])
    letter = (chunk >= 65) & (chunk <= 122) & ~((chunk > 90) & (chunk < 95)) & (chunk != 96)
    starts_name = starts_word & (letter | (chunk == 95))
    space = (chunk == 32) | (chunk == 9) | (chunk == 10) | (chunk == 13)
    positions = np.arange(chunk.size)
    last_solid = np.maximum.accumulate(np.where(space, -1, positions))
    previous = np.empty_like(last_solid)
    previous[0] = -1
    previous[1:] = last_solid[:-1]
    has_previous = previous >= 0
    before = chunk[np.where(has_previous, previous, 0)]
    glued = has_previous & (word_table[before] | (before == 41) | (before == 93))
    return starts_name & glued & (previous < positions - 1)


@functools.cache
def _bracket_tables() -> tuple[Any, Any]:
    import numpy as np

    round_ = np.zeros(256, dtype=np.float64)
    round_[ord("(")], round_[ord(")")] = 1.0, -1.0
    square = np.zeros(256, dtype=np.float64)
    square[ord("[")], square[ord("]")] = 1.0, -1.0
    return round_, square


@functools.cache
def _word_table() -> Any:
    import numpy as np

    table = np.zeros(256, dtype=bool)
    for c in "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_":
        table[ord(c)] = True
    table[128:] = True
    return table


def _statement_offset(text: str, byte_offset: int) -> int:
    """The character offset of the statement starting at (or after the separator at)
    ``byte_offset``: past the separator and the whitespace before its first token."""
    offset = _char_offset(text, byte_offset)
    if offset < len(text) and text[offset] in ";{}":
        offset += 1
    while offset < len(text) and text[offset] in " \t\r\n":
        offset += 1
    return min(offset, len(text))


def _char_offset(text: str, byte_offset: int) -> int:
    if text.isascii():
        return byte_offset
    return len(text.encode("utf-8", "surrogatepass")[:byte_offset].decode("utf-8", "ignore"))


_CHAINED_INDEX = re.compile(rb"\][ \t\r\n]*+\[")


def _chained_indices(chunk: Any) -> Any:
    """Where ``[`` opens an index right after another one closed (``q[0][1]``, spaces
    between allowed): each counts as an operator of its statement."""
    import numpy as np

    mask = np.zeros(chunk.size, dtype=bool)
    visible = np.flatnonzero((chunk != 32) & (chunk != 9) & (chunk != 10) & (chunk != 13))
    if visible.size > 1:
        seen = chunk[visible]
        chained = (seen[:-1] == 93) & (seen[1:] == 91)
        mask[visible[1:][chained]] = True
    return mask


@functools.cache
def _tables() -> tuple[Any, Any, Any]:
    import numpy as np

    step = np.zeros(256, dtype=np.int8)
    for c in "([{":
        step[ord(c)] = 1
    for c in ")]}":
        step[ord(c)] = -1
    separator = np.zeros(256, dtype=np.int8)
    for c in ";{}":
        separator[ord(c)] = 1
    operator = np.zeros(256, dtype=bool)
    for c in "+-*/%^~!&|<>=":
        operator[ord(c)] = True
    return step, separator, operator


def _short(literal: str, limit: int = 24) -> str:
    return literal if len(literal) <= limit else f"{literal[:10]}...({len(literal)} digits)"


# --------------------------------------------------------------------------------------
# JSON programs
# --------------------------------------------------------------------------------------


class _NotFinite:
    """``NaN``, ``Infinity`` or a literal that overflows a float."""

    def __init__(self, literal: str) -> None:
        self.literal = literal


def json_constant(literal: str) -> Any:
    """``parse_constant`` hook: ``NaN`` / ``Infinity`` are not JSON."""
    return _NotFinite(literal)


def check_json_values(document: Any, fmt: str | None) -> None:
    """Refuse a JSON program with integers beyond 2^64, non-finite numbers or nesting
    deeper than :data:`MAX_NESTING_DEPTH` (walked without recursion, in one pass that
    builds a field path only for what it reports: some documents hold 10^5 numbers).

    Raises:
        ProgramError: naming the field (dotted path, list indices as numbers).
    """
    found = _first_bad_value(document)
    if found is None:
        return
    path, message = found
    raise ProgramError(f"{path or 'the document'}: {message}", format=fmt, field=path)


_Link = tuple[Any, Any] | None  # (parent link, key): a field path, built only when needed


def _first_bad_value(document: Any) -> tuple[str, str] | None:
    if not isinstance(document, dict | list | tuple):
        message = _scalar_problem(document)
        return ("", message) if message else None
    stack: list[tuple[Any, int, _Link]] = [(document, 1, None)]
    while stack:
        value, depth, link = stack.pop()
        if depth > MAX_NESTING_DEPTH:
            return _path(link), f"nested deeper than {MAX_NESTING_DEPTH} levels"
        pairs = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in pairs:
            kind = type(item)
            if kind is dict or kind is list or kind is tuple:
                stack.append((item, depth + 1, (link, key)))
            elif kind is str or kind is bool or item is None:
                continue
            elif kind is int:
                if item > MAX_INTEGER or item < -MAX_INTEGER:
                    return _path((link, key)), _big_integer(item)
            elif kind is float:
                if item - item != 0.0:  # NaN and +-inf
                    return _path((link, key)), f"{item} is not a finite number"
            else:
                message = _scalar_problem(item)
                if message:
                    return _path((link, key)), message
    return None


def _scalar_problem(value: Any) -> str | None:
    if isinstance(value, _NotFinite):
        return f"must be a finite number, not {_short(value.literal)}"
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and abs(value) > MAX_INTEGER:
        return _big_integer(value)
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value} is not a finite number"
    return None


def _big_integer(value: int) -> str:
    digits = len(str(abs(value)))
    if digits > 309:  # not even a float: 10^309 overflows float64
        return f"an integer of {digits} digits is not a finite number"
    return f"integer {_short(str(value))} is beyond 2^64"


def _path(link: _Link) -> str:
    keys: list[str] = []
    while link is not None:
        link, key = link
        keys.append(str(key))
    return ".".join(reversed(keys))


# --------------------------------------------------------------------------------------
# circuits, after reading
# --------------------------------------------------------------------------------------


def check_circuit(circuit: QuantumCircuit, fmt: str) -> None:
    """Refuse a circuit read from any format with too many bits or a non-finite angle.

    An expression such as ``1e308*10`` is finite in the text and infinite once evaluated,
    so this runs on what the reader built.

    Raises:
        ProgramError: naming the instruction (position, gate and qubits).
    """
    for what, count in (("qubits", circuit.num_qubits), ("classical bits", circuit.num_clbits)):
        if count > MAX_DECLARED_BITS:
            raise ProgramError(
                f"{count:,} {what}; qbroker reads at most {MAX_DECLARED_BITS:,}", format=fmt
            )
    if not math.isfinite(_number(circuit.global_phase)):
        raise ProgramError("the global phase is not a finite number", format=fmt)
    _check_instructions(circuit, fmt, "instruction ")


def _check_instructions(circuit: QuantumCircuit, fmt: str, where: str) -> None:
    # CircuitInstruction.params and is_control_flow() answer without building the Python
    # gate object of a standard gate, which instruction.operation does (half the cost).
    for position, instruction in enumerate(circuit.data):
        for param in instruction.params:
            if type(param) is float:
                bad = param - param != 0.0  # NaN or +-inf
            elif isinstance(param, float | int | complex):
                bad = not cmath_isfinite(param)
            else:
                bad = not math.isfinite(_number(param))
            if bad:
                qubits = ", ".join(f"q{circuit.find_bit(q).index}" for q in instruction.qubits)
                raise ProgramError(
                    f"{where}{position + 1} ({instruction.name} on {qubits}) has a non-finite "
                    f"parameter {param}",
                    format=fmt,
                )
        if instruction.is_control_flow():
            for block in instruction.operation.blocks:
                _check_instructions(block, fmt, f"{where}{position + 1}, block instruction ")


def cmath_isfinite(value: complex | float | int) -> bool:
    if isinstance(value, complex):
        return math.isfinite(value.real) and math.isfinite(value.imag)
    return math.isfinite(value)


def _number(value: Any) -> float:
    """A numeric parameter as a float; symbolic (unbound) ones count as finite."""
    try:
        return float(value)
    except (TypeError, ValueError):
        try:
            return abs(complex(value))
        except (TypeError, ValueError):
            return 0.0
