"""The bad-input table: each hostile or malformed input, its format, the error raised, and
the time taken.

Runs exactly the cases ``tests/formats/test_bad_input.py`` asserts (imported from it: per
format, unterminated statements, unknown gates, undeclared registers, 10^5 nested
brackets, integers beyond 2^64, NaN and infinite angles, non-UTF-8 bytes, 50 MB inputs,
and more), then the size limit on files: a 50 MB file refused before it is read, and the
limit set by ``QBROKER_MAX_PROGRAM_BYTES`` and by ``load_program(max_bytes=)``. One valid
program per format is loaded first so that SDK imports are not counted; each time is the
median of 3 runs. Prints a Markdown table and writes it to
``benchmarks/results/bad_input.md``.

    python benchmarks/bad_input_table.py
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
RUNS = 3
MESSAGE_WIDTH = 140


def load_cases() -> Any:
    spec = importlib.util.spec_from_file_location(
        "bad_input_cases", ROOT / "tests" / "formats" / "test_bad_input.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


Row = tuple[str, str, BaseException | None, float]


def timed(load: Callable[[], object]) -> tuple[BaseException | None, float]:
    """The error ``load`` raises (None: it loaded) and the median seconds of RUNS runs."""
    error: BaseException | None = None
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        try:
            load()
            error = None
        except Exception as exc:  # the table shows whatever was raised
            error = exc
        times.append(time.perf_counter() - start)
    return error, statistics.median(times)


def format_of(case: Any) -> str:
    if case.format is not None:
        return str(case.format)
    from qbroker.errors import QBrokerError
    from qbroker.formats import detect_format

    try:
        return f"detected: {detect_format(case.source()).value}"
    except QBrokerError:
        return "detected: —"


def case_rows(cases: Any) -> list[Row]:
    import qbroker

    rows: list[Row] = []
    for case in cases.CASES:
        source, fmt = case.source(), case.format
        error, seconds = timed(lambda s=source, f=fmt: qbroker.load_program(s, format=f))
        rows.append((case.name, format_of(case), error, seconds))
    return rows


def size_limit_rows(folder: Path) -> list[Row]:
    """The limit on files: refused from the file's size (nothing read), and configurable."""
    import qbroker

    big = folder / "big.qasm"
    with big.open("wb") as handle:
        handle.write(b'OPENQASM 2.0;\ninclude "qelib1.inc";\n')
        handle.truncate(50 * 1024 * 1024)  # sparse: 50 MB on paper
    small = folder / "small.qasm"
    small.write_text('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\n' + "h q[0];\n" * 200)
    rows: list[Row] = []
    error, seconds = timed(lambda: qbroker.load_program(big))
    rows.append(("50 MB file (default limit 16 MiB)", "detected: —", error, seconds))
    error, seconds = timed(lambda: qbroker.load_program(small, max_bytes=1000))
    rows.append(("1.6 kB file, load_program(max_bytes=1000)", "detected: —", error, seconds))
    previous = os.environ.get("QBROKER_MAX_PROGRAM_BYTES")
    os.environ["QBROKER_MAX_PROGRAM_BYTES"] = "1000"
    try:
        error, seconds = timed(lambda: qbroker.load_program(small))
    finally:
        if previous is None:
            del os.environ["QBROKER_MAX_PROGRAM_BYTES"]
        else:
            os.environ["QBROKER_MAX_PROGRAM_BYTES"] = previous
    rows.append(("1.6 kB file, QBROKER_MAX_PROGRAM_BYTES=1000", "detected: —", error, seconds))
    return rows


def render(rows: list[Row]) -> str:
    from qbroker.errors import QBrokerError

    lines = [
        "# Bad input",
        "",
        "`python benchmarks/bad_input_table.py`: every case of `tests/formats/test_bad_input.py`"
        " through `qbroker.load_program` (readers warm), then the size limit on files. Every "
        "input must raise a qbroker error naming the line or field where one applies, in well "
        f"under a second; time is the median of {RUNS} runs.",
        "",
        "| input | format | error | message | time (ms) |",
        "|---|---|---|---|---:|",
    ]
    for name, fmt, error, seconds in rows:
        kind = type(error).__name__ if error is not None else "(read without error)"
        if error is not None and not isinstance(error, QBrokerError):
            kind += " **NOT TYPED**"
        shown = " ".join(str(error or "").split()).replace("|", "\\|")
        if len(shown) > MESSAGE_WIDTH:
            shown = shown[: MESSAGE_WIDTH - 3] + "..."
        lines.append(f"| {name} | {fmt} | {kind} | {shown} | {seconds * 1000:.1f} |")
    slowest = max(rows, key=lambda row: row[3])
    bad = [r[0] for r in rows if not isinstance(r[2], QBrokerError)]
    lines += [
        "",
        f"{len(rows)} inputs; slowest {slowest[3] * 1000:.0f} ms ({slowest[0]}); "
        + ("every one a typed qbroker error." if not bad else f"NOT a qbroker error: {bad}"),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    cases = load_cases()
    cases.warm_up()
    rows = case_rows(cases)
    with tempfile.TemporaryDirectory() as folder:
        rows += size_limit_rows(Path(folder))
    text = render(rows)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bad_input.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
