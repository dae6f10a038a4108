"""The local adapter against the real Qiskit Aer and Braket local AHS simulator (no mocks).

Backends are hand-made here, so the right answer is known: two devices that differ only in
their calibration numbers, a 156-qubit heavy-hex-like device, IonQ- and Rigetti-like gate
sets, a noiseless LOCAL simulator and an AHS simulator.
"""

from __future__ import annotations

import copy
import subprocess
import sys
import uuid
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

import anyio
import pytest

from qbroker.adapters import check_adapter, load_registry
from qbroker.adapters.local import LocalAdapter, cache_info
from qbroker.errors import JobFailedError, JobNotFoundError, UnsupportedError
from qbroker.model import (
    AnalogProperties,
    Backend,
    BackendType,
    Calibration,
    Configuration,
    Connectivity,
    DataSource,
    Gate,
    GateCalibration,
    HardwareProvider,
    InputFormat,
    JobOptions,
    JobStatus,
    Program,
    Provider,
    QubitCalibration,
    Result,
    Technology,
)

# Qiskit instantiates every installed transpiler plug-in on each transpile; qiskit-ibm-runtime's
# deprecated one warns each time. Not ours to fix.
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*IBMFractionalTranslationPlugin is deprecated:DeprecationWarning"
)

CAL_AT = datetime(2026, 11, 1, tzinfo=UTC)
TODAY = date(2026, 11, 21)
SOURCE = DataSource(source="hand-made test backend", retrieved_at=TODAY)

# --------------------------------------------------------------------------------------
# hand-made backends
# --------------------------------------------------------------------------------------


def line_edges(n: int) -> list[tuple[int, int]]:
    return [(i, i + 1) for i in range(n - 1)]


def heavy_hex_156() -> tuple[int, list[tuple[int, int]]]:
    """8 rows of 16 qubits joined by 4 bridge qubits per gap (IBM Heron r2's 156 shape)."""
    rows, cols = 8, 16
    edges = [(r * cols + c, r * cols + c + 1) for r in range(rows) for c in range(cols - 1)]
    bridge = rows * cols
    for r in range(rows - 1):
        for c in (3, 7, 11, 15) if r % 2 == 0 else (0, 4, 8, 12):
            edges += [(r * cols + c, bridge), (bridge, (r + 1) * cols + c)]
            bridge += 1
    return bridge, edges


def device(
    backend_id: str,
    n: int,
    edges: list[tuple[int, int]] | None = None,
    *,
    one_q: tuple[str, ...] = ("sx", "x", "rz"),
    two_q: str | None = "cz",
    e1: float | None = 3e-4,
    e2: float | None = 3e-3,
    ro: float | None = 0.01,
    p10: float | None = None,
    p01: float | None = None,
    t1: float | None = 200.0,
    t2: float | None = 150.0,
    d1: float = 32.0,
    d2: float = 68.0,
    calibrate_2q: bool = True,
    provider: Provider = Provider.IBM,
) -> Backend:
    """A gate-model device; 2q gates are calibrated in the direction each edge is listed."""
    fully = edges is None
    pairs = [(a, b) for a in range(n) for b in range(a + 1, n)] if fully else edges
    qubits = [
        QubitCalibration(
            qubit=i,
            t1_us=t1,
            t2_us=t2,
            readout_error=ro,
            prob_meas1_prep0=p10,
            prob_meas0_prep1=p01,
        )
        for i in range(n)
    ]
    gates = []
    for name in one_q:
        virtual = name == "rz"
        gates += [
            GateCalibration(
                gate=name,
                qubits=(i,),
                error=0.0 if virtual else e1,
                duration_ns=0.0 if virtual else d1,
            )
            for i in range(n)
        ]
    if two_q and calibrate_2q:
        gates += [GateCalibration(gate=two_q, qubits=p, error=e2, duration_ns=d2) for p in pairs]
    gate_list = [Gate(name=g, qubits=1) for g in one_q]
    if two_q:
        gate_list.append(Gate(name=two_q, qubits=2))
    return Backend(
        id=backend_id,
        name=backend_id,
        display_name=backend_id,
        provider=provider,
        hardware_provider=HardwareProvider.IBM,
        type=BackendType.QPU,
        technology=Technology.SUPERCONDUCTING,
        configuration=Configuration(
            qubit_count=n,
            gates=tuple(gate_list),
            operations=("measure", "reset", "delay"),
            connectivity=(
                Connectivity(fully_connected=True)
                if fully
                else Connectivity(fully_connected=False, edges=tuple(edges))
            ),
        ),
        calibration=Calibration(
            calibrated_at=CAL_AT, source="hand-made", qubits=tuple(qubits), gates=tuple(gates)
        ),
        data_source=SOURCE,
        updated_at=TODAY,
    )


AER = Backend(
    id="local.sim.aer",
    name="aer",
    display_name="Aer (test)",
    provider=Provider.LOCAL,
    hardware_provider=HardwareProvider.LOCAL,
    type=BackendType.SIMULATOR,
    technology=Technology.UNKNOWN,
    configuration=Configuration(qubit_count=30),
    data_source=SOURCE,
    updated_at=TODAY,
)

ANALOG_LIMITS = AnalogProperties(
    max_sites=256,
    max_filled_sites=10,
    field_of_view_width_m=7.5e-5,
    field_of_view_height_m=1.0e-4,
    min_site_spacing_m=4.0e-6,
    min_row_spacing_m=4.0e-6,
    position_resolution_m=1.0e-7,
    max_rabi_frequency_rad_per_s=1.58e7,
    max_rabi_slew_rate_rad_per_s2=2.5e14,
    max_detuning_rad_per_s=1.25e8,
    max_detuning_slew_rate_rad_per_s2=2.5e15,
    time_resolution_s=1e-9,
    min_time_step_s=1e-8,
    max_duration_s=4e-6,
)


def analog_backend(backend_id: str, provider: Provider, max_filled: int = 10) -> Backend:
    return Backend(
        id=backend_id,
        name=backend_id,
        display_name=backend_id,
        provider=provider,
        hardware_provider=HardwareProvider.QUERA
        if provider is not Provider.LOCAL
        else HardwareProvider.LOCAL,
        type=BackendType.SIMULATOR if provider is Provider.LOCAL else BackendType.QPU,
        technology=Technology.NEUTRAL_ATOMS,
        configuration=Configuration(
            qubit_count=max_filled,
            operations=(),
            connectivity=Connectivity(fully_connected=False),
            supported_input_formats=(InputFormat.BRAKET_AHS_PROGRAM,),
            analog_properties=ANALOG_LIMITS.model_copy(update={"max_filled_sites": max_filled}),
        ),
        data_source=SOURCE,
        updated_at=TODAY,
    )


AHS_LOCAL = analog_backend("local.sim.braket_ahs", Provider.LOCAL)

GOOD = device("test.qpu.good", 5, line_edges(5), e2=0.003, ro=0.01, t1=300.0, t2=200.0)
BAD = device("test.qpu.bad", 5, line_edges(5), e2=0.05, ro=0.05, t1=40.0, t2=25.0)
N156, EDGES156 = heavy_hex_156()
BIG = device("test.qpu.heavyhex156", N156, EDGES156)

# --------------------------------------------------------------------------------------
# programs and helpers
# --------------------------------------------------------------------------------------


def qasm2(body: str) -> Program:
    return Program(
        format=InputFormat.OPEN_QASM_V2,
        payload=f'OPENQASM 2.0; include "qelib1.inc"; {body}',
    )


BELL = qasm2("qreg q[2]; creg c[2]; h q[0]; cx q[0],q[1]; measure q -> c;")


def ahs_program(
    example: dict[str, Any], n_sites: int = 3, filling: list[int] | None = None
) -> Program:
    """The Hub's Aws_AHS_JobInput example (3 atoms), optionally with more sites."""
    program = example["ahs_program"]
    register = program["setup"]["ahs_register"]
    register["sites"] += [[6e-6 * (i % 8), 1.2e-5 + 6e-6 * (i // 8)] for i in range(n_sites - 3)]
    register["filling"] = filling or [1] * n_sites
    local = program["hamiltonian"]["localDetuning"][0]["magnitude"]
    local["pattern"] += [1.0] * (n_sites - 3)
    return Program(format=InputFormat.BRAKET_AHS_PROGRAM, payload=example)


def run(
    adapter: LocalAdapter, program: Program, backend: Backend, shots: int = 2000, **options: Any
) -> Result:
    async def go() -> Result:
        job_id = await adapter.submit(
            program,
            backend,
            shots=shots,
            options=JobOptions(**options),
            idempotency_key=uuid.uuid4().hex,
        )
        return await adapter.result(job_id)

    return anyio.run(go)


def error_rate(result: Result) -> float:
    return (result.counts.get("01", 0) + result.counts.get("10", 0)) / result.shots


@pytest.fixture(scope="module")
def adapter() -> LocalAdapter:
    return LocalAdapter()


# --------------------------------------------------------------------------------------
# protocol, laziness, can_run
# --------------------------------------------------------------------------------------


def test_matches_the_protocol_and_loads_through_the_entry_point() -> None:
    check_adapter(LocalAdapter())
    registry = load_registry()
    assert "local" in registry.adapters
    assert registry.adapters["local"].name == "local"


def test_import_and_construction_import_no_sdk() -> None:
    code = (
        "import sys, qbroker, qbroker.adapters.local as m; m.LocalAdapter(); "
        "print(sorted(x for x in ('qiskit', 'qiskit_aer', 'braket') if x in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_can_run() -> None:
    a = LocalAdapter()
    assert a.can_run(AER, emulate=False)
    assert a.can_run(AHS_LOCAL, emulate=False)
    assert not a.can_run(GOOD, emulate=False)
    assert a.can_run(GOOD, emulate=True)
    aquila = analog_backend("aws.quera.aquila", Provider.AWS)
    assert not a.can_run(aquila, emulate=False)
    assert a.can_run(aquila, emulate=True)
    uncalibrated = GOOD.model_copy(update={"id": "test.qpu.nocal", "calibration": None})
    assert not a.can_run(uncalibrated, emulate=True)
    photonic = AER.model_copy(
        update={
            "id": "test.qpu.photonic",
            "provider": Provider.QUANDELA,
            "technology": Technology.PHOTONIC,
        }
    )
    assert not a.can_run(photonic, emulate=True)


# --------------------------------------------------------------------------------------
# noisy emulation follows the calibration
# --------------------------------------------------------------------------------------


def test_worse_calibration_gives_visibly_worse_bell_results(adapter: LocalAdapter) -> None:
    good = run(adapter, BELL, GOOD, seed=7)
    bad = run(adapter, BELL, BAD, seed=7)
    for r in (good, bad):
        assert sum(r.counts.values()) == 2000
        assert r.counts.get("00", 0) + r.counts.get("11", 0) > 1500
        assert r.metadata.emulated
        assert r.metadata.seed == 7
        assert r.metadata.calibration_at == CAL_AT
        assert r.metadata.calibration_source == "hand-made"
        assert r.metadata.simulator and r.metadata.simulator.startswith("qiskit-aer ")
        assert len(r.metadata.physical_qubits) == 2
    assert error_rate(good) < 0.06
    assert error_rate(bad) > error_rate(good) + 0.05
    assert bad.fidelity_to_ideal < good.fidelity_to_ideal - 0.02
    assert good.fidelity_to_ideal > 0.95
    # the same seed reproduces the same counts
    assert run(adapter, BELL, GOOD, seed=7).counts == good.counts


def test_bell_ideal_probabilities_and_metadata(adapter: LocalAdapter) -> None:
    r = run(adapter, BELL, GOOD, seed=3)
    assert r.ideal_probabilities is not None
    assert set(r.ideal_probabilities) == {"00", "11"}
    assert r.ideal_probabilities["00"] == pytest.approx(0.5)
    assert r.ideal_probabilities["11"] == pytest.approx(0.5)
    assert r.metadata.transpiled_gate_counts.get("cz") == 1
    assert set(r.metadata.transpiled_gate_counts) <= {"sx", "x", "rz", "cz", "measure"}
    assert r.metadata.transpiled_depth and r.metadata.transpiled_depth >= 3
    assert r.metadata.execution_time_s is not None
    a, b = r.metadata.physical_qubits
    assert abs(a - b) == 1  # neighbours on the line


def test_asymmetric_readout_error_is_applied_per_direction(adapter: LocalAdapter) -> None:
    ro_only = device(
        "test.qpu.readout",
        1,
        [],
        two_q=None,
        e1=0.0,
        ro=None,
        p10=0.0,
        p01=0.2,
        t1=None,
        t2=None,
    )
    one = run(
        adapter,
        qasm2("qreg q[1]; creg c[1]; x q[0]; measure q -> c;"),
        ro_only,
        shots=4000,
        seed=11,
    )
    assert one.counts.get("0", 0) / 4000 == pytest.approx(0.2, abs=0.025)
    zero = run(
        adapter, qasm2("qreg q[1]; creg c[1]; measure q -> c;"), ro_only, shots=1000, seed=11
    )
    assert zero.counts == {"0": 1000}


def test_depolarizing_part_brings_total_infidelity_to_the_reported_error() -> None:
    from qiskit.quantum_info import average_gate_fidelity
    from qiskit_aer.noise import depolarizing_error, thermal_relaxation_error

    from qbroker.adapters.local._noise import depolarizing_parameter

    for nq, error, duration in ((1, 1e-3, 35e-9), (2, 0.05, 300e-9)):
        relax = thermal_relaxation_error(50e-6, 40e-6, duration)
        if nq == 2:
            relax = relax.expand(thermal_relaxation_error(80e-6, 60e-6, duration))
        relax_infid = 1 - average_gate_fidelity(relax.to_quantumchannel())
        assert 0 < relax_infid < error
        p = depolarizing_parameter(error, nq, relax_infid)
        total = depolarizing_error(p, nq).compose(relax)
        assert 1 - average_gate_fidelity(total.to_quantumchannel()) == pytest.approx(error)
    assert depolarizing_parameter(1e-6, 1, 1e-3) == 0.0  # relaxation alone explains it


# --------------------------------------------------------------------------------------
# bit order
# --------------------------------------------------------------------------------------


def test_bit_zero_is_the_leftmost_character(adapter: LocalAdapter) -> None:
    program = qasm2("qreg q[3]; creg c[3]; x q[0]; measure q[0] -> c[0];")
    assert run(adapter, program, AER, shots=100).counts == {"100": 100}
    noisy = run(adapter, program, GOOD, shots=500, seed=1)
    assert noisy.most_frequent() == "100"
    assert noisy.counts["100"] > 450


def test_measurement_into_a_chosen_bit(adapter: LocalAdapter) -> None:
    program = qasm2("qreg q[3]; creg c[3]; x q[0]; measure q[0] -> c[2];")
    assert run(adapter, program, AER, shots=100).counts == {"001": 100}


def test_two_classical_registers_flatten_in_declaration_order(adapter: LocalAdapter) -> None:
    program = qasm2(
        "qreg q[3]; creg a[1]; creg b[2]; x q[2]; "
        "measure q[0] -> a[0]; measure q[1] -> b[0]; measure q[2] -> b[1];"
    )
    r = run(adapter, program, AER, shots=50)
    assert r.counts == {"001": 50}
    assert r.qiskit_counts() == {"100": 50}
    assert r.ideal_probabilities == pytest.approx({"001": 1.0})


def test_memory_has_one_key_per_shot(adapter: LocalAdapter) -> None:
    r = run(adapter, BELL, GOOD, shots=300, seed=5, memory=True)
    assert r.memory is not None and len(r.memory) == 300
    assert Counter(r.memory) == Counter(r.counts)


def test_noiseless_local_simulator(adapter: LocalAdapter) -> None:
    r = run(adapter, BELL, AER, shots=1000, seed=2)
    assert set(r.counts) == {"00", "11"}
    assert not r.metadata.emulated
    assert "noiseless" in (r.metadata.simulator or "")
    assert r.metadata.physical_qubits == (0, 1)
    assert r.fidelity_to_ideal == pytest.approx(1.0, abs=0.01)


def test_ideal_probabilities_only_for_small_end_measured_circuits(adapter: LocalAdapter) -> None:
    mid = qasm2("qreg q[2]; creg c[2]; h q[0]; measure q[0] -> c[0]; x q[0]; measure q[1] -> c[1];")
    assert run(adapter, mid, AER, shots=10).ideal_probabilities is None
    n = 21
    ghz = qasm2(
        f"qreg q[{n}]; creg c[{n}]; h q[0]; "
        + "".join(f"cx q[{i}],q[{i + 1}]; " for i in range(n - 1))
        + "measure q -> c;"
    )
    r = run(adapter, ghz, AER, shots=10)
    assert r.ideal_probabilities is None
    assert set(r.counts) <= {"0" * n, "1" * n}


# --------------------------------------------------------------------------------------
# large devices: shrink to the touched qubits, cache per qubit set
# --------------------------------------------------------------------------------------


def test_156_qubit_device_runs_on_touched_qubits_and_reuses_the_noise_model(
    adapter: LocalAdapter,
) -> None:
    first = run(adapter, BELL, BIG, shots=1000, seed=1)
    assert len(first.metadata.physical_qubits) == 2
    assert set(first.metadata.physical_qubits) <= set(range(N156))
    assert first.counts.get("00", 0) + first.counts.get("11", 0) > 900
    before = cache_info()
    second = run(adapter, BELL, BIG, shots=1000, seed=1)
    after = cache_info()
    assert second.metadata.physical_qubits == first.metadata.physical_qubits
    assert after["noise"]["hits"] == before["noise"]["hits"] + 1
    assert after["noise"]["misses"] == before["noise"]["misses"]
    assert after["device"]["misses"] == before["device"]["misses"]
    assert after["compiled"]["hits"] == before["compiled"]["hits"] + 1


def test_translate_returns_the_compiled_circuit_and_submit_runs_it(adapter: LocalAdapter) -> None:
    translated = adapter.translate(BELL, BIG)
    assert translated.format is InputFormat.OPEN_QASM_V2
    assert f"qreg q[{N156}];" in str(translated.payload)
    direct = run(adapter, BELL, BIG, shots=200, seed=4)
    via = run(adapter, translated, BIG, shots=200, seed=4)
    assert via.metadata.physical_qubits == direct.metadata.physical_qubits
    assert via.metadata.transpiled_gate_counts == direct.metadata.transpiled_gate_counts
    assert via.counts == direct.counts


def test_too_wide_a_circuit_is_refused(adapter: LocalAdapter) -> None:
    wide = qasm2("qreg q[200]; creg c[200]; h q[0]; measure q -> c;")
    with pytest.raises(UnsupportedError, match=f"circuit needs 200 qubits; {BIG.id} has 156"):
        adapter.translate(wide, BIG)

    async def submit() -> str:
        return await adapter.submit(
            wide, BIG, shots=10, options=JobOptions(), idempotency_key=uuid.uuid4().hex
        )

    with pytest.raises(UnsupportedError, match="needs 200 qubits"):
        anyio.run(submit)


def test_a_program_measuring_nothing_is_refused(adapter: LocalAdapter) -> None:
    with pytest.raises(UnsupportedError, match="measures nothing"):
        adapter.translate(qasm2("qreg q[2]; h q[0];"), GOOD)


# --------------------------------------------------------------------------------------
# gate sets and directions
# --------------------------------------------------------------------------------------


def test_unknown_native_gate_is_named() -> None:
    weird = device("test.qpu.weird", 3, line_edges(3), one_q=("sx", "rz", "frobnicate"))
    with pytest.raises(UnsupportedError, match="'frobnicate'"):
        LocalAdapter().translate(BELL, weird)


def test_non_universal_gate_set_is_refused() -> None:
    clifford = device("test.qpu.clifford", 3, line_edges(3), one_q=("x", "sx"))
    with pytest.raises(UnsupportedError, match="cannot express every circuit"):
        LocalAdapter().translate(BELL, clifford)
    no_2q = device("test.qpu.no2q", 3, line_edges(3), two_q=None)
    with pytest.raises(UnsupportedError, match="entangling"):
        LocalAdapter().translate(BELL, no_2q)
    bare = device("test.qpu.bare", 3, line_edges(3), one_q=(), two_q=None)
    with pytest.raises(UnsupportedError, match="lists no native gates"):
        LocalAdapter().translate(BELL, bare)


def test_calibrated_direction_is_kept_and_uncalibrated_edges_get_both() -> None:
    from qbroker.device import device_model

    ecr = device("test.qpu.eagle", 3, [(0, 1), (2, 1)], two_q="ecr")
    target = device_model(ecr).target
    assert (0, 1) in target["ecr"] and (1, 0) not in target["ecr"]
    assert (2, 1) in target["ecr"] and (1, 2) not in target["ecr"]
    assert target["ecr"][(0, 1)].error == pytest.approx(3e-3)
    plain = device("test.qpu.uncal2q", 3, [(0, 1), (1, 2)], calibrate_2q=False)
    cz = device_model(plain).target["cz"]
    assert {(0, 1), (1, 0), (1, 2), (2, 1)} <= set(cz)


def test_ionq_like_native_gates(adapter: LocalAdapter) -> None:
    ionq = device(
        "test.qpu.ionq",
        4,
        None,
        one_q=("gpi", "gpi2"),
        two_q="ms",
        e1=5e-4,
        e2=4e-3,
        ro=4e-3,
        t1=1e7,
        t2=1e6,
        d1=135000.0,
        d2=600000.0,
        provider=Provider.AWS,
    )
    r = run(adapter, BELL, ionq, shots=1000, seed=9)
    assert set(r.metadata.transpiled_gate_counts) <= {"r", "rxx", "measure"}
    assert r.counts.get("00", 0) + r.counts.get("11", 0) > 950


def test_rigetti_like_iswap_runs_with_its_noise(adapter: LocalAdapter) -> None:
    rigetti = device(
        "test.qpu.rigetti",
        3,
        line_edges(3),
        one_q=("rx", "rz"),
        two_q="iswap",
        e2=0.08,
        ro=0.0,
        t1=None,
        t2=None,
        provider=Provider.AWS,
    )
    r = run(adapter, BELL, rigetti, shots=2000, seed=9)
    assert "iswap" in r.metadata.transpiled_gate_counts
    assert 0.01 < error_rate(r) < 0.3  # the iswap error is applied (by label), not lost


# --------------------------------------------------------------------------------------
# jobs
# --------------------------------------------------------------------------------------


def slow_program(qubits: int = 14, layers: int = 30) -> Program:
    """A mid-circuit measurement stops Aer sampling shots: ~25 ms per shot here."""
    body = f"qreg q[{qubits}]; creg c[{qubits}]; h q; measure q[0] -> c[0]; "
    for k in range(layers):
        body += "".join(f"rx({0.1 * k + 0.3}) q[{i}]; " for i in range(qubits))
        body += "".join(f"cx q[{i}],q[{i + 1}]; " for i in range(qubits - 1))
    return qasm2(body + "measure q -> c;")


def test_same_idempotency_key_gives_one_job_and_one_execution() -> None:
    a = LocalAdapter()

    async def go() -> tuple[str, str, Result]:
        first = await a.submit(BELL, AER, shots=100, options=JobOptions(), idempotency_key="k" * 8)
        again = await a.submit(BELL, AER, shots=100, options=JobOptions(), idempotency_key="k" * 8)
        return first, again, await a.result(first)

    first, again, result = anyio.run(go)
    assert first == again
    assert result.job_id == first
    assert a.executions == 1


def test_cancel_pending_and_running_jobs() -> None:
    a = LocalAdapter(max_workers=1)

    async def go() -> None:
        slow = await a.submit(
            slow_program(), AER, shots=60, options=JobOptions(seed=1), idempotency_key="slow-job"
        )
        queued = await a.submit(BELL, AER, shots=10, options=JobOptions(), idempotency_key="queued")
        assert await a.status(queued) is JobStatus.PENDING
        assert await a.cancel(queued) is JobStatus.CANCELLED
        assert await a.status(queued) is JobStatus.CANCELLED
        while await a.status(slow) is JobStatus.PENDING:
            await anyio.sleep(0.01)
        assert await a.cancel(slow) is JobStatus.CANCELLING
        with pytest.raises(JobFailedError, match="cancelled"):
            await a.result(slow)
        assert await a.status(slow) is JobStatus.CANCELLED
        with pytest.raises(JobFailedError, match="cancelled"):
            await a.result(queued)

    anyio.run(go)
    assert a.executions == 1  # the queued job never ran


def test_submit_returns_before_the_simulation_ends() -> None:
    import time

    a = LocalAdapter()

    async def go() -> None:
        started = time.perf_counter()
        job = await a.submit(
            slow_program(layers=20), AER, shots=30, options=JobOptions(), idempotency_key="quick"
        )
        assert time.perf_counter() - started < 0.2
        assert await a.status(job) in (JobStatus.PENDING, JobStatus.RUNNING)
        result = await a.result(job)
        assert result.shots == 30
        assert await a.status(job) is JobStatus.COMPLETED

    anyio.run(go)


def test_unknown_job_id() -> None:
    a = LocalAdapter()

    async def go() -> None:
        with pytest.raises(JobNotFoundError):
            await a.status("local-nope")
        with pytest.raises(JobNotFoundError):
            await a.result("local-nope")
        with pytest.raises(JobNotFoundError):
            await a.cancel("local-nope")

    anyio.run(go)


def test_a_simulation_failure_makes_the_job_failed(adapter: LocalAdapter) -> None:
    # 40 entangled qubits with non-Clifford rotations under noise: Aer needs a 40-qubit
    # statevector (16 TiB) and refuses; the job ends FAILED with Aer's reason.
    n = 40
    program = qasm2(
        f"qreg q[{n}]; creg c[{n}]; "
        + "".join(f"rx(0.3) q[{i}]; " for i in range(n))
        + "".join(f"cx q[{i}],q[{i + 1}]; " for i in range(n - 1))
        + "measure q -> c;"
    )

    async def go() -> None:
        job = await adapter.submit(
            program, BIG, shots=10, options=JobOptions(seed=1), idempotency_key=uuid.uuid4().hex
        )
        with pytest.raises(JobFailedError, match="Aer failed"):
            await adapter.result(job)
        assert await adapter.status(job) is JobStatus.FAILED

    anyio.run(go)


# --------------------------------------------------------------------------------------
# analog (AHS)
# --------------------------------------------------------------------------------------


def test_ahs_program_runs_on_the_local_simulator(
    adapter: LocalAdapter, hub_ahs_example: dict[str, Any]
) -> None:
    program = ahs_program(hub_ahs_example)
    assert adapter.translate(program, AHS_LOCAL) is program
    r = run(adapter, program, AHS_LOCAL, shots=200, seed=3, memory=True)
    assert sum(r.counts.values()) == 200 == r.shots
    assert all(len(k) == 3 and set(k) <= {"0", "1"} for k in r.counts)
    assert any("1" in k for k in r.counts)  # the drive excites atoms
    assert r.memory is not None and Counter(r.memory) == Counter(r.counts)
    assert not r.metadata.emulated and r.ideal_probabilities is None
    assert "braket_ahs" in (r.metadata.simulator or "")
    assert run(adapter, program, AHS_LOCAL, shots=200, seed=3).counts == r.counts


def test_ahs_empty_site_reads_e_and_emulation_of_a_qpu(
    adapter: LocalAdapter, hub_ahs_example: dict[str, Any]
) -> None:
    program = ahs_program(hub_ahs_example, 4, [1, 1, 1, 0])
    aquila = analog_backend("aws.quera.aquila", Provider.AWS, max_filled=256)
    r = run(adapter, program, aquila, shots=50, seed=1)
    assert r.metadata.emulated
    assert all(len(k) == 4 and k[3] == "e" for k in r.counts)


def test_ahs_limits(adapter: LocalAdapter, hub_ahs_example: dict[str, Any]) -> None:
    def example(n_sites: int = 3) -> Program:
        return ahs_program(copy.deepcopy(hub_ahs_example), n_sites)

    with pytest.raises(UnsupportedError, match="at most 10 filled sites"):
        adapter.translate(example(11), AHS_LOCAL)
    aquila = analog_backend("aws.quera.aquila", Provider.AWS, max_filled=256)
    with pytest.raises(UnsupportedError, match="local AHS simulator takes at most 12"):
        adapter.translate(example(13), aquila)
    with pytest.raises(UnsupportedError, match="analog"):
        adapter.translate(BELL, AHS_LOCAL)
    with pytest.raises(UnsupportedError, match="gate-model backend"):
        adapter.translate(example(), GOOD)


def test_concurrent_jobs_match_sequential_runs(adapter: LocalAdapter) -> None:
    """Two workers share the caches and one AerSimulator per noise model safely."""
    ghz = qasm2("qreg q[3]; creg c[3]; h q[0]; cx q[0],q[1]; cx q[1],q[2]; measure q -> c;")
    cases = [(BELL, GOOD, s) for s in range(3)] + [(ghz, BAD, s) for s in range(3)]
    sequential = [run(adapter, p, b, shots=500, seed=s).counts for p, b, s in cases]
    fresh = LocalAdapter()

    async def go() -> list[dict[str, int]]:
        ids = [
            await fresh.submit(
                p, b, shots=500, options=JobOptions(seed=s), idempotency_key=uuid.uuid4().hex
            )
            for p, b, s in cases
        ]
        return [(await fresh.result(i)).counts for i in ids]

    assert anyio.run(go) == sequential
