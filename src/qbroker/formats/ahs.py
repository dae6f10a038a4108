"""Analog Hamiltonian Simulation programs (Braket's AHS IR), validated by Braket's own model.

Reading checks that the program is well formed (Braket's ``braket.ir.ahs.Program`` model,
finite numbers, two coordinates per site, one filling entry of 0 or 1 per site, patterns
``"uniform"`` or one factor per site), after bounding its size (:data:`MAX_AHS_TERMS`,
:data:`MAX_AHS_NUMBERS`) so that Braket's model never spends seconds on it. Whether a
device can run it is a second question, answered by :func:`check_ahs_limits` against the
device's published analog limits (``Backend.configuration.analog_properties``): field of
view, site and row spacing, position and time resolution, Rabi frequency and detuning with
their slew rates, local detuning, duration and site counts. The writer runs it whenever a
backend is named.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from qbroker.errors import MissingDependencyError, ProgramError, UnsupportedError
from qbroker.formats._codec import Codec, Kind, WriteOptions
from qbroker.model.enums import InputFormat

if TYPE_CHECKING:  # pragma: no cover
    from qbroker.model import Backend
    from qbroker.model.backend import AnalogProperties


@dataclass(frozen=True)
class AnalogProgram:
    """A validated AHS program: Braket's IR object plus what qbroker asks of it."""

    ir: Any  # braket.ir.ahs.Program
    num_sites: int
    num_filled: int
    duration_s: float

    def to_json_dict(self) -> dict[str, Any]:
        import json

        return dict(json.loads(self.ir.json()))


def read_ahs(payload: dict[str, Any]) -> AnalogProgram:
    """Validate an AHS program given as Braket IR, or in the Hub's ``{"ahs_program": ...}``.

    Raises:
        ProgramError: naming the offending field.
        MissingDependencyError: without the braket extra.
    """
    try:
        from braket.ir.ahs import Program as AhsProgram
        from pydantic.v1 import ValidationError as V1ValidationError
    except ImportError:
        raise MissingDependencyError("reading BRAKET_AHS_PROGRAM", "braket") from None
    body = payload.get("ahs_program", payload) if isinstance(payload, dict) else payload
    if not isinstance(body, dict):
        raise ProgramError("an AHS program must be a JSON object", format="BRAKET_AHS_PROGRAM")
    _check_size(body)
    try:
        ir = AhsProgram.parse_obj(body)
    except V1ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ()))
        raise ProgramError(
            f"{field}: {first.get('msg', 'invalid')}", format="BRAKET_AHS_PROGRAM", field=field
        ) from None
    sites = ir.setup.ahs_register.sites
    filling = ir.setup.ahs_register.filling
    if len(sites) != len(filling):
        raise ProgramError(
            f"setup.ahs_register.filling: {len(sites)} sites but {len(filling)} filling entries",
            format="BRAKET_AHS_PROGRAM",
            field="setup.ahs_register.filling",
        )
    # (field, numbers) for every number list: each must be finite
    lists: list[tuple[str, list[Any]]] = [
        (f"setup.ahs_register.sites.{i}", site) for i, site in enumerate(sites)
    ]
    times: list[float] = []
    terms = [
        (f"hamiltonian.drivingFields.{i}.{part}", getattr(driving, part))
        for i, driving in enumerate(ir.hamiltonian.drivingFields)
        for part in ("amplitude", "phase", "detuning")
    ]
    for i, local in enumerate(ir.hamiltonian.localDetuning):
        where = f"hamiltonian.localDetuning.{i}.magnitude"
        if isinstance(local.magnitude.pattern, str):
            raise _bad("a local detuning's pattern lists one factor per site", f"{where}.pattern")
        terms.append((where, local.magnitude))
    for where, term in terms:
        _check_pattern(term.pattern, where, len(sites))
        if not isinstance(term.pattern, str):
            lists.append((f"{where}.pattern", term.pattern))
        lists.append((f"{where}.time_series.values", term.time_series.values))
        lists.append((f"{where}.time_series.times", term.time_series.times))
        times += [float(t) for t in term.time_series.times]
    for where, values in lists:
        for k, value in enumerate(values):
            if not math.isfinite(float(value)):
                raise _bad(f"{value} is not a finite number", f"{where}.{k}")
    return AnalogProgram(
        ir=ir,
        num_sites=len(sites),
        num_filled=sum(int(f) for f in filling),
        duration_s=max(times, default=0.0),
    )


#: Most terms (driving fields plus local detunings) a program may have. Devices take one of
#: each (Aquila); the bound keeps Braket's model, ~40 µs per term, from taking seconds.
MAX_AHS_TERMS = 64
#: Most numbers (coordinates, fillings, times, values, pattern factors) a program may hold:
#: far above any device (Aquila: 256 sites, 4 µs at >= 50 ns steps), and read in ~0.2 s.
MAX_AHS_NUMBERS = 100_000


def _check_size(body: dict[str, Any]) -> None:
    """Refuse a program too large to be real before Braket's model validates it number by
    number (a 1.7 MB program of 5,000 driving fields took seconds). Only counts lists where
    the IR puts them; a list of the wrong shape is left for the model to name."""
    counted: list[tuple[str, int]] = []
    setup = body.get("setup")
    register = setup.get("ahs_register") if isinstance(setup, dict) else None
    if isinstance(register, dict):
        sites = register.get("sites")
        if isinstance(sites, (list, tuple)):
            for i, site in enumerate(sites):
                if isinstance(site, (list, tuple)) and len(site) != 2:
                    raise _bad(
                        f"a site has 2 coordinates (x, y), not {len(site)}",
                        f"setup.ahs_register.sites.{i}",
                    )
            counted.append(("setup.ahs_register.sites", 2 * len(sites)))
        filling = register.get("filling")
        if isinstance(filling, list):
            counted.append(("setup.ahs_register.filling", len(filling)))
            for i, entry in enumerate(filling):
                # Braket's model turns 0.5 into 0 and "1" into 1: refused, not truncated
                if isinstance(entry, bool) or entry not in (0, 1):
                    raise _bad(
                        f"a filling entry is 0 or 1, not {entry!r:.40}",
                        f"setup.ahs_register.filling.{i}",
                    )
    hamiltonian = body.get("hamiltonian")
    if isinstance(hamiltonian, dict):
        terms = 0
        for key, parts in (
            ("drivingFields", ("amplitude", "phase", "detuning")),
            ("localDetuning", ("magnitude",)),
            ("shiftingFields", ("magnitude",)),
        ):
            items = hamiltonian.get(key)
            if not isinstance(items, list):
                continue
            terms += len(items)
            if terms > MAX_AHS_TERMS:
                raise _bad(
                    f"{len(items)} terms; qbroker reads programs of at most {MAX_AHS_TERMS} "
                    "driving fields and local detunings",
                    f"hamiltonian.{key}",
                )
            for i, item in enumerate(items):
                for part in parts:
                    field = item.get(part) if isinstance(item, dict) else None
                    if not isinstance(field, dict):
                        continue
                    where = f"hamiltonian.{key}.{i}.{part}"
                    if isinstance(field.get("pattern"), list):
                        counted.append((f"{where}.pattern", len(field["pattern"])))
                    series = field.get("time_series")
                    if isinstance(series, dict):
                        for name in ("values", "times"):
                            if isinstance(series.get(name), list):
                                counted.append((f"{where}.time_series.{name}", len(series[name])))
    total = sum(size for _, size in counted)
    if total > MAX_AHS_NUMBERS:
        where, size = max(counted, key=lambda item: item[1])
        raise _bad(
            f"{size:,} numbers here, {total:,} in the program; qbroker reads AHS programs of "
            f"at most {MAX_AHS_NUMBERS:,}",
            where,
        )


def _check_pattern(pattern: Any, where: str, num_sites: int) -> None:
    if isinstance(pattern, str):
        if pattern != "uniform":
            raise _bad(f"a pattern is 'uniform' or a list, not {pattern!r:.40}", f"{where}.pattern")
    elif len(pattern) != num_sites:
        raise _bad(
            f"{len(pattern)} factors for {num_sites} sites (one per site)", f"{where}.pattern"
        )


def _bad(message: str, field: str) -> ProgramError:
    return ProgramError(f"{field}: {message}", format="BRAKET_AHS_PROGRAM", field=field)


def write_ahs(program: object, backend: Backend | None, options: WriteOptions) -> dict[str, Any]:
    """The AHS program as Braket IR JSON (checked against ``backend``'s limits when given)."""
    if not isinstance(program, AnalogProgram):
        raise UnsupportedError(
            "only an analog (AHS) program converts to BRAKET_AHS_PROGRAM; a gate-model "
            "circuit has no analog Hamiltonian form"
        )
    if backend is not None:
        if not backend.is_analog:
            raise UnsupportedError(f"{backend.id} does not run analog (AHS) programs")
        check_ahs_limits(program, backend)
    return program.to_json_dict()


# --------------------------------------------------------------------------------------
# device limits
# --------------------------------------------------------------------------------------

#: Relative slack when comparing a value with a limit: the IR carries decimals that went
#: through binary floats (4e-6 / 1e-7 is 40.00000000000001).
_REL = 1e-9
#: Two coordinates closer than this (metres) are the same row: far below any device's
#: position resolution (Aquila: 0.1 µm), far above float noise.
_SAME_ROW_M = 1e-12


def check_ahs_limits(program: AnalogProgram | Any, backend: Backend) -> None:
    """Refuse an AHS program that breaks one of ``backend``'s analog limits.

    The checks run in a fixed order (register size, field of view, position resolution,
    site spacing, row spacing, then each time series: duration, time resolution, minimum
    time step, value, slew rate) and the first violation is reported with the offending
    value, where it occurs and the limit, e.g. ``sites 3 and 7 are 2.1 µm apart;
    aws.quera.aquila needs >= 4 µm``. Every check is linear in the program's size (site
    spacing uses a grid of cells one minimum spacing wide).

    A limit the catalog does not state is not checked: without
    ``max_local_detuning_rad_per_s`` a local detuning's magnitude is not bounded (Aquila
    offers local detuning only on request, and does not list it).

    Args:
        program: the parsed program (:class:`AnalogProgram`) or a qbroker ``Program``
            holding one.
        backend: an analog backend.

    Raises:
        UnsupportedError: naming the first violated limit.
    """
    parsed = getattr(program, "parsed", program)
    if not isinstance(parsed, AnalogProgram):
        raise UnsupportedError("only an analog (AHS) program has analog limits to check")
    limits = backend.configuration.analog_properties
    if limits is None:
        raise UnsupportedError(f"{backend.id} is not an analog (AHS) backend")
    name = backend.id
    ir = parsed.ir
    if parsed.num_sites > limits.max_sites:
        raise UnsupportedError(
            f"the program has {parsed.num_sites} sites; {name} takes at most {limits.max_sites}"
        )
    if parsed.num_filled > limits.max_filled_sites:
        raise UnsupportedError(
            f"the program fills {parsed.num_filled} sites; {name} takes at most "
            f"{limits.max_filled_sites} filled sites"
        )
    sites = [(float(x), float(y)) for x, y in ir.setup.ahs_register.sites]
    _check_register(sites, limits, name)
    hamiltonian = ir.hamiltonian
    for i, driving in enumerate(hamiltonian.drivingFields):
        where = f"drivingFields[{i}]"
        for part in ("amplitude", "phase", "detuning"):
            _check_times(getattr(driving, part).time_series, f"{where}.{part}", limits, name)
        _check_values(
            driving.amplitude.time_series,
            f"{where}.amplitude",
            name,
            low=0.0,
            high=limits.max_rabi_frequency_rad_per_s,
            slew=limits.max_rabi_slew_rate_rad_per_s2,
            what="Rabi frequency",
        )
        _check_values(
            driving.detuning.time_series,
            f"{where}.detuning",
            name,
            low=-limits.max_detuning_rad_per_s,
            high=limits.max_detuning_rad_per_s,
            slew=limits.max_detuning_slew_rate_rad_per_s2,
            what="detuning",
        )
    for i, local in enumerate(hamiltonian.localDetuning):
        where = f"localDetuning[{i}].magnitude"
        _check_times(local.magnitude.time_series, where, limits, name)
        if limits.max_local_detuning_rad_per_s is not None:
            bound = limits.max_local_detuning_rad_per_s
            _check_values(
                local.magnitude.time_series,
                where,
                name,
                low=-bound,
                high=bound,
                slew=None,
                what="local detuning",
            )
        for k, factor in enumerate(local.magnitude.pattern):
            if not 0.0 <= float(factor) <= 1.0:
                raise UnsupportedError(
                    f"{where}.pattern[{k}] is {float(factor):.4g}; site factors of a local "
                    "detuning lie between 0 and 1"
                )


def _check_register(
    sites: Sequence[tuple[float, float]], limits: AnalogProperties, name: str
) -> None:
    if not sites:
        return
    xs = [x for x, _ in sites]
    ys = [y for _, y in sites]
    for axis, values, span_limit, label in (
        ("x", xs, limits.field_of_view_width_m, "wide"),
        ("y", ys, limits.field_of_view_height_m, "tall"),
    ):
        low, high = min(values), max(values)
        if high - low > span_limit * (1 + _REL) + _SAME_ROW_M:
            raise UnsupportedError(
                f"the register is {_um(high - low)} {label} ({axis} from {_um(low)} to "
                f"{_um(high)}); {name}'s field of view is {_um(span_limit)} {label}"
            )
    resolution = limits.position_resolution_m
    if resolution > 0:
        for i, (x, y) in enumerate(sites):
            for axis, value in (("x", x), ("y", y)):
                steps = value / resolution
                if abs(steps - round(steps)) > 1e-6:
                    raise UnsupportedError(
                        f"site {i} has {axis} = {_um(value)}, not a multiple of {name}'s "
                        f"{_um(resolution)} position resolution"
                    )
    _check_spacing(sites, limits.min_site_spacing_m, name)
    gap = limits.min_row_spacing_m
    rows = sorted(set(ys))
    for below, above in itertools.pairwise(rows):
        if _SAME_ROW_M < above - below < gap * (1 - _REL):
            raise UnsupportedError(
                f"rows at y = {_um(below)} and y = {_um(above)} are {_um(above - below)} "
                f"apart; {name} needs >= {_um(gap)} between rows"
            )


def _check_spacing(sites: Sequence[tuple[float, float]], spacing: float, name: str) -> None:
    """The first pair of sites closer than ``spacing`` (a grid of ``spacing``-wide cells
    means each site is compared only with the sites of its own and the 8 adjacent cells)."""
    if spacing <= 0:
        return
    cells: dict[tuple[int, int], list[int]] = {}
    bound = spacing * (1 - _REL)
    for j, (x, y) in enumerate(sites):
        cx, cy = math.floor(x / spacing), math.floor(y / spacing)
        close: list[tuple[int, float]] = []
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for i in cells.get((cx + dx, cy + dy), ()):
                    distance = math.hypot(x - sites[i][0], y - sites[i][1])
                    if distance < bound:
                        close.append((i, distance))
        if close:
            i, distance = min(close)
            raise UnsupportedError(
                f"sites {i} and {j} are {_um(distance)} apart; {name} needs >= {_um(spacing)}"
            )
        cells.setdefault((cx, cy), []).append(j)


def _check_times(series: Any, where: str, limits: AnalogProperties, name: str) -> None:
    times = [float(t) for t in series.times]
    if times and times[-1] > limits.max_duration_s * (1 + _REL):
        raise UnsupportedError(
            f"{where} lasts until t = {_us(times[-1])}; {name} allows at most "
            f"{_us(limits.max_duration_s)}"
        )
    resolution = limits.time_resolution_s
    if resolution > 0:
        for t in times:
            steps = t / resolution
            if abs(steps - round(steps)) > 1e-6:
                raise UnsupportedError(
                    f"{where} has a point at t = {_us(t)}, not a multiple of {name}'s "
                    f"{_ns(resolution)} time resolution"
                )
    step = limits.min_time_step_s
    for before, after in itertools.pairwise(times):
        if after - before < step * (1 - _REL):
            raise UnsupportedError(
                f"{where} has points {_ns(after - before)} apart (t = {_us(before)} and "
                f"{_us(after)}); {name} needs >= {_ns(step)} between points"
            )


def _check_values(
    series: Any,
    where: str,
    name: str,
    *,
    low: float,
    high: float,
    slew: float | None,
    what: str,
) -> None:
    times = [float(t) for t in series.times]
    values = [float(v) for v in series.values]
    slack = _REL * max(abs(low), abs(high))
    for t, v in zip(times, values, strict=False):
        if v > high + slack:
            raise UnsupportedError(
                f"{where}: the {what} reaches {v:.4g} rad/s at t = {_us(t)}; {name} allows "
                f"at most {high:.4g} rad/s"
            )
        if v < low - slack:
            bound = "0" if low == 0 else f"{low:.4g} rad/s"
            raise UnsupportedError(
                f"{where}: the {what} is {v:.4g} rad/s at t = {_us(t)}; {name} allows at "
                f"least {bound}"
            )
    if slew is None:
        return
    points = list(zip(times, values, strict=False))
    for (t0, v0), (t1, v1) in itertools.pairwise(points):
        if t1 <= t0:
            continue
        rate = abs(v1 - v0) / (t1 - t0)
        if rate > slew * (1 + _REL):
            raise UnsupportedError(
                f"{where}: the {what} changes at {rate:.4g} rad/s² between t = {_us(t0)} and "
                f"{_us(t1)}; {name} allows at most {slew:.4g} rad/s²"
            )


def _um(metres: float) -> str:
    return f"{metres * 1e6:.4g} µm"


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:.4g} µs"


def _ns(seconds: float) -> str:
    return f"{seconds * 1e9:.4g} ns"


CODEC = Codec(
    format=InputFormat.BRAKET_AHS_PROGRAM,
    kind=Kind.ANALOG,
    payload=dict,
    read=read_ahs,
    write=write_ahs,
    description="Braket analog Hamiltonian simulation program (register, driving fields)",
    extra="braket",
)
