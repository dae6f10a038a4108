"""Human-readable output for the CLI (rich tables)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Literal

from rich.console import Console
from rich.table import Table

from qbroker.formats import Conversion
from qbroker.model import Backend, Decision, Program, Result

# Piped output (files, CI logs, other programs) gets a wide fixed width so tables keep one
# row per line; a terminal gets its own width.
_console = Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 180)
_BAR = "█"


def _pct(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{100 * value:.{digits}f}%"


def _queue(backend: Backend) -> str:
    size = backend.status.queue_size
    wait = backend.status.queue_avg_time_s
    if size is None and wait is None:
        return "-"
    text = str(size) if size is not None else "?"
    if wait is not None:
        text += f" (~{_duration(wait)})"
    return text


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f}s"
    if seconds < 5400:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


def backends_table(backends: Sequence[Backend]) -> None:
    table = Table(title=f"{len(backends)} backends", title_justify="left")
    columns: list[tuple[str, Literal["left", "right"]]] = [
        ("id", "left"),
        ("provider", "left"),
        ("vendor", "left"),
        ("technology", "left"),
        ("qubits", "right"),
        ("status", "left"),
        ("queue", "right"),
        ("median 2q err", "right"),
        ("readout err", "right"),
        ("price", "left"),
    ]
    for column, justify in columns:
        table.add_column(column, justify=justify, no_wrap=True)
    for b in backends:
        cal = b.calibration
        width = b.configuration.qubit_count
        if b.configuration.photonic_properties is not None:
            qubits = f"{b.configuration.photonic_properties.max_modes} modes"
        elif b.is_analog and b.configuration.analog_properties is not None:
            qubits = f"{b.configuration.analog_properties.max_filled_sites} atoms"
        else:
            qubits = str(width)
        table.add_row(
            b.id,
            b.provider.value,
            b.hardware_provider.value,
            b.technology.value.lower().replace("_", " "),
            qubits,
            b.status.status.value,
            _queue(b),
            _pct(cal.median_gate_error(2) if cal else None),
            _pct(cal.median_readout_error() if cal else None),
            b.pricing.summary(),
        )
    _console.print(table)


def backend_details(b: Backend) -> None:
    c = b.configuration
    lines = [
        f"[bold]{b.display_name}[/bold]  ({b.id})",
        f"  provider {b.provider.value} · vendor {b.hardware_provider.value} · "
        f"{b.type.value} · {b.technology.value}" + (f" · {b.processor}" if b.processor else ""),
    ]
    if b.description:
        lines.append(f"  {b.description}")
    lines.append("")
    lines.append("[bold]Configuration[/bold]")
    lines.append(f"  qubits            {c.qubit_count}")
    if c.gates:
        lines.append(f"  native gates      {', '.join(c.native_gate_names)}")
    lines.append(f"  operations        {', '.join(c.operations) or '-'}")
    if c.connectivity.fully_connected:
        lines.append("  connectivity      all-to-all")
    else:
        lines.append(f"  connectivity      coupling graph, {len(c.connectivity.edges)} edges")
    lines.append(f"  shots             {c.shots_range.min}..{c.shots_range.max}")
    lines.append(f"  input formats     {', '.join(f.value for f in c.supported_input_formats)}")
    lines.append(f"  per-shot memory   {'yes' if c.memory_result_supported else 'no'}")
    if c.photonic_properties:
        p = c.photonic_properties
        lines.append(
            f"  photonic          modes {p.min_modes}..{p.max_modes}, "
            f"photons {p.min_photons}..{p.max_photons}"
        )
    if c.analog_properties:
        a = c.analog_properties
        lines.append(
            f"  analog (AHS)      {a.max_filled_sites} atoms, field of view "
            f"{a.field_of_view_width_m * 1e6:.0f}x{a.field_of_view_height_m * 1e6:.0f} µm, "
            f"min spacing {a.min_site_spacing_m * 1e6:.1f} µm, "
            f"max Rabi {a.max_rabi_frequency_rad_per_s / 1e6:.1f} rad/µs"
        )
    lines.append("")
    cal = b.calibration
    lines.append("[bold]Calibration[/bold]")
    if cal is None:
        lines.append("  none (not published for this backend)")
    else:
        lines.append(f"  calibrated at     {cal.calibrated_at:%Y-%m-%d %H:%M} UTC")
        lines.append(f"  source            {cal.source}")
        lines.append(f"  median T1 / T2    {_us(cal.median_t1_us())} / {_us(cal.median_t2_us())}")
        lines.append(f"  median 1q error   {_pct(cal.median_gate_error(1), 3)}")
        lines.append(f"  median 2q error   {_pct(cal.median_gate_error(2), 3)}")
        lines.append(f"  median readout    {_pct(cal.median_readout_error(), 3)}")
        lines.append(
            f"  entries           {len(cal.qubits)} qubits, {len(cal.gates)} gate calibrations"
        )
        if cal.notes:
            lines.append(f"  notes             {cal.notes}")
    lines.append("")
    lines.append("[bold]Pricing[/bold]")
    if not b.pricing.items:
        lines.append("  not published" + (f" ({b.pricing.notes})" if b.pricing.notes else ""))
    for item in b.pricing.items:
        lines.append(
            f"  {item.amount:>12.6g} {item.currency} per {item.granularity.value}"
            + (f"  ({item.description})" if item.description else "")
        )
    if b.pricing.source:
        lines.append(
            f"  source            {b.pricing.source.source} ({b.pricing.source.retrieved_at})"
        )
    lines.append("")
    lines.append("[bold]Status and place[/bold]")
    lines.append(f"  status            {b.status.status.value}   queue {_queue(b)}")
    if b.location:
        sov = "yes" if b.location.eu_sovereignty else "no"
        lines.append(
            f"  location          {b.location.region} ({b.location.country}); EU sovereignty {sov}"
        )
    for w in b.availability:
        lines.append(f"  available         {w.granularity} {w.start}-{w.end} {w.timezone}")
    lines.append("")
    lines.append(
        f"[dim]data: {b.data_source.source}, retrieved {b.data_source.retrieved_at}"
        + (f" — {b.data_source.url}" if b.data_source.url else "")
        + "[/dim]"
    )
    for line in lines:
        _console.print(line)


def _us(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 1e6:
        return f"{value / 1e6:.3g} s"
    return f"{value:.4g} µs"


def result_report(result: Result, backend: Backend, program: Program) -> None:
    meta = result.metadata
    name = program.name or "program"
    if meta.emulated:
        when = f"{meta.calibration_at:%Y-%m-%d}" if meta.calibration_at else "unknown date"
        how = f"emulated from calibration of {when}"
    else:
        how = f"run on {meta.simulator or backend.id}"
    _console.print(f"[bold]{name}[/bold] on [bold]{backend.id}[/bold] — {how}")
    if meta.emulated and meta.calibration_source:
        _console.print(f"  [dim]calibration source: {meta.calibration_source}[/dim]")
    facts = [f"{meta.shots} shots"]
    if meta.physical_qubits:
        facts.append(f"physical qubits {list(meta.physical_qubits)}")
    if meta.transpiled_depth is not None:
        facts.append(f"depth {meta.transpiled_depth}")
    if meta.transpiled_gate_counts:
        facts.append(
            "gates " + " ".join(f"{g}×{n}" for g, n in sorted(meta.transpiled_gate_counts.items()))
        )
    if meta.execution_time_s is not None:
        facts.append(f"{meta.execution_time_s:.2f} s")
    _console.print("  " + " · ".join(facts))

    ideal = result.ideal_probabilities or {}
    keys = sorted(set(result.counts) | set(ideal), key=lambda k: (-result.counts.get(k, 0), k))
    shown = keys[:16]
    table = Table(box=None, pad_edge=False)
    table.add_column("outcome")
    table.add_column("count", justify="right")
    table.add_column("freq", justify="right")
    if ideal:
        table.add_column("ideal", justify="right")
    table.add_column("")
    peak = max(result.counts.values(), default=1) or 1
    for key in shown:
        count = result.counts.get(key, 0)
        row = [key, str(count), f"{count / meta.shots:.4f}"]
        if ideal:
            row.append(f"{ideal.get(key, 0.0):.4f}")
        row.append(_BAR * max(0, round(30 * count / peak)))
        table.add_row(*row)
    _console.print(table)
    if len(keys) > len(shown):
        rest = sum(result.counts.get(k, 0) for k in keys[len(shown) :])
        _console.print(f"  ... {len(keys) - len(shown)} more outcomes, {rest} shots")
    if ideal:
        outside = sum(v for k, v in result.counts.items() if ideal.get(k, 0.0) == 0.0)
        fidelity = result.fidelity_to_ideal
        _console.print(
            f"  expected vs ideal: Hellinger fidelity {fidelity:.4f}; "
            f"{outside} of {meta.shots} shots ({outside / meta.shots:.2%}) "
            "landed on outcomes the ideal circuit never gives"
        )
    _console.print(
        "  [dim]bit order: leftmost character is classical bit 0 (reverse of Qiskit's)[/dim]"
    )


def conversion_matrix(edges: Sequence[Conversion]) -> None:
    sources = sorted({e.source for e in edges}, key=lambda f: f.value)
    targets = sorted({e.target for e in edges}, key=lambda f: f.value)
    have = {(e.source, e.target) for e in edges}
    short = {t: t.value.replace("_JOB_INPUT", "").replace("OPEN_QASM", "QASM") for t in targets}
    table = Table(title="conversions: row = from, column = to", title_justify="left")
    table.add_column("from \\ to", no_wrap=True)
    for t in targets:
        table.add_column(short[t], justify="center", no_wrap=True)
    for s in sources:
        table.add_row(s.value, *("✓" if (s, t) in have else "·" for t in targets))
    _console.print(table)
    refusals = sorted({(e.target.value, e.refuses) for e in edges if e.refuses})
    if refusals:
        _console.print("What a target cannot express is refused with a reason:")
        for target, what in refusals:
            _console.print(f"  {target}: {what}")


def decision_report(decision: Decision, program: Program, top: int) -> None:
    name = program.name or "program"
    mode = decision.optimize_for.value
    shown = decision.candidates[:top]
    table = Table(
        title=f"{name}: {decision.shots} shots, optimize for {mode} — "
        f"{len(decision.candidates)} candidates, {len(decision.rejected)} rejected",
        title_justify="left",
    )
    for column in ("#", "backend", "fidelity", "wait", "run", "cost", "score", "layout"):
        table.add_column(
            column, justify="left" if column in ("backend", "layout") else "right", no_wrap=True
        )
    for c in shown:
        e = c.estimates
        fidelity = "?" if e.fidelity is None else f"{e.fidelity:.3f}"
        wait = _duration(e.wait_s) + ("" if e.wait_reported else "*")
        layout = ",".join(map(str, c.layout[:8])) + ("…" if len(c.layout) > 8 else "")
        table.add_row(
            str(c.rank),
            c.backend_id,
            fidelity,
            wait,
            _duration(e.runtime_s),
            f"{e.cost:.2f} {e.currency}",
            f"{c.score:.4g}",
            layout or "-",
        )
    _console.print(table)
    if decision.backend_id is None:
        _console.print("[bold red]no backend can run this program[/bold red]")
    else:
        best = decision.candidates[0]
        e = best.estimates
        fidelity = "unknown" if e.fidelity is None else f"{e.fidelity:.3f}"
        _console.print(
            f"choice: [bold]{best.backend_id}[/bold] — expected fidelity {fidelity}, "
            f"wait {_duration(e.wait_s)}, run {_duration(e.runtime_s)}, "
            f"cost {e.cost:.2f} {e.currency}"
        )
        if best.calibration_at:
            _console.print(f"  calibration of {best.calibration_at:%Y-%m-%d %H:%M} UTC")
        for note in best.notes:
            _console.print(f"  [dim]note: {note}[/dim]")
    if decision.why:
        _console.print("why the others lost:")
        for line in decision.why[: max(top - 1, 0)]:
            _console.print(f"  {line}")
    if decision.rejected:
        _console.print(f"rejected ({len(decision.rejected)}):")
        for r in decision.rejected:
            _console.print(f"  {r.backend_id}: {r.reason}")
    if any(not c.estimates.wait_reported for c in shown):
        _console.print("[dim]* queue not reported by the snapshot: the policy's assumed wait[/dim]")
