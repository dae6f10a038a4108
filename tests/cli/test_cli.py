"""The `qbroker` command as a user meets it: tables, JSON, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from qbroker.cli import main

BAD_QASM = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\nbogus q[0];\n'


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_backends_json_lists_the_catalog() -> None:
    code, out, _ = invoke("backends", "--json")
    assert code == 0
    backends = json.loads(out)
    assert len(backends) >= 20
    assert len({b["hardware_provider"] for b in backends}) >= 6
    fez = next(b for b in backends if b["id"] == "ibm.qpu.fez")
    assert fez["configuration"]["qubit_count"] == 156
    assert fez["calibration"]["source"]


def test_backends_table_and_filters() -> None:
    code, out, _ = invoke("backends", "--vendor", "IQM", "--type", "qpu")
    assert code == 0
    assert "iqm.qpu.garnet" in out and "ibm.qpu.fez" not in out
    assert "median 2q err" in out


def test_backends_show_prints_calibration_pricing_and_provenance() -> None:
    code, out, _ = invoke("backends", "show", "ibm.qpu.fez")
    assert code == 0
    for words in (
        "Calibration",
        "calibrated at",
        "median 2q error",
        "Pricing",
        "USD per second",
        "data:",
    ):
        assert words in out


def test_run_json_returns_counts(examples: Path) -> None:
    code, out, _ = invoke(
        "run",
        str(examples / "bell.qasm"),
        "--backend",
        "ibm.qpu.fez",
        "--shots",
        "500",
        "--seed",
        "3",
        "--json",
    )
    assert code == 0, out
    result = json.loads(out)
    assert sum(result["counts"].values()) == 500
    assert result["metadata"]["emulated"] is True
    assert result["metadata"]["calibration_at"].startswith("2025-02-26")


def test_run_table_labels_the_emulation(examples: Path) -> None:
    code, out, _ = invoke("run", str(examples / "bell.qasm"), "-b", "ibm.qpu.fez", "--shots", "300")
    assert code == 0
    assert "emulated from calibration of 2025-02-26" in out
    assert "Hellinger fidelity" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "{bad}", "--backend", "ibm.qpu.fez"], "line 4, column 1: 'bogus' is not defined"),
        (["run", "{bell}", "--backend", "ibm.qpu.fezz"], "did you mean ibm.qpu.fez"),
        (["run", "{bell}", "--backend", "ibm.qpu.fez", "--shots", "0"], "shots"),
        (["run", "missing.qasm", "--backend", "ibm.qpu.fez"], "no such file"),
        (["backends", "show", "ibm.qpu.nowhere"], "unknown backend 'ibm.qpu.nowhere'"),
        (["run", "{bell}", "--backend", "aws.quera.aquila"], "analog (AHS) programs only"),
    ],
)
def test_errors_are_one_line_with_nonzero_exit(
    args: list[str], message: str, tmp_path: Path, examples: Path
) -> None:
    bad = tmp_path / "bad.qasm"
    bad.write_text(BAD_QASM)
    args = [a.format(bad=bad, bell=examples / "bell.qasm") for a in args]
    code, _, err = invoke(*args)
    assert code == 1
    assert message in err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_no_traceback_without_debug_and_traceback_with_it(tmp_path: Path) -> None:
    bad = tmp_path / "bad.qasm"
    bad.write_text(BAD_QASM)
    plain = subprocess.run(
        [sys.executable, "-m", "qbroker", "run", str(bad), "--backend", "ibm.qpu.fez"],
        capture_output=True,
        text=True,
    )
    assert plain.returncode == 1
    assert plain.stderr.startswith("error: invalid OPEN_QASM_V2 program")
    assert "Traceback" not in plain.stderr and plain.stderr.count("\n") == 1
    debug = subprocess.run(
        [sys.executable, "-m", "qbroker", "--debug", "run", str(bad), "--backend", "ibm.qpu.fez"],
        capture_output=True,
        text=True,
    )
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_usage_errors_exit_2() -> None:
    code, _, err = invoke("run")
    assert code == 2 and "Missing argument" in err


def test_adapters_lists_the_local_adapter() -> None:
    code, out, _ = invoke("adapters", "--json")
    assert code == 0
    assert {"name": "local", "status": "loaded", "detail": "qbroker.adapters.local"} in json.loads(
        out
    )


def test_convert_writes_the_target_format(examples: Path, tmp_path: Path) -> None:
    code, out, _ = invoke("convert", str(examples / "bell.qasm"), "--to", "qudora-job-input")
    assert code == 0
    assert json.loads(out)["qasm"].startswith("OPENQASM 2.0;")
    target = tmp_path / "bell.qpy"
    code, _, err = invoke(
        "convert", str(examples / "bell.qasm"), "--to", "QISKIT_QPY", "-o", str(target)
    )
    assert code == 0 and "wrote QISKIT_QPY" in err
    assert target.read_bytes().startswith(b"QISKIT")


def test_convert_fits_the_backend(examples: Path) -> None:
    code, out, _ = invoke(
        "convert", str(examples / "ghz5.qasm"), "--to", "OPEN_QASM_V2", "-b", "ibm.qpu.torino"
    )
    assert code == 0
    assert "qreg q[133];" in out and "cz " in out and "cx " not in out


def test_convert_refuses_binary_on_stdout_and_unknown_formats(examples: Path) -> None:
    code, _, err = invoke("convert", str(examples / "bell.qasm"), "--to", "QISKIT_QPY")
    assert code == 2 and "binary" in err
    code, _, err = invoke("convert", str(examples / "bell.qasm"), "--to", "QASM9")
    assert code == 1 and "unknown format 'QASM9'" in err


def test_formats_matrix_lists_every_edge() -> None:
    code, out, _ = invoke("formats", "--json")
    assert code == 0
    edges = {(e["source"], e["target"]) for e in json.loads(out)}
    assert ("OPEN_QASM_V2", "OPEN_QASM_V3") in edges
    assert ("BRAKET_AHS_PROGRAM", "OPEN_QASM_V2") not in edges
    code, out, _ = invoke("formats")
    assert code == 0 and "row = from, column = to" in out


def test_route_prints_table_choice_and_reasons(examples: Path) -> None:
    code, out, _ = invoke("route", str(examples / "ghz5.qasm"), "--top", "3")
    assert code == 0
    assert "choice:" in out and "why the others lost:" in out and "rejected (" in out
    assert "ibm.qpu.kyiv: is retired" in out


def test_route_json_has_choice_candidates_and_rejections(examples: Path, tmp_path: Path) -> None:
    code, out, _ = invoke(
        "route", str(examples / "ghz5.qasm"), "--json", "--optimize-for", "accuracy"
    )
    assert code == 0
    decision = json.loads(out)
    assert decision["backend_id"] == decision["candidates"][0]["backend_id"]
    assert all("fidelity" in c["estimates"] for c in decision["candidates"])
    assert all(r["backend_id"] and r["reason"] for r in decision["rejected"])
    policy = tmp_path / "eu.toml"
    policy.write_text('optimize_for = "accuracy"\neu_sovereign_only = true\n')
    code, out, _ = invoke("route", str(examples / "ghz5.qasm"), "--json", "--policy", str(policy))
    eu = json.loads(out)
    assert code == 0 and eu["backend_id"] != decision["backend_id"]
    assert any("EU data sovereignty" in r["reason"] for r in eu["rejected"])


def test_route_with_no_feasible_backend_exits_1(tmp_path: Path) -> None:
    wide = tmp_path / "wide.qasm"
    wide.write_text(
        'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[200];\ncreg c[200];\nh q[0];\nmeasure q -> c;\n'
    )
    code, out, _ = invoke("route", str(wide))
    assert code == 1
    assert "no backend can run this program" in out and "needs 200 qubits" in out
