"""Anchors for the router benchmark: other ways of choosing a backend, fed the same pool.

Every anchor has one signature::

    choose(circuit: QuantumCircuit, pool: list[Backend], shots: int)
        -> (backend_id, predicted_scores: dict[backend_id, float] | None, seconds)

``predicted_scores`` is the anchor's per-backend figure of merit (higher is better) where it
has one, for the rank correlation with the true fidelities; ``seconds`` is the wall time of
the decision itself (``time.perf_counter``). Converting the circuit into the anchor's own
input form (a QuantSDK ``Circuit``, a qbroker ``Program``) is done once per circuit and
cached before the clock starts, for every anchor alike; so is everything that depends on a
backend alone (its averages, its Qiskit backend object). An anchor that cannot answer raises
:class:`NoAnswer` (with the seconds it spent, e.g. a timeout).

Feasibility shared by the simple anchors (least-busy, lowest median 2q error, random):
gate-model backends with at least ``circuit.num_qubits`` qubits, ``shots`` within their
range, and a status other than OFFLINE, RETIRED or PAUSED (UNKNOWN counts as usable, as the
catalog has no live status). QuantRouter, mapomatic and qbroker apply their own rules.

The anchors
-----------
* :func:`quantrouter` -- TheQuantCloud's ``quantsdk.router.QuantRouter`` (thequantsdk 0.2.0),
  preset ``optimize_for="quality"`` (its name for accuracy). ``QuantRouter(backends=...)``
  replaces its hard-coded table, so it chooses among OUR backends: each pool member becomes
  one ``BackendCapability`` (see :func:`quantrouter_capability` for every field).
* :func:`mapomatic_best` -- mapomatic 0.14.0 ``best_overall_layout`` over the pool's IBM
  members (provider or hardware provider IBM, drifted twins included), each wrapped as a
  Qiskit ``BackendV2`` whose Target is ``qbroker.device.device_model(backend).target`` and
  which answers mapomatic's ``configuration()`` / ``properties()`` calls from the same
  calibration. As in mapomatic's README: transpile once at optimization level 3
  (``seed_transpiler=11``), ``deflate_circuit``, then ``best_overall_layout`` (which runs
  ``matching_layouts`` and ``evaluate_layouts`` per backend). mapomatic only compares
  backends whose basis gates contain the transpiled circuit's gates, so the circuit is
  transpiled once per native-gate family (Heron ``cz`` / Eagle ``ecr``), on that family's
  first backend in pool order, and the families' best layouts are compared by mapomatic's
  own error figure. Runs in a warm worker process with a per-circuit budget of the worker's
  CPU time (default 60 s, ``QBROKER_BENCH_MAPOMATIC_BUDGET``; CPU rather than wall time so
  that other load on the machine does not starve it; wall time capped at 5x); a circuit
  over budget is killed and reported as a timeout (:class:`NoAnswer`). ``seconds`` is wall
  time; ``MapomaticAnchor.last_cpu_s`` the worker's CPU time.
* :func:`least_busy` -- Qiskit's ``least_busy``: the feasible backend with the smallest
  ``status.queue_size``. Ties go to the first in pool order (Qiskit's ``min``); a backend with
  an unknown queue ranks after every known one; so with no queue known anywhere it is the
  first feasible backend in pool order. No per-backend fidelity prediction (scores None).
* :func:`lowest_median_2q` -- the feasible backend with the lowest
  ``Calibration.median_gate_error(2)`` (static: ignores the circuit). Unknown error ranks
  last; ties go to pool order. Scores: ``1 - median 2q error``.
* :func:`random_choice` -- a uniformly random feasible backend (``random.Random`` seeded by
  ``(seed, circuit name, pool ids)``); the scorer reports its exact expectation over seeds.
* :func:`qbroker_route` -- ``qbroker.route(program, shots=shots, optimize_for="accuracy",
  backends=pool)``; scores are the candidates' ``estimates.fidelity``.
"""

from __future__ import annotations

import hashlib
import io
import math
import multiprocessing as mp
import os
import random
import time
import warnings
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from qbroker.model import Backend, BackendStatus, CostGranularity

if TYPE_CHECKING:  # pragma: no cover
    from qiskit import QuantumCircuit

Scores = dict[str, float]
Choice = tuple[str, Scores | None, float]
Anchor = Callable[["QuantumCircuit", Sequence[Backend], int], Choice]

UNAVAILABLE = frozenset({BackendStatus.OFFLINE, BackendStatus.RETIRED, BackendStatus.PAUSED})
#: single-qubit gates every catalog device implements as frame changes (error 0)
VIRTUAL_1Q = frozenset({"rz", "p", "u1", "z", "phaseshift", "virtual_rz"})


class NoAnswer(Exception):
    """The anchor gave no choice (nothing feasible, unsupported input, or over budget)."""

    def __init__(self, reason: str, seconds: float = 0.0, *, timeout: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.seconds = seconds
        self.timeout = timeout


# --------------------------------------------------------------------------------------
# shared helpers
# --------------------------------------------------------------------------------------


def feasible(circuit: QuantumCircuit, pool: Sequence[Backend], shots: int) -> list[Backend]:
    """Pool members that can run the circuit at all (see the module docstring)."""
    n = circuit.num_qubits
    return [
        b
        for b in pool
        if b.is_gate_model
        and b.configuration.qubit_count >= n
        and shots in b.configuration.shots_range
        and b.status.status not in UNAVAILABLE
    ]


def is_ibm(backend: Backend) -> bool:
    """An IBM device (mapomatic's scope), by provider or hardware provider."""
    return "ibm" in (backend.provider.value.lower(), backend.hardware_provider.value.lower())


def _pool_key(pool: Sequence[Backend]) -> str:
    """Identifies the backends by id and by the content of their configuration and
    calibration (a drifted twin re-drawn under the same id and date gets a new key)."""
    h = hashlib.sha256()
    for b in pool:
        h.update(f"{b.id}|{_content_digest(b)}|".encode())
    return h.hexdigest()[:16]


_DIGESTS: dict[int, tuple[Backend, str]] = {}


def _content_digest(b: Backend) -> str:
    hit = _DIGESTS.get(id(b))
    if hit is not None and hit[0] is b:
        return hit[1]
    cal = b.calibration.model_dump_json() if b.calibration else "-"
    digest = hashlib.sha256((b.configuration.model_dump_json() + cal).encode()).hexdigest()
    _DIGESTS[id(b)] = (b, digest)
    return digest


# per-circuit caches, by object identity (QuantumCircuit is unhashable); an entry goes
# away with its circuit
_CIRCUIT_CACHE: dict[int, dict[str, Any]] = {}


def _cached(circuit: QuantumCircuit, key: str, make: Callable[[], Any]) -> Any:
    ident = id(circuit)
    slot = _CIRCUIT_CACHE.get(ident)
    if slot is None:
        slot = _CIRCUIT_CACHE[ident] = {}
        weakref.finalize(circuit, _CIRCUIT_CACHE.pop, ident, None)
    if key not in slot:
        slot[key] = make()
    return slot[key]


def gate_counts(circuit: QuantumCircuit) -> tuple[int, int]:
    """(non-virtual single-qubit gates, multi-qubit gates) of the circuit as written."""
    one = two = 0
    for inst in circuit.data:
        op = inst.operation
        if op.name in ("barrier", "measure", "reset", "delay"):
            continue
        if op.num_qubits == 1:
            one += op.name not in VIRTUAL_1Q
        elif op.num_qubits >= 2:
            two += 1
    return one, two


# --------------------------------------------------------------------------------------
# least busy, lowest median 2q error, random
# --------------------------------------------------------------------------------------


def least_busy(circuit: QuantumCircuit, pool: Sequence[Backend], shots: int) -> Choice:
    start = time.perf_counter()
    cands = feasible(circuit, pool, shots)
    if not cands:
        raise NoAnswer("no feasible backend", time.perf_counter() - start)

    def key(b: Backend) -> tuple[bool, int]:
        q = b.status.queue_size
        return (q is None, q if q is not None else 0)

    best = min(cands, key=key)  # first of equals in pool order, as Qiskit's least_busy
    return best.id, None, time.perf_counter() - start


def lowest_median_2q(circuit: QuantumCircuit, pool: Sequence[Backend], shots: int) -> Choice:
    start = time.perf_counter()
    cands = feasible(circuit, pool, shots)
    if not cands:
        raise NoAnswer("no feasible backend", time.perf_counter() - start)
    errors = {b.id: _median_2q(b) for b in cands}
    best = min(cands, key=lambda b: (math.isnan(errors[b.id]), errors[b.id]))
    scores = {k: 1.0 - v for k, v in errors.items() if not math.isnan(v)}
    return best.id, scores, time.perf_counter() - start


_MEDIAN_2Q: dict[tuple[str, Any], float] = {}


def _median_2q(b: Backend) -> float:
    key = (b.id, b.calibration.calibrated_at if b.calibration else None)
    if key not in _MEDIAN_2Q:
        m = b.calibration.median_gate_error(2) if b.calibration else None
        _MEDIAN_2Q[key] = math.nan if m is None else float(m)
    return _MEDIAN_2Q[key]


def random_choice(
    circuit: QuantumCircuit, pool: Sequence[Backend], shots: int, *, seed: int = 0
) -> Choice:
    start = time.perf_counter()
    cands = feasible(circuit, pool, shots)
    if not cands:
        raise NoAnswer("no feasible backend", time.perf_counter() - start)
    rng = random.Random(f"{seed}|{circuit.name}|{','.join(b.id for b in pool)}")
    return rng.choice(cands).id, None, time.perf_counter() - start


def random_expectation(circuit: QuantumCircuit, pool: Sequence[Backend], shots: int) -> list[str]:
    """The backends the random anchor picks uniformly from (its exact distribution)."""
    return [b.id for b in feasible(circuit, pool, shots)]


# --------------------------------------------------------------------------------------
# TheQuantCloud's QuantRouter (thequantsdk 0.2.0, quantsdk.router)
# --------------------------------------------------------------------------------------

#: wall time assumed for a job priced per second or minute: a fixed overhead plus a
#: per-shot repetition time (IBM's default rep delay is 250 us; a shot of a short circuit
#: with readout and reset takes ~0.5 ms on superconducting devices).
RUNTIME_OVERHEAD_S = 1.0
RUNTIME_PER_SHOT_S = 5e-4


def job_cost_usd(backend: Backend, shots: int, n1q: int, n2q: int) -> float:
    """The job's list price in USD for the pool's pricing items (all USD in our catalog)."""
    runtime_s = RUNTIME_OVERHEAD_S + shots * RUNTIME_PER_SHOT_S
    total = 0.0
    for item in backend.pricing.items:
        g = item.granularity
        if g is CostGranularity.TASK:
            total += item.amount
        elif g is CostGranularity.SHOT:
            total += item.amount * shots
        elif g is CostGranularity.GATE_1Q_SHOT:
            total += item.amount * shots * n1q
        elif g is CostGranularity.GATE_2Q_SHOT:
            total += item.amount * shots * n2q
        elif g is CostGranularity.SECOND:
            total += item.amount * runtime_s
        elif g is CostGranularity.MINUTE:
            total += item.amount * runtime_s / 60.0
    if backend.pricing.minimum_charge:
        total = max(total, backend.pricing.minimum_charge)
    return total


_AVERAGES: dict[tuple[str, Any], tuple[float, float]] = {}


def average_fidelities(b: Backend) -> tuple[float, float]:
    """(1 - median 1q gate error, 1 - median 2q gate error): the device's typical figures.

    QuantRouter's fields are called ``avg_*_fidelity``; its own table holds typical
    published figures (``ibm_brisbane``: 0.9996 / 0.99, i.e. IBM's median errors). We feed
    the medians of ``Calibration.median_gate_error`` (worst gate per qubit / per coupler):
    an arithmetic mean would be dominated by the few couplers IBM reports as broken (error
    1.0), putting Heron's "average" 2q error at 4-8 % against a median of 0.3-0.4 %, which
    would misrepresent the devices. A backend without figures gets QuantRouter's default
    (1.0).
    """
    key = (b.id, b.calibration.calibrated_at if b.calibration else None)
    if key in _AVERAGES:
        return _AVERAGES[key]
    cal = b.calibration
    e1 = cal.median_gate_error(1) if cal else None
    e2 = cal.median_gate_error(2) if cal else None
    f1 = 1.0 - e1 if e1 is not None else 1.0
    f2 = 1.0 - e2 if e2 is not None else 1.0
    _AVERAGES[key] = (f1, f2)
    return f1, f2


def quantrouter_capability(b: Backend, shots: int, n1q: int, n2q: int) -> Any:
    """One pool member as QuantRouter's ``BackendCapability``.

    name = our backend id; provider = our provider value; num_qubits = qubit_count;
    is_simulator = type SIMULATOR; native_gates = our native gate names upper-cased (unused
    by its scoring); avg_single/two_qubit_fidelity = :func:`average_fidelities` (medians);
    queue_depth = status.queue_size (unknown -> 0, QuantRouter's default);
    avg_queue_time_sec = status.queue_avg_time_s (unknown -> 0); cost_per_shot = this job's
    list price (:func:`job_cost_usd`, which needs the circuit's gate counts for per-gate-shot
    prices) divided by shots; max_shots = shots_range.max; is_available = status not
    OFFLINE / RETIRED / PAUSED.
    """
    from quantsdk.router import BackendCapability

    f1, f2 = average_fidelities(b)
    return BackendCapability(
        name=b.id,
        provider=b.provider.value.lower(),
        num_qubits=b.configuration.qubit_count,
        is_simulator=b.is_simulator,
        native_gates=frozenset(n.upper() for n in b.configuration.native_gate_names),
        avg_single_qubit_fidelity=f1,
        avg_two_qubit_fidelity=f2,
        queue_depth=b.status.queue_size or 0,
        avg_queue_time_sec=b.status.queue_avg_time_s or 0.0,
        cost_per_shot=job_cost_usd(b, shots, n1q, n2q) / max(shots, 1),
        max_shots=b.configuration.shots_range.max,
        is_available=b.is_gate_model and b.status.status not in UNAVAILABLE,
    )


def to_quantsdk(circuit: QuantumCircuit) -> Any:
    """The circuit as a QuantSDK ``Circuit``; gates it cannot import are decomposed first
    (Qiskit's ``decompose`` on those gates only, up to 8 rounds)."""
    from quantsdk.interop.qiskit_interop import _QISKIT_GATE_MAP, from_qiskit

    known = set(_QISKIT_GATE_MAP) | {"measure", "barrier", "reset"}
    qc = circuit
    for _ in range(8):
        unknown = {i.operation.name for i in qc.data} - known
        if not unknown:
            break
        qc = qc.decompose(gates_to_decompose=sorted(unknown))
    return from_qiskit(qc)


def quantrouter(circuit: QuantumCircuit, pool: Sequence[Backend], shots: int) -> Choice:
    from quantsdk.router import QuantRouter, RoutingConstraints

    qsdk = _cached(circuit, "quantsdk", lambda: to_quantsdk(circuit))
    counts = _cached(circuit, "gate_counts", lambda: gate_counts(circuit))
    start = time.perf_counter()
    caps = [quantrouter_capability(b, shots, *counts) for b in pool if b.is_gate_model]
    if not caps:  # QuantRouter(backends=[]) would fall back to its own table
        raise NoAnswer("no gate-model backend in the pool", time.perf_counter() - start)
    router = QuantRouter(backends=caps)
    try:
        decision = router.route(qsdk, constraints=RoutingConstraints(optimize_for="quality"))
    except ValueError as exc:
        raise NoAnswer(str(exc), time.perf_counter() - start) from exc
    seconds = time.perf_counter() - start
    return decision.backend, dict(decision.scores), seconds


# --------------------------------------------------------------------------------------
# qbroker
# --------------------------------------------------------------------------------------


def to_program(circuit: QuantumCircuit) -> Any:
    """The circuit as a qbroker Program (QPY payload: lossless for any circuit)."""
    import qiskit.qpy

    from qbroker.model import InputFormat, Program

    buf = io.BytesIO()
    qiskit.qpy.dump(circuit, buf)
    return Program(format=InputFormat.QISKIT_QPY, payload=buf.getvalue(), name=circuit.name)


#: How the jobs whose backend qbroker chooses will be compiled (optimization level, seed):
#: the ground truth's settings (ground_truth.py), as a user who then runs
#: ``qbroker run --optimization-level 3 --seed 11`` tells ``qbroker route``. The router
#: compiles with them only to settle close calls between backends that need SWAPs.
QBROKER_COMPILE = (3, 11)


def qbroker_route(circuit: QuantumCircuit, pool: Sequence[Backend], shots: int) -> Choice:
    return _qbroker(circuit, pool, shots, seed=QBROKER_COMPILE[1], refine=True)


def qbroker_other_seed(circuit: QuantumCircuit, pool: Sequence[Backend], shots: int) -> Choice:
    """qbroker told seed 0 while the measured jobs were compiled with seed 11: close calls
    are settled on a compile that is not the one measured (robustness row)."""
    return _qbroker(circuit, pool, shots, seed=0, refine=True)


def qbroker_no_refine(circuit: QuantumCircuit, pool: Sequence[Backend], shots: int) -> Choice:
    """qbroker's estimates alone (``--no-refine``)."""
    return _qbroker(circuit, pool, shots, seed=QBROKER_COMPILE[1], refine=False)


def _qbroker(
    circuit: QuantumCircuit, pool: Sequence[Backend], shots: int, *, seed: int, refine: bool
) -> Choice:
    import qbroker

    program = _cached(circuit, "program", lambda: to_program(circuit))
    policy = qbroker.Policy(optimize_for="accuracy", refine=refine)
    start = time.perf_counter()
    decision = qbroker.route(
        program,
        shots=shots,
        policy=policy,
        backends=list(pool),
        optimization_level=QBROKER_COMPILE[0],
        seed=seed,
    )
    seconds = time.perf_counter() - start
    if not decision.backend_id:
        reasons = "; ".join(f"{r.backend_id}: {r.reason}" for r in decision.rejected[:3])
        raise NoAnswer(f"no candidate ({reasons})", seconds)
    scores = {
        c.backend_id: float(c.estimates.fidelity)
        for c in decision.candidates
        if getattr(c.estimates, "fidelity", None) is not None
    }
    return decision.backend_id, scores, seconds


# --------------------------------------------------------------------------------------
# mapomatic
# --------------------------------------------------------------------------------------

MAPOMATIC_SEED = 11
MAPOMATIC_BUDGET_S = float(os.environ.get("QBROKER_BENCH_MAPOMATIC_BUDGET", "60"))


def _calibrated_backend_class() -> type:
    """A BackendV2 over qbroker's device model, answering mapomatic's V1-style calls."""
    from types import SimpleNamespace

    from qiskit.providers import BackendV2, Options

    class _Properties:
        def __init__(self, target: Any) -> None:
            self._target = target

        def gate_error(self, gate: str, qubits: Any) -> float:
            qargs = (qubits,) if isinstance(qubits, int) else tuple(qubits)
            props = self._target[gate].get(qargs)
            return float(props.error) if props is not None and props.error is not None else 0.0

        def readout_error(self, qubit: int) -> float:
            props = self._target["measure"].get((qubit,))
            return float(props.error) if props is not None and props.error is not None else 0.0

    class CalibratedBackend(BackendV2):  # type: ignore[misc]
        def __init__(self, backend: Backend) -> None:
            from qbroker.device import device_model

            super().__init__(name=backend.id, description=backend.display_name)
            self._target = device_model(backend).target
            edges = self._target.build_coupling_map()
            self._config = SimpleNamespace(
                backend_name=backend.id,
                num_qubits=self._target.num_qubits,
                basis_gates=sorted(
                    n
                    for n in self._target.operation_names
                    if n not in ("measure", "reset", "delay")
                ),
                coupling_map=[list(e) for e in edges.get_edges()] if edges else [],
                simulator=False,
                processor_type={},
            )
            self._props = _Properties(self._target)

        @property
        def target(self) -> Any:
            return self._target

        @property
        def max_circuits(self) -> None:
            return None

        @classmethod
        def _default_options(cls) -> Any:
            return Options(shots=1024)

        def run(self, run_input: Any, **options: Any) -> Any:
            raise NotImplementedError("scoring only")

        def configuration(self) -> Any:
            return self._config

        def properties(self) -> Any:
            return self._props

    return CalibratedBackend


def _two_qubit_family(b: Backend) -> str:
    names = sorted(g.name for g in b.configuration.gates if g.qubits == 2 and g.native)
    return ",".join(names) or "-"


def _mapomatic_run(circuit: QuantumCircuit, backends: list[Any], families: list[list[int]]) -> Any:
    """mapomatic's documented flow, once per native-gate family; (best, scores)."""
    import mapomatic as mm
    from qiskit import transpile

    results: list[tuple[Any, str, float]] = []
    for members in families:
        group = [backends[i] for i in members]
        transpiled = transpile(
            circuit, group[0], optimization_level=3, seed_transpiler=MAPOMATIC_SEED
        )
        small = mm.deflate_circuit(transpiled)
        results += mm.best_overall_layout(small, group, successors=True)
    if not results:
        return None, {}
    results.sort(key=lambda r: r[2])
    return results[0][1], {name: 1.0 - float(err) for _, name, err in results}


def _worker(conn: Any) -> None:
    """Worker loop: ("pool", key, [backend json]) | ("run", key, qpy bytes) -> reply."""
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    import mapomatic  # noqa: F401 - import cost paid before any clock starts
    import qiskit.qpy
    from qiskit import QuantumCircuit, transpile

    cls = _calibrated_backend_class()
    pools: dict[str, tuple[list[Any], list[list[int]]]] = {}
    warm = QuantumCircuit(2)
    warm.h(0)
    warm.cx(0, 1)
    warm_done = False
    conn.send(("ready",))
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        if msg[0] == "stop":
            return
        if msg[0] == "pool":
            _, key, docs = msg
            members = [Backend.model_validate_json(d) for d in docs]
            wrapped = [cls(b) for b in members]
            fam: dict[str, list[int]] = {}
            for i, b in enumerate(members):
                fam.setdefault(_two_qubit_family(b), []).append(i)
            pools[key] = (wrapped, list(fam.values()))
            if not warm_done:  # plug-in discovery and first-transpile costs, off the clock
                transpile(warm, wrapped[0], optimization_level=3, seed_transpiler=0)
                warm_done = True
            conn.send(("ok",))
            continue
        _, key, payload = msg
        circuit = qiskit.qpy.load(io.BytesIO(payload))[0]
        wrapped, families = pools[key]
        start, cpu = time.perf_counter(), time.process_time()
        try:
            best, scores = _mapomatic_run(circuit, wrapped, families)
            conn.send(
                ("done", best, scores, time.perf_counter() - start, time.process_time() - cpu)
            )
        except Exception as exc:  # report, keep serving
            conn.send(("error", f"{type(exc).__name__}: {exc}", time.perf_counter() - start))


class MapomaticAnchor:
    """mapomatic's best_overall_layout in a warm worker process with a per-circuit budget."""

    def __init__(self, budget_s: float = MAPOMATIC_BUDGET_S) -> None:
        #: CPU seconds of the worker per circuit (the machine may be shared: a wall-clock
        #: budget would starve mapomatic under load); a wall cap of 5x as a backstop
        self.budget_s = budget_s
        self.wall_cap_s = 5 * budget_s
        self._proc: Any = None
        self._conn: Any = None
        self._pools: set[str] = set()
        #: CPU seconds of the worker for the last answered circuit
        self.last_cpu_s: float | None = None

    def _start(self) -> None:
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe()
        self._proc = ctx.Process(target=_worker, args=(child,), daemon=True)
        self._proc.start()
        child.close()
        self._conn = parent
        self._pools = set()
        if not self._conn.poll(300):
            raise RuntimeError("mapomatic worker did not start")
        self._conn.recv()

    def close(self) -> None:
        if self._proc is not None:
            try:
                self._conn.send(("stop",))
            except (BrokenPipeError, OSError):
                pass
            self._proc.join(5)
            if self._proc.is_alive():
                self._proc.kill()
                self._proc.join()
            self._proc = None

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.join()
            self._proc = None

    def prepare(self, pool: Sequence[Backend]) -> str:
        """Send the IBM members to the worker (Qiskit backends built, warm); returns a key."""
        members = [b for b in pool if is_ibm(b) and b.is_gate_model and b.calibration]
        if not members:
            raise NoAnswer("no IBM backend in the pool")
        key = _pool_key(members)
        if self._proc is None or not self._proc.is_alive():
            self._start()
        if key not in self._pools:
            self._conn.send(("pool", key, [b.model_dump_json() for b in members]))
            if not self._conn.poll(600):
                self._kill()
                raise RuntimeError("mapomatic worker did not take the pool")
            self._conn.recv()
            self._pools.add(key)
        return key

    def __call__(self, circuit: QuantumCircuit, pool: Sequence[Backend], shots: int) -> Choice:
        import psutil
        import qiskit.qpy

        members = [b for b in feasible(circuit, pool, shots) if is_ibm(b) and b.calibration]
        if not members:
            raise NoAnswer("no feasible IBM backend")
        key = self.prepare(members)
        buf = io.BytesIO()
        qiskit.qpy.dump(circuit, buf)
        self.last_cpu_s = None
        worker = psutil.Process(self._proc.pid)
        cpu0 = sum(worker.cpu_times()[:2])
        sent = time.perf_counter()
        self._conn.send(("run", key, buf.getvalue()))
        while not self._conn.poll(0.25):
            waited = time.perf_counter() - sent
            try:
                used = sum(worker.cpu_times()[:2]) - cpu0
            except psutil.Error:
                used = waited
            if used > self.budget_s or waited > self.wall_cap_s:
                self._kill()  # the next call starts a fresh worker
                self.last_cpu_s = used
                what = "CPU" if used > self.budget_s else "wall"
                raise NoAnswer(
                    f"timeout after {self.budget_s:g} CPU-s"
                    if what == "CPU"
                    else f"timeout after {self.wall_cap_s:g} s wall",
                    waited,
                    timeout=True,
                )
        reply = self._conn.recv()
        if reply[0] == "error":
            raise NoAnswer(reply[1], reply[2])
        _, best, scores, seconds, self.last_cpu_s = reply
        if best is None:
            raise NoAnswer("no layout on any IBM backend", seconds)
        return best, scores, seconds


_MAPOMATIC: MapomaticAnchor | None = None


def mapomatic_best(circuit: QuantumCircuit, pool: Sequence[Backend], shots: int) -> Choice:
    """The module-level mapomatic anchor (one shared worker)."""
    global _MAPOMATIC
    if _MAPOMATIC is None:
        _MAPOMATIC = MapomaticAnchor()
    return _MAPOMATIC(circuit, pool, shots)


#: name -> anchor, in report order
ANCHORS: dict[str, Anchor] = {
    "qbroker": qbroker_route,
    "quantrouter": quantrouter,
    "mapomatic": mapomatic_best,
    "least_busy": least_busy,
    "lowest_median_2q": lowest_median_2q,
    "random": random_choice,
}
#: Variants of qbroker scored beside the anchors in the quality table (not timed, not
#: judged by the targets).
QUALITY_VARIANTS: dict[str, Anchor] = {
    "qbroker, told seed 0 (jobs compiled with 11)": qbroker_other_seed,
    "qbroker, estimates only (--no-refine)": qbroker_no_refine,
}
