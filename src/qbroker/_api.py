"""The library's public functions; the CLI calls exactly these."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from qbroker.errors import NotFoundError, ProgramError

if TYPE_CHECKING:  # pragma: no cover
    from qiskit import QuantumCircuit
from qbroker.model import (
    Backend,
    Decision,
    InputFormat,
    JobOptions,
    JobRequest,
    Policy,
    Program,
    Result,
)

__all__ = ["aload_program", "arun", "backend", "backends", "load_program", "route", "run"]

_PATH_SUFFIXES = (".qasm", ".qasm2", ".qasm3", ".json", ".qpy", ".txt")


def load_program(
    source: str | bytes | os.PathLike[str] | dict[str, Any] | Program | QuantumCircuit,
    format: InputFormat | str | None = None,
    *,
    name: str | None = None,
    max_bytes: int | None = None,
) -> Program:
    """Read a program from a path, a string, bytes or a JSON object.

    The format is detected from the content unless given.

    Args:
        source: a file path, program text, bytes (e.g. QPY), a parsed JSON object, or a
            Qiskit ``QuantumCircuit`` (kept losslessly as QPY).
        format: an :class:`InputFormat` (or its name) to skip detection.
        name: a name for the program (defaults to the file's stem).
        max_bytes: refuse larger input before parsing (default 16 MiB, or
            QBROKER_MAX_PROGRAM_BYTES).

    Raises:
        ProgramError: unreadable content, naming line and column.
        FormatDetectionError: the format could not be told.
        NotFoundError: a path that does not exist.

    Example:
        >>> import qbroker
        >>> p = qbroker.load_program("examples/bell.qasm")     # doctest: +SKIP
        >>> p.format, p.num_qubits                             # doctest: +SKIP
        (<InputFormat.OPEN_QASM_V2: 'OPEN_QASM_V2'>, 2)
    """
    from qbroker.formats._limits import program_size_limit

    if isinstance(source, Program):
        return source
    if _is_quantum_circuit(source):
        return _from_circuit(source, name)
    if not isinstance(source, (str, bytes, dict, os.PathLike)):
        raise ProgramError(
            "a program is a path, program text, bytes, a JSON object, a Program or a Qiskit "
            f"QuantumCircuit, not {type(source).__name__}"
        )
    with program_size_limit(max_bytes):
        return _load(source, format, name, max_bytes)


def _is_quantum_circuit(source: object) -> bool:
    """A Qiskit QuantumCircuit (checked without importing Qiskit when it is not loaded)."""
    import sys

    qiskit = sys.modules.get("qiskit")
    return qiskit is not None and isinstance(source, qiskit.QuantumCircuit)


def _from_circuit(circuit: QuantumCircuit, name: str | None) -> Program:
    import io

    import qiskit.qpy

    buffer = io.BytesIO()
    try:
        qiskit.qpy.dump(circuit, buffer)
    except Exception as exc:  # QPY refuses what it cannot serialise: say what
        raise ProgramError(f"the circuit cannot be stored as QPY: {exc}") from None
    return Program(
        format=InputFormat.QISKIT_QPY, payload=buffer.getvalue(), name=name or circuit.name
    )


def _load(
    source: str | bytes | os.PathLike[str] | dict[str, Any],
    format: InputFormat | str | None,
    name: str | None,
    max_bytes: int | None,
) -> Program:
    from qbroker.formats import check_size, decode_text, detect_format, parse_json
    from qbroker.formats._limits import payload_size

    content: str | bytes | dict[str, Any]
    path = _as_path(source)
    if path is not None:
        content = _read_file(path, max_bytes)
        name = name or path.stem
    else:
        content = source  # type: ignore[assignment]
        if isinstance(content, (str, bytes)):
            check_size(payload_size(content), max_bytes)
    fmt = InputFormat(format) if format is not None else detect_format(content)
    payload: str | bytes | dict[str, Any] = content
    if fmt is not InputFormat.QISKIT_QPY and isinstance(content, bytes):
        payload = decode_text(content)
    if fmt.is_analog and isinstance(payload, str):
        document = parse_json(payload, fmt.value)
        if not isinstance(document, dict):
            raise ProgramError("a JSON program must be an object", format=fmt.value)
        payload = document
    return Program(format=fmt, payload=payload, name=name)


async def aload_program(
    source: str | bytes | os.PathLike[str] | dict[str, Any] | Program,
    format: InputFormat | str | None = None,
    *,
    name: str | None = None,
    max_bytes: int | None = None,
) -> Program:
    """:func:`load_program` in a worker thread, for event loops."""
    return await anyio.to_thread.run_sync(
        lambda: load_program(source, format, name=name, max_bytes=max_bytes)
    )


def _as_path(source: object) -> Path | None:
    if isinstance(source, os.PathLike):
        return Path(source)
    if not isinstance(source, str):
        return None
    # cheapest first: a program is long or has a line break or a ';' (``strip`` would copy it)
    if (
        len(source) > 4096
        or "\n" in source
        or ";" in source
        or "\x00" in source  # no file name holds a NUL byte: program text
        or not source.strip()
        or source.lstrip().startswith("{")
    ):
        return None
    path = Path(source)
    try:
        exists = path.exists()
    except (OSError, ValueError):  # a name too long for the OS, a NUL byte: not a path
        return None
    if exists or source.endswith(_PATH_SUFFIXES) or os.sep in source:
        return path
    return None


def _read_file(path: Path, max_bytes: int | None) -> bytes:
    from qbroker.formats import check_size, max_program_bytes

    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise NotFoundError(f"no such file: {path}") from None
    except OSError as exc:
        raise ProgramError(f"cannot read {path}: {exc.strerror}") from None
    if path.is_dir():
        raise ProgramError(f"{path} is a directory, not a program file")
    limit = max_program_bytes() if max_bytes is None else max_bytes
    check_size(size, limit)
    try:
        with path.open("rb") as handle:
            # Never more than the limit + 1 byte, whatever stat said: pipes, /proc files
            # and files growing while read report a size that is not what read() returns.
            data = handle.read(limit + 1)
    except OSError as exc:
        raise ProgramError(f"cannot read {path}: {exc.strerror}") from None
    check_size(len(data), limit)
    return data


def backends() -> list[Backend]:
    """Every backend in the embedded catalog.

    Example:
        >>> import qbroker
        >>> len(qbroker.backends()) >= 20
        True
    """
    from qbroker.catalog import default_catalog

    return list(default_catalog().backends)


def backend(backend_id: str) -> Backend:
    """One backend by id.

    Raises:
        BackendNotFoundError: unknown id (with close suggestions).
    """
    from qbroker.catalog import default_catalog

    return default_catalog().get(backend_id)


async def arun(
    program: Program | QuantumCircuit | str | bytes | os.PathLike[str] | dict[str, Any],
    backend: str | Backend,
    shots: int = 1000,
    *,
    emulate: bool = True,
    seed: int | None = None,
    optimization_level: int = 2,
    memory: bool = False,
    timeout: float | None = None,
) -> Result:
    """Run a program on a backend and wait for its result.

    Args:
        program: a Program, or anything :func:`load_program` reads.
        backend: a backend id (``"ibm.qpu.fez"``) or a Backend.
        shots: repetitions, within the backend's shots range.
        emulate: run a local emulation built from the backend's calibration instead of
            the real device (the only way without credentials).
        seed: fixes transpilation and sampling for reproducible results.
        optimization_level: transpiler effort, 0-3.
        memory: also return every shot's bit string.
        timeout: seconds to wait for a final state.

    Raises:
        ValidationError: bad shots/options; BackendNotFoundError; UnsupportedError;
        JobFailedError; JobTimeoutError.
    """
    from qbroker._broker import Broker

    prog = program if isinstance(program, Program) else load_program(program)
    broker = _default_broker()
    target = broker.resolve(backend)
    request = JobRequest(
        program=prog,
        backend_id=target.id,
        shots=shots,
        emulate=emulate,
        options=JobOptions(optimization_level=optimization_level, seed=seed, memory=memory),
    )
    assert isinstance(broker, Broker)
    job = await broker.submit(request, target)
    return await broker.result(job.id, timeout=timeout)


def run(
    program: Program | QuantumCircuit | str | bytes | os.PathLike[str] | dict[str, Any],
    backend: str | Backend,
    shots: int = 1000,
    *,
    emulate: bool = True,
    seed: int | None = None,
    optimization_level: int = 2,
    memory: bool = False,
    timeout: float | None = None,
) -> Result:
    """Synchronous :func:`arun`.

    Example:
        >>> import qbroker
        >>> r = qbroker.run("examples/bell.qasm", "ibm.qpu.fez", shots=2000)  # doctest: +SKIP
        >>> sum(r.counts.values())                                          # doctest: +SKIP
        2000
    """
    return anyio.run(
        lambda: arun(
            program,
            backend,
            shots,
            emulate=emulate,
            seed=seed,
            optimization_level=optimization_level,
            memory=memory,
            timeout=timeout,
        )
    )


_BROKER: Any = None


def _default_broker() -> Any:
    global _BROKER
    if _BROKER is None:
        from qbroker._broker import Broker

        _BROKER = Broker()
    return _BROKER


def route(
    program: Program | QuantumCircuit | str | bytes | os.PathLike[str] | dict[str, Any],
    shots: int = 1000,
    optimize_for: str | None = None,
    policy: Policy | str | os.PathLike[str] | None = None,
    backends: list[Backend] | None = None,
    *,
    optimization_level: int | None = None,
    seed: int | None = None,
) -> Decision:
    """Decide where ``program`` should run: every backend ranked, every rejection explained.

    A dry run: nothing is submitted.

    Args:
        program: a Program, or anything :func:`load_program` reads.
        shots: repetitions (prices and shot limits depend on it).
        optimize_for: ``accuracy``, ``speed``, ``cost`` or ``balanced``; overrides the
            policy's.
        policy: a :class:`Policy`, or the path of a TOML policy file.
        backends: the backends to choose from (the embedded catalog by default; pass a
            service's live catalog here).
        optimization_level, seed: how the job will be compiled (as in :func:`run`);
            override the policy's. A close call between backends that need SWAPs is
            settled by running that compilation's layout and routing (see
            ``Policy.refine``).

    Raises:
        ValidationError: bad shots, mode or policy; ProgramError for an unreadable program.

    Example:
        >>> import qbroker
        >>> d = qbroker.route("examples/ghz5.qasm", optimize_for="accuracy")  # doctest: +SKIP
        >>> d.backend_id, d.candidates[0].estimates.fidelity                  # doctest: +SKIP
        ('ibm.qpu.marrakesh', 0.93...)
    """
    from datetime import UTC, datetime

    from qbroker.errors import ValidationError
    from qbroker.formats import conversions
    from qbroker.routing import decide

    prog = program if isinstance(program, Program) else load_program(program)
    chosen = _policy(policy)
    if optimize_for is not None or optimization_level is not None or seed is not None:
        chosen = chosen.merged(
            optimize_for=optimize_for, optimization_level=optimization_level, seed=seed
        )
    if not isinstance(shots, int) or isinstance(shots, bool) or shots < 1:
        raise ValidationError("route", [("shots", f"must be a positive integer, not {shots!r}")])
    pool = backends if backends is not None else _catalog_backends()
    reachable = frozenset((e.source, e.target) for e in conversions())
    return decide(
        prog, pool, shots=shots, policy=chosen, reachable=reachable, now=datetime.now(UTC)
    )


def _catalog_backends() -> list[Backend]:
    from qbroker.catalog import default_catalog

    return list(default_catalog().backends)


def _policy(policy: Policy | str | os.PathLike[str] | None) -> Policy:
    if policy is None:
        return Policy()
    if isinstance(policy, Policy):
        return policy
    path = Path(policy)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFoundError(f"no such policy file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProgramError(f"cannot read policy file {path}: {exc}", field="policy") from None
    return Policy.from_toml(text, source=str(path))
