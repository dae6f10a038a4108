"""Fuzz qbroker's program readers (and, for what they accept, the writers) with hypothesis.

Not part of CI: run it for a few minutes after changing a reader.

    python benchmarks/fuzz_readers.py --minutes 5            # every format, 2 workers
    python benchmarks/fuzz_readers.py --minutes 1 --formats OPEN_QASM_V3,IONQ_CIRCUIT_V1
    python benchmarks/fuzz_readers.py --minutes 5 --save     # keep findings as regressions

Inputs are drawn by hypothesis from seeds (the edge suite's circuits written in every
format) and mutated the way hostile or broken input looks: tokens that break parsers
(brackets, operator runs, ``nan``, ``1e999``, 2^64 + 1, ``qreg q[``, ``$``, NUL, bad
UTF-8 ...) inserted, spans deleted, duplicated or truncated; JSON documents with fields
replaced by huge, negative, non-finite, mistyped or deeply nested values, keys dropped or
added, lists repeated; QPY bytes flipped, header fields set to huge values, files cut.
Every input goes through ``qbroker.formats.parse_payload`` (or ``load_program``'s
detection), in a worker process, so a crash of the interpreter or a hang is caught too.

A finding is an input that makes a reader (or a writer, given what the reader accepted)

* crash: raise anything outside qbroker's exception tree, or reach the safety net in
  ``parse_payload`` ("reader failed unexpectedly");
* kill the worker (segfault, abort);
* take longer than ``--timeout`` seconds (2 s; writers get 5 s).

Findings are deduplicated by (format, kind, exception, message shape), the smallest input
kept for each, printed, written to ``benchmarks/results/fuzz_report.md`` (+ ``.json``) and,
with ``--save``, copied to ``tests/formats/regressions/`` as ``<FORMAT>--<kind>-<hash>``
(``detect--...`` for detection), where ``test_bad_input.py`` replays every file.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import math
import os
import pickle
import random
import re
import select
import struct
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
REGRESSIONS = ROOT / "tests" / "formats" / "regressions"

# --------------------------------------------------------------------------------------
# the worker: reads one input, reports what happened
# --------------------------------------------------------------------------------------


def _send(stream: Any, obj: Any) -> None:
    data = pickle.dumps(obj)
    stream.write(struct.pack("<I", len(data)) + data)
    stream.flush()


def _receive(stream: Any) -> Any:
    head = stream.read(4)
    if len(head) < 4:
        raise EOFError
    (size,) = struct.unpack("<I", head)
    return pickle.loads(stream.read(size))


def worker() -> None:
    """Serve inputs on stdin; answer on a private copy of stdout (fd 1 goes to /dev/null,
    where native parsers print their diagnostics)."""
    answer = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    import qbroker
    from qbroker.errors import QBrokerError
    from qbroker.formats import convert, parse_payload

    _warm_up()  # import every reader's and writer's SDK before the clock starts
    inbox = sys.stdin.buffer
    _send(answer, ("ready", "", 0.0))
    while True:
        try:
            fmt, payload, target = _receive(inbox)
        except EOFError:
            return
        start = time.perf_counter()
        stage = "read"
        try:
            if fmt == "detect":
                program = qbroker.load_program(payload)
            else:
                parsed = parse_payload(qbroker.InputFormat(fmt), payload)
                program = None
                if target is not None:
                    program = qbroker.Program(format=fmt, payload=_as_payload(fmt, payload))
                del parsed
            if target is not None and program is not None:
                stage = "write"
                start_write = time.perf_counter()
                try:
                    convert(program, target)
                except QBrokerError:
                    pass
                _send(answer, ("ok", "", time.perf_counter() - start_write))
                continue
            _send(answer, ("ok", "", time.perf_counter() - start))
        except QBrokerError as exc:
            message = str(exc)
            kind = "internal" if "failed unexpectedly" in message else "error"
            _send(
                answer,
                (
                    kind if stage == "read" else f"{stage}-{kind}",
                    message,
                    time.perf_counter() - start,
                ),
            )
        except BaseException as exc:  # what we are here to find
            if isinstance(exc, KeyboardInterrupt):
                raise
            where = traceback.extract_tb(exc.__traceback__)[-1]
            detail = f"{type(exc).__name__}: {exc} [{Path(where.filename).name}:{where.lineno}]"
            kind = "crash" if stage == "read" else "write-crash"
            _send(answer, (kind, " ".join(detail.split())[:400], time.perf_counter() - start))


def _warm_up() -> None:
    """Read and write a Bell pair in every format once (SDK imports take seconds)."""
    from qiskit import QuantumCircuit

    from qbroker.errors import QBrokerError
    from qbroker.formats import available_codecs, convert
    from qbroker.model import Program

    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure([0, 1], [0, 1])
    import qiskit.qasm2

    bell = Program(format="OPEN_QASM_V2", payload=qiskit.qasm2.dumps(qc))
    for item in available_codecs():
        try:
            out = convert(bell, item.format)
            Program(format=out.format, payload=out.payload)
            convert(out, "OPEN_QASM_V3")
        except QBrokerError:
            pass
    # The Cirq JSON reader imports Cirq (seconds) only for operations it cannot read
    # itself, which a Bell pair has none of: without this, the first such input in each
    # fresh worker was reported slow.
    try:
        import cirq  # noqa: F401
    except ImportError:
        pass


def _as_payload(fmt: str, payload: Any) -> Any:
    """The payload as Program takes it (JSON text parsed; bytes for QPY)."""
    from qbroker.formats import codec, decode_text, parse_json
    from qbroker.model.enums import InputFormat

    item = codec(InputFormat(fmt))
    if item.payload is dict and isinstance(payload, (str, bytes)):
        text = decode_text(payload) if isinstance(payload, bytes) else payload
        return parse_json(text, fmt)
    if item.payload is str and isinstance(payload, bytes):
        return decode_text(payload)
    return payload


class Worker:
    """A worker process, restarted when it dies or hangs."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=ROOT,
        )
        ready, _, _ = select.select([self.stdout], [], [], 180)
        status = self.receive() if ready else None
        if status is None or status[0] != "ready":
            raise RuntimeError(f"worker did not start: {status}")

    @property
    def stdout(self) -> Any:
        assert self.process is not None and self.process.stdout is not None
        return self.process.stdout

    def send(self, item: tuple[str, Any, str | None]) -> bool:
        assert self.process is not None and self.process.stdin is not None
        try:
            _send(self.process.stdin, item)
        except (BrokenPipeError, OSError):
            return False
        return True

    def receive(self) -> tuple[str, str, float]:
        try:
            result: tuple[str, str, float] = _receive(self.stdout)
        except (EOFError, pickle.UnpicklingError, struct.error):
            assert self.process is not None
            code = self.process.wait(timeout=5)
            return ("died", f"worker died (exit code {code})", 0.0)
        return result

    def restart(self) -> None:
        self.close()
        self.start()

    def close(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()


def run_all(
    workers: list[Worker],
    items: list[tuple[str, Any, str | None]],
    limit_of: Callable[[str | None], float],
    done: Callable[[tuple[str, Any, str | None], str, str, float, float], None],
) -> None:
    """Keep every worker busy with one input at a time; kill and restart a worker whose
    input takes longer than its limit (+1 s grace) or that dies."""
    queue = list(reversed(items))
    busy: dict[int, tuple[tuple[str, Any, str | None], float, float]] = {}
    while queue or busy:
        for index, worker in enumerate(workers):
            if index not in busy and queue:
                item = queue.pop()
                limit = limit_of(item[2])
                if worker.send(item):
                    busy[index] = (item, time.monotonic(), limit)
                else:
                    worker.restart()
                    done(item, "died", "worker gone before the input was sent", 0.0, limit)
        if not busy:
            continue
        now = time.monotonic()
        wait = max(0.0, min(start + limit + 1.0 - now for _, start, limit in busy.values()))
        ready, _, _ = select.select([workers[i].stdout for i in busy], [], [], wait)
        for index in list(busy):
            item, start, limit = busy[index]
            worker = workers[index]
            if worker.stdout in ready:
                kind, detail, seconds = worker.receive()
                del busy[index]
                if kind == "died":
                    worker.restart()
                done(item, kind, detail, seconds, limit)
            elif time.monotonic() - start > limit + 1.0:
                del busy[index]
                worker.restart()
                elapsed = time.monotonic() - start
                done(item, "slow", f"no answer in {elapsed:.1f} s", elapsed, limit)


# --------------------------------------------------------------------------------------
# seeds and mutations
# --------------------------------------------------------------------------------------

TOKENS = [
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ";",
    ",",
    "->",
    "-",
    "+",
    "*",
    "/",
    "**",
    "^",
    "~",
    "!",
    "==",
    "nan",
    "inf",
    "-inf",
    "NaN",
    "Infinity",
    "1e999",
    "-1e999",
    "1e-999",
    "0.0",
    "18446744073709551617",
    "18446744073709551615",
    "99999999999",
    "-1",
    "0",
    "4294967296",
    "0x" + "f" * 20,
    "1_000",
    "pi",
    "π",
    "tau",
    "euler",
    "qreg q[",
    "creg c[",
    "qubit[",
    "bit[",
    "qreg",
    "creg",
    "qubit",
    "bit",
    "measure",
    "reset",
    "barrier",
    "if (c == 1)",
    "if (c[0])",
    "gate g a {",
    "gate",
    "opaque",
    "U(",
    "CX",
    "u3(",
    "cx",
    "ccx",
    "ctrl @",
    "inv @",
    "pow(2) @",
    "negctrl @",
    "for int i in [0:10]",
    "while (true)",
    "box{",
    "$0",
    "$99999999999",
    "#pragma braket verbatim",
    "#pragma braket unitary(",
    "include",
    '"qelib1.inc"',
    '"stdgates.inc"',
    "OPENQASM 2.0;",
    "OPENQASM 3.0;",
    "OPENQASM 9.9;",
    "input float t;",
    "const uint n = 3;",
    "defcal",
    "cal {",
    "\x00",
    "\ufeff",
    "\u2028",
    "//",
    "/*",
    "*/",
    '"',
    "\\",
    "\n",
    "\t",
    " ",
]
BYTE_TOKENS = [b"\xff", b"\xfe\xff", b"\xc3", b"\xed\xa0\x80", b"\x00" * 8, b"\x80"]

INTERESTING_VALUES: list[Any] = [
    0,
    -1,
    1,
    2,
    3,
    2**31,
    2**32,
    2**63,
    2**64 + 1,
    10**400,
    -(2**70),
    99999999999,
    0.0,
    -0.0,
    0.5,
    1e-12,
    1e6,
    1e308,
    -1e308,
    5e-324,
    math.pi,
    "",
    "x",
    "QB1",
    "QB0",
    "QB99999999999",
    "h",
    "cnot",
    "prx",
    "measure",
    "NaN",
    None,
    True,
    False,
    [],
    {},
    [0],
    [0, 0],
    [0, 1, 2],
    {"a": 1},
    [[0.0, 0.0]],
    ["QB1", "QB1"],
]


def seed_corpus(formats: list[str]) -> dict[str, list[Any]]:
    """Valid programs in each format: the edge suite's circuits, written by qbroker (AHS:
    the Hub's example program)."""
    sys.path.insert(0, str(ROOT / "tests" / "formats"))
    from test_equivalence_edges import SUITE, qpy_program

    from qbroker.errors import QBrokerError
    from qbroker.formats import codec, convert
    from qbroker.model.enums import InputFormat

    corpus: dict[str, list[Any]] = {}
    for fmt in formats:
        if fmt == "detect":
            continue
        target = InputFormat(fmt)
        seeds: list[Any] = []
        if target is InputFormat.BRAKET_AHS_PROGRAM:
            seeds.append((ROOT / "tests" / "data" / "hub_ahs_example.json").read_text())
        else:
            for make in SUITE.values():
                try:
                    out = convert(qpy_program(make()), target)
                except QBrokerError:
                    continue
                payload = out.payload
                if codec(target).payload is dict:
                    payload = json.dumps(payload)
                seeds.append(payload)
        if seeds:
            corpus[fmt] = seeds
    return corpus


def _text_mutations(draw: Callable[[Any], Any], st: Any, text: str) -> str:
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        kind = draw(st.sampled_from(["insert", "delete", "replace", "repeat", "truncate", "run"]))
        n = len(text)
        at = draw(st.integers(min_value=0, max_value=n)) if n else 0
        if kind == "insert":
            token = draw(st.one_of(st.sampled_from(TOKENS), st.text(max_size=8)))
            text = text[:at] + token + text[at:]
        elif kind == "delete" and n:
            width = draw(st.integers(min_value=1, max_value=max(1, min(40, n - at))))
            text = text[:at] + text[at + width :]
        elif kind == "replace" and n:
            width = draw(st.integers(min_value=1, max_value=12))
            text = text[:at] + draw(st.sampled_from(TOKENS)) + text[at + width :]
        elif kind == "repeat" and n:
            width = draw(st.integers(min_value=1, max_value=min(60, n - at) or 1))
            times = draw(st.sampled_from([2, 10, 100, 1000, 20000]))
            if n + width * times <= MAX_TEXT:
                text = text[:at] + text[at : at + width] * times + text[at + width :]
        elif kind == "truncate":
            text = text[:at]
        elif kind == "run":
            token = draw(st.sampled_from(["(", "[", "{", "-", "+", "!", "~", "1+", "2**", "sin("]))
            times = draw(st.sampled_from([10, 65, 300, 5000, 100000]))
            if n + len(token) * times <= MAX_TEXT:
                text = text[:at] + token * times + text[at:]
    return text


def _json_mutations(draw: Callable[[Any], Any], st: Any, document: Any) -> Any:
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        paths = list(_paths(document))
        if not paths:
            return copy.deepcopy(draw(st.sampled_from(INTERESTING_VALUES)))
        path = draw(st.sampled_from(paths))
        parent, key = _locate(document, path)
        if parent is None:
            continue
        kind = draw(st.sampled_from(["value", "delete", "add", "nest", "repeat", "retype"]))
        if kind == "value":
            parent[key] = copy.deepcopy(draw(st.sampled_from(INTERESTING_VALUES)))
        elif kind == "delete":
            if isinstance(parent, dict):
                parent.pop(key, None)
            elif isinstance(parent, list) and parent:
                parent.pop(key)
        elif kind == "add" and isinstance(parent, dict):
            parent[
                draw(st.sampled_from(["extra", "qubits", "gateset", "format", "name", "args"]))
            ] = copy.deepcopy(draw(st.sampled_from(INTERESTING_VALUES)))
        elif kind == "nest":
            depth = draw(st.sampled_from([5, 70, 2000]))
            value: Any = parent[key]
            for _ in range(depth):
                value = [value]
            parent[key] = value
        elif kind == "repeat" and isinstance(parent[key], list) and parent[key]:
            times = draw(st.sampled_from([2, 100, 5000]))
            if len(parent[key]) * times <= MAX_LIST:
                parent[key] = parent[key] * times
        elif kind == "retype":
            value = parent[key]
            parent[key] = str(value) if not isinstance(value, str) else [value]
    return document


def _too_big(document: Any, limit: int = 200_000) -> bool:
    """Whether serialising ``document`` would write more than ``limit`` values."""
    count = 0
    stack = [document]
    while stack:
        value = stack.pop()
        count += 1
        if count > limit:
            return True
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


def _paths(document: Any, prefix: tuple[Any, ...] = ()) -> Any:
    yield prefix
    if len(prefix) > 12:
        return
    if isinstance(document, dict):
        for key, value in document.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(document, list):
        for index, value in enumerate(document[:20]):
            yield from _paths(value, (*prefix, index))


def _locate(document: Any, path: tuple[Any, ...]) -> tuple[Any, Any]:
    if not path:
        return None, None
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    return parent, path[-1]


def _bytes_mutations(draw: Callable[[Any], Any], st: Any, data: bytes) -> bytes:
    buffer = bytearray(data)
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        kind = draw(st.sampled_from(["flip", "field", "truncate", "insert", "delete"]))
        n = len(buffer)
        at = draw(st.integers(min_value=0, max_value=max(n - 1, 0)))
        if kind == "flip" and n:
            buffer[at] ^= draw(st.integers(min_value=1, max_value=255))
        elif kind == "field" and n > 8:
            width = draw(st.sampled_from([1, 2, 4, 8]))
            value = draw(
                st.sampled_from([0, 1, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 2**63, 2**64 - 1])
            )
            packed = (value % (1 << (8 * width))).to_bytes(
                width, draw(st.sampled_from(["big", "little"]))
            )
            buffer[at : at + width] = packed
        elif kind == "truncate":
            del buffer[at:]
        elif kind == "insert":
            buffer[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete" and n:
            del buffer[at : at + draw(st.integers(min_value=1, max_value=16))]
    return bytes(buffer)


def inputs(corpus: dict[str, list[Any]], formats: list[str], targets: list[str]) -> Any:
    """A hypothesis strategy of (format, payload, writer target or None)."""
    from hypothesis import strategies as st

    @st.composite
    def draw_input(draw: Callable[[Any], Any]) -> tuple[str, Any, str | None]:
        fmt = draw(st.sampled_from(formats))
        source_fmt = draw(st.sampled_from(sorted(corpus))) if fmt == "detect" else fmt
        seed = draw(st.sampled_from(corpus[source_fmt]))
        payload: Any
        if isinstance(seed, bytes):
            payload = _bytes_mutations(draw, st, seed)
        elif source_fmt in JSON_FORMATS and draw(st.booleans()):
            try:
                document = _json_mutations(draw, st, json.loads(seed))
                # a repeated list repeats references: serialised, 5000 copies of a list of
                # 20000 are 10^8 values (one input grew past 10 GB)
                payload = seed if _too_big(document) else json.dumps(document)
            except (ValueError, RecursionError):
                payload = seed
            if draw(st.integers(min_value=0, max_value=3)) == 0:
                payload = _text_mutations(draw, st, payload)
        else:
            payload = _text_mutations(draw, st, seed)
        if isinstance(payload, str) and draw(st.integers(min_value=0, max_value=15)) == 0:
            raw = payload.encode("utf-8", "surrogatepass")
            at = draw(st.integers(min_value=0, max_value=len(raw)))
            payload = raw[:at] + draw(st.sampled_from(BYTE_TOKENS)) + raw[at:]
        target = None
        if targets and fmt != "detect" and draw(st.integers(min_value=0, max_value=3)) == 0:
            target = draw(st.sampled_from(targets))
        return fmt, payload, target

    return draw_input()


#: Bounds on what mutations build (repeated repeats grew one input past 10 GB).
MAX_TEXT = 2_000_000
MAX_LIST = 20_000

JSON_FORMATS = {
    "IONQ_CIRCUIT_V1",
    "IQM_JOB_INPUT_V1",
    "BRAKET_AHS_PROGRAM",
    "CIRQ_JSON",
    "IBM_SAMPLER_V2",
    "QUDORA_JOB_INPUT",
    "KIPU_JOB_INPUT",
}

# --------------------------------------------------------------------------------------
# the campaign
# --------------------------------------------------------------------------------------


@dataclass
class Finding:
    fmt: str
    kind: str
    detail: str
    payload: Any
    target: str | None
    seconds: float
    count: int = 1

    @property
    def size(self) -> int:
        return len(self.payload) if isinstance(self.payload, (str, bytes)) else 0


@dataclass
class Campaign:
    timeout: float
    writer_timeout: float
    findings: dict[tuple[str, ...], Finding] = field(default_factory=dict)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    slowest: dict[str, float] = field(default_factory=dict)


def signature(fmt: str, kind: str, detail: str, target: str | None) -> tuple[str, ...]:
    shape = re.sub(r"\d+", "#", detail)
    shape = re.sub(r"'[^']*'", "'…'", shape)[:90]
    return (fmt, kind, target or "", shape)


def fuzz(args: argparse.Namespace) -> Campaign:
    from hypothesis import HealthCheck, given, seed, settings

    from qbroker.formats import available_codecs

    codecs = {c.format.value: c for c in available_codecs()}
    formats = args.formats.split(",") if args.formats else [*sorted(codecs), "detect"]
    corpus = seed_corpus(formats)
    formats = [f for f in formats if f in corpus or f == "detect"]
    targets = [
        f for f, c in sorted(codecs.items()) if c.write is not None and c.kind.value == "gate"
    ]
    if not args.writers:
        targets = []
    print(f"fuzzing {', '.join(formats)} for {args.minutes} min with {args.workers} worker(s)")
    campaign = Campaign(timeout=args.timeout, writer_timeout=args.writer_timeout)
    workers = [Worker() for _ in range(args.workers)]
    deadline = time.monotonic() + args.minutes * 60
    strategy = inputs(corpus, formats, targets)
    rounds = 0
    pending: list[tuple[str, Any, str | None]] = []

    def run_batch() -> None:
        run_all(
            workers,
            pending,
            lambda target: campaign.writer_timeout if target else campaign.timeout,
            lambda item, kind, detail, seconds, limit: record(
                campaign, item[0], item[1], item[2], kind, detail, seconds, limit
            ),
        )
        pending.clear()

    while time.monotonic() < deadline:
        rounds += 1

        @seed(args.seed + rounds)
        @settings(
            max_examples=args.batch,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(strategy)
        def collect(item: tuple[str, Any, str | None]) -> None:
            pending.append(item)

        collect()
        run_batch()
        done = sum(sum(c.values()) for c in campaign.counts.values())
        print(
            f"  round {rounds}: {done} inputs, {len(campaign.findings)} finding(s), "
            f"{max(0.0, deadline - time.monotonic()):.0f} s left",
            flush=True,
        )
    for worker in workers:
        worker.close()
    confirm_slow(campaign)
    return campaign


def confirm_slow(campaign: Campaign) -> None:
    """Run every slow finding again (fresh worker, twice): the machine may just have been
    busy. Findings that finish in time both times are dropped."""
    slow = [k for k, f in campaign.findings.items() if f.kind in ("slow", "write-slow")]
    if not slow:
        return
    worker = Worker()
    for key in slow:
        finding = campaign.findings[key]
        limit = campaign.writer_timeout if finding.target else campaign.timeout
        results: list[tuple[str, float]] = []
        for _ in range(2):
            run_all(
                [worker],
                [(finding.fmt, finding.payload, finding.target)],
                lambda target, limit=limit: limit,
                lambda item, kind, detail, seconds, _limit, out=results: out.append(
                    (kind, seconds)
                ),
            )
        times = [seconds if kind != "slow" else float("inf") for kind, seconds in results]
        if max(times) <= limit:
            again = " / ".join(f"{t:.2f}" for t in times)
            print(f"    dropped {finding.kind} in {finding.fmt}: {again} s again")
            del campaign.findings[key]
        else:
            finding.detail = f"{finding.detail} (again: {', '.join(f'{t:.2f} s' for t in times)})"
    worker.close()


def record(
    campaign: Campaign,
    fmt: str,
    payload: Any,
    target: str | None,
    kind: str,
    detail: str,
    seconds: float,
    limit: float,
) -> None:
    if kind in ("ok", "error", "write-error") and seconds > limit:
        kind, detail = (
            ("slow" if not kind.startswith("write") else "write-slow"),
            (f"{seconds:.2f} s ({detail[:120]})"),
        )
    if kind == "slow" and target:
        kind = "write-slow"
    counts = campaign.counts.setdefault(fmt, {})
    counts[kind] = counts.get(kind, 0) + 1
    campaign.slowest[fmt] = max(campaign.slowest.get(fmt, 0.0), seconds)
    if kind in ("ok", "error", "write-error"):
        return
    key = signature(fmt, kind, detail, target)
    found = campaign.findings.get(key)
    size = len(payload) if isinstance(payload, (str, bytes)) else 0
    if found is None:
        campaign.findings[key] = Finding(fmt, kind, detail, payload, target, seconds)
        print(
            f"    NEW {kind} in {fmt}{' -> ' + target if target else ''}: {detail[:160]}",
            flush=True,
        )
    else:
        found.count += 1
        if size < found.size:
            found.payload, found.detail, found.seconds = payload, detail, seconds


def report(campaign: Campaign, minutes: float, save: bool, keep: str = "") -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Reader fuzzing",
        "",
        f"`python benchmarks/fuzz_readers.py --minutes {minutes:g}`: inputs per format and "
        "what happened (ok = read, error = a qbroker error, anything else is a finding).",
        "",
        "| format | inputs | ok | error | findings | slowest (s) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for fmt in sorted(campaign.counts):
        counts = campaign.counts[fmt]
        total = sum(counts.values())
        bad = total - counts.get("ok", 0) - counts.get("error", 0) - counts.get("write-error", 0)
        lines.append(
            f"| {fmt} | {total} | {counts.get('ok', 0)} | "
            f"{counts.get('error', 0) + counts.get('write-error', 0)} | {bad} | "
            f"{campaign.slowest.get(fmt, 0.0):.2f} |"
        )
    lines += ["", "## Findings", ""]
    if not campaign.findings:
        lines.append("None.")
    saved: list[str] = []
    for finding in sorted(campaign.findings.values(), key=lambda f: (f.fmt, f.kind)):
        name = regression_name(finding)
        where = f" (written to {finding.target})" if finding.target else ""
        lines.append(
            f"- **{finding.fmt}** {finding.kind}{where}, {finding.count}x: {finding.detail[:300]}"
            f" — input `{name}` ({finding.size} bytes)"
        )
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            data = finding.payload
            (Path(keep) / name).write_bytes(
                data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
            )
        if save and not finding.kind.startswith("write"):
            REGRESSIONS.mkdir(parents=True, exist_ok=True)
            data = finding.payload
            if isinstance(data, str):
                data = data.encode("utf-8", "surrogatepass")
            (REGRESSIONS / name).write_bytes(data)
            saved.append(name)
    text = "\n".join(lines) + "\n"
    (RESULTS / "fuzz_report.md").write_text(text)
    (RESULTS / "fuzz_report.json").write_text(
        json.dumps(
            {
                "minutes": minutes,
                "counts": campaign.counts,
                "slowest_s": campaign.slowest,
                "findings": [
                    {
                        "format": f.fmt,
                        "kind": f.kind,
                        "detail": f.detail,
                        "target": f.target,
                        "count": f.count,
                        "file": regression_name(f),
                    }
                    for f in campaign.findings.values()
                ],
            },
            indent=2,
        )
        + "\n"
    )
    print(text)
    if saved:
        print(f"saved {len(saved)} regression input(s) to {REGRESSIONS.relative_to(ROOT)}")


def regression_name(finding: Finding) -> str:
    data = finding.payload
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    digest = hashlib.sha256(raw if isinstance(raw, bytes) else repr(raw).encode()).hexdigest()[:10]
    ext = {"QISKIT_QPY": "qpy", "PERCEVAL": "pcvl"}.get(finding.fmt, "")
    if not ext:
        ext = "json" if finding.fmt in JSON_FORMATS else "txt"
    return f"{finding.fmt}--{finding.kind}-{digest}.{ext}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--formats", default="", help="comma-separated; default: all + detect")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=100, help="inputs per hypothesis round")
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds a read may take")
    parser.add_argument("--writer-timeout", type=float, default=5.0)
    parser.add_argument("--no-writers", dest="writers", action="store_false")
    parser.add_argument("--seed", type=int, default=random.SystemRandom().randrange(10**6))
    parser.add_argument("--save", action="store_true", help="keep findings as regressions")
    parser.add_argument(
        "--keep", default="", help="also write every finding's input into this folder"
    )
    args = parser.parse_args()
    if args.worker:
        worker()
        return
    print(f"seed {args.seed}")
    campaign = fuzz(args)
    report(campaign, args.minutes, args.save, args.keep)


if __name__ == "__main__":
    main()
