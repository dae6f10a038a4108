"""BRAKET_AHS_PROGRAM: Braket's own IR model accepts what qbroker writes, valid programs run
on Braket's local AHS simulator, every device limit is checked with a message naming the
value and the limit, and analog programs never turn into gate-model ones."""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest

import qbroker
from qbroker import InputFormat, Program, UnsupportedError
from qbroker.formats import WriteOptions, convert
from qbroker.formats.ahs import check_ahs_limits, write_ahs
from qbroker.model import Backend

UM = 1e-6
US = 1e-6


def ahs(
    sites: list[list[float]],
    filling: list[int] | None = None,
    *,
    amplitude: tuple[list[float], list[float]] | None = None,
    detuning: tuple[list[float], list[float]] | None = None,
    local: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An AHS program in Braket IR. The default drive is a pi pulse: ramps of 0.1 µs and a
    0.2 µs plateau at pi / 0.3 µs = 1.047e7 rad/s (area pi)."""
    omega = math.pi / (0.3 * US)
    times, values = amplitude or (
        [0.0, 0.1 * US, 0.3 * US, 0.4 * US],
        [0.0, omega, omega, 0.0],
    )
    d_times, d_values = detuning or ([0.0, 0.4 * US], [0.0, 0.0])
    program: dict[str, Any] = {
        "setup": {
            "ahs_register": {
                "sites": sites,
                "filling": filling if filling is not None else [1] * len(sites),
            }
        },
        "hamiltonian": {
            "drivingFields": [
                {
                    "amplitude": {
                        "time_series": {"values": values, "times": times},
                        "pattern": "uniform",
                    },
                    "phase": {
                        "time_series": {"values": [0.0, 0.0], "times": [0.0, times[-1]]},
                        "pattern": "uniform",
                    },
                    "detuning": {
                        "time_series": {"values": d_values, "times": d_times},
                        "pattern": "uniform",
                    },
                }
            ],
            "localDetuning": [local] if local else [],
        },
    }
    return program


def program_of(document: dict[str, Any]) -> Program:
    return Program(format=InputFormat.BRAKET_AHS_PROGRAM, payload=document)


#: Aquila's limits as AWS's GetDevice reports them today (amazon-braket-examples,
#: 01_Introduction_to_Aquila.ipynb at 1687702e; QuEra's Bloqade docs agree). The tests pin
#: them so that they test the checks, not the catalog snapshot of the day.
PUBLISHED_AQUILA: dict[str, Any] = {
    "max_sites": 256,
    "max_filled_sites": 256,
    "field_of_view_width_m": 75e-6,
    "field_of_view_height_m": 76e-6,
    "min_site_spacing_m": 4e-6,
    "min_row_spacing_m": 4e-6,
    "position_resolution_m": 1e-7,
    "max_rabi_frequency_rad_per_s": 15.8e6,
    "max_rabi_slew_rate_rad_per_s2": 2.5e14,
    "max_detuning_rad_per_s": 125e6,
    "max_detuning_slew_rate_rad_per_s2": 2.5e15,
    "max_local_detuning_rad_per_s": None,
    "time_resolution_s": 1e-9,
    "min_time_step_s": 5e-8,
    "max_duration_s": 4e-6,
}


@pytest.fixture(scope="module")
def aquila() -> Backend:
    return with_limits(qbroker.backend("aws.quera.aquila"), **PUBLISHED_AQUILA)


def with_limits(backend: Backend, **limits: Any) -> Backend:
    """A copy of ``backend`` with some analog limits changed."""
    props = backend.configuration.analog_properties
    assert props is not None
    configuration = backend.configuration.model_copy(
        update={"analog_properties": props.model_copy(update=limits)}
    )
    return backend.model_copy(update={"configuration": configuration})


# --------------------------------------------------------------------------------------
# what qbroker writes is what Braket reads
# --------------------------------------------------------------------------------------


def test_written_program_is_accepted_by_braket_ir_model(aquila: Backend) -> None:
    from braket.ir.ahs import Program as BraketProgram

    source = program_of(ahs([[0.0, 0.0], [0.0, 5e-6], [5e-6, 0.0]]))
    written = convert(source, InputFormat.BRAKET_AHS_PROGRAM, aquila)
    parsed = BraketProgram.parse_obj(written.payload)
    assert parsed == source.parsed.ir
    assert [list(map(float, s)) for s in parsed.setup.ahs_register.sites] == [
        [0.0, 0.0],
        [0.0, 5e-6],
        [5e-6, 0.0],
    ]


def test_hub_example_fits_aquila_with_its_published_rabi_limit(
    aquila: Backend, hub_ahs_example: dict[str, Any]
) -> None:
    # Aquila's published rabiFrequencyRange is [0, 15.8e6] rad/s: the example's 15.7e6 rad/s
    # drive fits. Against 4*pi*1e6 = 1.2566e7 rad/s (an older GetDevice capture, the
    # catalog's value at the time of writing) it does not.
    check_ahs_limits(program_of(hub_ahs_example), aquila)
    with pytest.raises(UnsupportedError, match=r"reaches 1\.57e\+07 rad/s at t = 1 µs"):
        check_ahs_limits(
            program_of(hub_ahs_example), with_limits(aquila, max_rabi_frequency_rad_per_s=1.2566e7)
        )


def test_valid_program_runs_on_local_ahs_simulator() -> None:
    # A pi pulse on a blockaded pair (4 µm apart), an empty site and a free atom 20 µm
    # further: the free atom ends in the Rydberg state, the pair never both, the empty site
    # reads 'e'.
    sites = [[0.0, 0.0], [4 * UM, 0.0], [24 * UM, 0.0], [44 * UM, 0.0]]
    program = program_of(ahs(sites, [1, 1, 0, 1]))
    result = qbroker.run(program, backend="local.sim.braket_ahs", shots=200, seed=7)
    assert result.shots == sum(result.counts.values()) == 200
    assert all(len(k) == 4 and k[2] == "e" for k in result.counts)
    free_atom_excited = sum(n for k, n in result.counts.items() if k[3] == "1")
    pair_both_excited = sum(n for k, n in result.counts.items() if k[:2] == "11")
    assert free_atom_excited >= 180
    assert pair_both_excited <= 10


# --------------------------------------------------------------------------------------
# every limit, with its value and the limit in the message
# --------------------------------------------------------------------------------------


def test_site_spacing(aquila: Backend) -> None:
    sites = [[0.0, 0.0], [10 * UM, 0.0], [20 * UM, 0.0], [30 * UM, 0.0], [12.1 * UM, 0.0]]
    with pytest.raises(UnsupportedError) as err:
        check_ahs_limits(program_of(ahs(sites)), aquila)
    assert str(err.value) == "sites 1 and 4 are 2.1 µm apart; aws.quera.aquila needs >= 4 µm"


def test_site_spacing_counts_empty_sites(aquila: Backend) -> None:
    sites = [[0.0, 0.0], [0.0, 30 * UM], [3 * UM, 30 * UM]]
    with pytest.raises(UnsupportedError, match=r"sites 1 and 2 are 3 µm apart"):
        check_ahs_limits(program_of(ahs(sites, [1, 0, 1])), aquila)


def test_row_spacing(aquila: Backend) -> None:
    rows = with_limits(aquila, min_site_spacing_m=1 * UM, min_row_spacing_m=4 * UM)
    sites = [[0.0, 0.0], [10 * UM, 2 * UM]]
    with pytest.raises(UnsupportedError) as err:
        check_ahs_limits(program_of(ahs(sites)), rows)
    assert str(err.value) == (
        "rows at y = 0 µm and y = 2 µm are 2 µm apart; aws.quera.aquila needs >= 4 µm between rows"
    )


def test_field_of_view(aquila: Backend) -> None:
    wide = [[0.0, 0.0], [80 * UM, 0.0]]
    with pytest.raises(
        UnsupportedError, match=r"register is 80 µm wide .*field of view is 75 µm wide"
    ):
        check_ahs_limits(program_of(ahs(wide)), aquila)
    tall = [[0.0, 0.0], [0.0, 120 * UM]]
    with pytest.raises(UnsupportedError, match=r"120 µm tall .*field of view is 76 µm tall"):
        check_ahs_limits(program_of(ahs(tall)), aquila)


def test_position_resolution(aquila: Backend) -> None:
    sites = [[0.0, 0.0], [5.05 * UM, 0.0]]
    with pytest.raises(UnsupportedError) as err:
        check_ahs_limits(program_of(ahs(sites)), aquila)
    assert str(err.value) == (
        "site 1 has x = 5.05 µm, not a multiple of aws.quera.aquila's 0.1 µm position resolution"
    )


def test_site_counts() -> None:
    local = qbroker.backend("local.sim.braket_ahs")
    eleven = [[5 * UM * i, 0.0] for i in range(11)]
    with pytest.raises(UnsupportedError) as err:
        check_ahs_limits(program_of(ahs(eleven)), local)
    assert str(err.value) == (
        "the program fills 11 sites; local.sim.braket_ahs takes at most 10 filled sites"
    )
    few = with_limits(local, max_sites=3)
    with pytest.raises(
        UnsupportedError, match=r"has 4 sites; local.sim.braket_ahs takes at most 3"
    ):
        check_ahs_limits(program_of(ahs(eleven[:4], [1, 0, 0, 1])), few)


def test_rabi_frequency_and_slew_rate(aquila: Backend) -> None:
    strong = ahs(
        [[0.0, 0.0]], amplitude=([0.0, 0.1 * US, 0.3 * US, 0.4 * US], [0.0, 2e7, 2e7, 0.0])
    )
    with pytest.raises(UnsupportedError) as err:
        check_ahs_limits(program_of(strong), aquila)
    assert str(err.value) == (
        "drivingFields[0].amplitude: the Rabi frequency reaches 2e+07 rad/s at t = 0.1 µs; "
        "aws.quera.aquila allows at most 1.58e+07 rad/s"
    )
    steep = ahs(
        [[0.0, 0.0]], amplitude=([0.0, 0.05 * US, 0.3 * US, 0.4 * US], [0.0, 1.5e7, 1.5e7, 0.0])
    )
    with pytest.raises(UnsupportedError) as err:
        check_ahs_limits(program_of(steep), aquila)
    assert str(err.value) == (
        "drivingFields[0].amplitude: the Rabi frequency changes at 3e+14 rad/s² between "
        "t = 0 µs and 0.05 µs; aws.quera.aquila allows at most 2.5e+14 rad/s²"
    )
    negative = ahs([[0.0, 0.0]], amplitude=([0.0, 0.1 * US, 0.2 * US], [0.0, -1e6, 0.0]))
    with pytest.raises(UnsupportedError, match=r"Rabi frequency is -1e\+06 rad/s .*at least 0"):
        check_ahs_limits(program_of(negative), aquila)


def test_detuning_and_slew_rate(aquila: Backend) -> None:
    big = ahs([[0.0, 0.0]], detuning=([0.0, 0.4 * US], [-2e8, 0.0]))
    with pytest.raises(UnsupportedError) as err:
        check_ahs_limits(program_of(big), aquila)
    assert str(err.value) == (
        "drivingFields[0].detuning: the detuning is -2e+08 rad/s at t = 0 µs; "
        "aws.quera.aquila allows at least -1.25e+08 rad/s"
    )
    steep = ahs([[0.0, 0.0]], detuning=([0.0, 0.05 * US, 0.4 * US], [-1.2e8, 1.2e8, 1.2e8]))
    with pytest.raises(
        UnsupportedError, match=r"detuning changes at 4\.8e\+15 rad/s² .* at most 2\.5e\+15"
    ):
        check_ahs_limits(program_of(steep), aquila)


def test_time_limits(aquila: Backend) -> None:
    long = ahs([[0.0, 0.0]], amplitude=([0.0, 1 * US, 4.5 * US, 5 * US], [0.0, 1e6, 1e6, 0.0]))
    with pytest.raises(UnsupportedError) as err:
        check_ahs_limits(program_of(long), aquila)
    assert str(err.value) == (
        "drivingFields[0].amplitude lasts until t = 5 µs; aws.quera.aquila allows at most 4 µs"
    )
    odd = ahs(
        [[0.0, 0.0]], amplitude=([0.0, 0.1005 * US, 0.3 * US, 0.4 * US], [0.0, 1e6, 1e6, 0.0])
    )
    with pytest.raises(UnsupportedError) as err:
        check_ahs_limits(program_of(odd), aquila)
    assert str(err.value) == (
        "drivingFields[0].amplitude has a point at t = 0.1005 µs, not a multiple of "
        "aws.quera.aquila's 1 ns time resolution"
    )
    close = ahs(
        [[0.0, 0.0]], amplitude=([0.0, 0.1 * US, 0.105 * US, 0.4 * US], [0.0, 1e6, 1e6, 0.0])
    )
    with pytest.raises(UnsupportedError) as err:
        check_ahs_limits(program_of(close), aquila)
    assert str(err.value) == (
        "drivingFields[0].amplitude has points 5 ns apart (t = 0.1 µs and 0.105 µs); "
        "aws.quera.aquila needs >= 50 ns between points"
    )


def test_local_detuning(aquila: Backend) -> None:
    magnitude = {
        "time_series": {
            "values": [0.0, 5e7, 5e7, 0.0],
            "times": [0.0, 0.1 * US, 0.3 * US, 0.4 * US],
        },
        "pattern": [0.5, 1.0],
    }
    sites = [[0.0, 0.0], [10 * UM, 0.0]]
    # Aquila lists no local-detuning limit (by request only): the magnitude is not bounded.
    check_ahs_limits(program_of(ahs(sites, local={"magnitude": magnitude})), aquila)
    bounded = with_limits(aquila, max_local_detuning_rad_per_s=2e7)
    with pytest.raises(UnsupportedError) as err:
        check_ahs_limits(program_of(ahs(sites, local={"magnitude": magnitude})), bounded)
    assert str(err.value) == (
        "localDetuning[0].magnitude: the local detuning reaches 5e+07 rad/s at t = 0.1 µs; "
        "aws.quera.aquila allows at most 2e+07 rad/s"
    )
    outside = copy.deepcopy(magnitude)
    outside["pattern"] = [0.5, 1.5]
    with pytest.raises(
        UnsupportedError, match=r"localDetuning\[0\]\.magnitude\.pattern\[1\] is 1\.5"
    ):
        check_ahs_limits(program_of(ahs(sites, local={"magnitude": outside})), aquila)


def test_writer_checks_limits_of_the_backend_it_is_given(aquila: Backend) -> None:
    close = program_of(ahs([[0.0, 0.0], [2 * UM, 0.0]]))
    assert convert(close, InputFormat.BRAKET_AHS_PROGRAM).payload  # no backend, no limits
    with pytest.raises(UnsupportedError, match=r"sites 0 and 1 are 2 µm apart"):
        convert(close, InputFormat.BRAKET_AHS_PROGRAM, aquila)
    with pytest.raises(UnsupportedError, match=r"local.sim.aer does not run analog"):
        write_ahs(close.parsed, qbroker.backend("local.sim.aer"), WriteOptions())


def test_spacing_check_is_linear() -> None:
    # 10,000 sites on a 4 µm grid: the cell grid compares each site with its neighbours only
    # (all pairs would be 50 million distances).
    import time

    big = with_limits(
        qbroker.backend("aws.quera.aquila"),
        max_sites=100_000,
        max_filled_sites=100_000,
        field_of_view_width_m=1.0,
        field_of_view_height_m=1.0,
    )
    sites = [[4e-6 * (i % 100), 4e-6 * (i // 100)] for i in range(10_000)]
    program = program_of(ahs(sites, [0] * len(sites)))
    started = time.perf_counter()
    check_ahs_limits(program, big)
    assert time.perf_counter() - started < 1.0


# --------------------------------------------------------------------------------------
# analog never becomes gate-model
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["OPEN_QASM_V2", "OPEN_QASM_V3", "QISKIT_QPY"])
def test_ahs_to_gate_formats_is_refused_with_a_reason(
    target: str, hub_ahs_example: dict[str, Any]
) -> None:
    program = program_of(hub_ahs_example)
    with pytest.raises(UnsupportedError) as err:
        convert(program, target)
    assert str(err.value) == (
        f"an analog (AHS) program cannot become {target}: it describes a Hamiltonian over "
        "time, not a sequence of gates"
    )


def test_gate_to_ahs_is_refused_with_a_reason() -> None:
    bell = Program(
        format=InputFormat.OPEN_QASM_V2,
        payload='OPENQASM 2.0; include "qelib1.inc"; qreg q[2]; h q[0]; cx q[0],q[1];',
    )
    with pytest.raises(UnsupportedError, match="no faithful gate-to-Hamiltonian translation"):
        convert(bell, InputFormat.BRAKET_AHS_PROGRAM)
