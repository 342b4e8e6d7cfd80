"""What the hostile-input campaigns (FlexMatch and TeamBattles) share: the record of cases and
findings, and the hypothesis settings each target runs under."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, seed, settings


@dataclass
class Finding:
    target: str
    check: str
    status: int
    detail: str
    count: int = 1

    def line(self) -> str:
        return f"{self.target}: {self.check} (HTTP {self.status}) x{self.count}: {self.detail}"


@dataclass
class Campaign:
    """Cases run per target and the problems found, merged by (target, check, status).
    ``statuses`` counts the answers per (target, outcome): a status code or a code text."""

    cases: Counter[str] = field(default_factory=Counter)
    statuses: Counter[tuple[str, Any]] = field(default_factory=Counter)
    findings: dict[tuple[str, str, int], Finding] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.cases.values())

    def add(self, target: str, check: str, status: int, detail: str) -> None:
        key = (target, check, status)
        if key in self.findings:
            self.findings[key].count += 1
        else:
            self.findings[key] = Finding(target, check, status, detail[:1500])

    def report(self) -> str:
        lines = [f"{n:6d}  {t}" for t, n in sorted(self.cases.items())]
        by_target: dict[str, list[str]] = {}
        for (target, outcome), n in sorted(self.statuses.items()):
            by_target.setdefault(target, []).append(f"{outcome}x{n}")
        lines += [f"        {t}: {' '.join(seen)}" for t, seen in by_target.items()]
        lines.append(f"{self.total:6d}  cases in all, {len(self.findings)} finding(s)")
        lines += [f.line() for f in self.findings.values()]
        return "\n".join(lines)


def target_settings(examples: int, derandomize: bool, **more: Any) -> settings:
    """The hypothesis settings a campaign's target runs under: no database, no deadline, no
    shrinking, no health checks; ``more`` adds settings of one campaign's own."""
    return settings(
        max_examples=examples,
        derandomize=derandomize,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        **more,
    )


def seeded(test: Callable[..., None], derandomize: bool, random_seed: int | None) -> Callable[..., None]:
    """``test`` with the given random seed, where the run is random and a seed is given."""
    if random_seed is not None and not derandomize:
        return seed(random_seed)(test)
    return test
