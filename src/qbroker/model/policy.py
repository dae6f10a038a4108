"""A routing policy: what to optimise and which backends are allowed at all."""

from __future__ import annotations

import tomllib
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import Field, model_validator

from qbroker.errors import ValidationError
from qbroker.model._base import Model
from qbroker.model.enums import HardwareProvider, Provider

__all__ = ["OptimizeFor", "Policy", "Weights"]

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


class OptimizeFor(StrEnum):
    """What a decision optimises (TheQuantCloud's names).

    * ``accuracy`` — the highest expected fidelity.
    * ``speed`` — the shortest expected queue wait plus run time.
    * ``cost`` — the cheapest backend whose expected fidelity meets ``min_fidelity``.
    * ``balanced`` — a weighted blend of the three (see :class:`Weights`).
    """

    ACCURACY = "accuracy"
    SPEED = "speed"
    COST = "cost"
    BALANCED = "balanced"


class Weights(Model):
    """Weights of the blended score: each component is a ratio to the best candidate's.

    ``score = fidelity * (e_best + 0.01) / (e + 0.01) + time * (1 + t_best) / (1 + t)
    + cost * (1 + c_best) / (1 + c)`` with ``e = 1 - expected fidelity`` (the expected
    error), times in minutes, costs in the policy's currency. Each ratio is 1 for the best
    candidate and falls as a candidate is worse by a *factor*: four times the errors of the
    best weighs like four times its cost (the floors, 1 % error, 1 minute and 1 unit of
    currency, keep near-zero figures from dominating).
    """

    fidelity: Annotated[float, Field(ge=0)] = 0.6
    time: Annotated[float, Field(ge=0)] = 0.2
    cost: Annotated[float, Field(ge=0)] = 0.2

    @model_validator(mode="after")
    def _some_weight(self) -> Self:
        if self.fidelity + self.time + self.cost <= 0:
            raise ValueError("at least one weight must be positive")
        return self


#: Reference exchange rates to USD (ECB reference rates, 2026-11-02), overridable.
DEFAULT_EXCHANGE_RATES: dict[str, float] = {"USD": 1.0, "EUR": 1.155, "GBP": 1.314, "CHF": 1.243}


class Policy(Model):
    """Everything a routing decision may be told.

    Hard constraints reject backends (each rejection says which rule); the rest shapes the
    score. An empty allow-list allows everything.

    Example (TOML)::

        optimize_for = "cost"
        min_fidelity = 0.6
        eu_sovereign_only = true
        deny_providers = ["AWS"]
        max_cost = 50.0
        currency = "EUR"
        [weights]
        fidelity = 0.5
        time = 0.25
        cost = 0.25
    """

    optimize_for: OptimizeFor = OptimizeFor.BALANCED
    weights: Weights | None = None
    allow_providers: tuple[Provider, ...] = ()
    deny_providers: tuple[Provider, ...] = ()
    allow_vendors: tuple[HardwareProvider, ...] = ()
    deny_vendors: tuple[HardwareProvider, ...] = ()
    allow_backends: tuple[str, ...] = ()
    deny_backends: tuple[str, ...] = ()
    countries: tuple[Annotated[str, Field(pattern=r"^[A-Z]{2}$")], ...] = ()
    eu_sovereign_only: bool = False
    allow_simulators: bool = False
    allow_unknown_status: bool = True
    max_cost: Annotated[float, Field(ge=0)] | None = None
    max_wait_s: Annotated[float, Field(ge=0)] | None = None
    min_fidelity: Fraction | None = None
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    exchange_rates: dict[str, Annotated[float, Field(gt=0)]] = Field(
        default_factory=lambda: dict(DEFAULT_EXCHANGE_RATES)
    )
    assumed_wait_s: Annotated[float, Field(ge=0)] = 600.0
    #: weight of idle decoherence (T1/T2 while a qubit waits) in the fidelity estimate;
    #: None: the router's default (0, as calibration-based emulation models it)
    idle_weight: Annotated[float, Field(ge=0, le=1)] | None = None
    #: settle close calls with the compiler: when backends that need SWAPs are within
    #: ``refine_margin`` expected fidelity of winning, run the job's own layout and routing
    #: (``optimization_level``, ``seed``) once per coupling class and price the routed
    #: circuit (see :mod:`qbroker.routing._refine`)
    refine: bool = True
    refine_margin: Fraction = 0.02
    #: predicted compile time the router may spend settling one decision, seconds
    refine_budget_s: Annotated[float, Field(ge=0)] = 0.05
    #: how the job will be compiled (as :class:`qbroker.model.JobOptions` and
    #: ``qbroker run --optimization-level/--seed``): what the refinement compiles with
    optimization_level: Annotated[int, Field(ge=0, le=3)] = 2
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0

    @model_validator(mode="after")
    def _currency_known(self) -> Self:
        if self.currency not in self.exchange_rates:
            raise ValueError(f"no exchange rate for currency {self.currency}")
        return self

    @property
    def effective_weights(self) -> Weights:
        return self.weights or Weights()

    @property
    def effective_min_fidelity(self) -> float | None:
        """The fidelity floor; ``cost`` mode uses 0.5 unless told otherwise."""
        if self.min_fidelity is not None:
            return self.min_fidelity
        return 0.5 if self.optimize_for is OptimizeFor.COST else None

    @classmethod
    def from_toml(cls, text: str, *, source: str = "policy") -> Policy:
        """Read a policy from TOML text (top-level keys are the fields).

        Raises:
            ValidationError: bad TOML or a bad value, naming the key.
        """
        try:
            data: dict[str, Any] = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ValidationError("Policy", [(source, f"not valid TOML: {exc}")]) from None
        if "policy" in data and isinstance(data["policy"], dict) and len(data) == 1:
            data = data["policy"]
        return cls.model_validate(data)

    def merged(self, **overrides: Any) -> Policy:
        """A copy with some fields replaced (validated)."""
        data = self.model_dump()
        data.update({k: v for k, v in overrides.items() if v is not None})
        return Policy.model_validate(data)
