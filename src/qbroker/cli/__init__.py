"""The ``qbroker`` command: a thin shell over the library's public functions.

Every command calls one public function and can print JSON (``--json``). Errors print one
line naming the problem and exit non-zero; ``--debug`` shows the traceback. Heavy imports
(pydantic models, qiskit, rich) happen inside commands so ``qbroker --help`` stays fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

#: Exit codes: 0 success, 1 a qbroker error (bad input, unknown backend, failed job ...),
#: 2 wrong command-line usage (click's), 70 an internal error (a bug: please report).
EXIT_ERROR = 1
EXIT_INTERNAL = 70


class _Group(click.Group):
    """Turns every error into one line on stderr, unless --debug."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as exc:
            debug = bool(ctx.meta.get("qbroker.debug"))
            if debug:
                raise
            from qbroker.errors import QBrokerError

            if isinstance(exc, QBrokerError):
                click.echo(f"error: {_one_line(str(exc))}", err=True)
                ctx.exit(EXIT_ERROR)
            if isinstance(exc, KeyboardInterrupt):
                ctx.exit(130)
            click.echo(
                f"internal error: {type(exc).__name__}: {_one_line(str(exc))} "
                "(run with --debug for the traceback)",
                err=True,
            )
            ctx.exit(EXIT_INTERNAL)


def _one_line(text: str) -> str:
    return " ".join(text.split())


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="qbroker-quantum", prog_name="qbroker")
@click.option("--debug", is_flag=True, help="Show Python tracebacks on errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Broker quantum jobs across providers.

    \b
    Examples:
      qbroker backends
      qbroker backends show ibm.qpu.fez
      qbroker run examples/bell.qasm --backend ibm.qpu.fez --emulate --shots 2000
    """
    ctx.meta["qbroker.debug"] = debug


def _json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(f)


@main.group("backends", cls=_Group, invoke_without_command=True)
@_json_option
@click.option("--provider", help="Only this cloud provider (e.g. IBM, AWS, IQM).")
@click.option("--vendor", help="Only this hardware vendor (e.g. IONQ, RIGETTI).")
@click.option(
    "--type",
    "kind",
    type=click.Choice(["qpu", "simulator"], case_sensitive=False),
    help="Only QPUs or only simulators.",
)
@click.pass_context
def backends_cmd(
    ctx: click.Context, as_json: bool, provider: str | None, vendor: str | None, kind: str | None
) -> None:
    """List the backends of the embedded catalog."""
    if ctx.invoked_subcommand is not None:
        return
    import qbroker

    chosen = [
        b
        for b in qbroker.backends()
        if (provider is None or b.provider.value == provider.upper())
        and (vendor is None or b.hardware_provider.value == vendor.upper())
        and (kind is None or b.type.value == kind.upper())
    ]
    if as_json:
        _print_json([b.model_dump(mode="json") for b in chosen])
        return
    from qbroker.cli._render import backends_table

    backends_table(chosen)


@backends_cmd.command("show")
@click.argument("backend_id")
@_json_option
def backends_show(backend_id: str, as_json: bool) -> None:
    """Show one backend: configuration, calibration, pricing and provenance."""
    import qbroker

    backend = qbroker.backend(backend_id)
    if as_json:
        click.echo(backend.model_dump_json(indent=2))
        return
    from qbroker.cli._render import backend_details

    backend_details(backend)


@main.command("run")
@click.argument("program_file", metavar="FILE")
@click.option("--backend", "-b", "backend_id", required=True, help="Backend id, e.g. ibm.qpu.fez.")
@click.option("--shots", "-s", type=int, default=1000, show_default=True, help="Repetitions.")
@click.option(
    "--emulate/--no-emulate",
    default=True,
    show_default=True,
    help="Emulate the backend locally from its calibration instead of submitting to it.",
)
@click.option("--format", "fmt", help="Input format (detected from the content if omitted).")
@click.option("--seed", type=int, help="Fix transpiler and sampler seeds.")
@click.option(
    "--optimization-level",
    "-O",
    type=click.IntRange(0, 3),
    default=2,
    show_default=True,
    help="Transpiler effort.",
)
@click.option("--memory", is_flag=True, help="Also return every shot's bit string.")
@click.option("--timeout", type=float, help="Seconds to wait for the result.")
@_json_option
def run_cmd(
    program_file: str,
    backend_id: str,
    shots: int,
    emulate: bool,
    fmt: str | None,
    seed: int | None,
    optimization_level: int,
    memory: bool,
    timeout: float | None,
    as_json: bool,
) -> None:
    """Run a program FILE on a backend and print the result."""
    import qbroker

    program = qbroker.load_program(program_file, format=fmt)
    backend = qbroker.backend(backend_id)
    result = qbroker.run(
        program,
        backend=backend,
        shots=shots,
        emulate=emulate,
        seed=seed,
        optimization_level=optimization_level,
        memory=memory,
        timeout=timeout,
    )
    if as_json:
        click.echo(result.model_dump_json(indent=2))
        return
    from qbroker.cli._render import result_report

    result_report(result, backend, program)


@main.command("route")
@click.argument("program_file", metavar="FILE")
@click.option("--shots", "-s", type=int, default=1000, show_default=True, help="Repetitions.")
@click.option(
    "--optimize-for",
    "-m",
    "mode",
    type=click.Choice(["accuracy", "speed", "cost", "balanced"], case_sensitive=False),
    help="What to optimise (default: the policy's, else balanced).",
)
@click.option("--policy", "policy_file", type=click.Path(dir_okay=False), help="A TOML policy.")
@click.option("--format", "fmt", help="Input format (detected from the content if omitted).")
@click.option(
    "--top",
    "-k",
    type=click.IntRange(1, 100),
    default=5,
    show_default=True,
    help="Candidates to show.",
)
@click.option("--allow-simulators", is_flag=True, help="Let simulators compete.")
@click.option(
    "--optimization-level",
    "-O",
    type=click.IntRange(0, 3),
    help="How `qbroker run` will compile the job (default: the policy's, else 2).",
)
@click.option(
    "--seed", type=click.IntRange(0), help="The transpiler seed `qbroker run` will use (default 0)."
)
@click.option(
    "--no-refine",
    is_flag=True,
    help="Never compile to settle a close call (estimates only: fastest).",
)
@_json_option
def route_cmd(
    program_file: str,
    shots: int,
    mode: str | None,
    policy_file: str | None,
    fmt: str | None,
    top: int,
    allow_simulators: bool,
    optimization_level: int | None,
    seed: int | None,
    no_refine: bool,
    as_json: bool,
) -> None:
    """Decide where FILE should run (a dry run: nothing is submitted).

    When backends that need SWAPs are close to winning, the choice is settled by running
    the job's own layout and routing (--optimization-level, --seed: give the ones you will
    run with) and pricing the routed circuit; --no-refine skips that.
    """
    import qbroker

    program = qbroker.load_program(program_file, format=fmt)
    policy = qbroker._api._policy(policy_file)
    if allow_simulators:
        policy = policy.merged(allow_simulators=True)
    if no_refine:
        policy = policy.merged(refine=False)
    decision = qbroker.route(
        program,
        shots=shots,
        optimize_for=mode,
        policy=policy,
        optimization_level=optimization_level,
        seed=seed,
    )
    if as_json:
        click.echo(decision.model_dump_json(indent=2))
    else:
        from qbroker.cli._render import decision_report

        decision_report(decision, program, top)
    if decision.backend_id is None:
        raise click.exceptions.Exit(EXIT_ERROR)


@main.command("convert")
@click.argument("program_file", metavar="FILE")
@click.option("--to", "target", required=True, help="Target format, e.g. IONQ_CIRCUIT_V1.")
@click.option("--backend", "-b", "backend_id", help="Fit the output to this backend's gates.")
@click.option("--format", "fmt", help="Input format (detected from the content if omitted).")
@click.option(
    "--angle-unit", type=click.Choice(["radians", "turns"]), help="For formats with both (IQM)."
)
@click.option("--gateset", help="For formats with several gate sets (IonQ: qis or native).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write here, not stdout.")
@click.option("--base64", "as_base64", is_flag=True, help="Print binary output (QPY) as base64.")
def convert_cmd(
    program_file: str,
    target: str,
    backend_id: str | None,
    fmt: str | None,
    angle_unit: str | None,
    gateset: str | None,
    output: str | None,
    as_base64: bool,
) -> None:
    """Convert a program FILE into another format."""
    import base64
    import json

    import qbroker
    from qbroker.formats import WriteOptions

    program = qbroker.load_program(program_file, format=fmt)
    backend = qbroker.backend(backend_id) if backend_id else None
    options = WriteOptions(angle_unit=angle_unit, gateset=gateset)  # type: ignore[arg-type]
    converted = qbroker.convert(program, _format_name(target), backend, options=options)
    payload = converted.payload
    data: bytes
    if isinstance(payload, dict):
        data = (json.dumps(payload, indent=2) + "\n").encode()
    elif isinstance(payload, str):
        data = payload.encode() if payload.endswith("\n") else (payload + "\n").encode()
    elif as_base64 or output is None:
        if output is None and not as_base64:
            raise click.UsageError(f"{converted.format} is binary: pass -o FILE or --base64")
        data = base64.b64encode(payload) + b"\n"
    else:
        data = payload
    if output:
        with open(output, "wb") as handle:
            handle.write(data)
        click.echo(f"wrote {converted.format} to {output} ({len(data):,} bytes)", err=True)
    else:
        click.echo(data.decode(), nl=False)


def _format_name(text: str) -> str:
    from qbroker.errors import UnsupportedError
    from qbroker.model import InputFormat

    name = text.strip().upper().replace("-", "_").replace(".", "_")
    if name not in InputFormat.__members__:
        choices = ", ".join(InputFormat.__members__)
        raise UnsupportedError(f"unknown format {text!r} (one of: {choices})")
    return name


@main.command("formats")
@_json_option
def formats_cmd(as_json: bool) -> None:
    """Show which formats convert into which (the conversion matrix)."""
    import qbroker

    edges = qbroker.conversions()
    if as_json:
        _print_json(
            [
                {
                    "source": e.source.value,
                    "target": e.target.value,
                    "via": e.via,
                    "refuses": e.refuses,
                }
                for e in edges
            ]
        )
        return
    from qbroker.cli._render import conversion_matrix

    conversion_matrix(edges)


@main.command("adapters")
@_json_option
def adapters_cmd(as_json: bool) -> None:
    """List the provider adapters found, and any skipped with the reason."""
    from qbroker.adapters import default_registry

    registry = default_registry()
    rows = [
        {"name": name, "status": "loaded", "detail": type(adapter).__module__}
        for name, adapter in registry.adapters.items()
    ] + [
        {"name": s.name, "status": "skipped", "detail": f"{s.target}: {s.reason}"}
        for s in registry.skipped
    ]
    if as_json:
        _print_json(rows)
        return
    for row in rows:
        click.echo(f"{row['name']:<16} {row['status']:<8} {row['detail']}")


def _print_json(data: object) -> None:
    import json

    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
