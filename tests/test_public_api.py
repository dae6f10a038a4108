"""The public surface: every exported name resolves, and importing qbroker stays cheap."""

from __future__ import annotations

import subprocess
import sys

import qbroker

SDK_MODULES = ("qiskit", "qiskit_aer", "qiskit_ibm_runtime", "braket", "iqm", "cirq", "perceval")


def test_every_exported_name_resolves() -> None:
    for name in qbroker.__all__:
        assert getattr(qbroker, name) is not None, name


def test_errors_form_one_tree() -> None:
    errors = [getattr(qbroker, n) for n in qbroker.__all__ if n.endswith("Error")]
    assert all(issubclass(e, qbroker.QBrokerError) for e in errors)
    assert issubclass(qbroker.ValidationError, ValueError)
    assert issubclass(qbroker.BackendNotFoundError, LookupError)


def test_import_qbroker_imports_no_provider_sdk() -> None:
    code = (
        "import sys, qbroker, qbroker.model, qbroker.adapters, qbroker.catalog\n"
        "from qbroker.adapters import default_registry\n"
        "default_registry()\n"
        f"loaded = [m for m in sys.modules if m.split('.')[0] in {SDK_MODULES!r}]\n"
        "print(','.join(sorted(loaded)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_cli_help_imports_nothing_heavy() -> None:
    code = (
        "import sys\n"
        "from qbroker.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('pydantic', 'rich', 'numpy', 'qiskit')]\n"
        "print('HEAVY', ','.join(sorted(heavy)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("HEAVY")


def test_a_qiskit_circuit_is_a_program() -> None:
    import pytest
    from qiskit import QuantumCircuit

    from qbroker.errors import ProgramError
    from qbroker.model import InputFormat

    circuit = QuantumCircuit(3, 3, name="my-ghz")
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.cx(1, 2)
    circuit.measure(range(3), range(3))
    program = qbroker.load_program(circuit)
    assert program.format is InputFormat.QISKIT_QPY and program.name == "my-ghz"
    assert program.circuit == circuit  # lossless
    decision = qbroker.route(circuit, optimize_for="accuracy")
    assert decision.backend_id is not None
    assert decision.program_digest == program.digest
    ionq = qbroker.convert(circuit, "IONQ_CIRCUIT_V1")
    assert ionq.payload["qubits"] == 3
    assert [g["gate"] for g in ionq.payload["circuit"]] == ["h", "x", "x"]
    for wrong in (42, 3.5, ["h q[0];"], None):
        with pytest.raises(ProgramError, match="a program is a path, program text"):
            qbroker.load_program(wrong)  # type: ignore[arg-type]
