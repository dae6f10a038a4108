"""The router on hand-made snapshots where the right answer is known, and on the catalog."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from routing_snapshots import line_backend

import qbroker
from qbroker import (
    Policy,
)
from qbroker.model import AvailabilityWindow, RejectionCode

GHZ4 = (
    'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[4];\ncreg c[4];\n'
    "h q[0];\ncx q[0],q[1];\ncx q[1],q[2];\ncx q[2],q[3];\nmeasure q -> c;\n"
)


def test_accuracy_prefers_the_better_calibrated_backend() -> None:
    good = line_backend("test.qpu.good", cz_error=0.004, readout=0.01)
    bad = line_backend("test.qpu.bad", cz_error=0.03, readout=0.05)
    decision = qbroker.route(GHZ4, optimize_for="accuracy", backends=[bad, good])
    assert decision.backend_id == "test.qpu.good"
    assert [c.backend_id for c in decision.candidates] == ["test.qpu.good", "test.qpu.bad"]
    best, worse = decision.candidates
    assert best.estimates.fidelity > worse.estimates.fidelity
    assert "fidelity" in decision.why[0]


def test_layout_avoids_a_bad_coupler() -> None:
    # couplers 0-1 and 1-2 are terrible; a 4-qubit chain fits on 2-3-4-5
    backend = line_backend("test.qpu.line", cz_error=[0.2, 0.2, 0.005, 0.005, 0.005])
    decision = qbroker.route(GHZ4, optimize_for="accuracy", backends=[backend])
    layout = decision.candidates[0].layout
    assert sorted(layout) == [2, 3, 4, 5]
    assert decision.candidates[0].estimates.swaps == 0


def test_cost_mode_takes_the_cheapest_backend_that_meets_the_fidelity_floor() -> None:
    cheap_bad = line_backend("test.qpu.cheap", cz_error=0.15, readout=0.1, price_per_shot=0.0001)
    middle = line_backend("test.qpu.middle", cz_error=0.01, price_per_shot=0.001)
    dear = line_backend("test.qpu.dear", cz_error=0.002, readout=0.005, price_per_shot=0.01)
    policy = Policy(optimize_for="cost", min_fidelity=0.7)
    decision = qbroker.route(GHZ4, shots=1000, policy=policy, backends=[dear, cheap_bad, middle])
    assert decision.backend_id == "test.qpu.middle"
    rejected = {r.backend_id: r for r in decision.rejected}
    assert rejected["test.qpu.cheap"].code is RejectionCode.FIDELITY
    assert "below the policy's minimum 0.7" in rejected["test.qpu.cheap"].reason
    assert decision.candidates[0].estimates.cost == pytest.approx(1.0)


def test_balanced_weighs_error_ratios_like_cost_ratios() -> None:
    # four times the errors for a fifth of the price: the blend takes the accurate one
    accurate = line_backend(
        "test.qpu.accurate", cz_error=0.002, readout=0.004, price_per_shot=0.005
    )
    noisy = line_backend("test.qpu.noisy", cz_error=0.012, readout=0.02, price_per_shot=0.001)
    decision = qbroker.route(GHZ4, shots=1000, backends=[noisy, accurate])
    assert decision.backend_id == "test.qpu.accurate"
    by_id = {c.backend_id: c for c in decision.candidates}
    error = {k: 1 - c.estimates.fidelity for k, c in by_id.items()}  # type: ignore[operator]
    assert error["test.qpu.noisy"] > 3 * error["test.qpu.accurate"]
    # the same errors at five times the price: the cheap one
    twin = line_backend("test.qpu.twin", cz_error=0.002, readout=0.004, price_per_shot=0.001)
    decision = qbroker.route(GHZ4, shots=1000, backends=[accurate, twin])
    assert decision.backend_id == "test.qpu.twin"


def test_speed_mode_takes_the_shortest_wait_plus_runtime() -> None:
    slow_queue = line_backend("test.qpu.busy", cz_error=0.002, queue_s=3600.0)
    idle = line_backend("test.qpu.idle", cz_error=0.02, queue_s=5.0)
    decision = qbroker.route(GHZ4, optimize_for="speed", backends=[slow_queue, idle])
    assert decision.backend_id == "test.qpu.idle"
    assert "slower" in decision.why[0]


def test_status_availability_and_width_rejections() -> None:
    night = AvailabilityWindow(granularity="DAILY", start="00:00", end="00:01", timezone="UTC")
    retired = line_backend("test.qpu.retired", status="RETIRED")
    paused = line_backend("test.qpu.paused", status="PAUSED")
    small = line_backend("test.qpu.small", n=3)
    closed = line_backend("test.qpu.closed", availability=(night,))
    decision = qbroker.route(GHZ4, backends=[retired, paused, small, closed])
    reasons = {r.backend_id: (r.code, r.reason) for r in decision.rejected}
    assert decision.backend_id is None or decision.backend_id == "test.qpu.closed"
    assert reasons["test.qpu.retired"] == (RejectionCode.STATUS, "is retired")
    assert reasons["test.qpu.paused"][0] is RejectionCode.STATUS
    assert reasons["test.qpu.small"] == (RejectionCode.QUBITS, "circuit needs 4 qubits; it has 3")
    now = datetime.now(UTC).time()
    if not (now.hour == 0 and now.minute <= 1):
        assert reasons["test.qpu.closed"][0] is RejectionCode.AVAILABILITY


def test_policy_constraints_reject_with_reasons() -> None:
    eu = line_backend("test.qpu.eu", country="DE", eu=True, cz_error=0.02)
    us = line_backend("test.qpu.us", cz_error=0.002)
    policy = Policy(optimize_for="accuracy", eu_sovereign_only=True)
    decision = qbroker.route(GHZ4, policy=policy, backends=[eu, us])
    assert decision.backend_id == "test.qpu.eu"
    (rejection,) = decision.rejected
    assert rejection.code is RejectionCode.SOVEREIGNTY
    assert "EU data sovereignty" in rejection.reason
    capped = Policy(optimize_for="accuracy", max_cost=0.5)
    decision = qbroker.route(GHZ4, shots=1000, policy=capped, backends=[us])
    assert decision.backend_id is None and decision.rejected[0].code is RejectionCode.COST


def test_decisions_are_deterministic() -> None:
    backends = [line_backend(f"test.qpu.b{i}", cz_error=0.005 + 0.001 * i) for i in range(4)]
    a = qbroker.route(GHZ4, backends=backends)
    b = qbroker.route(GHZ4, backends=list(reversed(backends)))
    assert a.model_dump_json() == b.model_dump_json()


def test_policy_from_toml_and_its_errors(tmp_path: Path) -> None:
    file = tmp_path / "policy.toml"
    file.write_text(
        'optimize_for = "cost"\nmin_fidelity = 0.6\ndeny_providers = ["AWS"]\n[weights]\nfidelity = 1.0\n'
    )
    policy = qbroker._api._policy(file)
    assert policy.optimize_for.value == "cost" and policy.min_fidelity == 0.6
    file.write_text('optimize_for = "fastest"\n')
    with pytest.raises(qbroker.ValidationError) as info:
        qbroker._api._policy(file)
    assert info.value.fields == ["optimize_for"]
    file.write_text("optimize_for = \n")
    with pytest.raises(qbroker.ValidationError, match="not valid TOML"):
        qbroker._api._policy(file)


# ---- on the embedded catalog ---------------------------------------------------------


def test_catalog_ghz5_routes_to_a_qpu_with_reasons_for_every_rejection(examples: Path) -> None:
    decision = qbroker.route(examples / "ghz5.qasm", optimize_for="accuracy")
    assert decision.backend_id is not None
    assert decision.candidates[0].calibration_at is not None
    assert all(r.reason for r in decision.rejected)
    assert "ibm.qpu.kyiv" in {r.backend_id for r in decision.rejected}
    ids = {c.backend_id for c in decision.candidates} | {r.backend_id for r in decision.rejected}
    assert ids == {b.id for b in qbroker.backends()}


def test_eu_policy_and_cost_mode_choose_differently(examples: Path) -> None:
    accuracy = qbroker.route(examples / "ghz5.qasm", optimize_for="accuracy")
    eu = qbroker.route(
        examples / "ghz5.qasm", policy=Policy(optimize_for="accuracy", eu_sovereign_only=True)
    )
    assert eu.backend_id != accuracy.backend_id
    chosen = qbroker.backend(eu.backend_id)  # type: ignore[arg-type]
    assert chosen.location is not None and chosen.location.eu_sovereignty
    cost = qbroker.route(examples / "ghz5.qasm", optimize_for="cost")
    assert cost.backend_id != accuracy.backend_id
    assert cost.candidates[0].estimates.cost <= min(c.estimates.cost for c in cost.candidates)


def test_default_choice_differs_from_cost_mode_and_eu_policy(examples: Path) -> None:
    default = qbroker.route(examples / "ghz5.qasm")
    cost = qbroker.route(examples / "ghz5.qasm", optimize_for="cost")
    eu = qbroker.route(examples / "ghz5.qasm", policy=examples / "eu-policy.toml")
    assert default.backend_id not in (cost.backend_id, eu.backend_id)
    assert default.candidates[0].estimates.fidelity > cost.candidates[0].estimates.fidelity  # type: ignore[operator]
    assert any("EU data sovereignty" in r.reason for r in eu.rejected)


def test_wide_circuit_is_rejected_everywhere() -> None:
    text = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[200];\ncreg c[200];\nh q[0];\ncx q[0],q[199];\nmeasure q -> c;\n'
    decision = qbroker.route(text, policy=Policy(allow_simulators=True))
    assert decision.backend_id is None and not decision.candidates
    widths = [r for r in decision.rejected if r.code is RejectionCode.QUBITS]
    assert any("needs 200 qubits; it has 156" in r.reason for r in widths)
    assert all(r.reason for r in decision.rejected)


AHS = {
    "setup": {"ahs_register": {"sites": [[0, 0], [0, 4e-06], [4e-06, 0]], "filling": [1, 1, 1]}},
    "hamiltonian": {
        "drivingFields": [
            {
                "amplitude": {
                    "time_series": {
                        "values": [0.0, 1.2e7, 1.2e7, 0.0],
                        "times": [0.0, 1e-06, 2e-06, 3e-06],
                    },
                    "pattern": "uniform",
                },
                "phase": {
                    "time_series": {"values": [0.0, 0.0], "times": [0.0, 3e-06]},
                    "pattern": "uniform",
                },
                "detuning": {
                    "time_series": {"values": [-5.4e7, 5.4e7], "times": [0.0, 3e-06]},
                    "pattern": "uniform",
                },
            }
        ],
        "localDetuning": [],
    },
}


def test_ahs_program_routes_only_to_ahs_backends() -> None:
    pytest.importorskip("braket.ir.ahs")
    program = qbroker.load_program(json.dumps(AHS))
    decision = qbroker.route(program, shots=100, policy=Policy(allow_simulators=True))
    assert {c.backend_id for c in decision.candidates} == {
        "aws.quera.aquila",
        "local.sim.braket_ahs",
    }
    for r in decision.rejected:
        assert r.code in (RejectionCode.TECHNOLOGY, RejectionCode.FORMAT, RejectionCode.STATUS)
