"""Parse ECR image URIs, read ECR repositories and their policies, and check pull-only access."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fargate_harness.aws._policy import as_list, decode_document, fail, raise_if_not_found, statements

__all__ = [
    "PULL_ACTIONS",
    "EcrImage",
    "assert_image_pushed",
    "assert_pull_only_policy",
    "get_image_ids",
    "get_pull_through_cache_rules",
    "get_repository",
    "get_repository_policy",
    "parse_image_uri",
    "pull_through_rule_for",
    "push_placeholder_image",
    "repository_arn",
]

PULL_ACTIONS = frozenset({"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"})

_IMAGE_RE = re.compile(
    r"""
    (?P<account>\d{12})
    \.(?:dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?
       |dkr-ecr(?:-fips)?\.(?P<dual_region>[a-z0-9-]+)\.on\.aws)
    /(?P<repository>[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)
    (?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?
    (?:@(?P<digest>sha256:[0-9a-f]{64}))?
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class EcrImage:
    """A private ECR image reference. ``tag`` and ``digest`` are None when the URI does not give them."""

    account_id: str
    region: str
    repository_name: str
    tag: str | None = None
    digest: str | None = None


def parse_image_uri(image: str) -> EcrImage | None:
    """Parse ``<account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repo>[:tag][@sha256:...]``.

    Returns None for images outside private ECR (Docker Hub, ``public.ecr.aws``, other registries) and
    for strings that do not parse as an ECR image reference.
    """
    match = _IMAGE_RE.fullmatch(image.strip())
    if match is None:
        return None
    return EcrImage(
        account_id=match["account"],
        region=match["region"] or match["dual_region"],
        repository_name=match["repository"],
        tag=match["tag"],
        digest=match["digest"],
    )


def repository_arn(image: EcrImage, partition: str = "aws") -> str:
    """Return the ARN of the repository holding ``image``."""
    return f"arn:{partition}:ecr:{image.region}:{image.account_id}:repository/{image.repository_name}"


def _registry_kwargs(registry_id: str | None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if registry_id is not None:
        kwargs["registryId"] = registry_id
    return kwargs


def get_repository(ecr: Any, name: str, registry_id: str | None = None) -> dict[str, Any]:
    """Return the ``describe_repositories`` entry of repository ``name``."""
    try:
        response = ecr.describe_repositories(repositoryNames=[name], **_registry_kwargs(registry_id))
    except ecr.exceptions.ClientError as error:
        raise_if_not_found(error, ("RepositoryNotFoundException",), f"ECR repository {name!r}")
        raise
    return dict(response["repositories"][0])


def get_repository_policy(ecr: Any, name: str, registry_id: str | None = None) -> dict[str, Any]:
    """Return the repository policy of ``name`` decoded to a dict."""
    try:
        response = ecr.get_repository_policy(repositoryName=name, **_registry_kwargs(registry_id))
    except ecr.exceptions.ClientError as error:
        raise_if_not_found(
            error,
            ("RepositoryNotFoundException", "RepositoryPolicyNotFoundException"),
            f"policy of ECR repository {name!r}",
        )
        raise
    return decode_document(response["policyText"])


def get_image_ids(ecr: Any, name: str, registry_id: str | None = None) -> tuple[frozenset[str], frozenset[str]]:
    """Return (tags, digests) of every image in repository ``name`` (``describe_images``, all pages).

    One call per repository answers every tag and digest a task definition names, so callers cache it.
    """
    tags: set[str] = set()
    digests: set[str] = set()
    try:
        pages = ecr.get_paginator("describe_images").paginate(repositoryName=name, **_registry_kwargs(registry_id))
        for page in pages:
            for detail in page.get("imageDetails", []):
                tags.update(detail.get("imageTags") or [])
                if detail.get("imageDigest"):
                    digests.add(str(detail["imageDigest"]))
    except ecr.exceptions.ClientError as error:
        raise_if_not_found(error, ("RepositoryNotFoundException",), f"ECR repository {name!r}")
        raise
    return frozenset(tags), frozenset(digests)


def get_pull_through_cache_rules(ecr: Any, registry_id: str | None = None) -> list[dict[str, Any]]:
    """Return the registry's pull through cache rules (``ecrRepositoryPrefix``, ``upstreamRegistryUrl``...)."""
    rules: list[dict[str, Any]] = []
    kwargs = _registry_kwargs(registry_id)
    paginator = ecr.get_paginator("describe_pull_through_cache_rules")
    for page in paginator.paginate(**kwargs):
        rules.extend(dict(rule) for rule in page.get("pullThroughCacheRules", []))
    return rules


def pull_through_rule_for(repository_name: str, rules: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The rule whose ``ecrRepositoryPrefix`` starts ``repository_name`` (``<prefix>/...``), longest first."""
    matching = [
        rule
        for rule in rules
        if rule.get("ecrRepositoryPrefix") and repository_name.startswith(str(rule["ecrRepositoryPrefix"]) + "/")
    ]
    return max(matching, key=lambda rule: len(str(rule["ecrRepositoryPrefix"])), default=None)


def assert_image_pushed(image: EcrImage, tags: frozenset[str], digests: frozenset[str], *, scenario: str) -> None:
    """Check the image's tag (``latest`` when the URI gives none) or digest is in the repository."""
    resource = f"ECR repository {image.repository_name} in {image.account_id}/{image.region}"
    if image.digest is not None:
        if image.digest not in digests:
            fail(scenario, resource, f"an image with digest {image.digest}", f"digests {sorted(digests)}")
        return
    tag = image.tag or "latest"
    if tag not in tags:
        fail(scenario, resource, f"an image tagged {tag!r}", f"tags {sorted(tags)}")


#: The smallest image manifest ECR accepts: an empty config, no layers (a stand-in for a pipeline's push).
PLACEHOLDER_MANIFEST = (
    '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",'
    '"config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":2,'
    '"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"layers":[]}'
)


def push_placeholder_image(ecr: Any, name: str, tag: str = "latest", registry_id: str | None = None) -> None:
    """Put :data:`PLACEHOLDER_MANIFEST` as ``name:tag`` (what a pipeline's push would leave); idempotent."""
    try:
        ecr.put_image(
            repositoryName=name, imageManifest=PLACEHOLDER_MANIFEST, imageTag=tag, **_registry_kwargs(registry_id)
        )
    except ecr.exceptions.ClientError as error:
        if getattr(error, "response", {}).get("Error", {}).get("Code") != "ImageAlreadyExistsException":
            raise


def _repository_label(repository: Mapping[str, Any] | str) -> str:
    if isinstance(repository, str):
        return f"ECR repository {repository}"
    return f"ECR repository {repository.get('repositoryName') or repository.get('repositoryArn')}"


def _difference(actual: set[str], expected: set[str]) -> str:
    parts = []
    if expected - actual:
        parts.append(f"missing {sorted(expected - actual)}")
    if actual - expected:
        parts.append(f"extra {sorted(actual - expected)}")
    return ", ".join(parts)


def assert_pull_only_policy(
    repository: Mapping[str, Any] | str,
    policy: Mapping[str, Any],
    *,
    principals: set[str],
    scenario: str,
) -> None:
    """Check that every Allow statement lets exactly ``principals`` pull, and do nothing else.

    Each Allow statement's ``Principal`` must be ``{"AWS": ...}`` with exactly ``principals`` and its
    actions must be exactly :data:`PULL_ACTIONS` (compared case-insensitively), so ``ecr:*`` or push
    actions fail. Deny statements only restrict access and are not checked.
    """
    resource = _repository_label(repository)
    canonical = {action.lower(): action for action in PULL_ACTIONS}
    allows = [s for s in statements(policy) if s.get("Effect") == "Allow"]
    if not allows:
        fail(scenario, resource, "an Allow statement for pulls", "no Allow statements")
    for index, statement in enumerate(allows):
        label = f"{resource} statement {statement.get('Sid') or index}"
        for element in ("NotPrincipal", "NotAction"):
            if element in statement:
                fail(scenario, label, f"no {element}", f"{element} {statement[element]!r}")
        principal = statement.get("Principal")
        if not isinstance(principal, Mapping) or set(principal) != {"AWS"}:
            fail(scenario, label, f"AWS principals {sorted(principals)}", f"Principal {principal!r}")
        actual_principals = set(as_list(principal["AWS"]))
        if actual_principals != principals:
            fail(
                scenario,
                label,
                f"AWS principals {sorted(principals)}",
                f"{sorted(actual_principals)} ({_difference(actual_principals, principals)})",
            )
        actual_actions = {canonical.get(a.lower(), a) for a in as_list(statement.get("Action"))}
        if actual_actions != set(PULL_ACTIONS):
            fail(
                scenario,
                label,
                f"actions {sorted(PULL_ACTIONS)}",
                f"{sorted(actual_actions)} ({_difference(actual_actions, set(PULL_ACTIONS))})",
            )
