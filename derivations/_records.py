"""The proof record type shared by every identity module."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import sympy as sp


@dataclass(frozen=True)
class ProofRecord:
    """One identity checked at one level of generality.

    Attributes:
        name: Unique slug, ``family/identity/level``.
        title: Short human title of the identity (shared by all levels of it).
        statement: The identity in LaTeX.
        assumptions: LaTeX fragments listing what the proof assumes.
        level: ``"integrand"``, ``"finite-support n=K"``, ``"trajectory support ..."``, ...
        residual: Left side minus right side after simplification. For a proved identity this
            is exactly ``sympy.S.Zero``.
        proved: Whether ``residual`` is exactly zero.
        seconds: Wall time spent building and simplifying the residual.
        steps: LaTeX lines describing the derivation, for the docs.
        family: The module (identity family) the record belongs to, e.g. ``"partition"``.
        expect_zero: ``False`` for counterexample records, whose residual must NOT vanish.
        checks_ok: Side conditions of the proof (positivity of a curvature, the numbers a
            counterexample relies on) all held.
    """

    name: str
    title: str
    statement: str
    assumptions: list[str]
    level: str
    residual: sp.Expr
    proved: bool
    seconds: float
    steps: list[str]
    family: str = ""
    expect_zero: bool = True
    checks_ok: bool = True

    @property
    def identity(self) -> str:
        """``family/identity`` without the level."""
        return self.name.rsplit("/", 1)[0]

    @property
    def ok(self) -> bool:
        """Whether the record came out as expected (zero, or non-zero for a counterexample)."""
        return self.proved == self.expect_zero and self.checks_ok


@dataclass
class Timer:
    """Start time of one proof; ``record`` turns a residual into a :class:`ProofRecord`."""

    family: str
    start: float = field(default_factory=time.perf_counter)

    def record(
        self,
        *,
        name: str,
        title: str,
        statement: str,
        assumptions: list[str],
        level: str,
        residual: sp.Expr,
        steps: list[str],
        expect_zero: bool = True,
        extra_ok: bool = True,
    ) -> ProofRecord:
        """Build the record; ``proved`` is True iff the residual is exactly zero.

        Args:
            name: Slug of the identity; the family and level are prefixed/suffixed.
            title: Human title.
            statement: LaTeX statement.
            assumptions: LaTeX assumptions.
            level: Level of generality.
            residual: The simplified residual.
            steps: LaTeX derivation steps.
            expect_zero: False for a counterexample.
            extra_ok: An additional side condition checked by the proof (e.g. positivity of a
                second derivative); if False the record is not proved (for a counterexample:
                the record is not ok).

        Returns:
            The record, timed from the creation of this timer.
        """
        residual = sp.sympify(residual)
        proved = bool(residual == sp.S.Zero) and (extra_ok or not expect_zero)
        return ProofRecord(
            name=f"{self.family}/{name}/{level}",
            title=title,
            statement=statement,
            assumptions=list(assumptions),
            level=level,
            residual=residual,
            proved=proved,
            seconds=time.perf_counter() - self.start,
            steps=list(steps),
            family=self.family,
            expect_zero=expect_zero,
            checks_ok=extra_ok,
        )
