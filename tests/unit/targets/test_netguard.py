"""targets.netguard: the loopback proxy refuses every host, records it, and names it in the run's error."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from fargate_harness.errors import ConfigurationError
from fargate_harness.runner import hcl
from fargate_harness.runner.overrides import OVERRIDE_FILE
from fargate_harness.targets.netguard import (
    NetworkGuard,
    Refusal,
    refusal_message,
    refuse_user_overrides,
    user_override_problems,
)


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


def test_a_connection_that_sends_no_request_is_no_refusal(guard: NetworkGuard) -> None:
    """A port probe (``targets.kept.listening`` polling an emulator's port that another run's guard now holds) made
    the guard record an empty host, and the next run to ask stopped its ``terraform init`` for it."""
    port = int(guard.url.rsplit(":", 1)[1].rstrip("/"))
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
    assert _through(guard, "http://sts.amazonaws.com/") == 403, "the guard must still answer requests"
    assert [r.host for r in guard.take()] == ["sts.amazonaws.com"]


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


def test_a_refusal_belongs_to_the_run_its_process_descends_from(guard: NetworkGuard, tmp_path: Path) -> None:
    """A provisioner's command runs wherever ``working_dir`` says (here ``/``), but descends from the run's
    Terraform, which works in the run's folder: the refusal is the run's."""
    run_folder = tmp_path / "run"
    run_folder.mkdir()
    asker = (
        "import urllib.request, urllib.error\n"
        f"opener = urllib.request.build_opener(urllib.request.ProxyHandler({{'http': {guard.url!r}}}))\n"
        "try:\n    opener.open('http://sts.us-east-1.amazonaws.com/', timeout=5)\n"
        "except urllib.error.HTTPError as exc:\n    assert exc.code == 403\n"
    )
    parent = f"import subprocess, sys\nsubprocess.run([sys.executable, '-c', {asker!r}], cwd='/', check=True)\n"
    subprocess.run([sys.executable, "-c", parent], cwd=run_folder, check=True, timeout=60)
    assert guard.take(tmp_path / "elsewhere") == [], "a run in another folder does not get it"
    taken = guard.take(run_folder)
    assert len(taken) == 1, f"the provisioner's refusal was not given to its run: left {guard.take()}"
    mine = taken[0]
    assert mine.cwd == "/" and str(run_folder) in mine.lineage, mine
    assert mine.host == "sts.us-east-1.amazonaws.com"


def test_a_refusal_whose_process_is_unknown_fails_the_first_run_that_asks(guard: NetworkGuard) -> None:
    guard.refusals.append(Refusal("sts.amazonaws.com:443", None, None))
    assert [r.host for r in guard.take(Path("/nonexistent/run"))] == ["sts.amazonaws.com:443"]


def test_message_names_a_program_and_blames_no_module() -> None:
    refusals = [Refusal("sts.us-east-1.amazonaws.com", "/", "curl", ("/w/run/config",))]
    text = refusal_message("web", "apply", refusals, ("sts",))
    assert "sent by curl, a program the configuration runs itself" in text, text
    assert "module" not in text and "the override redirects it" not in text, text


def test_user_override_files_that_redirect_the_aws_provider_are_refused(tmp_path: Path) -> None:
    """Only an override file Terraform merges after the harness's (its name sorts later) can undo the redirection;
    one that sorts earlier is merged first and replaced (https://developer.hashicorp.com/terraform/language/files/override)."""
    (tmp_path / "main.tf").write_text(
        'terraform {\n  required_providers {\n    amazon = {\n      source = "hashicorp/aws"\n    }\n  }\n}\n'
        'provider "amazon" {\n  region = "us-east-1"\n}\n'
    )
    (tmp_path / "override.tf").write_text('provider "amazon" {\n  profile = "prod"\n}\n')  # sorts before: replaced
    (tmp_path / "zzz_tags_override.tf").write_text('provider "aws" {\n  region = "eu-west-1"\n}\n')  # no redirect
    (tmp_path / OVERRIDE_FILE).write_text('provider "aws" {\n  access_key = "testing"\n}\n')
    (tmp_path / "zzz_keys_override.tf.json").write_text(
        json.dumps({"provider": {"amazon": {"profile": "prod", "endpoints": {"sts": "x"}}}})
    )
    module = hcl.read_module(tmp_path)
    problems = user_override_problems([module], OVERRIDE_FILE)
    assert problems == [f'{tmp_path / "zzz_keys_override.tf.json"}: provider "amazon" sets endpoints, profile'], (
        problems
    )
    with pytest.raises(ConfigurationError, match=r"zzz_keys_override\.tf\.json: provider \"amazon\" sets endpoints"):
        refuse_user_overrides("web", [module], OVERRIDE_FILE)


def test_the_aws_provider_is_found_under_any_local_name(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        "terraform {\n  required_providers {\n"
        '    amazon = {\n      source = "registry.terraform.io/HashiCorp/aws"\n    }\n'
        '    other = {\n      source = "example/aws"\n    }\n  }\n}\n'
        'provider "amazon" {\n  alias = "east"\n}\nprovider "other" {}\nprovider "aws" {}\n'
    )
    module = hcl.read_module(tmp_path)
    assert module.aws_local_names() == {"amazon", "aws"}
    assert sorted(b.label for b in module.provider_blocks("aws")) == ["amazon.east", "aws"]
    (tmp_path / "main.tf").write_text(
        'terraform {\n  required_providers {\n    aws = {\n      source = "example/aws"\n    }\n  }\n}\n'
    )
    assert hcl.read_module(tmp_path).aws_local_names() == set(), "a module may give the name aws to another provider"
