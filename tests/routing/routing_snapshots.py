"""Hand-made backend snapshots for the routing tests (imported by basename: pytest puts
this folder on sys.path)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from qbroker import (
    Backend,
    Calibration,
    Configuration,
    Connectivity,
    CostItem,
    DataSource,
    Gate,
    GateCalibration,
    LiveStatus,
    Location,
    Pricing,
    QubitCalibration,
)
from qbroker.model import AvailabilityWindow

SOURCE = DataSource(source="hand-made for tests", retrieved_at=date(2026, 1, 1))


def line_backend(
    backend_id: str,
    *,
    n: int = 6,
    cz_error: float | list[float] = 0.01,
    readout: float = 0.02,
    price_per_shot: float = 0.001,
    queue_s: float | None = 60.0,
    status: str = "ONLINE",
    country: str = "US",
    eu: bool = False,
    availability: tuple[AvailabilityWindow, ...] = (),
) -> Backend:
    errors = cz_error if isinstance(cz_error, list) else [cz_error] * (n - 1)
    gates = [
        GateCalibration(gate="cz", qubits=(i, i + 1), error=errors[i], duration_ns=80)
        for i in range(n - 1)
    ] + [GateCalibration(gate="sx", qubits=(i,), error=3e-4, duration_ns=36) for i in range(n)]
    return Backend(
        id=backend_id,
        name=backend_id,
        display_name=backend_id,
        provider="IBM",
        hardware_provider="IBM",
        type="QPU",
        technology="SUPERCONDUCTING",
        configuration=Configuration(
            qubit_count=n,
            gates=(
                Gate(name="cz", qubits=2),
                Gate(name="sx"),
                Gate(name="rz", parameters=1),
                Gate(name="x"),
            ),
            operations=("measure", "reset"),
            connectivity=Connectivity(
                fully_connected=False, edges=tuple((i, i + 1) for i in range(n - 1))
            ),
            supported_input_formats=("OPEN_QASM_V2", "OPEN_QASM_V3"),
        ),
        calibration=Calibration(
            calibrated_at=datetime(2026, 1, 1, tzinfo=UTC),
            source="hand-made",
            qubits=tuple(
                QubitCalibration(qubit=i, t1_us=150.0, t2_us=120.0, readout_error=readout)
                for i in range(n)
            ),
            gates=tuple(gates),
        ),
        status=LiveStatus(status=status, queue_size=None, queue_avg_time_s=queue_s),
        pricing=Pricing(
            items=(CostItem(granularity="shot", amount=price_per_shot, currency="USD"),)
        ),
        location=Location(region="Lab", country=country, eu_sovereignty=eu),
        availability=availability,
        data_source=SOURCE,
        updated_at=date(2026, 1, 1),
    )
