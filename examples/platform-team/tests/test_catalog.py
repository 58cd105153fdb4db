"""The catalog service through the terraform_apply fixture: as configured, and with a grant switched off."""

from __future__ import annotations

import pytest
from conftest import INFRA

from fargate_harness import TerraformApply

#: CI pushes the catalog image after the infrastructure: the preflight must not require it to exist yet.
PUSHED_LATER = {"images": "assume-pushed"}


def test_catalog_would_start(terraform_apply: TerraformApply) -> None:
    catalog = terraform_apply(INFRA / "services" / "catalog", preflight=PUSHED_LATER)
    assert catalog.assert_tasks_start() == 1
    (repository,) = catalog.inventory.repositories
    assert repository.arn, f"catalog: {repository.address}: expected an ARN in the state"
    catalog.role("catalog-execution").assert_allows("ecr:BatchGetImage", repository.arn)


def test_a_missing_secret_grant_is_named(terraform_apply: TerraformApply) -> None:
    catalog = terraform_apply(INFRA / "services" / "catalog", preflight=PUSHED_LATER, grant_secrets=False)
    with pytest.raises(AssertionError, match="catalog/search-token"):
        catalog.assert_tasks_start()
