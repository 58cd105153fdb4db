"""runner.netguard: the loopback proxy refuses every host, records it, and names it in the run's error."""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from fargate_harness.runner.netguard import NetworkGuard, Refusal, refusal_message


@pytest.fixture
def guard() -> Iterator[NetworkGuard]:
    started = NetworkGuard(kill_plugins=False)
    started.start()
    yield started
    started.stop()


def _through(guard: NetworkGuard, url: str) -> int:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": guard.url, "https": guard.url}))
    try:
        with opener.open(url, timeout=5) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except urllib.error.URLError as exc:  # CONNECT refused: urllib reports the tunnel failure
        assert "403" in str(exc.reason), exc
        return 403


def test_plain_and_tunnelled_requests_are_refused_and_recorded(guard: NetworkGuard) -> None:
    assert _through(guard, "http://elasticloadbalancing.us-east-1.amazonaws.com/") == 403
    assert _through(guard, "https://sts.amazonaws.com/") == 403
    hosts = [r.host for r in guard.take()]
    assert hosts == ["elasticloadbalancing.us-east-1.amazonaws.com", "sts.amazonaws.com:443"]
    assert guard.take() == [], "take() empties the record"


def test_refusals_are_attributed_to_the_asking_process_folder(guard: NetworkGuard, tmp_path: Path) -> None:
    _through(guard, "http://kms.eu-west-1.amazonaws.com/")
    (mine,) = guard.take(Path(os.getcwd()))
    assert mine.cwd == os.getcwd() and mine.service == "kms"
    _through(guard, "http://kms.eu-west-1.amazonaws.com/")
    assert guard.take(tmp_path) == [], "another run's folder does not get this refusal"


def test_env_routes_everything_but_loopback_to_the_guard(guard: NetworkGuard) -> None:
    env = guard.env()
    assert env["HTTPS_PROXY"] == env["http_proxy"] == guard.url
    assert set(env["NO_PROXY"].split(",")) == {"127.0.0.1", "localhost", "::1"}


def test_message_names_remote_state_when_terraform_itself_asked() -> None:
    """A request Terraform sent itself (a ``terraform_remote_state`` backend), not a provider plugin: the data
    sources are named and no provider block is blamed; a provider's request does not name them."""
    states = ("data.terraform_remote_state.network in /src",)
    core = [Refusal("sts.us-east-1.amazonaws.com:443", "/w", "terraform")]
    text = refusal_message("web", "apply", core, ("sts",), remote_states=states)
    assert "data.terraform_remote_state.network in /src reads another configuration's state" in text, text
    assert "Terraform itself sends those requests" in text and "the override redirects it" not in text, text
    plugin = [Refusal("sts.us-east-1.amazonaws.com:443", "/w", "terraform-provider-aws_v3.39.0_x5")]
    text = refusal_message("web", "apply", plugin, ("sts",), remote_states=states)
    assert "terraform_remote_state" not in text and "the override redirects it" in text, text


def test_message_names_hosts_and_the_unredirected_block() -> None:
    refusals = [Refusal("logs.us-east-1.amazonaws.com", "/w", "terraform-provider-aws")]
    text = refusal_message("web", "apply", refusals, ("iam", "sts"), ('provider "aws" (aws) in infra/net/main.tf',))
    assert "web: `terraform apply` tried to reach logs.us-east-1.amazonaws.com" in text
    assert 'provider "aws" (aws) in infra/net/main.tf' in text
    text = refusal_message("web", "apply", refusals, ("iam", "sts"))
    assert "logs: the selected AWS provider has no `endpoints` argument" in text
