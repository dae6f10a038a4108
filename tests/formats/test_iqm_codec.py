"""IQM native JSON (IQM_JOB_INPUT_V1): written payloads checked by IQM's own code, round trips.

Oracles are IQM's: iqm-client's pydantic request model and circuit validation (names,
arity, argument names and types, measurement-key uniqueness, couplers and MOVE sandwiches
of the fake Garnet / Adonis / Aphrodite (= Emerald) / Deneb architectures), iqm.pulse's own
unitaries of prx / cz, and iqm.qiskit_iqm's serialiser and deserialiser. Distributions are
exact (statevector), in qbroker's bit order: classical bit 0 is the leftmost character.
"""

from __future__ import annotations

import copy
import json
import math
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit import Clbit
from qiskit.quantum_info import Operator, Statevector

import qbroker
from qbroker import InputFormat, ProgramError, UnsupportedError
from qbroker.formats import WriteOptions, codec
from qbroker.formats.iqm import iqm_client_circuit, read_iqm, write_iqm

TURNS = WriteOptions(angle_unit="turns")
RADIANS = WriteOptions(angle_unit="radians")
DEFAULT = WriteOptions()

# The Hub's IQM_JobInput (seeds/kipu-hub-quantum-workload-api.openapi.json), structural part:
# additionalProperties is false at every level, so a stray field would fail here.
HUB_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["circuits"],
    "properties": {
        "circuits": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["instructions", "name"],
                "properties": {
                    "name": {"type": "string"},
                    "instructions": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["name"],
                            "properties": {
                                "name": {"type": "string"},
                                "args": {
                                    "type": "object",
                                    "additionalProperties": True,
                                    "properties": {
                                        "angle_t": {"type": "number"},
                                        "phase_t": {"type": "number"},
                                        "key": {"type": "string"},
                                    },
                                },
                                "implementation": {"type": "string"},
                                "qubits": {"type": "array", "items": {"type": "string"}},
                                "metadata": {"type": "object"},
                            },
                        },
                    },
                    "args": {"type": "object"},
                    "implementation": {"type": "string"},
                    "qubits": {"type": "array", "items": {"type": "string"}},
                    "metadata": {"type": "object"},
                },
            },
        },
        "calibration_set_id": {"type": "string"},
        "qubit_mapping": {"type": "array"},
    },
}


# --------------------------------------------------------------------------------------
# helpers: exact distributions and unitaries
# --------------------------------------------------------------------------------------


def compact(qc: QuantumCircuit) -> QuantumCircuit:
    """The circuit on the qubits it touches only (a read-back Emerald circuit is 54 wide)."""
    used = sorted({qc.find_bit(q).index for inst in qc.data for q in inst.qubits})
    where = {qc.qubits[i]: k for k, i in enumerate(used)}
    out = QuantumCircuit(len(used))
    out.add_bits(qc.clbits)  # in their order, registers or not
    for creg in qc.cregs:
        out.add_register(creg)
    for inst in qc.data:
        out.append(inst.operation, [out.qubits[where[q]] for q in inst.qubits], inst.clbits)
    return out


def distribution(qc: QuantumCircuit) -> dict[str, float]:
    """Exact outcome probabilities, classical bit 0 leftmost; measurements must be terminal."""
    qc = compact(qc)
    unitary = QuantumCircuit(qc.num_qubits)
    target: dict[int, int] = {}  # qubit -> clbit
    for inst in qc.data:
        qubits = [qc.find_bit(q).index for q in inst.qubits]
        if inst.operation.name == "measure":
            target[qubits[0]] = qc.find_bit(inst.clbits[0]).index
        elif inst.operation.name == "barrier":
            continue
        else:
            assert not set(qubits) & set(target), "measurement is not terminal"
            unitary.append(inst.operation, qubits)
    order = sorted(target)
    probabilities = Statevector(unitary).probabilities(order)
    out: dict[str, float] = {}
    for index, p in enumerate(probabilities):
        if p < 1e-12:
            continue
        bits = ["0"] * qc.num_clbits
        for j, qubit in enumerate(order):
            bits[target[qubit]] = "1" if (index >> j) & 1 else "0"
        key = "".join(bits)
        out[key] = out.get(key, 0.0) + float(p)
    return out


def same_distribution(a: dict[str, float], b: dict[str, float]) -> bool:
    return set(a) == set(b) and all(math.isclose(a[k], b[k], abs_tol=1e-9) for k in a)


def unitary_of(qc: QuantumCircuit) -> Operator:
    bare = qc.remove_final_measurements(inplace=False)
    return Operator(bare)


def round_trip(qc: QuantumCircuit, options: WriteOptions = DEFAULT, backend: Any = None) -> Any:
    payload = write_iqm(qc, backend, options)
    json.dumps(payload, allow_nan=False)  # a JSON document, nothing Python-only in it
    return payload, read_iqm(payload)


def asymmetric() -> QuantumCircuit:
    """X on one qubit only, q[0] measured into c[2], two registers, an entangled pair."""
    qc = QuantumCircuit(
        QuantumRegister(3, "q"), ClassicalRegister(2, "a"), ClassicalRegister(3, "b")
    )
    qc.x(0)
    qc.h(1)
    qc.cx(1, 2)
    qc.ry(0.7, 2)
    qc.measure(0, qc.clbits[4])  # b[2]
    qc.measure(1, qc.clbits[0])  # a[0]
    qc.measure(2, qc.clbits[3])  # b[1]
    return qc


# --------------------------------------------------------------------------------------
# IQM's own code as the oracle
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def iqm_client() -> Any:
    pytest.importorskip("iqm.iqm_client")
    from iqm.iqm_client.models import _SUPPORTED_OPERATIONS, validate_circuit
    from iqm.iqm_client.validation import validate_circuit_instructions
    from iqm.station_control.interface.models.circuit import PostJobsRequest

    class Oracle:
        operations = _SUPPORTED_OPERATIONS

        @staticmethod
        def accept(payload: dict[str, Any], architecture: Any = None) -> Any:
            """iqm-client's request model takes the JSON, its validators the operations."""
            with warnings.catch_warnings():
                # the Hub's form ("qubits") is IQM's legacy wire format, deprecated since 2025-11
                warnings.simplefilter("ignore", DeprecationWarning)
                request = PostJobsRequest.model_validate(payload)
            assert len(request.circuits) == 1
            circuit = iqm_client_circuit(payload)
            validate_circuit(circuit)
            if architecture is not None:
                validate_circuit_instructions(architecture, [circuit])
            return circuit

    return Oracle


@pytest.fixture(scope="module")
def qiskit_iqm() -> Any:
    """iqm.qiskit_iqm (its import takes several seconds: once per module)."""
    pytest.importorskip("iqm.qiskit_iqm")
    from iqm.qiskit_iqm import qiskit_to_iqm
    from iqm.qiskit_iqm.fake_backends.fake_adonis import IQMFakeAdonis
    from iqm.qiskit_iqm.fake_backends.fake_aphrodite import IQMFakeAphrodite
    from iqm.qiskit_iqm.fake_backends.fake_deneb import IQMFakeDeneb
    from iqm.qiskit_iqm.fake_backends.fake_garnet import IQMFakeGarnet
    from iqm.qiskit_iqm.move_gate import MOVE_GATE_UNITARY

    factories = {
        "iqm.qpu.garnet": IQMFakeGarnet,
        "aws.iqm.garnet": IQMFakeGarnet,
        "iqm.qpu.adonis": IQMFakeAdonis,
        "iqm.qpu.emerald": IQMFakeAphrodite,  # same 54 qubits and 90 couplers
        "iqm.qpu.deneb": IQMFakeDeneb,
    }
    built: dict[Any, Any] = {}

    class Module:
        serialize_instructions = staticmethod(qiskit_to_iqm.serialize_instructions)
        deserialize_instructions = staticmethod(qiskit_to_iqm.deserialize_instructions)
        move_unitary = MOVE_GATE_UNITARY

        @staticmethod
        def fake(backend_id: str) -> Any:
            """IQM's fake backend (built on first use: each builds a noise model)."""
            factory = factories[backend_id]
            if factory not in built:
                built[factory] = factory()
            return built[factory]

    return Module


def test_installed_iqm_client_takes_radians_named_angle_and_phase(iqm_client: Any) -> None:
    """The claim in the issue, checked in the installed iqm-client (36): prx(angle, phase)
    in radians, whose unitary (iqm.pulse's own) is Qiskit's RGate."""
    from iqm.pulse.builder import CircuitOperation
    from iqm.pulse.circuit_operations import get_unitary_from_circuit
    from qiskit.circuit.library import RGate

    assert set(iqm_client.operations["prx"].params) == {"angle", "phase"}
    op = CircuitOperation(name="prx", locus=("QB1",), args={"angle": 1.1, "phase": 0.4})
    unitary = get_unitary_from_circuit([op])
    assert Operator(unitary).equiv(Operator(RGate(1.1, 0.4)))


@pytest.mark.parametrize("options", [TURNS, RADIANS], ids=["turns", "radians"])
def test_written_payload_is_the_hub_form_iqm_client_accepts(
    options: WriteOptions, iqm_client: Any
) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    payload = write_iqm(asymmetric(), None, options)
    jsonschema.validate(payload, HUB_SCHEMA)
    circuit = payload["circuits"][0]
    assert circuit["qubits"] == ["QB1", "QB2", "QB3"]
    prx_args = [i["args"] for i in circuit["instructions"] if i["name"] == "prx"]
    expected = {"angle_t", "phase_t"} if options is TURNS else {"angle", "phase"}
    assert prx_args and all(set(a) == expected for a in prx_args)
    assert all(type(v) is float for a in prx_args for v in a.values())
    iqm_client.accept(payload)


def test_unitary_by_iqm_pulse_matches_the_circuit(iqm_client: Any) -> None:
    """IQM's own definition of prx and cz gives back the unitary of what was written."""
    from iqm.pulse.circuit_operations import get_unitary_from_circuit

    qc = QuantumCircuit(3)
    qc.h(0)
    qc.cx(0, 2)
    qc.ry(0.3, 1)
    qc.t(2)
    qc.cx(1, 0)
    qc.u(0.2, -1.3, 2.9, 1)
    for options in (TURNS, RADIANS):
        circuit = iqm_client.accept(write_iqm(qc, None, options))
        unitary = get_unitary_from_circuit(
            list(circuit.instructions), qubit_names=["QB1", "QB2", "QB3"]
        )
        # iqm.pulse is big-endian (QB1 leftmost); Qiskit little-endian
        assert Operator(unitary).equiv(Operator(qc).reverse_qargs())


@pytest.mark.parametrize(
    "backend_id",
    [
        "iqm.qpu.garnet",
        "iqm.qpu.adonis",
        # IQM's fake Aphrodite builds a 54-qubit noise model: seconds
        pytest.param("iqm.qpu.emerald", marks=pytest.mark.slow),
        "iqm.qpu.deneb",
        "aws.iqm.garnet",
    ],
)
def test_backend_payloads_fit_iqm_architectures(
    backend_id: str, iqm_client: Any, qiskit_iqm: Any
) -> None:
    """Native gates on real couplers (or MOVE sandwiches on Deneb), named by the backend, and
    the same distribution as the source."""
    backend = qbroker.backend(backend_id)
    qc = asymmetric()
    payload, back = round_trip(qc, TURNS, backend)
    architecture = qiskit_iqm.fake(backend_id).architecture
    iqm_client.accept(payload, architecture)
    names = {n for i in payload["circuits"][0]["instructions"] for n in i["qubits"]}
    assert names <= set(backend.configuration.qubit_labels) | {"CR1"}
    ops = {i["name"] for i in payload["circuits"][0]["instructions"]}
    assert ops <= (
        {"prx", "cz", "measure", "move"}
        if backend_id == "iqm.qpu.deneb"
        else {"prx", "cz", "measure"}
    )
    if backend_id == "iqm.qpu.deneb":
        assert "move" in ops
    assert same_distribution(distribution(back), distribution(qc))
    assert [(c.name, c.size) for c in back.cregs] == [("a", 2), ("b", 3)]


@pytest.mark.parametrize(
    "name, size", [("qft", 5), ("grover", 3), ("randomcircuit", 4), ("wstate", 4)]
)
def test_external_circuits_on_garnet_keep_their_distribution(name: str, size: int) -> None:
    """mqt.bench circuits nobody here wrote (regression: a routed qft-5 once crashed the
    writer through Qiskit's TranspileLayout.initial_index_layout)."""
    bench = pytest.importorskip("mqt.bench")
    qc = bench.get_benchmark(name, bench.BenchmarkLevel.ALG, size)
    for backend in (None, qbroker.backend("iqm.qpu.garnet")):
        _, back = round_trip(qc, TURNS, backend)
        assert same_distribution(distribution(back), distribution(qc))


def test_deneb_move_sandwiches_do_what_iqm_simulates(iqm_client: Any, qiskit_iqm: Any) -> None:
    """qiskit-iqm's deserialiser turns the moves into its MOVE gate on the resonator qubit;
    with IQM's MOVE unitary the result is the source's distribution."""
    from qiskit.circuit.library import UnitaryGate

    qc = QuantumCircuit(4, 4)
    qc.h(0)
    qc.cx(0, 1)
    qc.cx(0, 2)  # shares qubit 0 with the previous cz: one sandwich can serve both
    qc.x(3)
    qc.cz(2, 3)
    qc.ry(0.4, 2)
    qc.measure([0, 1, 2, 3], [3, 1, 0, 2])
    payload = write_iqm(qc, qbroker.backend("iqm.qpu.deneb"), DEFAULT)
    fake = qiskit_iqm.fake("iqm.qpu.deneb")
    circuit = iqm_client.accept(payload, fake.architecture)
    names = {n: fake.qubit_name_to_index(n) for n in fake.physical_qubits}
    theirs = qiskit_iqm.deserialize_instructions(list(circuit.instructions), names)
    simulated = QuantumCircuit(*theirs.qregs, *theirs.cregs)
    for inst in theirs.data:
        op = (
            UnitaryGate(qiskit_iqm.move_unitary)
            if inst.operation.name == "move"
            else inst.operation
        )
        simulated.append(op, inst.qubits, inst.clbits)
    assert "move" in theirs.count_ops()
    assert same_distribution(distribution(simulated), distribution(qc))


def test_same_instructions_as_qiskit_iqm_serialiser(qiskit_iqm: Any) -> None:
    """On a circuit already in IQM's gates, the radians payload is exactly what
    iqm.qiskit_iqm serialises: names, qubits, angles, measurement keys, feedback."""
    qc = QuantumCircuit(
        QuantumRegister(3, "q"), ClassicalRegister(2, "a"), ClassicalRegister(1, "b")
    )
    qc.r(0.3, -1.2, 0)
    qc.x(1)
    qc.ry(0.25, 2)
    qc.cz(0, 2)
    qc.measure(0, qc.clbits[2])
    with qc.if_test((qc.clbits[2], 1)):
        qc.r(math.pi, 0.5, 1)
    qc.barrier(1, 2)
    qc.measure(1, qc.clbits[0])
    qc.measure(2, qc.clbits[1])
    mine = write_iqm(qc, None, RADIANS)["circuits"][0]["instructions"]
    theirs = qiskit_iqm.serialize_instructions(qc, {i: f"QB{i + 1}" for i in range(3)})
    assert mine == [{"name": op.name, "qubits": list(op.locus), "args": op.args} for op in theirs]


def test_reads_what_qiskit_iqm_serialises_and_it_reads_ours(qiskit_iqm: Any) -> None:
    qc = QuantumCircuit(
        QuantumRegister(3, "q"), ClassicalRegister(2, "m"), ClassicalRegister(2, "n")
    )
    qc.r(1.0, 0.2, 0)
    qc.cz(0, 1)
    qc.r(0.5, -2.0, 1)
    qc.x(2)
    qc.cz(1, 2)
    qc.measure(2, qc.clbits[0])
    qc.measure(0, qc.clbits[3])
    qc.measure(1, qc.clbits[2])
    theirs = qiskit_iqm.serialize_instructions(qc, {i: f"QB{i + 1}" for i in range(3)})
    as_json = {
        "name": "theirs",
        "instructions": [
            {"name": op.name, "locus": list(op.locus), "args": op.args} for op in theirs
        ],
    }
    mine = read_iqm(as_json)
    assert same_distribution(distribution(mine), distribution(qc))
    assert [(c.name, c.size) for c in mine.cregs] == [("m", 2), ("n", 2)]
    # and the other way: their reader on our (radians) payload
    ours = iqm_client_circuit(write_iqm(qc, None, RADIANS))
    back = qiskit_iqm.deserialize_instructions(
        list(ours.instructions), {f"QB{i + 1}": i for i in range(3)}
    )
    assert same_distribution(distribution(back), distribution(qc))


# --------------------------------------------------------------------------------------
# round trips: unitaries, distributions, classical bit order
# --------------------------------------------------------------------------------------


def test_asymmetric_bits_keep_their_places() -> None:
    qc = asymmetric()
    payload, back = round_trip(qc)
    keys = {
        i["qubits"][0]: i["args"]["key"]
        for i in payload["circuits"][0]["instructions"]
        if i["name"] == "measure"
    }
    assert keys == {
        "QB1": "b_3_1_2",
        "QB2": "a_2_0_0",
        "QB3": "b_3_1_1",
    }  # iqm.qiskit_iqm's MeasurementKey
    assert [(c.name, c.size) for c in back.cregs] == [("a", 2), ("b", 3)]
    dist = distribution(back)
    assert same_distribution(dist, distribution(qc))
    # q[0] is |1> and lands in b[2], the last of five bits
    assert all(key[4] == "1" for key in dist)


def test_x_on_one_qubit_into_a_chosen_bit() -> None:
    qc = QuantumCircuit(3, 3)
    qc.x(1)
    qc.measure(0, 2)
    qc.measure(1, 0)
    qc.measure(2, 1)
    _, back = round_trip(qc)
    assert distribution(back) == {"100": 1.0}


def test_unmeasured_register_keeps_its_place() -> None:
    """No key names register 'a', so the writer lists the registers in metadata."""
    qc = QuantumCircuit(
        QuantumRegister(2, "q"), ClassicalRegister(2, "a"), ClassicalRegister(2, "b")
    )
    qc.x(1)
    qc.measure(1, qc.clbits[3])
    payload, back = round_trip(qc)
    assert payload["circuits"][0]["metadata"]["qbroker"]["classical_registers"] == [
        {"name": "a", "size": 2},
        {"name": "b", "size": 2},
    ]
    assert [(c.name, c.size) for c in back.cregs] == [("a", 2), ("b", 2)]
    assert distribution(back) == {"0001": 1.0}


def test_bits_outside_registers_keep_their_positions() -> None:
    loose = [Clbit(), Clbit()]
    qc = QuantumCircuit(QuantumRegister(2, "q"), loose, ClassicalRegister(1, "r"))
    qc.x(0)
    qc.measure(0, 2)
    qc.measure(1, 0)
    _, back = round_trip(qc)
    assert back.num_clbits == 3
    assert distribution(back) == distribution(qc) == {"001": 1.0}


def test_mid_circuit_measurement_and_feedback_run_the_same() -> None:
    from qiskit_aer import AerSimulator

    qc = QuantumCircuit(2, 3)
    qc.h(0)
    qc.measure(0, 0)
    with qc.if_test((qc.clbits[0], 1)):
        qc.x(1)
    qc.x(0)  # a gate after a mid-circuit measurement
    qc.measure(0, 2)
    qc.measure(1, 1)
    payload, back = round_trip(qc)
    names = [i["name"] for i in payload["circuits"][0]["instructions"]]
    assert "cc_prx" in names
    counts = AerSimulator().run(back, shots=400, seed_simulator=7).result().get_counts()
    # Qiskit keys are bit 0 rightmost: bit0 = first result, bit1 = copy of it, bit2 = flipped
    assert set(counts) == {"011", "100"}


def test_measure_of_several_qubits_under_one_free_key_is_a_register() -> None:
    """Hand-written IQM programs measure many qubits under one key ("m1")."""
    payload = {
        "name": "hand",
        "instructions": [
            {"name": "prx", "qubits": ["QB2"], "args": {"angle_t": 0.5, "phase_t": 0.0}},
            {"name": "measure", "qubits": ["QB1", "QB2", "QB3"], "args": {"key": "m1"}},
        ],
    }
    qc = read_iqm(payload)
    assert [(c.name, c.size) for c in qc.cregs] == [("m1", 3)]
    assert distribution(qc) == {"010": 1.0}


def test_turns_and_radians_are_the_same_circuit() -> None:
    qc = QuantumCircuit(2)
    qc.rx(0.123, 0)
    qc.u(2.5, -0.4, 1.9, 1)
    qc.cx(1, 0)
    turns = write_iqm(qc, None, TURNS)
    radians = write_iqm(qc, None, RADIANS)
    for t, r in zip(
        turns["circuits"][0]["instructions"], radians["circuits"][0]["instructions"], strict=True
    ):
        assert t["name"] == r["name"] and t["qubits"] == r["qubits"]
        if t["name"] == "prx":
            assert math.isclose(t["args"]["angle_t"] * math.tau, r["args"]["angle"], abs_tol=1e-12)
            assert math.isclose(t["args"]["phase_t"] * math.tau, r["args"]["phase"], abs_tol=1e-12)
    assert unitary_of(read_iqm(turns)).equiv(unitary_of(read_iqm(radians)))
    assert unitary_of(read_iqm(turns)).equiv(Operator(qc))


def test_turns_are_read_as_turns() -> None:
    half_turn = {
        "name": "y",
        "instructions": [
            {"name": "prx", "qubits": ["QB1"], "args": {"angle_t": 0.5, "phase_t": 0.25}}
        ],
    }
    from qiskit.circuit.library import YGate

    assert Operator(read_iqm(half_turn)).equiv(Operator(YGate()))
    same_in_radians = copy.deepcopy(half_turn)
    same_in_radians["instructions"][0]["args"] = {"angle": math.pi, "phase": math.pi / 2}
    assert Operator(read_iqm(same_in_radians)).equiv(Operator(YGate()))


def test_huge_angles_survive_turns_both_ways() -> None:
    """R(θ) for θ = 1e300 rad: written reduced (exactly enough), and 1e300 turns read exactly."""
    qc = QuantumCircuit(1)
    qc.r(1e300, -3e17, 0)
    qc.rx(-7.5e15, 0)
    _, back = round_trip(qc, TURNS)
    assert Operator(back).equiv(Operator(qc))
    many_turns = {
        "name": "t",
        "instructions": [
            {
                "name": "prx",
                "qubits": ["QB1"],
                "args": {"angle_t": 1e300 + 0.0, "phase_t": 2.0**60 + 0.25},
            }
        ],
    }
    qc2 = read_iqm(many_turns)  # 1e300 is an even number of half-turns: R(0) up to nothing
    assert Operator(qc2).equiv(Operator(QuantumCircuit(1)))


def test_a_circuit_that_does_nothing_is_one_barrier(iqm_client: Any) -> None:
    qc = QuantumCircuit(2)
    qc.rz(0.0, 0)
    payload, back = round_trip(qc)
    assert payload["circuits"][0]["instructions"] == [
        {"name": "barrier", "qubits": ["QB1", "QB2"], "args": {}}
    ]
    iqm_client.accept(payload)
    assert back.num_qubits == 2 and Operator(back).equiv(Operator(qc))


def test_width_and_idle_qubits_survive() -> None:
    qc = QuantumCircuit(4)
    qc.x(1)
    payload, back = round_trip(qc)
    assert payload["circuits"][0]["qubits"] == ["QB1", "QB2", "QB3", "QB4"]
    assert back.num_qubits == 4
    assert Operator(back).equiv(Operator(qc))


def test_metadata_and_name_travel() -> None:
    qc = QuantumCircuit(
        1, 1, name="bell-ish", metadata={"shots": 300, "note": "x", "obj": object()}
    )
    qc.h(0)
    qc.measure(0, 0)
    payload, back = round_trip(qc)
    assert payload["circuits"][0]["metadata"] == {"shots": 300, "note": "x"}
    assert back.name == "bell-ish" and back.metadata == {"shots": 300, "note": "x"}


def test_reset_barrier_and_delay_are_iqm_instructions(iqm_client: Any) -> None:
    qc = QuantumCircuit(2, 1)
    qc.x(0)
    qc.reset(0)
    qc.barrier()
    qc.delay(80, 1, unit="ns")
    qc.x(1)
    qc.measure(1, 0)
    payload, back = round_trip(qc)
    iqm_client.accept(payload)
    names = [i["name"] for i in payload["circuits"][0]["instructions"]]
    assert {"reset", "barrier", "delay"} <= set(names)
    delay = next(i for i in payload["circuits"][0]["instructions"] if i["name"] == "delay")
    assert math.isclose(delay["args"]["duration"], 80e-9)
    assert back.count_ops()["reset"] == 1


_ANGLES = st.one_of(
    st.sampled_from(
        [0.0, -0.0, math.pi, -math.pi, math.tau, 2 * math.tau, 1e-300, 5e-324, 1e6, -1e9, 1e300]
    ),
    st.floats(min_value=-50, max_value=50, allow_nan=False),
)
_NATIVE = st.one_of(
    st.tuples(st.just("r"), _ANGLES, _ANGLES),
    st.tuples(st.sampled_from(["x", "y"])),
    st.tuples(st.sampled_from(["rx", "ry"]), _ANGLES),
    st.tuples(st.just("cz")),
)
_GENERAL = st.one_of(
    _NATIVE,
    st.tuples(st.sampled_from(["h", "s", "sdg", "t", "sx", "z"])),
    st.tuples(st.sampled_from(["rz", "p"]), _ANGLES),
    # not huge angles on u: Qiskit's own matrix of u adds φ + λ, so 1e6 + 1e300 is no oracle
    st.tuples(st.just("u"), *[st.floats(min_value=-50, max_value=50, allow_nan=False)] * 3),
    st.tuples(st.sampled_from(["cx", "swap", "iswap", "ecr", "cy"])),
    st.tuples(st.sampled_from(["rzz", "rxx", "cp"]), _ANGLES),
    st.tuples(st.just("ccx")),
)


def _build(n: int, ops: list[tuple[Any, ...]], picks: list[int]) -> QuantumCircuit:
    qc = QuantumCircuit(n)
    for k, (name, *params) in enumerate(ops):
        arity = {
            "cz": 2,
            "cx": 2,
            "swap": 2,
            "iswap": 2,
            "ecr": 2,
            "cy": 2,
            "rzz": 2,
            "rxx": 2,
            "cp": 2,
            "ccx": 3,
        }.get(name, 1)
        if arity > n:
            continue
        start = picks[k % len(picks)] % n
        qubits = [(start + j) % n for j in range(arity)]
        getattr(qc, name)(*params, *qubits)
    return qc


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 4),
    ops=st.lists(_GENERAL, min_size=1, max_size=12),
    picks=st.lists(st.integers(0, 7), min_size=1, max_size=12),
    unit=st.sampled_from([TURNS, RADIANS]),
)
def test_random_circuits_keep_their_unitary(
    n: int, ops: list[tuple[Any, ...]], picks: list[int], unit: WriteOptions
) -> None:
    qc = _build(n, ops, picks)
    if not qc.data:
        return
    _, back = round_trip(qc, unit)
    assert back.num_qubits == n
    assert Operator(back).equiv(Operator(qc), atol=1e-7)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 4),
    ops=st.lists(_NATIVE, min_size=1, max_size=10),
    picks=st.lists(st.integers(0, 7), min_size=1, max_size=10),
    perm=st.permutations(range(4)),
)
def test_random_native_circuits_round_trip_with_bit_order(
    n: int, ops: list[tuple[Any, ...]], picks: list[int], perm: list[int]
) -> None:
    """Gates already native go out unchanged; qubit k measured into bit perm[k]."""
    qc = _build(n, ops, picks)
    qc.add_register(ClassicalRegister(4, "c"))
    qc.x(0)  # make the outcome asymmetric
    for k in range(n):
        qc.measure(k, perm[k])
    payload, back = round_trip(qc, TURNS)
    assert same_distribution(distribution(back), distribution(qc))
    # and a second trip writes the same instructions
    assert (
        write_iqm(back, None, TURNS)["circuits"][0]["instructions"]
        == payload["circuits"][0]["instructions"]
    )


# --------------------------------------------------------------------------------------
# custom gates named like standard ones (OpenQASM 3 ``gate ecr a, b {...}``)
# --------------------------------------------------------------------------------------

#: A mis-defined ecr (not the real ECR), and rzz / sxdg as Qiskit's exporter defines them,
#: also hidden one level down in another custom gate.
LOOKALIKES_QASM3 = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\n'
    "gate ecr a, b { h a; cx a, b; }\n"
    "gate rzz(p0) a, b { cx a, b; rz(p0) b; cx a, b; }\n"
    "gate sxdg a { s a; h a; s a; }\n"
    "gate layer(t) a, b { ecr a, b; rzz(t) a, b; sxdg b; }\n"
    "qubit[3] q;\nh q[2];\nlayer(0.7) q[0], q[1];\necr q[1], q[2];\n"
    "rzz(-1.1) q[2], q[0];\nsxdg q[1];\n"
)


@pytest.mark.parametrize("backend_id", [None, "iqm.qpu.garnet"])
def test_custom_gates_with_standard_names_are_translated_by_their_meaning(
    backend_id: str | None,
) -> None:
    """Translating the mis-defined ecr by its name wrote the real ECR: silently wrong."""
    from qbroker.testing import check_conversion

    source = qbroker.Program(format="OPEN_QASM_V3", payload=LOOKALIKES_QASM3)
    backend = qbroker.backend(backend_id) if backend_id else None
    report = check_conversion(source, "IQM_JOB_INPUT_V1", backend)
    assert report.outcome == "exact", report


# --------------------------------------------------------------------------------------
# payload forms
# --------------------------------------------------------------------------------------

BELL = {
    "name": "bell",
    "instructions": [
        {"name": "prx", "qubits": ["QB1"], "args": {"angle_t": 0.25, "phase_t": 0.25}},
        {"name": "prx", "qubits": ["QB2"], "args": {"angle_t": 0.25, "phase_t": 0.25}},
        {"name": "cz", "qubits": ["QB1", "QB2"], "args": {}},
        {"name": "prx", "qubits": ["QB2"], "args": {"angle_t": -0.25, "phase_t": 0.25}},
        {"name": "measure", "qubits": ["QB1"], "args": {"key": "c_2_0_0"}},
        {"name": "measure", "qubits": ["QB2"], "args": {"key": "c_2_0_1"}},
    ],
}


def test_bare_circuit_and_hub_envelope_read_alike() -> None:
    bare = read_iqm(BELL)
    hub = read_iqm(
        {
            "circuits": [BELL],
            "calibration_set_id": "00000000-0000-0000-0000-000000000000",
            "shots": 50,
        }
    )
    assert distribution(bare) == distribution(hub)
    assert same_distribution(distribution(bare), {"00": 0.5, "11": 0.5})
    assert hub.metadata["shots"] == 50


def test_program_detects_and_converts(tmp_path: Any) -> None:
    text = json.dumps({"circuits": [BELL]})
    program = qbroker.load_program(text)
    assert program.format is InputFormat.IQM_JOB_INPUT_V1
    qasm = qbroker.convert(program, "OPEN_QASM_V3")
    again = qbroker.convert(qasm, "IQM_JOB_INPUT_V1", backend=qbroker.backend("iqm.qpu.garnet"))
    assert same_distribution(distribution(compact(again.circuit)), {"00": 0.5, "11": 0.5})
    assert codec(InputFormat.IQM_JOB_INPUT_V1).payload is dict


def test_convert_refuses_a_backend_that_does_not_take_iqm_json() -> None:
    program = qbroker.load_program(json.dumps(BELL))
    with pytest.raises(UnsupportedError, match=r"aws\.iqm\.garnet does not take IQM_JOB_INPUT_V1"):
        qbroker.convert(program, "IQM_JOB_INPUT_V1", backend=qbroker.backend("aws.iqm.garnet"))


def test_iqm_client_locus_form_with_qubit_mapping_reads(iqm_client: Any) -> None:
    from iqm.pulse.builder import CircuitOperation
    from iqm.pulse.circuit_operations import Circuit
    from iqm.station_control.interface.models.circuit import PostJobsRequest

    ops = (
        CircuitOperation(name="prx", locus=("alice",), args={"angle": math.pi, "phase": 0.0}),
        CircuitOperation(name="measure", locus=("alice",), args={"key": "c_2_0_1"}),
        CircuitOperation(name="measure", locus=("bob",), args={"key": "c_2_0_0"}),
    )
    request = PostJobsRequest(
        circuits=[Circuit(name="mapped", instructions=ops)],
        qubit_mapping={"alice": "QB3", "bob": "QB1"},
        shots=10,
    )
    qc = read_iqm(request.model_dump(mode="json"))
    assert qc.num_qubits == 3
    assert distribution(qc) == {"01": 1.0}
    assert [qc.find_bit(i.qubits[0]).index for i in qc.data] == [2, 2, 0]


def test_reader_folds_hand_written_move_sandwiches() -> None:
    payload = {
        "name": "star",
        "instructions": [
            {"name": "prx", "qubits": ["QB2"], "args": {"angle": math.pi, "phase": 0.0}},
            {"name": "move", "qubits": ["QB2", "CR1"]},
            {
                "name": "prx",
                "qubits": ["QB1"],
                "args": {"angle": math.pi / 2, "phase": math.pi / 2},
            },
            {"name": "cz", "qubits": ["CR1", "QB1"]},
            {"name": "barrier", "qubits": ["QB1", "CR1"]},
            {"name": "move", "qubits": ["QB2", "CR1"]},
            {
                "name": "prx",
                "qubits": ["QB1"],
                "args": {"angle": math.pi / 2, "phase": -math.pi / 2},
            },
            {"name": "measure", "qubits": ["QB1", "QB2"], "args": {"key": "m"}},
        ],
    }
    qc = read_iqm(payload)
    assert qc.count_ops()["cz"] == 1 and "move" not in qc.count_ops()
    # QB2 = |1>, so cz turns the Hadamard-sandwiched QB1 into |1>
    assert distribution(qc) == {"11": 1.0}


# --------------------------------------------------------------------------------------
# bad input: a ProgramError naming the field
# --------------------------------------------------------------------------------------


def _with(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    payload = {"circuits": [copy.deepcopy(BELL)]}
    change(payload)
    return payload


def _instr(k: int, **fields: Any) -> Callable[[dict[str, Any]], None]:
    def change(payload: dict[str, Any]) -> None:
        payload["circuits"][0]["instructions"][k].update(fields)

    return change


def _args(k: int, args: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    return _instr(k, args=args)


def _append(*items: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def change(payload: dict[str, Any]) -> None:
        payload["circuits"][0]["instructions"].extend(items)

    return change


INS = "circuits.0.instructions"
BAD = [
    ("no circuits", lambda p: p.update(circuits=[]), "circuits", "non-empty"),
    (
        "two circuits",
        lambda p: p["circuits"].append(copy.deepcopy(BELL)),
        "circuits",
        "holds 2 circuits",
    ),
    ("QIR", lambda p: p.update(circuits=["%qir"]), "circuits.0", "QIR"),
    ("top-level extra", lambda p: p.update(programs=[]), "programs", "unexpected"),
    (
        "no instructions",
        lambda p: p["circuits"][0].pop("instructions"),
        "circuits.0.instructions",
        "list",
    ),
    (
        "empty instructions",
        lambda p: p["circuits"][0].update(instructions=[]),
        "circuits.0.instructions",
        "at least one",
    ),
    ("nameless circuit", lambda p: p["circuits"][0].pop("name"), "circuits.0.name", "name"),
    ("unknown gate", _instr(0, name="cx"), f"{INS}.0.name", "unknown IQM instruction 'cx'"),
    ("instruction extra", _instr(0, foo=1), f"{INS}.0.foo", "unexpected"),
    ("qubits and locus", _instr(0, locus=["QB1"]), f"{INS}.0.locus", "once"),
    ("unknown qubit", _instr(0, qubits=["Q1"]), f"{INS}.0.qubits.0", "unknown qubit 'Q1'"),
    ("QB0", _instr(0, qubits=["QB0"]), f"{INS}.0.qubits.0", "unknown qubit"),
    ("leading zero", _instr(0, qubits=["QB01"]), f"{INS}.0.qubits.0", "unknown qubit"),
    ("qubit number", _instr(0, qubits=[1]), f"{INS}.0.qubits.0", "string"),
    # regression: int() of a 5,000-digit string raises ValueError (Python's digit limit)
    ("5000 digits", _instr(0, qubits=["QB" + "9" * 5000]), f"{INS}.0.qubits.0", "unknown qubit"),
    ("out of range", _instr(0, qubits=["QB99999"]), f"{INS}.0.qubits.0", "out of range"),
    ("duplicate qubit", _instr(2, qubits=["QB1", "QB1"]), f"{INS}.2.qubits.1", "twice"),
    ("cz arity", _instr(2, qubits=["QB1"]), f"{INS}.2.qubits", "acts on 2"),
    (
        "not declared",
        lambda p: p["circuits"][0].update(qubits=["QB1"]),
        f"{INS}.1.qubits.0",
        "not among",
    ),
    (
        "declared twice",
        lambda p: p["circuits"][0].update(qubits=["QB1", "QB1"]),
        "circuits.0.qubits.1",
        "twice",
    ),
    (
        "NaN angle",
        _args(0, {"angle_t": float("nan"), "phase_t": 0.0}),
        f"{INS}.0.args.angle_t",
        "finite",
    ),
    (
        "inf phase",
        _args(0, {"angle_t": 0.1, "phase_t": float("-inf")}),
        f"{INS}.0.args.phase_t",
        "finite",
    ),
    ("huge int", _args(0, {"angle_t": 10**400, "phase_t": 0}), f"{INS}.0.args.angle_t", "finite"),
    ("string angle", _args(0, {"angle_t": "0.5", "phase_t": 0}), f"{INS}.0.args.angle_t", "number"),
    ("bool angle", _args(0, {"angle_t": True, "phase_t": 0}), f"{INS}.0.args.angle_t", "number"),
    ("missing phase", _args(0, {"angle_t": 0.5}), f"{INS}.0.args.phase_t", "missing"),
    ("no angles", _args(0, {}), f"{INS}.0.args.angle_t", "missing"),
    (
        "mixed in one",
        _args(0, {"angle_t": 0.5, "phase": 0.0}),
        f"{INS}.0.args.phase",
        "mixes turns",
    ),
    (
        "mixed across",
        _args(1, {"angle": 1.0, "phase": 0.0}),
        f"{INS}.1.args.angle",
        "one payload uses one unit",
    ),
    (
        "extra arg",
        _args(0, {"angle_t": 0.5, "phase_t": 0.0, "theta": 1}),
        f"{INS}.0.args.theta",
        "prx takes",
    ),
    ("cz args", _args(2, {"angle_t": 0.5}), f"{INS}.2.args.angle_t", "no arguments"),
    ("args not object", _args(2, [1]), f"{INS}.2.args", "object"),  # type: ignore[arg-type]
    ("missing key", _args(4, {}), f"{INS}.4.args.key", "missing"),
    ("empty key", _args(4, {"key": ""}), f"{INS}.4.args.key", "non-empty"),
    ("duplicate key", _args(5, {"key": "c_2_0_0"}), f"{INS}.5.args.key", "already used"),
    ("bit outside register", _args(5, {"key": "c_2_0_7"}), f"{INS}.5.args.key", "outside"),
    ("register disagrees", _args(5, {"key": "c_3_0_1"}), f"{INS}.5.args.key", "says register 0"),
    ("prx on resonator", _instr(0, qubits=["CR1"]), f"{INS}.0.qubits.0", "resonator"),
    (
        "open sandwich",
        _append({"name": "move", "qubits": ["QB3", "CR1"]}),
        f"{INS}.6",
        "still in CR1",
    ),
    (
        "occupied resonator",
        _append(
            {"name": "move", "qubits": ["QB3", "CR1"]}, {"name": "move", "qubits": ["QB4", "CR1"]}
        ),
        f"{INS}.7",
        "already holds",
    ),
    (
        "gate on moved qubit",
        _append(
            {"name": "move", "qubits": ["QB3", "CR1"]},
            {"name": "prx", "qubits": ["QB3"], "args": {"angle_t": 0.5, "phase_t": 0.0}},
            {"name": "move", "qubits": ["QB3", "CR1"]},
        ),
        f"{INS}.7",
        "while its state is in CR1",
    ),
    (
        "cz with empty resonator",
        _append({"name": "cz", "qubits": ["QB1", "CR1"]}),
        f"{INS}.6",
        "holds no qubit",
    ),
    (
        "move backwards",
        _append({"name": "move", "qubits": ["CR1", "QB3"]}),
        f"{INS}.6",
        "from a qubit",
    ),
    (
        "feedback without measure",
        _append(
            {
                "name": "cc_prx",
                "qubits": ["QB2"],
                "args": {
                    "angle_t": 0.5,
                    "phase_t": 0,
                    "feedback_key": "f",
                    "feedback_qubit": "QB1",
                },
            }
        ),
        f"{INS}.6.args.feedback_key",
        "no earlier measure",
    ),
    (
        "mapping unknown",
        lambda p: p.update(qubit_mapping=[{"logical_name": "a", "physical_name": "QB1"}]),
        f"{INS}.0.qubits.0",
        "not a logical qubit",
    ),
    (
        "mapping not injective",
        lambda p: p.update(
            qubit_mapping=[
                {"logical_name": "a", "physical_name": "QB1"},
                {"logical_name": "b", "physical_name": "QB1"},
            ]
        ),
        "qubit_mapping.1",
        "image of both",
    ),
    (
        "bad metadata",
        lambda p: p["circuits"][0].update(metadata={"qbroker": {"x": 1}}),
        "circuits.0.metadata.qbroker",
        "classical_registers",
    ),
    (
        "negative delay",
        _append({"name": "delay", "qubits": ["QB1"], "args": {"duration": -1.0}}),
        f"{INS}.6.args.duration",
        "negative",
    ),
]


@pytest.mark.parametrize("change, field, words", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_malformed_payloads_name_the_field(
    change: Callable[[dict[str, Any]], None], field: str, words: str
) -> None:
    payload = _with(change)
    with pytest.raises(ProgramError) as caught:
        read_iqm(payload)
    assert caught.value.problems[0].field == field, str(caught.value)
    assert field in str(caught.value) and words in str(caught.value)
    assert "\n" not in str(caught.value)


def test_keys_with_huge_numbers_are_plain_keys_not_crashes() -> None:
    key = "c_" + "9" * 5000 + "_0_0"
    qc = read_iqm(_with(_args(4, {"key": key})))
    assert [c.size for c in qc.cregs] == [2, 1]  # c_2_0_1 still structured; the odd key is its own


def test_malformed_text_payloads_through_program() -> None:
    payload = _with(_args(0, {"angle_t": 12345.5, "phase_t": 0.25}))
    text = json.dumps(payload).replace("12345.5", "NaN")  # JSON readers accept NaN
    with pytest.raises(
        ProgramError, match=r"instructions\.0\.args\.angle_t: must be a finite number"
    ):
        qbroker.load_program(text)
    with pytest.raises(ProgramError):
        qbroker.Program(format="IQM_JOB_INPUT_V1", payload="[1, 2]")
    with pytest.raises(ProgramError, match="must be a JSON object"):
        read_iqm([BELL])


@settings(max_examples=150, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=8), children, max_size=4)
        ),
        max_leaves=20,
    ),
    st.sampled_from(["name", "qubits", "args", "instructions", "key", "angle_t"]),
)
def test_fuzzed_fields_raise_program_error_only(junk: Any, where: str) -> None:
    payload = _with(lambda p: None)
    circuit = payload["circuits"][0]
    if where == "instructions":
        circuit["instructions"] = junk
    elif where in ("key", "angle_t"):
        circuit["instructions"][4 if where == "key" else 0]["args"][where] = junk
    else:
        circuit["instructions"][1][where] = junk
    try:
        read_iqm(payload)
    except ProgramError:
        pass


# --------------------------------------------------------------------------------------
# what IQM's format cannot express
# --------------------------------------------------------------------------------------


def _twice() -> QuantumCircuit:
    qc = QuantumCircuit(1, 1)
    qc.measure(0, 0)
    qc.measure(0, 0)
    return qc


def _else() -> QuantumCircuit:
    qc = QuantumCircuit(2, 1)
    qc.measure(0, 0)
    with qc.if_test((qc.clbits[0], 1)) as otherwise:
        qc.x(1)
    with otherwise:
        qc.y(1)
    return qc


def _on_zero() -> QuantumCircuit:
    qc = QuantumCircuit(2, 1)
    qc.measure(0, 0)
    with qc.if_test((qc.clbits[0], 0)):
        qc.x(1)
    return qc


def _cz_in_if() -> QuantumCircuit:
    qc = QuantumCircuit(3, 1)
    qc.measure(0, 0)
    with qc.if_test((qc.clbits[0], 1)):
        qc.cz(1, 2)
    return qc


def _unmeasured_condition() -> QuantumCircuit:
    qc = QuantumCircuit(2, 1)
    with qc.if_test((qc.clbits[0], 1)):
        qc.x(1)
    return qc


def _loop() -> QuantumCircuit:
    qc = QuantumCircuit(1, 1)
    with qc.while_loop((qc.clbits[0], 0)):
        qc.h(0)
        qc.measure(0, 0)
    return qc


def _parametric() -> QuantumCircuit:
    from qiskit.circuit import Parameter

    qc = QuantumCircuit(1)
    qc.rx(Parameter("theta"), 0)
    return qc


def _dt_delay() -> QuantumCircuit:
    qc = QuantumCircuit(1)
    qc.delay(100, 0, unit="dt")
    return qc


UNSUPPORTED = [
    ("bit measured twice", _twice, None, "written by two measurements"),
    ("else branch", _else, None, "no else-branch"),
    ("condition on 0", _on_zero, None, "not when it is 0"),
    ("cz under feedback", _cz_in_if, None, "the if-block holds cz"),
    ("condition before measure", _unmeasured_condition, None, "before any measurement"),
    ("while loop", _loop, None, "while_loop"),
    ("unbound parameter", _parametric, None, "bind parameter(s) theta"),
    ("delay in dt", _dt_delay, None, "'dt'"),
    ("no qubits", lambda: QuantumCircuit(0, 1), None, "at least one qubit"),
    ("ibm backend", lambda: QuantumCircuit(1, 1), "ibm.qpu.fez", "are not IQM instructions"),
    ("feedback on garnet", _on_zero, "iqm.qpu.garnet", "does not list classical feedback"),
]


@pytest.mark.parametrize(
    "build, backend_id, words", [u[1:] for u in UNSUPPORTED], ids=[u[0] for u in UNSUPPORTED]
)
def test_what_iqm_cannot_express_is_refused_with_a_reason(
    build: Callable[[], QuantumCircuit], backend_id: str | None, words: str
) -> None:
    backend = qbroker.backend(backend_id) if backend_id else None
    with pytest.raises(UnsupportedError) as caught:
        write_iqm(build(), backend, DEFAULT)
    assert words in str(caught.value)


def test_reset_refused_by_a_backend_that_does_not_list_it() -> None:
    qc = QuantumCircuit(1)
    qc.reset(0)
    with pytest.raises(UnsupportedError, match=r"iqm\.qpu\.adonis does not list reset"):
        write_iqm(qc, qbroker.backend("iqm.qpu.adonis"), DEFAULT)
