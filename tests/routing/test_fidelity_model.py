"""The fidelity model's parts that decide close calls: readout asymmetry, routing, Ising
counts and the transpiler-like layout choice. Hand-made snapshots where the answer is known,
and the catalog's IBM snapshot checked against what Qiskit's own transpiler does."""

from __future__ import annotations

import pytest
from routing_snapshots import line_backend

import qbroker
from qbroker import Backend, QubitCalibration

ZEROS3 = (
    'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[3];\ncreg c[3];\n'
    "h q[0];\ncx q[0],q[1];\ncx q[1],q[2];\ncx q[1],q[2];\ncx q[0],q[1];\nh q[0];\n"
    "measure q -> c;\n"
)
ONES3 = ZEROS3.replace("h q[0];\nmeasure", "h q[0];\nx q[0];\nx q[1];\nx q[2];\nmeasure")


def with_readout(backend: Backend, new_id: str, p10: float, p01: float) -> Backend:
    """``backend`` whose qubits read 1 for a prepared 0 with p10 and 0 for a 1 with p01."""
    cal = backend.calibration
    assert cal is not None
    qubits = tuple(
        QubitCalibration(
            qubit=q.qubit, t1_us=q.t1_us, t2_us=q.t2_us, prob_meas1_prep0=p10, prob_meas0_prep1=p01
        )
        for q in cal.qubits
    )
    return backend.model_copy(
        update={"id": new_id, "calibration": cal.model_copy(update={"qubits": qubits})}
    )


def test_readout_asymmetry_follows_the_bit_the_circuit_should_give() -> None:
    # same mean readout error; A misreads prepared 0s, B misreads prepared 1s
    base = line_backend("test.qpu.base", n=4)
    a = with_readout(base, "test.qpu.zero-flips", p10=0.06, p01=0.005)
    b = with_readout(base, "test.qpu.one-flips", p10=0.005, p01=0.06)
    all_zeros = qbroker.route(ZEROS3, optimize_for="accuracy", backends=[a, b])
    all_ones = qbroker.route(ONES3, optimize_for="accuracy", backends=[a, b])
    assert all_zeros.backend_id == "test.qpu.one-flips"  # reads 0s well
    assert all_ones.backend_id == "test.qpu.zero-flips"  # reads 1s well
    zeros = {c.backend_id: c.estimates.readout_fidelity for c in all_zeros.candidates}
    assert zeros["test.qpu.one-flips"] == pytest.approx(0.995**3, rel=1e-6)
    assert zeros["test.qpu.zero-flips"] == pytest.approx(0.94**3, rel=1e-6)


def test_repeated_triangle_interactions_pay_swaps_each_time_on_a_line() -> None:
    # three qubits that all talk to each other cannot sit on a line without SWAPs, and a
    # router must move them again every time the far pair meets
    rounds = [
        "cx q[0],q[1];\ncx q[1],q[2];\ncx q[0],q[2];\n",
    ]

    def triangle(n: int) -> str:
        body = "".join(f"rz({0.1 * (i + 1)}) q[0];\n" + rounds[0] for i in range(n))
        return (
            f'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[3];\ncreg c[3];\n{body}measure q -> c;\n'
        )

    line = line_backend("test.qpu.line", n=5)
    one = qbroker.route(triangle(1), optimize_for="accuracy", backends=[line]).candidates[0]
    many = qbroker.route(triangle(8), optimize_for="accuracy", backends=[line]).candidates[0]
    assert one.estimates.swaps >= 1
    assert many.estimates.swaps > 2 * one.estimates.swaps
    assert many.estimates.fidelity < one.estimates.fidelity


def test_controlled_phases_are_one_native_gate_on_an_ising_device() -> None:
    qft3 = (
        'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[3];\ncreg c[3];\n'
        "h q[0];\ncp(pi/2) q[1],q[0];\ncp(pi/4) q[2],q[0];\nh q[1];\ncp(pi/2) q[2],q[1];\n"
        "h q[2];\nmeasure q -> c;\n"
    )
    forte = qbroker.backend("azure.ionq.forte")
    fez = qbroker.backend("ibm.qpu.fez")
    decision = qbroker.route(qft3, optimize_for="accuracy", backends=[forte, fez])
    native = {c.backend_id: c.estimates.native_2q_gates for c in decision.candidates}
    assert native["azure.ionq.forte"] == 3  # one ZZ rotation per controlled phase
    assert native["ibm.qpu.fez"] >= 6  # two CZ per controlled phase, SWAPs aside


@pytest.mark.parametrize("name", ["ghz-6", "wstate-5"])
def test_layout_is_the_one_qiskits_transpiler_picks(name: str) -> None:
    """On an embeddable circuit, the router predicts the physical qubits that Qiskit's
    optimization level 3 (VF2Layout on the calibrated Target) chooses on IBM Fez."""
    from mqt.bench import BenchmarkLevel, get_benchmark
    from qiskit import qasm3

    from qbroker._transpiler import staged_pass_manager
    from qbroker.device import device_model

    family, size = name.split("-")
    circuit = get_benchmark(family, BenchmarkLevel.INDEP, int(size))
    fez = qbroker.backend("ibm.qpu.fez")
    transpiled = staged_pass_manager(device_model(fez).target, optimization_level=3, seed=11).run(
        circuit
    )
    layout = transpiled.layout.initial_layout
    qiskit_qubits = sorted(int(layout[q]) for q in circuit.qubits)
    program = qbroker.load_program(qasm3.dumps(circuit))
    decision = qbroker.route(program, optimize_for="accuracy", backends=[fez])
    assert sorted(decision.candidates[0].layout) == qiskit_qubits


def test_idle_weight_in_the_policy_prices_waiting_qubits() -> None:
    # qubit 3 waits while a long chain of gates runs on qubits 0-1: by default (as device
    # noise models built from calibration) waiting is free; a policy can price it
    body = "cx q[0],q[1];\n" * 40
    text = (
        'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[4];\ncreg c[4];\n'
        f"x q[3];\n{body}measure q -> c;\n"
    )
    device = line_backend("test.qpu.line", n=6)
    plain = qbroker.route(text, optimize_for="accuracy", backends=[device]).candidates[0]
    priced = qbroker.route(
        text, optimize_for="accuracy", backends=[device], policy=qbroker.Policy(idle_weight=1.0)
    ).candidates[0]
    assert plain.estimates.idle_fidelity == 1.0
    assert priced.estimates.idle_fidelity < 1.0
    assert priced.estimates.fidelity < plain.estimates.fidelity
