"""Property-based tests of fargate_harness.iam.evaluate: invariants that AWS's documented evaluation logic implies.

Hypothesis generates identity policies, resource policies, boundaries and requests from a small vocabulary:
actions with ``*``/``?`` wildcards in any letter case, ARNs of several services in two accounts with wildcard,
``?`` and policy-variable patterns, Allow/Deny, Action/NotAction, Resource/NotResource, Principal/NotPrincipal
and a few condition operators. Each property names the AWS rule and page it rests on.

``derandomize=True`` makes every run draw the same examples (CI is reproducible, a failure replays), and no
example database is written (Hypothesis still caches source constants in its self-ignoring ``.hypothesis/``).
The generators are biased towards statements that apply to the request, so that allowed, denied and explicitly
denied decisions, cross-account grants and key-policy grants all occur.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fargate_harness.iam import Decision, Evaluator, evaluate, evaluate_many, resource_policy_kind_for

COMMON = settings(derandomize=True, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PROPERTY = settings(COMMON, max_examples=100)
"""Properties over one or two statements: cheap, so many examples."""
SCENARIO_PROPERTY = settings(COMMON, max_examples=60)
"""Properties over whole generated scenarios (up to 8 statements in 4 policies): fewer examples keep the file
under ~10 s on a loaded 2-core machine."""

A = "111111111111"
B = "222222222222"
ROLE = f"arn:aws:iam::{A}:role/exec"
SESSION = f"arn:aws:sts::{A}:assumed-role/exec/task-1"
USER = f"arn:aws:iam::{A}:user/alice"
OTHER_ROLE = f"arn:aws:iam::{A}:role/other"
ROLE_B = f"arn:aws:iam::{B}:role/exec"
CALLERS = (ROLE, SESSION, USER)
VERSION = "2012-10-17"

ACTIONS = (
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "kms:Decrypt",
    "kms:GenerateDataKey",
    "secretsmanager:GetSecretValue",
    "ssm:GetParameters",
    "ecr:BatchGetImage",
)
ACTION_PATTERNS = (
    "*",
    "s3:*",
    "s3:Get*",
    "s3:?etObject",
    "kms:*",
    "kms:*crypt",
    "kms:Generate*",
    "secretsmanager:Get*",
    "ssm:GetParameter?",
    "ecr:Batch*",
    "iam:*",
)
REGIONS = ("us-east-1", "eu-west-1")
# {r}: region, {a}: account (the owner). The S3 ARN has no account; its owner is still {a}.
RESOURCE_TEMPLATES = (
    "arn:aws:secretsmanager:{r}:{a}:secret:db-AbCdEf",
    "arn:aws:secretsmanager:{r}:{a}:secret:app/api-GhIjKl",
    "arn:aws:ssm:{r}:{a}:parameter/app/db-url",
    "arn:aws:kms:{r}:{a}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "arn:aws:kms:{r}:{a}:alias/app",
    "arn:aws:ecr:{r}:{a}:repository/app",
    "arn:aws:s3:::assets-{a}/team/report.csv",
    "arn:aws:logs:{r}:{a}:log-group:/ecs/app:log-stream:web/1",
)
MUTATIONS = ("exact", "exact", "any", "region", "account", "tail", "service", "question", "variable", "prefix-variable")
"""How a Resource pattern is made from an ARN: ``variable`` puts ``${aws:PrincipalTag/app}`` in the resource part,
``prefix-variable`` puts ``${aws:PrincipalAccount}`` in the account part (literal: it is never substituted)."""

PRINCIPALS: tuple[Any, ...] = (
    "*",
    {"AWS": "*"},
    {"AWS": A},
    {"AWS": f"arn:aws:iam::{A}:root"},
    {"AWS": ROLE},
    {"AWS": SESSION},
    {"AWS": USER},
    {"AWS": OTHER_ROLE},
    {"AWS": B},
    {"AWS": ROLE_B},
    {"AWS": [ROLE, A]},
    {"Service": "ecs-tasks.amazonaws.com"},
)
CONDITIONS: tuple[Mapping[str, Any], ...] = (
    {"StringEquals": {"aws:PrincipalTag/team": "payments"}},
    {"StringLike": {"aws:PrincipalTag/team": "pay*"}},
    {"StringNotEquals": {"aws:RequestedRegion": "eu-west-1"}},
    {"StringEqualsIfExists": {"aws:PrincipalTag/team": "ops"}},
    {"Bool": {"aws:SecureTransport": "true"}},
    {"NumericLessThan": {"s3:max-keys": "10"}},
    {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/ex*"}},
    {"ForAnyValue:StringEquals": {"aws:TagKeys": ["env", "team"]}},
    {"Null": {"aws:PrincipalTag/app": "false"}},
)
CONTEXT = st.fixed_dictionaries(
    {},
    optional={
        "aws:PrincipalTag/team": st.sampled_from(["payments", "ops"]),
        "aws:PrincipalTag/app": st.sampled_from(["db", "api", "app", "web"]),
        "aws:RequestedRegion": st.sampled_from(REGIONS),
        "aws:SecureTransport": st.booleans(),
        "s3:max-keys": st.sampled_from([5, 50]),
        "aws:TagKeys": st.lists(st.sampled_from(["env", "team", "cost"]), max_size=2),
    },
)

Statement = dict[str, Any]
Document = dict[str, Any]


def doc(*statements: Statement) -> Document:
    """A 2012-10-17 policy document."""
    return {"Version": VERSION, "Statement": list(statements)}


def is_key(resource: str) -> bool:
    """Whether key-policy rules apply to ``resource`` when no kind is given."""
    return resource_policy_kind_for(resource) == "kms"


def mutate(arn: str, how: str) -> str:
    """A Resource pattern made from ``arn`` (see MUTATIONS); ``arn`` itself when ``how`` does not apply to it."""
    partition, service, region, account, rest = arn.split(":", 5)[1:]
    head = f"arn:{partition}:{service}:{region}:{account}:" + rest[: max(rest.rfind("/"), rest.find(":")) + 1]
    patterns = {
        "any": "*",
        "region": f"arn:{partition}:{service}:*:{account}:{rest}" if region else arn,
        "account": f"arn:{partition}:{service}:{region}:*:{rest}" if account else arn,
        "tail": head + "*",
        "service": f"arn:{partition}:{service}:*",
        "question": arn[:-1] + "?",
        "variable": head + "${aws:PrincipalTag/app}*",
        "prefix-variable": f"arn:{partition}:{service}:{region}:${{aws:PrincipalAccount}}:{rest}" if account else arn,
    }
    return patterns.get(how, arn)


def random_case(text: str, how: int) -> str:
    """``text`` as written, lower- or upper-cased (action names are case-insensitive)."""
    return (text, text.lower(), text.upper())[how]


# Generators. Hypothesis draws plain choices from strategies built once here, each pick one integer (the engine's
# cost grows with the number of choices); pure functions turn the picks into policies for one request. Building
# strategies inside every draw, as composites do, made the file ten times slower.

ACCOUNT_WEIGHTS = (A, A, B)
ARN_COUNT = len(RESOURCE_TEMPLATES) * len(REGIONS) * len(ACCOUNT_WEIGHTS)
ARN_PICKS = st.integers(0, ARN_COUNT - 1)


def arn(pick: int) -> str:
    """The concrete ARN a pick names: template, region, account (A twice as often as B)."""
    template, rest = pick % len(RESOURCE_TEMPLATES), pick // len(RESOURCE_TEMPLATES)
    region, account = rest % len(REGIONS), rest // len(REGIONS)
    return RESOURCE_TEMPLATES[template].format(r=REGIONS[region], a=ACCOUNT_WEIGHTS[account])


ARNS = ARN_PICKS.map(arn)
ACTION_SOURCES = (0, 0, 1, 1, 2, 3)
"""Where an action pattern comes from: 0 the request's action, 1 its service's ``*``, 2 and 3 the vocabulary."""
ACTION_PICKS = st.integers(0, len(ACTION_SOURCES) * 64 * 3 - 1)


def action_pattern(action: str, pick: int) -> str:
    """An action pattern about ``action`` (2 times in 3) or from the vocabulary, in some letter case."""
    source = ACTION_SOURCES[pick % len(ACTION_SOURCES)]
    index, case = (pick // len(ACTION_SOURCES)) % 64, pick // (len(ACTION_SOURCES) * 64)
    service = action.split(":", 1)[0]
    choices = (action, f"{service}:*", ACTION_PATTERNS[index % len(ACTION_PATTERNS)], ACTIONS[index % len(ACTIONS)])
    return random_case(choices[source], case)


RESOURCE_PICKS = st.integers(0, 4 * ARN_COUNT * len(MUTATIONS) - 1)


def resource_pattern(resource: str, pick: int, *, variables: bool = True) -> str:
    """A Resource pattern made from ``resource`` (3 times in 4) or another ARN, by one of MUTATIONS."""
    own, other, how = pick % 4 != 0, (pick // 4) % ARN_COUNT, pick // (4 * ARN_COUNT)
    mutation = MUTATIONS[how]
    if mutation == "variable" and not variables:
        mutation = "exact"
    return mutate(resource if own else arn(other), mutation)


@dataclass(frozen=True)
class Shape:
    """The choices that make one statement; :func:`statement` makes it concrete for a request."""

    effect: int
    actions: tuple[int, ...]
    not_action: int
    resources: tuple[int, ...]
    not_resource: int
    omit_resource: bool
    principal: int
    not_principal: int
    condition: int
    as_list: bool


SHAPES = st.builds(
    Shape,
    effect=st.integers(0, 5),
    actions=st.lists(ACTION_PICKS, min_size=1, max_size=3).map(tuple),
    not_action=st.integers(0, 4),
    resources=st.lists(RESOURCE_PICKS, min_size=1, max_size=2).map(tuple),
    not_resource=st.integers(0, 4),
    omit_resource=st.booleans(),
    principal=st.integers(0, len(PRINCIPALS) - 1),
    not_principal=st.integers(0, 5),
    condition=st.integers(0, 5 * len(CONDITIONS)),
    as_list=st.booleans(),
)


def element(items: list[str], as_list: bool) -> str | list[str]:
    """A policy element value: a string for a single item (unless ``as_list``), else a list."""
    return items[0] if len(items) == 1 and not as_list else items


def statement(
    shape: Shape, action: str, resource: str, *, on_resource: bool = False, effect: str | None = None
) -> Statement:
    """The statement ``shape`` describes, for a request of ``action`` on ``resource`` (Deny 1 time in 6)."""
    out: Statement = {"Effect": effect or ("Deny" if shape.effect == 0 else "Allow")}
    actions = [action_pattern(action, pick) for pick in shape.actions]
    out["NotAction" if shape.not_action == 0 else "Action"] = element(actions, shape.as_list)
    if not (on_resource and shape.omit_resource):  # resource policies may omit Resource
        resources = [resource_pattern(resource, pick) for pick in shape.resources]
        out["NotResource" if shape.not_resource == 0 else "Resource"] = element(resources, shape.as_list)
    if on_resource:
        out["NotPrincipal" if shape.not_principal == 0 else "Principal"] = PRINCIPALS[shape.principal]
    if shape.condition < len(CONDITIONS):
        out["Condition"] = CONDITIONS[shape.condition]
    return out


@dataclass(frozen=True)
class Configuration:
    """One request and the policies that decide it."""

    principal: str
    action: str
    resource: str
    owner: str
    identity: tuple[Document, ...]
    resource_policy: Document | None
    boundary: Document | None
    context: Mapping[str, Any]

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :func:`evaluate` (no resource_policy_kind: it is inferred)."""
        return {
            "action": self.action,
            "resource": self.resource,
            "principal": self.principal,
            "identity_policies": list(self.identity),
            "resource_policy": self.resource_policy,
            "resource_owner": self.owner,
            "boundary": self.boundary,
            "context": dict(self.context),
        }

    def decide(self) -> Decision:
        """The decision for this scenario."""
        return evaluate(**self.kwargs())


def owner_of(resource: str) -> str:
    """The account in an ARN, or in the bucket name of the S3 template."""
    account = resource.split(":")[4]
    return account or (A if A in resource else B)


POLICY_SHAPES = st.lists(SHAPES, min_size=1, max_size=2)


def build_scenario(
    *,
    caller: int,
    action_index: int,
    resource_pick: int,
    identity: list[list[Shape]],
    resource_policy: list[Shape] | None,
    boundary: list[Shape] | None,
    context: dict[str, Any],
) -> Configuration:
    """A request by a principal of account A on a resource of account A or B, with the policies the shapes make."""
    action, resource = ACTIONS[action_index], arn(resource_pick)

    def policy(shapes: list[Shape], on_resource: bool = False) -> Document:
        return doc(*(statement(shape, action, resource, on_resource=on_resource) for shape in shapes))

    return Configuration(
        CALLERS[caller],
        action,
        resource,
        owner_of(resource),
        tuple(policy(shapes) for shapes in identity),
        None if resource_policy is None else policy(resource_policy, on_resource=True),
        None if boundary is None else policy(boundary),
        context,
    )


SCENARIOS = st.builds(
    build_scenario,
    caller=st.integers(0, len(CALLERS) - 1),
    action_index=st.integers(0, len(ACTIONS) - 1),
    resource_pick=ARN_PICKS,
    identity=st.lists(POLICY_SHAPES, max_size=2),
    resource_policy=st.one_of(st.none(), POLICY_SHAPES, POLICY_SHAPES),  # a resource policy two times in three
    boundary=st.one_of(st.none(), st.none(), st.none(), POLICY_SHAPES),  # a boundary one time in four
    context=CONTEXT,
)


def outcome(decision: Decision) -> tuple[bool, bool]:
    """What a decision says, without its wording: (allowed, explicit deny)."""
    return decision.allowed, decision.explicit_deny


def show(scenario: Configuration, decision: Decision) -> str:
    """A failure message: the request and the evaluator's reason."""
    return f"{scenario.principal} {scenario.action} on {scenario.resource}: {decision.reason}"


def matching_action(action: str, how: int) -> Statement:
    """An Action/NotAction element that certainly matches ``action``."""
    return [
        {"Action": action},
        {"Action": action.upper()},
        {"Action": action.split(":", maxsplit=1)[0] + ":*"},
        {"Action": "*"},
        {"NotAction": "iam:*"},
    ][how]


def matching_resource(resource: str, how: int) -> Statement:
    """A Resource/NotResource element that certainly matches ``resource``."""
    parts = resource.split(":", 5)
    return [
        {"Resource": resource},
        {"Resource": "*"},
        {"Resource": mutate(resource, "tail")},
        {"Resource": f"arn:aws:{parts[2]}:*"},
        {"NotResource": "arn:aws:iam::*:role/*"},
    ][how]


def map_statements(scenario: Configuration, change: Callable[[list[Statement]], list[Statement]]) -> Configuration:
    """The scenario with ``change`` applied to the statement list of every policy."""

    def apply(document: Document | None) -> Document | None:
        return None if document is None else doc(*change(list(document["Statement"])))

    return replace(
        scenario,
        identity=tuple(doc(*change(list(d["Statement"]))) for d in scenario.identity),
        resource_policy=apply(scenario.resource_policy),
        boundary=apply(scenario.boundary),
    )


# --- Explicit deny ---------------------------------------------------------------------------------------


@SCENARIO_PROPERTY
@given(
    scenario=SCENARIOS,
    place=st.sampled_from(["identity", "resource", "boundary"]),
    action_how=st.integers(0, 4),
    resource_how=st.integers(0, 4),
    principal=st.sampled_from(["*", {"AWS": "*"}, {"AWS": A}, {"AWS": f"arn:aws:iam::{A}:root"}, "caller"]),
)
def test_matching_explicit_deny_always_wins(
    scenario: Configuration, place: str, action_how: int, resource_how: int, principal: Any
) -> None:
    """An explicit Deny that matches the request denies it, whatever else allows it.

    IAM User Guide, "Policy evaluation logic" (https://docs.aws.amazon.com/IAM/latest/UserGuide/
    reference_policies_evaluation-logic.html): "An explicit deny in any policy overrides any allows", in an
    identity policy, a resource-based policy (for a principal it names: here ``*``, the account or the caller)
    or a permissions boundary.
    """
    deny: Statement = {"Effect": "Deny", **matching_action(scenario.action, action_how)}
    deny.update(matching_resource(scenario.resource, resource_how))
    if place == "identity":
        changed = replace(scenario, identity=(*scenario.identity, doc(deny)))
    elif place == "boundary":
        old = [] if scenario.boundary is None else scenario.boundary["Statement"]
        changed = replace(scenario, boundary=doc(*old, deny))
    else:
        deny["Principal"] = {"AWS": scenario.principal} if principal == "caller" else principal
        old = [] if scenario.resource_policy is None else scenario.resource_policy["Statement"]
        changed = replace(scenario, resource_policy=doc(*old, deny))
    decision = changed.decide()
    assert outcome(decision) == (False, True), show(changed, decision)
    assert any(ref.statement == deny for ref in decision.matched), f"the added Deny is not named: {decision.reason}"


# --- Adding an Allow -------------------------------------------------------------------------------------


def with_extra_allow(scenario: Configuration, place: str, shape: Shape) -> tuple[Configuration, Configuration]:
    """A scenario, and the same scenario with one more Allow statement somewhere it can go."""
    if place == "resource":
        extra = statement(shape, scenario.action, scenario.resource, on_resource=True, effect="Allow")
        old = [] if scenario.resource_policy is None else scenario.resource_policy["Statement"]
        return scenario, replace(scenario, resource_policy=doc(*old, extra))
    extra = statement(shape, scenario.action, scenario.resource, effect="Allow")
    if place == "boundary" and scenario.boundary is not None:  # adding a boundary is not adding an Allow
        return scenario, replace(scenario, boundary=doc(*scenario.boundary["Statement"], extra))
    if place == "identity" and scenario.identity:
        first, *others = scenario.identity
        return scenario, replace(scenario, identity=(doc(*first["Statement"], extra), *others))
    return scenario, replace(scenario, identity=(*scenario.identity, doc(extra)))


@SCENARIO_PROPERTY
@given(
    pair=st.builds(
        with_extra_allow,
        SCENARIOS,
        st.sampled_from(["new identity policy", "identity", "resource", "boundary"]),
        SHAPES,
    )
)
def test_adding_an_allow_never_denies_an_allowed_request(pair: tuple[Configuration, Configuration]) -> None:
    """One more Allow statement (identity policy, resource policy or an existing boundary) never takes access away.

    IAM User Guide, "Policy evaluation logic" (https://docs.aws.amazon.com/IAM/latest/UserGuide/
    reference_policies_evaluation-logic.html): an Allow only ever adds to what the other policies allow; only an
    explicit Deny (or a missing Allow where one is required) denies. Nor does it turn an explicit deny into
    anything else.
    """
    before, after = pair
    first, second = before.decide(), after.decide()
    if first.allowed:
        assert second.allowed, f"allowed before ({first.reason}), denied after: {show(after, second)}"
    assert second.explicit_deny == first.explicit_deny, show(after, second)


# --- NotAction / NotResource -----------------------------------------------------------------------------


@PROPERTY
@given(
    action=st.sampled_from(ACTIONS),
    resource=ARNS,
    picks=st.lists(ACTION_PICKS, min_size=1, max_size=3),
)
def test_notaction_matches_exactly_what_action_does_not(action: str, resource: str, picks: list[int]) -> None:
    """A statement with NotAction X applies to exactly the actions that Action X does not.

    IAM User Guide, "IAM JSON policy elements: NotAction" (https://docs.aws.amazon.com/IAM/latest/UserGuide/
    reference_policies_elements_notaction.html): NotAction "explicitly matches everything except the specified
    list of actions". Observed through an explicit Deny (whether the statement applies), and for a same-account,
    non-key resource through an Allow as well.
    """
    listed = [action_pattern(action, pick) for pick in picks]
    common: dict[str, Any] = {"action": action, "resource": resource, "principal": ROLE, "resource_owner": A}
    denied = [
        evaluate(**common, identity_policies=[doc({"Effect": "Deny", key: listed, "Resource": "*"})]).explicit_deny
        for key in ("Action", "NotAction")
    ]
    assert denied[0] != denied[1], f"{action} vs {listed}: Deny with Action {denied[0]}, with NotAction {denied[1]}"
    if not is_key(resource):
        allowed = [
            evaluate(**common, identity_policies=[doc({"Effect": "Allow", key: listed, "Resource": "*"})]).allowed
            for key in ("Action", "NotAction")
        ]
        assert allowed[0] != allowed[1], f"{action} vs {listed}: Allow with Action {allowed[0]}, NotAction {allowed[1]}"


@PROPERTY
@given(resource=ARNS, context=CONTEXT, picks=st.lists(RESOURCE_PICKS, min_size=1, max_size=3))
def test_notresource_matches_exactly_what_resource_does_not(
    resource: str, context: dict[str, Any], picks: list[int]
) -> None:
    """A statement with NotResource Y applies to exactly the resources that Resource Y does not.

    IAM User Guide, "IAM JSON policy elements: NotResource" (https://docs.aws.amazon.com/IAM/latest/UserGuide/
    reference_policies_elements_notresource.html): NotResource "explicitly matches every resource except the
    ones specified". Patterns carry wildcards, ``?`` and literal prefix variables; a resource-part variable only
    when the context resolves it (an unresolved variable "might cause the entire statement to be invalid", a
    case this property does not claim).
    """
    resolvable = "aws:PrincipalTag/app" in context
    listed = [resource_pattern(resource, pick, variables=resolvable) for pick in picks]
    common: dict[str, Any] = {"action": "s3:GetObject", "resource": resource, "principal": ROLE, "resource_owner": A}
    denied = [
        evaluate(
            **common, context=context, identity_policies=[doc({"Effect": "Deny", "Action": "*", key: listed})]
        ).explicit_deny
        for key in ("Resource", "NotResource")
    ]
    assert denied[0] != denied[1], f"{resource} vs {listed}: Deny with Resource {denied[0]}, NotResource {denied[1]}"


# --- Order and shape of statements -----------------------------------------------------------------------


@SCENARIO_PROPERTY
@given(scenario=SCENARIOS, rng=st.randoms(use_true_random=False))
def test_decision_does_not_depend_on_statement_or_policy_order(scenario: Configuration, rng: random.Random) -> None:
    """Reordering statements within each policy, and the identity policies, leaves the decision unchanged.

    IAM User Guide, "Policy evaluation logic" (https://docs.aws.amazon.com/IAM/latest/UserGuide/
    reference_policies_evaluation-logic.html): every applicable statement of every applicable policy is
    evaluated; "the order in which the policies are evaluated has no effect on the outcome".
    """

    def shuffle(items: list[Any]) -> list[Any]:
        return rng.sample(items, len(items))

    shuffled = map_statements(scenario, shuffle)
    shuffled = replace(shuffled, identity=tuple(shuffle(list(shuffled.identity))))
    first, second = scenario.decide(), shuffled.decide()
    assert outcome(first) == outcome(second), f"{first.reason}\n  reordered: {second.reason}"


def split_actions(items: list[Statement]) -> list[Statement]:
    """Each statement with an Action list becomes one statement per action (Sid dropped: Sids are unique)."""
    out: list[Statement] = []
    for item in items:
        actions = item.get("Action")
        if isinstance(actions, list) and len(actions) > 1:
            rest = {k: v for k, v in item.items() if k not in ("Action", "Sid")}
            out.extend({**rest, "Action": action} for action in actions)
        else:
            out.append(item)
    return out


@SCENARIO_PROPERTY
@given(scenario=SCENARIOS)
def test_splitting_an_action_list_into_statements_changes_nothing(scenario: Configuration) -> None:
    """``"Action": [a, b]`` decides like two statements ``"Action": a`` and ``"Action": b`` (Allow and Deny alike).

    IAM User Guide, "IAM JSON policy elements: Action" (https://docs.aws.amazon.com/IAM/latest/UserGuide/
    reference_policies_elements_action.html): the statement applies when the request's action matches any listed
    action; with "Policy evaluation logic", any applicable statement counts, so a list is a union of statements.
    (Not so for NotAction, which is why only Action lists are split.)
    """
    first, second = scenario.decide(), map_statements(scenario, split_actions).decide()
    assert outcome(first) == outcome(second), f"{first.reason}\n  split: {second.reason}"


@SCENARIO_PROPERTY
@given(scenario=SCENARIOS)
def test_evaluation_is_deterministic_and_every_entry_point_agrees(scenario: Configuration) -> None:
    """The same request under the same policies always gets the same decision, reason and statements.

    IAM User Guide, "Policy evaluation logic" (https://docs.aws.amazon.com/IAM/latest/UserGuide/
    reference_policies_evaluation-logic.html) decides from the request context and the policies alone. Checked
    across two calls, :class:`Evaluator` with inference, :func:`evaluate_many`, and JSON text instead of dicts.
    """
    kwargs = scenario.kwargs()
    first = evaluate(**kwargs)
    assert evaluate(**kwargs) == first
    request = (kwargs.pop("action"), kwargs.pop("resource"), kwargs.pop("context"))
    evaluator = Evaluator(**kwargs, resource_policy_kind=None)
    assert evaluator.evaluate(*request) == first
    assert evaluator.evaluate(*request) == first
    assert evaluate_many([request], **kwargs) == [first]
    texts = {
        "identity_policies": [json.dumps(d) for d in scenario.identity],
        "resource_policy": None if scenario.resource_policy is None else json.dumps(scenario.resource_policy),
        "boundary": None if scenario.boundary is None else json.dumps(scenario.boundary),
    }
    assert evaluate(**{**scenario.kwargs(), **texts}) == first
    kind = resource_policy_kind_for(scenario.resource)
    assert outcome(evaluate(**scenario.kwargs(), resource_policy_kind=kind)) == outcome(first)


# --- Same account, cross account, KMS keys ---------------------------------------------------------------


@SCENARIO_PROPERTY
@given(
    scenario=SCENARIOS.filter(lambda s: not is_key(s.resource)),
    action_how=st.integers(0, 4),
    resource_how=st.integers(0, 4),
    noise=st.lists(SHAPES, max_size=3),
)
def test_same_account_identity_allow_suffices(
    scenario: Configuration, action_how: int, resource_how: int, noise: list[Shape]
) -> None:
    """In its own account, a principal allowed by an identity policy needs no resource policy.

    IAM User Guide, "Policy evaluation logic", "Policy evaluation for requests within a single account"
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html): an Allow in an
    identity-based policy is enough when no Deny applies and no boundary limits it. Other Allow statements
    around it change nothing. (KMS keys are the exception: see the key-policy property.)
    """
    resource = scenario.resource.replace(B, A)
    allow: Statement = {"Effect": "Allow", **matching_action(scenario.action, action_how)}
    allow.update(matching_resource(resource, resource_how))
    others = [statement(shape, scenario.action, resource, effect="Allow") for shape in noise]
    same = replace(
        scenario,
        resource=resource,
        owner=A,
        identity=(doc(*others, allow),),
        resource_policy=None,
        boundary=None,
        context={},
    )
    decision = same.decide()
    assert decision.allowed, show(same, decision)
    assert any(ref.statement == allow for ref in decision.matched), decision.reason


GRANTS_TO_CALLER: tuple[Any, ...] = ("*", {"AWS": "*"}, {"AWS": A}, {"AWS": f"arn:aws:iam::{A}:root"}, "caller")


@PROPERTY
@given(
    action=st.sampled_from(ACTIONS),
    template=st.sampled_from(RESOURCE_TEMPLATES),
    region=st.sampled_from(REGIONS),
    principal=st.sampled_from(CALLERS),
    grantee=st.sampled_from(GRANTS_TO_CALLER),
    action_how=st.integers(0, 4),
    resource_how=st.integers(0, 4),
)
def test_cross_account_needs_both_sides(
    *, action: str, template: str, region: str, principal: str, grantee: Any, action_how: int, resource_how: int
) -> None:
    """Across accounts the caller's identity policy and the resource policy must both allow.

    IAM User Guide, "Cross-account policy evaluation logic" (https://docs.aws.amazon.com/IAM/latest/UserGuide/
    reference_policies_evaluation-cross-account.html): "both the identity-based policy and the resource-based
    policy must allow the request"; AWS KMS Developer Guide, "Key policies in AWS KMS"
    (https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html) says the same of key policies and
    external accounts. Neither side alone suffices; a key policy naming the account is enough for the other side.
    """
    resource = template.format(r=region, a=B)
    allow: Statement = {"Effect": "Allow", **matching_action(action, action_how)}
    allow.update(matching_resource(resource, resource_how))
    grant = {**allow, "Principal": {"AWS": principal} if grantee == "caller" else grantee}
    common: dict[str, Any] = {"action": action, "resource": resource, "principal": principal, "resource_owner": B}
    for identity, resource_policy, expected in (
        ([doc(allow)], None, False),
        ([], doc(grant), False),
        ([doc(allow)], doc(grant), True),
    ):
        decision = evaluate(**common, identity_policies=identity, resource_policy=resource_policy)
        sides = f"identity={bool(identity)}, resource policy={resource_policy is not None}"
        assert decision.allowed is expected, f"{principal} {action} on {resource} ({sides}): {decision.reason}"


NAMES_CALLER = {ROLE: {ROLE}, SESSION: {ROLE, SESSION}, USER: {USER}}
"""The Principal ARNs that name each caller (a role ARN names its sessions too)."""


@SCENARIO_PROPERTY
@given(
    scenario=SCENARIOS,
    key_statements=st.lists(
        st.sampled_from([p for p in PRINCIPALS if p not in GRANTS_TO_CALLER and p != {"AWS": [ROLE, A]}]), max_size=3
    ),
)
def test_iam_policies_alone_never_grant_a_kms_key(scenario: Configuration, key_statements: list[Any]) -> None:
    """Without a key-policy statement for the account or the principal, no IAM policy opens a KMS key.

    AWS KMS Developer Guide, "Key policies in AWS KMS" (https://docs.aws.amazon.com/kms/latest/developerguide/
    key-policies.html): "Unless the key policy explicitly allows it, you cannot use IAM policies to allow access to
    a KMS key." A key ARN brings this rule without resource_policy_kind being given; a key policy whose
    statements name only other principals (or none at all) leaves every request denied.
    """
    key = f"arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    others = [p for p in key_statements if p.get("AWS") not in NAMES_CALLER[scenario.principal]]
    key_policy = doc(*({"Effect": "Allow", "Principal": p, "Action": "kms:*"} for p in others)) if others else None
    everything = doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
    changed = replace(
        scenario, resource=key, owner=A, identity=(*scenario.identity, everything), resource_policy=key_policy
    )
    decision = changed.decide()
    assert not decision.allowed, show(changed, decision)


@PROPERTY
@given(
    action=st.sampled_from(ACTIONS),
    resource=ARNS,
    part=st.sampled_from(["region", "account"]),
    context=CONTEXT,
)
def test_variables_before_the_fifth_colon_are_never_substituted(
    action: str, resource: str, part: str, context: dict[str, Any]
) -> None:
    """A policy variable in the region or account part of a Resource ARN stays literal text.

    IAM User Guide, "IAM policy elements: Variables and tags", "Where you can use policy variables"
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html): variables are allowed
    only in the resource part of the ARN, after the fifth colon. Even when the context holds exactly the value
    the variable would stand for, a Deny naming it does not apply; the same variable in a Condition does.
    """
    parts = resource.split(":", 5)
    index, key = (3, "aws:RequestedRegion") if part == "region" else (4, "aws:PrincipalAccount")
    value = parts[index] or "us-east-1"
    pattern = ":".join([*parts[:index], f"${{{key}}}", *parts[index + 1 :]])
    deny = {"Effect": "Deny", "Action": "*", "Resource": pattern}
    in_condition = {
        "Effect": "Deny",
        "Action": "*",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:ResourceAccount": f"${{{key}}}"}},
    }
    common: dict[str, Any] = {
        "action": action,
        "resource": resource,
        "principal": ROLE,
        "resource_owner": owner_of(resource),
    }
    context = {**context, key: value, "aws:ResourceAccount": value}
    assert not evaluate(**common, identity_policies=[doc(deny)], context=context).explicit_deny, pattern
    assert evaluate(**common, identity_policies=[doc(in_condition)], context=context).explicit_deny
