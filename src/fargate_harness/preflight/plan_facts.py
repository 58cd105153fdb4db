"""Facts from a Terraform plan: resources, their policies and the facts requirements need, unknowns named.

See :mod:`fargate_harness.preflight.plan_roles` for known, unknown and outside-the-plan answers, and the
provider shapes read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fargate_harness.aws import efs, secrets
from fargate_harness.preflight.plan_roles import RESOURCE, PlanRoles, string_list
from fargate_harness.preflight.plan_values import UNKNOWN, PlannedResource, document_json
from fargate_harness.preflight.requirements import arn_parts


def _shape(text: str) -> secrets.SecretValueShape:
    """The shape of a planned secret string (JSON object or not, its keys); the value is not kept."""
    try:
        decoded = json.loads(text)
    except ValueError:
        return secrets.SecretValueShape(False)
    if not isinstance(decoded, dict):
        return secrets.SecretValueShape(False)
    keys = frozenset(str(key) for key in decoded)
    return secrets.SecretValueShape(True, keys, frozenset(str(k) for k, v in decoded.items() if v in (None, "")))


def default_key_policy(partition: str, account: str) -> dict[str, Any]:
    """The key policy AWS gives a key created without one: the account decides through IAM (AWS KMS Developer Guide,
    "Default key policy", https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }


class PlanFacts(PlanRoles):
    """:class:`~fargate_harness.preflight.collect.PreflightFacts` from a plan (and ``live`` facts for what lies
    outside it, when given)."""

    # -- resource policies --------------------------------------------------------------------------
    def _policy_of(self, subject: str, resource: PlannedResource | None, attribute: str) -> dict[str, Any] | None:
        if resource is None:
            return None
        value = resource.known(attribute)
        if value is UNKNOWN:
            self._unknown(subject, RESOURCE, resource.where(attribute), "known after apply")
            return None
        return document_json(value)

    def _policy_resource(
        self, kind: str, attribute: str, value: str, subject: str, target: PlannedResource | None = None
    ) -> PlannedResource | None:
        """The resource-policy resource of ``kind`` whose ``attribute`` names ``value``. One whose ``attribute`` is
        known only after apply belongs to ``target`` (the resource of the plan it would apply to) when the
        configuration sets it by a direct reference to it, to another when it references another; else it may be
        this resource's: recorded unknown about ``subject``."""
        found = self._find((kind,), attribute, value)
        if found is not None:
            return found
        for resource in self._of(kind):
            if not resource.is_unknown(attribute):
                continue
            referenced = self.plan.referenced(resource.address, attribute, target.type) if target else None
            if referenced is not None and referenced is target:
                return resource
            if referenced is None:
                self._unknown(subject, RESOURCE, resource.where(attribute), "known after apply: whose policy it is")
        return None

    def repository_policy(self, repository_arn: str) -> dict[str, Any] | None:
        """The repository policy the plan gives (aws_ecr_repository_policy), or live/unknown outside the plan."""
        name = arn_parts(repository_arn)[4].removeprefix("repository/")
        if self._repository(name, arn_parts(repository_arn)[3]) is None:
            return self._live_or_outside(
                repository_arn, "repository", lambda live: live.repository_policy(repository_arn)
            )
        return self._policy_of(
            repository_arn,
            self._policy_resource(
                "aws_ecr_repository_policy",
                "repository",
                name,
                repository_arn,
                self._repository(name, arn_parts(repository_arn)[3]),
            ),
            "policy",
        )

    def key_policy(self, key_arn: str) -> dict[str, Any] | None:
        """The key policy of an aws_kms_key of the plan (aws_kms_key_policy, else its ``policy``; for a key the plan
        creates without one, the default key policy AWS gives it); live or unknown outside the plan."""
        key = self._find(("aws_kms_key",), "arn", key_arn)
        if key is None:
            return self._live_or_outside(key_arn, "KMS key", lambda live: live.key_policy(key_arn))
        found = self._policy_of(
            key_arn,
            self._policy_resource("aws_kms_key_policy", "key_id", str(key.values.get("key_id")), key_arn, key),
            "policy",
        )
        if found is None and key.is_unknown("policy") and self.plan.sets(key.address, "policy") is False:
            return default_key_policy(self.partition, arn_parts(key_arn)[3])
        return found if found is not None else self._policy_of(key_arn, key, "policy")

    def secret_policy(self, secret_arn: str) -> dict[str, Any] | None:
        """aws_secretsmanager_secret_policy (or the 3.x secret's own ``policy``), or live/unknown outside."""
        secret = self._find(("aws_secretsmanager_secret",), "arn", secret_arn)
        if secret is None:
            return self._live_or_outside(secret_arn, "secret", lambda live: live.secret_policy(secret_arn))
        separate = self._policy_resource(
            "aws_secretsmanager_secret_policy", "secret_arn", secret_arn, secret_arn, secret
        )
        if separate is not None:
            return self._policy_of(secret_arn, separate, "policy")
        if secret.is_unknown("policy") and self.plan.sets(secret.address, "policy") is False:
            return None  # computed, not written: the secret has no resource policy of this configuration's
        return self._policy_of(secret_arn, secret, "policy") if secret.values.get("policy") != "" else None

    def bucket_policy(self, bucket_arn: str) -> dict[str, Any] | None:
        """aws_s3_bucket_policy of the bucket, or live/unknown outside the plan."""
        bucket = bucket_arn.split(":::", 1)[-1].split("/", 1)[0]
        if self._find(("aws_s3_bucket",), "bucket", bucket) is None:
            return self._live_or_outside(
                f"arn:{self.partition}:s3:::{bucket}", "bucket", lambda live: live.bucket_policy(bucket_arn)
            )
        return self._policy_of(
            bucket_arn,
            self._policy_resource(
                "aws_s3_bucket_policy", "bucket", bucket, bucket_arn, self._find(("aws_s3_bucket",), "bucket", bucket)
            ),
            "policy",
        )

    def file_system_policy(self, file_system_arn: str) -> dict[str, Any] | None:
        """aws_efs_file_system_policy, else EFS's default policy; live/unknown outside the plan."""
        fs_id = arn_parts(file_system_arn)[4].removeprefix("file-system/")
        system = self.placeholders.get(fs_id) or self._find(("aws_efs_file_system",), "id", fs_id)
        if system is None:
            return self._live_or_outside(
                file_system_arn, "file system", lambda live: live.file_system_policy(file_system_arn)
            )
        found = self._policy_of(
            file_system_arn,
            self._policy_resource("aws_efs_file_system_policy", "file_system_id", fs_id, file_system_arn, system),
            "policy",
        )
        return found if found is not None else efs.DEFAULT_FILE_SYSTEM_POLICY

    # -- facts (the requirements.Facts protocol) ------------------------------------------------------
    def _repository(self, name: str, account: str) -> PlannedResource | None:
        found = self._find(("aws_ecr_repository",), "name", name)
        if found is None:
            return None
        registry = found.known("registry_id")
        return found if registry in (UNKNOWN, None, "", account) else None

    def secret(self, secret_id: str) -> Mapping[str, Any] | None:
        """DescribeSecret's shape from an aws_secretsmanager_secret of the plan (versions from its
        aws_secretsmanager_secret_version resources); live, or unknown, outside the plan."""
        found = self._find(("aws_secretsmanager_secret",), "arn", secret_id) or self._find(
            ("aws_secretsmanager_secret",), "name", secret_id
        )
        if found is None and any(self.deleted(("aws_secretsmanager_secret",), k, secret_id) for k in ("arn", "name")):
            return None
        if found is None:
            arn = secret_id if secret_id.startswith("arn:") else self._arn("secretsmanager", f"secret:{secret_id}")
            if self._reaches(arn) and self.live is not None:
                return self.live.secret(secret_id)
            self._outside(arn, f"secret {arn}")
            return {"ARN": arn, "Name": secret_id, "VersionIdsToStages": {"(outside the plan)": ["AWSCURRENT"]}}
        arn = found.known("arn")
        if arn is UNKNOWN:
            arn = self._arn("secretsmanager", f"secret:{found.values.get('name')}")
            self._unknown(arn, RESOURCE, found.where("arn"), "known after apply")
        key = found.known("kms_key_id")
        if key is UNKNOWN:
            self._unknown(str(arn), RESOURCE, found.where("kms_key_id"), "known after apply")
            key = None
        versions: dict[str, list[str]] = {}
        for version in self._versions(found):
            version_id = version.known("version_id")
            stages = version.known("version_stages")
            versions[str(version_id) if version_id is not UNKNOWN else f"{version.address} (new)"] = (
                ["AWSCURRENT"] if stages is UNKNOWN else string_list(stages)
            )
        return {
            "ARN": str(arn),
            "Name": found.values.get("name"),
            "KmsKeyId": key or None,
            "VersionIdsToStages": versions,
        }

    def _versions(self, secret: PlannedResource) -> list[PlannedResource]:
        keys = {secret.values.get("arn"), secret.values.get("id")} - {None, ""}
        found = []
        for version in self._of("aws_secretsmanager_secret_version"):
            if version.values.get("secret_id") in keys:
                found.append(version)
            elif version.is_unknown("secret_id"):
                self._unknown(str(secret.values.get("arn")), RESOURCE, version.where("secret_id"), "known after apply")
        return found

    def secret_value_shape(
        self, secret_arn: str, version_id: str | None, version_stage: str | None
    ) -> secrets.SecretValueShape | None:
        """The shape of the planned secret string (its keys, never the value). A secret outside the plan is never
        read for it, not even with ``--read-account`` (read-only calls only: describe, get-policy, list-images):
        a JSON key or registry credentials in a reference to it stay undecided."""
        found = self._find(("aws_secretsmanager_secret",), "arn", secret_arn)
        if found is None:
            why = "its value is not in the plan and never read: the JSON key (or credentials) cannot be checked"
            self._unknown(secret_arn, RESOURCE, secret_arn, why)
            return None
        for version in self._versions(found):
            stages = version.known("version_stages")
            wanted_stage = version_stage or (None if version_id else "AWSCURRENT")
            if version_id and version.known("version_id") != version_id:
                continue
            if wanted_stage and stages is not UNKNOWN and wanted_stage not in string_list(stages):
                continue
            text = version.known("secret_string")
            if text is UNKNOWN:
                self._unknown(secret_arn, RESOURCE, version.where("secret_string"), "known after apply: JSON keys")
                return None
            if version.values.get("secret_binary"):
                return secrets.SecretValueShape(False)
            return _shape(str(text or ""))
        self._unknown(secret_arn, RESOURCE, secret_arn, "no version of the plan matches the reference")
        return None

    def parameter(self, name: str, account: str, region: str) -> Mapping[str, Any] | None:
        """DescribeParameters' shape of an aws_ssm_parameter; live or unknown outside the plan."""
        found = self._find(("aws_ssm_parameter",), "name", name)
        arn = self._arn("ssm", f"parameter/{name.lstrip('/')}", region, account)
        if found is None and account == self.account and self.deleted(("aws_ssm_parameter",), "name", name):
            return None
        if found is None or account != self.account:
            if self._reaches(account) and self.live is not None:
                return self.live.parameter(name, account, region)
            self._outside(arn, f"parameter {name}")
            return {"Name": name, "Type": "String", "ARN": arn}
        kind, key = found.known("type"), found.known("key_id")
        for attribute, value in (("type", kind), ("key_id", key)):
            if value is UNKNOWN:
                self._unknown(arn, RESOURCE, found.where(attribute), "known after apply")
        meta = {"Name": name, "Type": "String" if kind is UNKNOWN else kind, "ARN": arn}
        if kind == "SecureString":
            meta["KeyId"] = "alias/aws/ssm" if key in (UNKNOWN, None, "") else key
        return meta

    def key_arn(self, key_id: str, account: str, region: str) -> str | None:
        """The ARN of a key of the plan (by ARN, id or alias); live or unknown outside the plan."""
        if key_id.startswith("alias/") or ":alias/" in key_id:
            alias = self._find(("aws_kms_alias",), "name", "alias/" + key_id.split("alias/", 1)[1])
            if alias is not None:
                target = alias.known("target_key_arn")
                if target is UNKNOWN:
                    self._unknown(key_id, RESOURCE, alias.where("target_key_arn"), "known after apply")
                    return key_id if key_id.startswith("arn:") else self._arn("kms", key_id, region, account)
                return str(target)
        found = self._find(("aws_kms_key",), "arn", key_id) or self._find(("aws_kms_key",), "key_id", key_id)
        if found is None and any(self.deleted(("aws_kms_key",), k, key_id) for k in ("arn", "key_id")):
            return None
        if found is not None:
            arn = found.known("arn")
            if arn is UNKNOWN:
                arn = self._arn("kms", f"key/{found.address}", region, account)
                self._unknown(arn, RESOURCE, found.where("arn"), "known after apply")
            return str(arn)
        arn = (
            key_id
            if key_id.startswith("arn:")
            else self._arn("kms", key_id if "alias/" in key_id else f"key/{key_id}", region, account)
        )
        if self._reaches(arn) and self.live is not None:
            return self.live.key_arn(key_id, account, region)
        self._outside(arn, f"KMS key {key_id}")
        return arn

    def _log_group(self, name: str, account: str, region: str) -> PlannedResource | None:
        found = self._find(("aws_cloudwatch_log_group",), "name", name)
        if found is None and account == self.account and self.deleted(("aws_cloudwatch_log_group",), "name", name):
            return None  # deleted by the plan: missing, not unknown
        if found is None or account != self.account or region != self.region:
            subject = self._arn("logs", f"log-group:{name}", region, account)
            if not (self._reaches(account) and self.live is not None):
                self._outside(subject, f"log group {name}")
        return found

    def log_group_exists(self, name: str, account: str, region: str) -> bool:
        """True for a log group of the plan; live or unknown (and assumed present) outside it."""
        if account == self.account and self.deleted(("aws_cloudwatch_log_group",), "name", name):
            return False
        found = self._log_group(name, account, region)
        if found is None and self._reaches(account) and self.live is not None:
            return self.live.log_group_exists(name, account, region)
        return True

    def log_group_kms_key(self, name: str, account: str, region: str) -> str | None:
        """The log group's kms_key_id in the plan."""
        found = self._log_group(name, account, region)
        if found is None:
            return self.live.log_group_kms_key(name, account, region) if self._reaches(account) and self.live else None
        key = found.known("kms_key_id")
        if key is UNKNOWN:
            self._unknown(
                self._arn("logs", f"log-group:{name}", region, account),
                RESOURCE,
                found.where("kms_key_id"),
                "known after apply",
            )
            return None
        return str(key) if key else None

    def repository_exists(self, name: str, account: str, region: str) -> bool:
        """True for a repository of the plan; live or unknown (assumed present) outside it."""
        if self._repository(name, account) is not None:
            return True
        if self.deleted(("aws_ecr_repository",), "name", name):
            return False
        subject = self._arn("ecr", f"repository/{name}", region, account)
        if self._reaches(account) and self.live is not None:
            return self.live.repository_exists(name, account, region)
        self._outside(subject, f"repository {name}")
        return True

    def image_ids(self, name: str, account: str, region: str) -> tuple[frozenset[str], frozenset[str]] | None:
        """Images are never in a plan: read live with ``--read-account``, else unknown."""
        subject = self._arn("ecr", f"repository/{name}", region, account)
        if self._reaches(account) and self.live is not None:
            return self.live.image_ids(name, account, region)
        self._unknown(
            subject,
            RESOURCE,
            subject,
            "which images are pushed is not in a plan (--read-account reads "
            "them; --images assume-pushed when the pipeline pushes after the infrastructure)",
        )
        return None

    def pull_through_rules(self, account: str, region: str) -> list[dict[str, Any]]:
        """The plan's aws_ecr_pull_through_cache_rule resources (live ones with ``--read-account``)."""
        rules = [
            {
                "ecrRepositoryPrefix": r.values.get("ecr_repository_prefix"),
                "upstreamRegistryUrl": r.values.get("upstream_registry_url"),
            }
            for r in self._of("aws_ecr_pull_through_cache_rule")
        ]
        if self._reaches(account) and self.live is not None:
            rules += self.live.pull_through_rules(account, region)
        return rules

    def bucket_owner(self, bucket: str) -> str | None:
        """The plan's account for a bucket of the plan; live or unknown outside it."""
        if self._find(("aws_s3_bucket",), "bucket", bucket) is not None:
            return self.account
        if self.live is not None and self._reaches(self.account):
            return self.live.bucket_owner(bucket)
        self._outside(f"arn:{self.partition}:s3:::{bucket}", f"bucket {bucket}")
        return self.account

    def object_metadata(self, bucket: str, key: str) -> Mapping[str, Any] | None:
        """HeadObject's shape of an aws_s3_object (aws_s3_bucket_object in 3.x); live or unknown outside."""
        for found in self._of("aws_s3_object", "aws_s3_bucket_object"):
            if found.values.get("bucket") == bucket and found.values.get("key") == key:
                meta: dict[str, Any] = {}
                for attribute, field_name in (
                    ("server_side_encryption", "ServerSideEncryption"),
                    ("kms_key_id", "SSEKMSKeyId"),
                ):
                    value = found.known(attribute)
                    if value is UNKNOWN:
                        self._unknown(
                            f"arn:{self.partition}:s3:::{bucket}/{key}",
                            RESOURCE,
                            found.where(attribute),
                            "known after apply",
                        )
                    elif value:
                        meta[field_name] = value
                return meta
        if self.live is not None and self._reaches(self.account):
            return self.live.object_metadata(bucket, key)
        self._outside(f"arn:{self.partition}:s3:::{bucket}/{key}", f"object s3://{bucket}/{key}")
        return {}

    def file_system(self, file_system_id: str, account: str, region: str) -> Mapping[str, Any] | None:
        """DescribeFileSystems' shape of an aws_efs_file_system of the plan; live or unknown outside."""
        found = self.placeholders.get(file_system_id) or self._find(("aws_efs_file_system",), "id", file_system_id)
        if found is None and self.deleted(("aws_efs_file_system",), "id", file_system_id):
            return None
        if found is not None:
            return {"FileSystemId": file_system_id, "FileSystemArn": found.values.get("arn")}
        if self._reaches(account) and self.live is not None:
            return self.live.file_system(file_system_id, account, region)
        self._outside(
            self._arn("elasticfilesystem", f"file-system/{file_system_id}", region, account),
            f"file system {file_system_id}",
        )
        return {}
