"""Close calls between backends that need SWAPs are settled with the job's own compile."""

from __future__ import annotations

from pathlib import Path

import pytest
from routing_snapshots import line_backend

import qbroker
from qbroker import Policy
from qbroker.errors import ValidationError
from qbroker.routing._refine import coupling_class

# every pair of the three qubits interacts, twice: a line cannot hold it without SWAPs
TRIANGLE = (
    'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[3];\ncreg c[3];\n'
    "h q[0];\ncx q[0],q[1];\ncx q[1],q[2];\ncx q[0],q[2];\nrx(0.3) q[1];\n"
    "cx q[0],q[2];\ncx q[1],q[2];\ncx q[0],q[1];\nmeasure q -> c;\n"
)
NOTE = "expected fidelity from the compiled circuit"


def twins() -> list[qbroker.Backend]:
    # the same 6-qubit line; the second twin's best couplers sit elsewhere
    return [
        line_backend("test.qpu.twin-a", cz_error=[0.004, 0.005, 0.012, 0.012, 0.012]),
        line_backend("test.qpu.twin-b", cz_error=[0.012, 0.012, 0.012, 0.005, 0.0045]),
    ]


def compiled_two_qubit_gates(backend: qbroker.Backend, level: int, seed: int) -> int:
    from qbroker._transpiler import staged_pass_manager
    from qbroker.device import device_model

    circuit = qbroker.load_program(TRIANGLE).circuit
    pm = staged_pass_manager(device_model(backend).target, optimization_level=level, seed=seed)
    out = pm.run(circuit)
    return sum(1 for inst in out.data if len(inst.qubits) == 2 and inst.operation.name != "barrier")


def test_twins_share_a_coupling_class_and_other_topologies_do_not() -> None:
    a, b = twins()
    assert coupling_class(a) == coupling_class(b)
    assert coupling_class(a) != coupling_class(line_backend("test.qpu.longer", n=7))


def test_a_close_call_is_priced_on_the_compiled_circuit() -> None:
    backends = twins()
    decision = qbroker.route(
        TRIANGLE, optimize_for="accuracy", backends=backends, optimization_level=3, seed=5
    )
    assert {c.backend_id for c in decision.candidates} == {b.id for b in backends}
    for candidate in decision.candidates:
        assert candidate.notes[0].startswith(NOTE), candidate.notes
        assert "optimization level 3, seed 5" in candidate.notes[0]
        # the layout still names one physical qubit per logical qubit
        assert len(candidate.layout) == 3 and len(set(candidate.layout)) == 3
        assert all(0 <= p < 6 for p in candidate.layout)
    # the routed circuit is counted as the compiler leaves it: its two-qubit gates match
    # the full compilation's (which also runs translation and the optimisation loop)
    for candidate, backend in zip(
        sorted(decision.candidates, key=lambda c: c.backend_id), backends, strict=True
    ):
        assert candidate.estimates.native_2q_gates == compiled_two_qubit_gates(backend, 3, 5)


def test_refinement_can_be_turned_off_and_is_bounded_by_its_budget() -> None:
    backends = twins()
    for policy in (
        Policy(optimize_for="accuracy", refine=False),
        Policy(optimize_for="accuracy", refine_budget_s=0.001),
    ):
        decision = qbroker.route(TRIANGLE, policy=policy, backends=backends)
        assert not any(compiled(c) for c in decision.candidates)
        assert all(c.estimates.swaps > 0 for c in decision.candidates)


def compiled(candidate: qbroker.Candidate) -> bool:
    return any(note.startswith(NOTE) for note in candidate.notes)


def test_only_contenders_classes_are_compiled() -> None:
    good, _ = twins()
    # another topology (its own coupling class), far behind: not worth a compile
    awful = line_backend("test.qpu.awful", n=7, cz_error=0.08, readout=0.1)
    decision = qbroker.route(TRIANGLE, optimize_for="accuracy", backends=[good, awful])
    by_id = {c.backend_id: c for c in decision.candidates}
    assert compiled(by_id["test.qpu.twin-a"])
    assert not compiled(by_id["test.qpu.awful"])
    # a close one of another class is compiled too
    close = line_backend("test.qpu.close", n=7, cz_error=[0.004, 0.005, 0.012, 0.012, 0.012, 0.02])
    decision = qbroker.route(TRIANGLE, optimize_for="accuracy", backends=[good, close])
    assert all(compiled(c) for c in decision.candidates)
    # speed and cost rankings do not depend on fidelity: nothing is compiled
    for mode in ("speed", "cost"):
        other = qbroker.route(TRIANGLE, optimize_for=mode, backends=[good, close])
        assert not any(compiled(c) for c in other.candidates)


def test_refined_decisions_are_deterministic() -> None:
    backends = twins()
    first = qbroker.route(TRIANGLE, optimize_for="accuracy", backends=backends, seed=3)
    again = qbroker.route(TRIANGLE, optimize_for="accuracy", backends=backends, seed=3)
    assert first.model_dump() == again.model_dump()


def test_refinement_settings_in_a_policy_file(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(
        'optimize_for = "accuracy"\nrefine_margin = 0.05\nrefine_budget_s = 0.5\n'
        "optimization_level = 3\nseed = 11\n"
    )
    decision = qbroker.route(TRIANGLE, policy=path, backends=twins())
    assert decision.policy.refine_margin == 0.05 and decision.policy.seed == 11
    assert "seed 11" in decision.candidates[0].notes[0]
    path.write_text("refine_margin = 2\n")
    with pytest.raises(ValidationError, match="refine_margin"):
        qbroker.route(TRIANGLE, policy=path, backends=twins())
    path.write_text("optimization_level = 4\n")
    with pytest.raises(ValidationError, match="optimization_level"):
        qbroker.route(TRIANGLE, policy=path, backends=twins())


@pytest.mark.parametrize("level", [0, 1, 2])
def test_every_optimization_level_can_settle_a_close_call(level: int) -> None:
    decision = qbroker.route(
        TRIANGLE, optimize_for="accuracy", backends=twins(), optimization_level=level, seed=2
    )
    for candidate in decision.candidates:
        assert compiled(candidate)
        assert f"optimization level {level}, seed 2" in candidate.notes[0]
        assert len(set(candidate.layout)) == 3
        # SWAPs cost at least one extra gate over the three distinct pairs' own
        assert candidate.estimates.native_2q_gates >= 4


def test_idle_qubits_partial_measurement_and_parameters_survive_the_compile() -> None:
    from qiskit import QuantumCircuit
    from qiskit.circuit import Parameter

    # 7 declared qubits, 4 used, 2 measured into scattered bits: the compiled circuit's
    # barriers and bits are renumbered without losing anything
    partial = QuantumCircuit(7, 9)
    for a in range(4):
        for b in range(a + 1, 4):
            partial.cx(a, b)
    partial.barrier()
    partial.measure(2, 8)
    partial.measure(0, 3)
    theta = Parameter("t")
    unbound = QuantumCircuit(4, 4)
    for a in range(4):
        for b in range(a + 1, 4):
            unbound.rzz(theta, a, b)
            unbound.rx(theta, a)
    unbound.measure(range(4), range(4))
    backends = [
        line_backend("test.qpu.eight-a", n=8, cz_error=[0.004, 0.005] + [0.012] * 5),
        line_backend("test.qpu.eight-b", n=8, cz_error=[0.012] * 5 + [0.005, 0.0045]),
    ]
    for circuit in (partial, unbound):
        decision = qbroker.route(circuit, optimize_for="accuracy", backends=backends, seed=4)
        assert decision.backend_id is not None
        for candidate in decision.candidates:
            assert compiled(candidate), candidate.notes
            assert len(set(candidate.layout)) == 4
