"""A real sandbox account, reached through the standard AWS credential chain.

Credential problems are named as such on every target (:func:`check_profile`, :func:`credential_problem`): a
missing profile, expired or invalid keys, an SSO session that needs a new login. The credential chain and its
environment variables: https://docs.aws.amazon.com/sdkref/latest/guide/standardized-credentials.html and
https://boto3.amazonaws.com/v1/documentation/api/latest/guide/credentials.html.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import boto3
import botocore.session
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound

from fargate_harness.errors import ConfigurationError, TargetError
from fargate_harness.targets.base import Target, account_of_role

#: Error codes AWS answers when the caller's credentials are too old or not (or no longer) valid
#: (STS API reference, "Common Errors": https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html).
EXPIRED_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"})
INVALID_CODES = frozenset(
    {"InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch", "AuthFailure"}
)
#: Variables that name a profile, in the order boto3 reads them.
PROFILE_VARIABLES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE")


def _profile_in(environ: Mapping[str, str]) -> tuple[str, str] | None:
    for variable in PROFILE_VARIABLES:
        if environ.get(variable):
            return variable, environ[variable]
    return None


def _config_files(environ: Mapping[str, str]) -> str:
    config = environ.get("AWS_CONFIG_FILE") or "~/.aws/config"
    credentials = environ.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials"
    return f"{config} or {credentials}"


def check_profile(target: str, environ: Mapping[str, str] | None = None) -> None:
    """ConfigurationError when ``AWS_PROFILE`` (or ``AWS_DEFAULT_PROFILE``) names a profile that no AWS config or
    credentials file holds: boto3 fails on it before any request, even with the static keys of an emulator."""
    env = os.environ if environ is None else environ
    named = _profile_in(env)
    if named is None:
        return
    variable, profile = named
    try:
        known = botocore.session.Session().full_config.get("profiles", {})
    except BotoCoreError:  # an unreadable config file: the profile check below reports the profile anyway
        known = {}
    if profile in known:
        return
    fix = (
        f"unset {variable} (the {target} target brings its own credentials) or create the profile"
        if target != "aws"
        else f"create the profile (aws configure --profile {profile}) or set {variable} to an existing one"
    )
    raise ConfigurationError(
        f"{variable} names the AWS profile {profile!r}, which is not in {_config_files(env)}; fix: {fix}"
    )


def credential_problem(exc: Exception, target: str = "aws") -> ConfigurationError | None:  # noqa: PLR0911
    """A ConfigurationError that names a credential problem behind ``exc`` (a botocore error), or None when
    ``exc`` is not one."""
    named = _profile_in(os.environ)
    profile = f" (profile {named[1]!r} from {named[0]})" if named else ""
    if isinstance(exc, ProfileNotFound) and not exc.kwargs.get("profile"):
        return ConfigurationError(
            f"--target {target} needs AWS credentials, and AWS_PROFILE is set but empty (boto3 then looks for a "
            "profile named ''); fix: unset AWS_PROFILE or name a profile, or configure the standard chain "
            "(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, SSO with aws sso login, or an instance role)"
        )
    if isinstance(exc, ProfileNotFound):
        return ConfigurationError(
            f"--target {target}: the AWS profile {exc.kwargs.get('profile')!r} does not exist in "
            f"{_config_files(os.environ)}; fix: create it (aws configure --profile NAME) or set AWS_PROFILE to an "
            "existing one"
        )
    if isinstance(exc, NoCredentialsError):
        return ConfigurationError(
            f"--target {target} found no AWS credentials{profile}; fix: configure the standard chain "
            "(AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, SSO with aws sso login, or an instance role)"
        )
    name = type(exc).__name__
    if name in ("TokenRetrievalError", "SSOTokenLoadError", "UnauthorizedSSOTokenError", "PendingAuthorizationExpired"):
        return ConfigurationError(
            f"--target {target}: the SSO session{profile} has expired or was never started ({exc}); fix: "
            f"aws sso login{' --profile ' + named[1] if named else ''}"
        )
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in EXPIRED_CODES:
            return ConfigurationError(
                f"--target {target}: the AWS credentials{profile} have expired ({code}); fix: get new ones (aws "
                "sso login, or a new session token) and run again"
            )
        if code in INVALID_CODES:
            return ConfigurationError(
                f"--target {target}: AWS refused the credentials{profile} ({code}): the key is unknown, disabled "
                "or does not match its secret; fix: check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / "
                "AWS_SESSION_TOKEN or the profile's keys"
            )
    return None


class AwsTarget(Target):
    """Real AWS. No provider override is written; Terraform and boto3 use the same credential chain."""

    def __init__(self, region: str | None = None, registry_role_arn: str | None = None):
        role = registry_role_arn or os.environ.get("HARNESS_REGISTRY_ROLE_ARN") or None
        if role:
            account_of_role(role, "--registry-role-arn / HARNESS_REGISTRY_ROLE_ARN")
        resolved_region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if not resolved_region:
            try:
                resolved_region = boto3.session.Session().region_name or "us-east-1"
            except BotoCoreError as exc:
                raise credential_problem(exc) or TargetError(f"--target aws: {exc}") from exc
        super().__init__(name="aws", region=resolved_region, endpoint_url=None, registry_role_arn=role)

    def start(self) -> None:
        """Check that credentials resolve, so a run without them fails before any Terraform runs."""
        check_profile("aws")
        try:
            self.account_id()
        except (BotoCoreError, ClientError) as exc:
            problem = credential_problem(exc)
            if problem is not None:
                raise problem from exc
            raise TargetError(
                f"--target aws needs AWS credentials for a sandbox account ({exc}). Configure the standard "
                "chain (AWS_PROFILE, environment variables, SSO or an instance role)."
            ) from exc
