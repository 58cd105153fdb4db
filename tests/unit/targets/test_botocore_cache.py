"""botocore's data files parsed once per process (src/fargate_harness/targets/botocore_cache.py)."""

from __future__ import annotations

from typing import Any

import boto3

from fargate_harness.targets import botocore_cache


class CountingLoader:
    """Stands in for botocore's JSONFileLoader: counts the files it really reads."""

    def __init__(self) -> None:
        self.reads: list[str] = []

    def load_file(self, file_path: str) -> Any:
        self.reads.append(file_path)
        return None if file_path.endswith("missing") else {"path": file_path}


def test_a_file_is_parsed_once_for_every_loader_and_a_missing_one_is_looked_for_again() -> None:
    class Loader(CountingLoader):
        pass

    assert botocore_cache.install(Loader)
    assert botocore_cache.install(Loader), "a second install must keep the first cache"
    first, second = Loader(), Loader()
    assert first.load_file("/data/sts/service-2") is second.load_file("/data/sts/service-2")
    assert first.reads + second.reads == ["/data/sts/service-2"]
    assert first.load_file("/data/missing") is None and second.load_file("/data/missing") is None
    assert second.reads == ["/data/missing"], "a file that was not there must be looked for again"


def test_a_class_without_load_file_is_left_as_it_ships() -> None:
    class Other:
        pass

    assert not botocore_cache.install(Other)
    assert not hasattr(Other, "load_file")


def test_two_sessions_share_the_parsed_model() -> None:
    import fargate_harness.targets.base  # noqa: F401  (installs the cache, as every harness process does)

    models = [
        boto3.session.Session(region_name="us-east-1")
        ._session.get_component("data_loader")
        .load_service_model("sts", "service-2")
        for _ in range(2)
    ]
    assert models[0] is models[1], "two sessions parsed the STS model twice"
    assert models[0]["metadata"]["endpointPrefix"] == "sts"
