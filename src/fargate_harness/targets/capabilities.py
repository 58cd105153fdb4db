"""What a target can serve, asked with plain data: the services a configuration needs, those it can do without,
and whether it reaches a registry account. The targets never read a configuration; ``configurations.py`` says
what a configuration needs and asks here (:func:`fargate_harness.configurations.unavailable`)."""

from __future__ import annotations

from collections.abc import Iterable

from fargate_harness.targets.base import Target


def missing_services(
    target: Target, needed: Iterable[str], optional: Iterable[str] = ()
) -> tuple[list[str], list[str]]:
    """(missing_required, missing_optional): the services in ``needed`` that ``target`` lacks, split by whether
    they are in ``optional`` (services the configuration can switch off).

    Missing required services mean the configuration must be skipped whole (before any apply); missing optional
    ones mean it runs with those parts switched off (``target.scenario_variables()``), and checks needing them
    skip. Both lists are empty on targets that cannot tell (embedded, aws).
    """
    missing = target.missing_services(needed)
    spare = frozenset(optional)
    return [s for s in missing if s not in spare], [s for s in missing if s in spare]


def lacks(target: Target, needed: Iterable[str], optional: Iterable[str] = ()) -> str | None:
    """Why a configuration needing ``needed`` cannot run on ``target`` (``"target localstack lacks ecr"``, with
    what the target said of a service it lists but cannot use), or None when it can."""
    required, _optional = missing_services(target, needed, optional)
    if not required:
        return None
    notes: dict[str, str] = getattr(target, "unusable", {})
    why = "; ".join(f"{s}: {notes[s]}" for s in required if s in notes)
    return f"target {target.name} lacks {', '.join(required)}" + (f" ({why})" if why else "")


def unavailable(
    target: Target,
    needed: Iterable[str],
    optional: Iterable[str] = (),
    *,
    needs_registry_account: bool = False,
    registry_hint: str = "",
) -> str | None:
    """:func:`lacks`, or for a configuration that reaches a registry account on a target without one,
    ``"needs a registry account"`` followed by ``registry_hint`` (how to give one); None when it can run."""
    if reason := lacks(target, needed, optional):
        return reason
    if needs_registry_account and not target.registry_role_arn:
        return f"needs a registry account{registry_hint}"
    return None
