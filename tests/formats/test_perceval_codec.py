"""PERCEVAL: gate-model circuits as dual-rail Perceval experiments, read back by Perceval,
emulated exactly with SLOS on the local adapter, decoded into qbroker's bit order, and
checked against the photonic backends' mode and photon limits."""

from __future__ import annotations

import math
import zlib
from base64 import b64encode

import pytest
from qiskit import QuantumCircuit
from qiskit.circuit.random import random_circuit
from qiskit.quantum_info import Statevector

import qbroker
from qbroker import InputFormat, Program, ProgramError, UnsupportedError
from qbroker.adapters.local import LocalAdapter
from qbroker.adapters.local._photonic import exact_distribution
from qbroker.formats import WriteOptions, convert, detect_format
from qbroker.formats.perceval import PhotonicProgram, fock_states, write_perceval
from qbroker.model import hellinger_fidelity

HEADER = 'OPENQASM 2.0; include "qelib1.inc"; '


def qasm(body: str) -> Program:
    return Program(format=InputFormat.OPEN_QASM_V2, payload=HEADER + body)


def photonic(circuit: QuantumCircuit) -> Program:
    text = write_perceval(circuit, None, WriteOptions())
    return Program(format=InputFormat.PERCEVAL, payload=text)


def ideal(circuit: QuantumCircuit) -> dict[str, float]:
    """Exact outcome probabilities, classical bit 0 leftmost, for terminal measurements."""
    unitary = circuit.remove_final_measurements(inplace=False)
    reads = {
        circuit.find_bit(i.clbits[0]).index: circuit.find_bit(i.qubits[0]).index
        for i in circuit.data
        if i.operation.name == "measure"
    }
    out: dict[str, float] = {}
    for index, p in enumerate(Statevector(unitary).probabilities()):
        if p < 1e-12:
            continue
        key = "".join(
            str((index >> reads[c]) & 1) if c in reads else "0" for c in range(circuit.num_clbits)
        )
        out[key] = out.get(key, 0.0) + float(p)
    return out


def qpy_bytes(circuit: QuantumCircuit) -> bytes:
    import io

    import qiskit.qpy

    buffer = io.BytesIO()
    qiskit.qpy.dump(circuit, buffer)
    return buffer.getvalue()


BELL = "qreg q[2]; creg c[2]; h q[0]; cx q[0],q[1]; measure q -> c;"
GHZ3 = "qreg q[3]; creg c[3]; h q[0]; cx q[0],q[1]; cx q[1],q[2]; measure q -> c;"


# --------------------------------------------------------------------------------------
# the payload
# --------------------------------------------------------------------------------------


def test_payload_is_perceval_serialised_experiment_read_back_by_perceval() -> None:
    from perceval.serialization import deserialize

    converted = convert(qasm(BELL), InputFormat.PERCEVAL)
    assert isinstance(converted.payload, str) and converted.payload.startswith(":PCVL:")
    assert detect_format(converted.payload) is InputFormat.PERCEVAL
    experiment = deserialize(converted.payload)
    assert type(experiment).__name__ == "Experiment"
    assert experiment.in_port_names[:4] == ["q0", "q0", "q1", "q1"]
    assert str(experiment.input_state) == "|1,0,1,0,0,0>"
    parsed = converted.parsed
    assert isinstance(parsed, PhotonicProgram)
    assert parsed.qubit_modes == (0, 2)
    assert parsed.clbit_qubits == (0, 1)
    # one post-selected CNOT: two empty ancilla modes, no extra photon
    assert (parsed.num_modes, parsed.num_photons) == (6, 2)
    assert parsed.heralds == ((4, 0), (5, 0))
    assert parsed.postselection == "([0, 1] == 1 & [2, 3] == 1)"
    assert type(parsed.processor()).__name__ == "Processor"


def test_reading_back_keeps_every_field() -> None:
    converted = convert(qasm(GHZ3), InputFormat.PERCEVAL)
    again = Program(format=InputFormat.PERCEVAL, payload=converted.payload)
    a, b = converted.parsed, again.parsed
    assert (a.qubit_modes, a.clbit_qubits, a.num_modes, a.num_photons, a.heralds) == (
        b.qubit_modes,
        b.clbit_qubits,
        b.num_modes,
        b.num_photons,
        b.heralds,
    )
    assert a.postselection == b.postselection


def test_perceval_to_perceval_checks_the_backend() -> None:
    program = convert(qasm(GHZ3), InputFormat.PERCEVAL)
    same = convert(program, InputFormat.PERCEVAL, qbroker.backend("quandela.qpu.ascella"))
    assert same.payload == program.payload
    small = qbroker.backend("quandela.qpu.ascella")
    props = small.configuration.photonic_properties
    assert props is not None
    tiny = small.model_copy(
        update={
            "configuration": small.configuration.model_copy(
                update={"photonic_properties": props.model_copy(update={"max_modes": 8})}
            )
        }
    )
    with pytest.raises(
        UnsupportedError,
        match=r"needs 10 modes \(6 for 3 qubits in dual rail, 4 for CNOT ancillas\)",
    ):
        convert(program, InputFormat.PERCEVAL, tiny)


def test_classical_bit_mapping_travels_in_the_experiment() -> None:
    program = qasm("qreg q[3]; creg c[4]; x q[0]; measure q[0] -> c[2]; measure q[2] -> c[0];")
    parsed = convert(program, InputFormat.PERCEVAL).parsed
    assert parsed.clbit_qubits == (2, None, 0, None)
    assert parsed.experiment.name == "qbroker:clbits=2,-,0,-"


# --------------------------------------------------------------------------------------
# local photonic emulation: distributions and bit order
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [(BELL, {"00": 0.5, "11": 0.5}), (GHZ3, {"000": 0.5, "111": 0.5})],
    ids=["bell", "ghz3"],
)
def test_bell_and_ghz_on_the_local_photonic_emulation(
    body: str, expected: dict[str, float]
) -> None:
    result = qbroker.run(qasm(body), backend="quandela.sim.altair", shots=2000, seed=11)
    assert result.shots == 2000 and result.metadata.emulated
    assert hellinger_fidelity(result.probabilities, expected) >= 0.98
    assert result.ideal_probabilities is not None
    assert hellinger_fidelity(result.ideal_probabilities, expected) == pytest.approx(1.0)


def test_postselection_rate_is_reported() -> None:
    bell = qbroker.run(qasm(BELL), backend="quandela.sim.altair", shots=100, seed=1)
    assert bell.metadata.simulator is not None
    assert "keep 11.1% of runs" in bell.metadata.simulator  # one post-selected CNOT: 1/9
    ghz = qbroker.run(qasm(GHZ3), backend="quandela.sim.altair", shots=100, seed=1)
    assert "keep 1.23% of runs" in str(ghz.metadata.simulator)  # two: 1/81


def test_asymmetric_circuit_reads_bit_zero_leftmost() -> None:
    result = qbroker.run(
        qasm("qreg q[2]; creg c[2]; x q[0]; measure q -> c;"),
        backend="quandela.qpu.ascella",
        shots=50,
        seed=3,
    )
    assert result.counts == {"10": 50}


def test_measurement_into_chosen_bits_and_registers() -> None:
    # X on qubit 0 only, measured into c[1]; qubit 2 (after a CNOT from qubit 0) into d[0];
    # c[0] reads qubit 1 (0). Flattened: c[0] c[1] d[0] -> "011".
    program = qasm(
        "qreg q[3]; creg c[2]; creg d[1]; x q[0]; cx q[0],q[2]; "
        "measure q[0] -> c[1]; measure q[1] -> c[0]; measure q[2] -> d[0];"
    )
    result = qbroker.run(program, backend="quandela.sim.altair", shots=40, seed=5)
    assert result.counts == {"011": 40}


def test_seeded_runs_repeat() -> None:
    a = qbroker.run(qasm(BELL), backend="quandela.sim.altair", shots=500, seed=42)
    b = qbroker.run(qasm(BELL), backend="quandela.sim.altair", shots=500, seed=42)
    assert a.counts == b.counts


def test_exact_distribution_equals_the_gate_model_one_on_random_circuits() -> None:
    checked = 0
    for seed in range(40):
        circuit = random_circuit(2 + seed % 2, 3, max_operands=2, measure=True, seed=seed)
        program = photonic(circuit)
        if fock_states(program.parsed.num_modes, program.parsed.num_photons) > 50_000:
            continue
        got, rate = exact_distribution(program)
        assert 0 < rate <= 1
        assert hellinger_fidelity(got, ideal(circuit)) == pytest.approx(1.0, abs=1e-9), seed
        checked += 1
        if checked == 8:
            break
    assert checked == 8


def test_mixed_cnot_conversion_that_perceval_interop_gets_wrong_is_repaired() -> None:
    # perceval-interop 1.2.6 converts this (a controlled-U then a CY sharing a control) with
    # a post-selection on the heralded ancilla modes, which keeps no run at all; qbroker
    # falls back on heralded CNOTs only, which need no post-selection.
    circuit = QuantumCircuit(3, 3)
    circuit.cu(5.8321, 0.44247, 0.81539, 0, 2, 0)
    circuit.y(0)
    circuit.sx(1)
    circuit.cy(2, 1)
    circuit.s(2)
    circuit.measure([0, 1, 2], [0, 1, 2])
    program = photonic(circuit)
    assert program.parsed.postselection == ""
    got, rate = exact_distribution(program)
    assert hellinger_fidelity(got, ideal(circuit)) == pytest.approx(1.0, abs=1e-9)
    assert rate == pytest.approx((2 / 27) ** 3)


def test_memory_holds_every_kept_shot() -> None:
    result = qbroker.run(qasm(BELL), backend="quandela.sim.altair", shots=30, seed=2, memory=True)
    assert result.memory is not None and len(result.memory) == 30
    assert {k: result.memory.count(k) for k in set(result.memory)} == result.counts


def test_translate_converts_gate_programs_for_photonic_backends() -> None:
    adapter = LocalAdapter()
    altair = qbroker.backend("quandela.sim.altair")
    assert adapter.can_run(altair, emulate=True)
    assert not adapter.can_run(altair, emulate=False)
    native = adapter.translate(qasm(BELL), altair)
    assert native.format is InputFormat.PERCEVAL
    assert adapter.translate(native, altair) is native


# --------------------------------------------------------------------------------------
# limits and refusals
# --------------------------------------------------------------------------------------


def test_too_many_qubits_for_the_backend_modes() -> None:
    thirteen = qasm("qreg q[13]; creg c[13]; x q[12]; measure q -> c;")
    with pytest.raises(UnsupportedError) as err:
        convert(thirteen, InputFormat.PERCEVAL, qbroker.backend("quandela.qpu.belenos"))
    assert str(err.value) == (
        "the experiment needs 26 modes (26 for 13 qubits in dual rail); "
        "quandela.qpu.belenos has at most 24"
    )
    with pytest.raises(
        UnsupportedError, match=r"needs 14 modes .*quandela.qpu.ascella has at most 12"
    ):
        qbroker.run(qasm("qreg q[7]; creg c[7]; measure q -> c;"), "quandela.qpu.ascella", shots=10)


def test_too_many_photons_for_the_backend() -> None:
    # CNOTs the converter cannot post-select are heralded: 2 extra photons each.
    swaps = qasm(
        "qreg q[2]; creg c[2]; cx q[0],q[1]; cx q[1],q[0]; cx q[0],q[1]; cx q[1],q[0]; "
        "measure q -> c;"
    )
    parsed = convert(swaps, InputFormat.PERCEVAL).parsed
    assert parsed.num_photons > 6 and parsed.num_modes <= 12
    with pytest.raises(UnsupportedError) as err:
        convert(swaps, InputFormat.PERCEVAL, qbroker.backend("quandela.qpu.ascella"))
    heralded = parsed.num_photons - 2
    assert str(err.value) == (
        f"the experiment needs {parsed.num_photons} photons (2 qubits + {heralded} heralded); "
        "quandela.qpu.ascella has at most 6"
    )


def test_local_emulation_size_is_bounded() -> None:
    from qbroker.adapters.local._photonic import MAX_LOCAL_FOCK_STATES

    chain = "".join(f"cx q[{i}],q[{i + 1}]; cx q[{i + 1}],q[{i}]; " for i in range(3))
    program = qasm(f"qreg q[4]; creg c[4]; {chain} measure q -> c;")
    parsed = convert(program, InputFormat.PERCEVAL).parsed
    assert fock_states(parsed.num_modes, parsed.num_photons) > MAX_LOCAL_FOCK_STATES
    with pytest.raises(UnsupportedError, match=r"the local photonic emulation enumerates at most"):
        qbroker.run(program, "quandela.qpu.belenos", shots=10)


@pytest.fixture
def converter_not_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """perceval-interop's converter replaced by a refusal that says it was reached."""
    import qbroker.formats.perceval as module

    def reached(gates: QuantumCircuit) -> None:
        raise UnsupportedError("the converter was reached")

    monkeypatch.setattr(module, "_convert", reached)


def cnot_chain(qubits: int, cnots: int) -> str:
    gates = "".join(
        f"h q[{i % qubits}]; cx q[{i % qubits}],q[{(i + 1) % qubits}]; " for i in range(cnots)
    )
    return f"qreg q[{qubits}]; creg c[{qubits}]; {gates}measure q -> c;"


@pytest.mark.usefixtures("converter_not_run")
def test_more_cnots_than_the_converter_can_pair_is_refused_before_it_runs() -> None:
    from qbroker.formats.perceval import MAX_CONVERTER_CNOTS

    # a 20-qubit, 601-gate random circuit (which perceval-interop never finishes)
    wide = QuantumCircuit(20, 20)
    for i in range(601):
        wide.h(i % 20) if i % 3 else wide.cx(i % 20, (i * 7 + 1) % 20)
    wide.measure(range(20), range(20))
    with pytest.raises(UnsupportedError, match=rf"at most {MAX_CONVERTER_CNOTS} \(perceval"):
        convert(Program(format="QISKIT_QPY", payload=qpy_bytes(wide)), InputFormat.PERCEVAL)
    over = qasm(cnot_chain(4, MAX_CONVERTER_CNOTS + 1))
    with pytest.raises(UnsupportedError, match=rf"needs {MAX_CONVERTER_CNOTS + 1} CNOTs"):
        convert(over, InputFormat.PERCEVAL)
    at_budget = qasm(cnot_chain(4, MAX_CONVERTER_CNOTS))
    with pytest.raises(UnsupportedError, match="the converter was reached"):
        convert(at_budget, InputFormat.PERCEVAL)


@pytest.mark.usefixtures("converter_not_run")
def test_more_gates_than_the_converter_handles_is_refused_before_it_runs() -> None:
    from qbroker.formats.perceval import MAX_CONVERTER_GATES

    long = "".join(f"x q[{i % 3}]; " for i in range(MAX_CONVERTER_GATES + 1))
    with pytest.raises(UnsupportedError, match=rf"needs {MAX_CONVERTER_GATES + 1:,} photonic"):
        convert(qasm(f"qreg q[3]; creg c[3]; {long}measure q -> c;"), InputFormat.PERCEVAL)


@pytest.mark.usefixtures("converter_not_run")
def test_backend_modes_are_checked_before_the_converter_runs() -> None:
    # 6 qubits in dual rail (12 modes) + 7 CNOTs (2 ancilla modes each) > belenos' 24
    with pytest.raises(UnsupportedError) as err:
        convert(
            qasm(cnot_chain(6, 7)), InputFormat.PERCEVAL, qbroker.backend("quandela.qpu.belenos")
        )
    assert str(err.value) == (
        "the experiment needs 26 modes (12 for 6 qubits in dual rail, 14 for CNOT ancillas); "
        "quandela.qpu.belenos has at most 24"
    )


def test_ancilla_modes_are_two_per_cnot_as_the_early_check_assumes() -> None:
    for qubits, cnots in ((2, 1), (3, 4)):
        parsed = convert(qasm(cnot_chain(qubits, cnots)), InputFormat.PERCEVAL).parsed
        assert parsed.num_modes == 2 * qubits + 2 * cnots


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("qreg q[1]; creg c[1]; measure q[0] -> c[0]; x q[0];", "measured before instruction 1"),
        ("qreg q[1]; creg c[1]; reset q[0]; measure q[0] -> c[0];", "resets a qubit"),
        ("qreg q[1]; creg c[1]; measure q[0] -> c[0]; if (c == 1) x q[0];", "classical control"),
    ],
)
def test_what_a_photonic_experiment_cannot_express(body: str, reason: str) -> None:
    with pytest.raises(UnsupportedError, match=reason):
        convert(qasm(body), InputFormat.PERCEVAL)


def test_program_that_measures_nothing_is_not_run() -> None:
    with pytest.raises(UnsupportedError, match="measures nothing"):
        qbroker.run(qasm("qreg q[1]; x q[0];"), "quandela.sim.altair", shots=10)


def test_not_a_photonic_backend() -> None:
    with pytest.raises(UnsupportedError, match=r"local\.sim\.aer is not a photonic backend"):
        write_perceval(QuantumCircuit(1), qbroker.backend("local.sim.aer"), WriteOptions())


@pytest.mark.parametrize("target", ["OPEN_QASM_V2", "OPEN_QASM_V3", "QISKIT_QPY"])
def test_perceval_to_gate_formats_is_refused_with_a_reason(target: str) -> None:
    program = convert(qasm(BELL), InputFormat.PERCEVAL)
    with pytest.raises(UnsupportedError) as err:
        convert(program, target)
    assert str(err.value) == f"a photonic (Perceval) processor cannot be turned back into {target}"


def test_analog_programs_do_not_run_on_photonic_backends() -> None:
    ahs = {
        "setup": {"ahs_register": {"sites": [[0, 0]], "filling": [1]}},
        "hamiltonian": {
            "drivingFields": [
                {
                    name: {
                        "time_series": {"values": [0.0, 0.0], "times": [0.0, 1e-6]},
                        "pattern": "uniform",
                    }
                    for name in ("amplitude", "phase", "detuning")
                }
            ],
            "localDetuning": [],
        },
    }
    program = Program(format=InputFormat.BRAKET_AHS_PROGRAM, payload=ahs)
    with pytest.raises(UnsupportedError, match="analog"):
        LocalAdapter().translate(program, qbroker.backend("quandela.sim.altair"))


# --------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (":PCVL:zip:not base64!", "does not decode"),
        (":PCVL:nonsense", "expected a serialised Experiment, found 'nonsense'"),
        (":PCVL:BasicState:|1,0>", "found 'BasicState'"),
        (":PCVL:Experiment:AAAA", "Perceval cannot read it"),
        (":PCVL:zip:" + b64encode(zlib.compress(b":PCVL:Experiment:")[:-3]).decode(), "truncated"),
        ("OPENQASM 2.0;", "starts with ':PCVL:'"),
    ],
)
def test_malformed_payloads_give_program_errors(payload: str, message: str) -> None:
    with pytest.raises(ProgramError, match=message):
        Program(format=InputFormat.PERCEVAL, payload=payload)


def test_zip_bomb_is_refused_before_inflating(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QBROKER_MAX_PROGRAM_BYTES", "100000")
    bomb = (
        ":PCVL:zip:" + b64encode(zlib.compress(b":PCVL:Experiment:" + b"A" * 10_000_000)).decode()
    )
    assert len(bomb) < 100_000
    with pytest.raises(ProgramError, match="inflates beyond the 100,000-byte program limit"):
        Program(format=InputFormat.PERCEVAL, payload=bomb)


def test_experiment_without_qubits_is_refused() -> None:
    import perceval as pcvl

    experiment = pcvl.Experiment(2)
    experiment.with_input(pcvl.BasicState([1, 0]))
    text = pcvl.serialization.serialize(experiment)
    with pytest.raises(ProgramError, match="output_ports: the experiment has no dual-rail port"):
        Program(format=InputFormat.PERCEVAL, payload=text)


def test_bad_name_tag_is_refused() -> None:
    import perceval as pcvl

    experiment = convert(qasm(BELL), InputFormat.PERCEVAL).parsed.experiment.copy()
    experiment.name = "qbroker:clbits=0,7"
    text = pcvl.serialization.serialize(experiment)
    with pytest.raises(ProgramError, match="classical bit 1 reads qubit 7"):
        Program(format=InputFormat.PERCEVAL, payload=text)


@pytest.mark.slow  # a fresh interpreter importing Perceval: ~7 s
def test_importing_perceval_leaves_the_excepthook_alone() -> None:
    import subprocess
    import sys

    code = (
        "import sys; hook = sys.excepthook\n"
        "from qbroker.formats.perceval import import_perceval; import_perceval()\n"
        "print(sys.excepthook is hook)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_converting_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    convert(qasm(GHZ3), InputFormat.PERCEVAL)
    captured = capfd.readouterr()
    assert "warning" not in captured.out.lower() and "warning" not in captured.err.lower()


def test_fock_state_count() -> None:
    assert fock_states(6, 2) == math.comb(7, 2) == 21
