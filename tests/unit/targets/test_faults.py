"""Unit tests for fargate_harness.targets.faults: the fault-injecting proxy, against a tiny echo server on 127.0.0.1.

botocore clients talk to the proxy with dummy credentials; no emulator, Terraform or network is used.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config
from botocore.retries.standard import (
    ExponentialBackoff,
    RetryContext,
    ThrottledRetryableChecker,
    TransientRetryableChecker,
)

from fargate_harness.errors import ConfigurationError, HarnessError
from fargate_harness.targets.faults import (
    FAULT_KINDS,
    FaultConfigError,
    FaultProfile,
    FaultProxy,
    count_retries,
    detect_protocol,
    fault_response,
    retry_report,
)

LIST_ROLES = b"""<?xml version="1.0" encoding="UTF-8"?>
<ListRolesResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <ListRolesResult>
    <IsTruncated>false</IsTruncated>
    <Roles>
      <member>
        <Path>/</Path>
        <RoleName>task-role</RoleName>
        <RoleId>AROAEXAMPLEEXAMPLE01</RoleId>
        <Arn>arn:aws:iam::123456789012:role/task-role</Arn>
        <CreateDate>2024-01-01T00:00:00Z</CreateDate>
      </member>
    </Roles>
  </ListRolesResult>
  <ResponseMetadata><RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ResponseMetadata>
</ListRolesResponse>
"""

FORM = "application/x-www-form-urlencoded; charset=utf-8"

#: The bytes of every value 0-255 and a CRLF pair: a body that text handling would corrupt.
BINARY = bytes(range(256)) + b"\r\n\r\n\x00"


class _Echo(BaseHTTPRequestHandler):
    """Answers every request with its method, target and body; IAM ListRoles gets a canned answer."""

    protocol_version = "HTTP/1.1"
    requests: list[tuple[str, str, bytes, dict[str, str]]]
    lock: threading.Lock

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet."""

    def _echo(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with self.lock:
            self.requests.append((self.command, self.path, body, dict(self.headers.items())))
        if b"Action=ListRoles" in body:
            status, content_type, payload = 200, "text/xml", LIST_ROLES
        else:
            status = int(self.headers.get("X-Echo-Status", "200"))
            content_type = "application/x-echo"
            payload = f"{self.command} {self.path}\n".encode() + body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("X-Echo-Method", self.command)
        self.send_header("Set-Cookie", "a=1")
        self.send_header("Set-Cookie", "b=2")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = _echo


class _EchoServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


class Upstream:
    """A threading echo server on a free loopback port that records the requests it got."""

    def __init__(self) -> None:
        handler = type("Echo", (_Echo,), {"requests": [], "lock": threading.Lock()})
        self.handler: type[_Echo] = handler
        self.server = _EchoServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def requests(self) -> list[tuple[str, str, bytes, dict[str, str]]]:
        """Requests received so far: (method, target, body, headers)."""
        with self.handler.lock:
            return list(self.handler.requests)


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture(autouse=True)
def _isolated_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Dummy credentials, no developer config, and retries without the backoff wait (the retry logic is real)."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS", "HARNESS_FAULTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0.0)


def _request(
    url: str, method: str, target: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, list[tuple[str, str]], bytes]:
    """One request on a fresh connection: (status, headers, body)."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.request(method, target, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def _client(service: str, url: str, max_attempts: int = 1) -> Any:
    """A boto3 client for ``service`` at ``url``; ``max_attempts`` counts the first attempt (AWS_MAX_ATTEMPTS)."""
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(
            retries={"mode": "standard", "total_max_attempts": max_attempts}, connect_timeout=5, read_timeout=10
        ),
    )


# One cheap call per service the harness's targets serve, plus one per remaining protocol (EC2 query, Smithy
# RPCv2 CBOR, REST-JSON): (service, operation, arguments, throttle code botocore must parse).
SERVICE_CALLS = [
    ("iam", "list_roles", {}, "Throttling"),
    ("sts", "get_caller_identity", {}, "Throttling"),
    ("ecs", "list_clusters", {}, "ThrottlingException"),
    ("ecr", "describe_repositories", {}, "ThrottlingException"),
    ("secretsmanager", "list_secrets", {}, "ThrottlingException"),
    ("ssm", "describe_parameters", {}, "ThrottlingException"),
    ("kms", "list_keys", {}, "ThrottlingException"),
    ("logs", "describe_log_groups", {}, "ThrottlingException"),
    ("dynamodb", "list_tables", {}, "ThrottlingException"),
    ("s3", "list_buckets", {}, "SlowDown"),
    ("s3", "put_object", {"Bucket": "b", "Key": "k", "Body": b"x"}, "SlowDown"),
    ("ec2", "describe_vpcs", {}, "RequestLimitExceeded"),
    ("cloudwatch", "list_metrics", {}, "ThrottlingException"),
    ("lambda", "list_functions", {}, "ThrottlingException"),
]


# -- forwarding --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "PATCH"])
def test_no_faults_forwards_byte_for_byte(upstream: Upstream, method: str) -> None:
    target = "/some/path?a=1&b=x%20y&empty="
    body = None if method == "GET" else BINARY
    with FaultProxy(upstream.url) as url:
        direct = _request(upstream.url, method, target, body, {"X-Custom": "v", "Content-Type": "application/x"})
        proxied = _request(url, method, target, body, {"X-Custom": "v", "Content-Type": "application/x"})
    assert proxied[0] == direct[0] == 200
    assert proxied[2] == direct[2] == f"{method} {target}\n".encode() + (body or b"")

    def comparable(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(k.lower(), v) for k, v in headers if k.lower() not in ("date", "server", "connection")]

    assert comparable(proxied[1]) == comparable(direct[1])
    assert [v for k, v in proxied[1] if k == "Set-Cookie"] == ["a=1", "b=2"]
    (sent_direct, sent_proxied) = upstream.requests
    assert sent_proxied[:3] == sent_direct[:3]
    assert sent_proxied[3]["X-Custom"] == "v"
    # The Host header the client signed reaches upstream unchanged (it names the proxy, not upstream).
    assert sent_proxied[3]["Host"] == url.removeprefix("http://")


def test_head_keeps_content_length_and_status_passes_through(upstream: Upstream) -> None:
    with FaultProxy(upstream.url) as url:
        status, headers, body = _request(url, "HEAD", "/object")
        assert (status, body) == (200, b"")
        assert dict(headers)["Content-Length"] == str(len(b"HEAD /object\n"))
        assert _request(url, "GET", "/missing", headers={"X-Echo-Status": "404"})[0] == 404


def test_keep_alive_connection_survives_faults(upstream: Upstream) -> None:
    """One client connection carries forwarded requests and injected errors alike (the Go SDK reuses them)."""
    with FaultProxy(upstream.url, seed=3, throttle_rate=0.5) as url:
        parts = urllib.parse.urlsplit(url)
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
        statuses = []
        for index in range(20):
            connection.request("POST", f"/{index}", body=b"Action=ListUsers", headers={"Content-Type": FORM})
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
        connection.close()
    assert set(statuses) == {200, 400}
    assert len(upstream.requests) == statuses.count(200)


def _raw(url: str, data: bytes) -> bytes:
    """Send raw bytes to ``url``'s port and read until the server closes the connection."""
    parts = urllib.parse.urlsplit(url)
    with socket.create_connection((parts.hostname or "", parts.port or 80), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_chunked_request_bodies_are_forwarded_with_a_length(upstream: Upstream) -> None:
    with FaultProxy(upstream.url) as url:
        answer = _raw(
            url,
            b"PUT /bucket/key HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n",
        )
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert answer.endswith(b"PUT /bucket/key\nhello world")
    (method, _target, body, headers) = upstream.requests[0]
    assert (method, body, headers["Content-Length"], headers["Host"]) == ("PUT", b"hello world", "11", "h")
    assert "Transfer-Encoding" not in headers


def test_malformed_requests_do_not_stop_the_proxy(upstream: Upstream) -> None:
    with FaultProxy(upstream.url) as url:
        answer = _raw(url, b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: lots\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 400 ")
        assert b"bad Content-Length 'lots'" in answer
        assert b"Error code explanation: 400" in _raw(url, b"not a request line\r\n\r\n")
        assert _request(url, "GET", "/still-here")[0] == 200


def test_unreachable_upstream_is_a_502() -> None:
    with FaultProxy("http://127.0.0.1:9", upstream_timeout=5) as url:
        status, _headers, body = _request(url, "GET", "/")
    assert status == 502
    assert b"upstream http://127.0.0.1:9 failed" in body


def test_stop_is_prompt_with_idle_keep_alive_connections(upstream: Upstream) -> None:
    proxy = FaultProxy(upstream.url)
    url = proxy.start()
    assert proxy.start() == url
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    connection.request("GET", "/")
    connection.getresponse().read()
    started = time.monotonic()
    proxy.stop()
    proxy.stop()
    assert time.monotonic() - started < 5
    connection.close()
    with pytest.raises(OSError):
        _request(url, "GET", "/")


# -- faults ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "status", "content_type", "expected"),
    [
        (
            ({"X-Amz-Target": "AmazonEC2ContainerServiceV20141113.ListClusters"}, b"{}"),
            400,
            "application/x-amz-json-1.1",
            b'{"__type": "ThrottlingException", "message": "Rate exceeded"}',
        ),
        (
            ({"Content-Type": FORM}, b"Action=ListRoles&Version=2010-05-08"),
            400,
            "text/xml",
            b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message>",
        ),
        (
            ({"Authorization": "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/s3/aws4_request"}, b""),
            503,
            "text/xml",
            b"<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message>",
        ),
    ],
    ids=["json", "query", "rest-xml"],
)
def test_throttle_answers_in_the_request_protocol_without_upstream(
    upstream: Upstream, sent: tuple[dict[str, str], bytes], status: int, content_type: str, expected: bytes
) -> None:
    headers, body = sent
    with FaultProxy(upstream.url, throttle_rate=1) as url:
        got_status, got_headers, got_body = _request(url, "POST", "/", body, headers)
    assert got_status == status
    assert dict(got_headers)["Content-Type"] == content_type
    assert expected in got_body
    assert upstream.requests == []


def test_json_1_0_throttle_keeps_the_json_version(upstream: Upstream) -> None:
    headers = {"X-Amz-Target": "DynamoDB_20120810.ListTables", "Content-Type": "application/x-amz-json-1.0"}
    with FaultProxy(upstream.url, throttle_rate=1) as url:
        _status, got_headers, _body = _request(url, "POST", "/", b"{}", headers)
    assert dict(got_headers)["Content-Type"] == "application/x-amz-json-1.0"


@pytest.mark.parametrize(("service", "operation", "arguments", "code"), SERVICE_CALLS)
def test_botocore_parses_each_throttle_as_a_retryable_throttle(
    upstream: Upstream, service: str, operation: str, arguments: dict[str, Any], code: str
) -> None:
    """The real botocore client, its parser for the service's protocol, and its standard retry checkers."""
    proxy = FaultProxy(upstream.url, throttle_rate=1)
    with proxy as url, pytest.raises(botocore.exceptions.ClientError) as caught:
        getattr(_client(service, url, max_attempts=2), operation)(**arguments)
    response = caught.value.response
    assert response["Error"]["Code"] == code
    assert ThrottledRetryableChecker().is_retryable(RetryContext(attempt_number=1, parsed_response=response))
    # botocore retried it once (max_attempts=2), so it classified the error as retryable on its own too.
    assert response["ResponseMetadata"]["RetryAttempts"] == 1
    assert proxy.stats["throttled"] == 2
    assert upstream.requests == []


@pytest.mark.parametrize("service", ["iam", "ecs", "s3", "ec2"])
def test_botocore_sees_injected_errors_as_transient(upstream: Upstream, service: str) -> None:
    operation = {"iam": "list_roles", "ecs": "list_clusters", "s3": "list_buckets", "ec2": "describe_vpcs"}[service]
    with FaultProxy(upstream.url, error_rate=1, seed=1) as url:
        proxy_client = _client(service, url)
        codes = set()
        for _ in range(8):
            with pytest.raises(botocore.exceptions.ClientError) as caught:
                getattr(proxy_client, operation)()
            response = caught.value.response
            status = response["ResponseMetadata"]["HTTPStatusCode"]
            codes.add((status, response["Error"]["Code"]))
            context = RetryContext(attempt_number=1, parsed_response=response)
            context.http_response = type("Response", (), {"status_code": status})()
            assert TransientRetryableChecker().is_retryable(context)
    internal = "InternalError" if service in ("s3", "ec2") else "InternalFailure"
    assert codes == {(500, internal), (503, "ServiceUnavailable")}
    assert upstream.requests == []


def test_error_rate_one_gives_500s_and_503s(upstream: Upstream) -> None:
    with FaultProxy(upstream.url, error_rate=1) as url:
        results = [_request(url, "POST", "/", b"{}", {"X-Amz-Target": "TrentService.ListKeys"}) for _ in range(30)]
    assert {status for status, _h, _b in results} == {500, 503}
    for status, _headers, body in results:
        expected = "InternalFailure" if status == 500 else "ServiceUnavailable"
        assert json.loads(body) == {"__type": expected, "message": "injected"}
    assert upstream.requests == []


def test_drop_closes_the_connection_without_a_response(upstream: Upstream) -> None:
    with FaultProxy(upstream.url, drop_rate=1) as url:
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            _request(url, "POST", "/", b"Action=CreateRole", {"Content-Type": FORM})
        proxy_client = _client("iam", url, max_attempts=3)
        with pytest.raises(botocore.exceptions.ConnectionClosedError):
            proxy_client.create_role(RoleName="r", AssumeRolePolicyDocument="{}")
    assert upstream.requests == []


def test_drops_are_retried_by_botocore(upstream: Upstream) -> None:
    proxy = FaultProxy(upstream.url, drop_rate=1)
    with proxy as url, pytest.raises(botocore.exceptions.ConnectionClosedError):
        _client("iam", url, max_attempts=3).list_roles()
    assert proxy.stats["dropped"] == 3


def test_slow_delays_then_forwards(upstream: Upstream) -> None:
    proxy = FaultProxy(upstream.url, slow_rate=1, slow_seconds=0.2)
    with proxy as url:
        started = time.monotonic()
        status, _headers, body = _request(url, "GET", "/slow")
        elapsed = time.monotonic() - started
    assert (status, body) == (200, b"GET /slow\n")
    assert elapsed >= 0.2
    assert proxy.stats["slowed"] == 1
    assert len(upstream.requests) == 1


def test_exempt_paths_are_never_faulted(upstream: Upstream) -> None:
    proxy = FaultProxy(upstream.url, throttle_rate=0.5, drop_rate=0.5)
    with proxy as url:
        assert _request(url, "POST", "/moto-api/reset")[0] == 200
        assert _request(url, "GET", "/moto-api/data.json?x=1")[0] == 200
        assert _request(url, "GET", "/moto-api")[0] == 200
    assert proxy.stats == {"forwarded": 3, "throttled": 0, "errored": 0, "slowed": 0, "dropped": 0}
    assert not FaultProxy(upstream.url).is_exempt("/moto-apix")
    assert FaultProxy(upstream.url, exempt=["/health/"]).is_exempt("/health/live")


def _outcomes(upstream: Upstream, seed: int) -> tuple[list[str], FaultProxy]:
    """Send 200 sequential requests through a proxy with mixed rates; what the client saw, per request."""
    proxy = FaultProxy(
        upstream.url, seed=seed, throttle_rate=0.15, error_rate=0.15, slow_rate=0.1, slow_seconds=0.001, drop_rate=0.1
    )
    seen = []
    with proxy as url:
        for index in range(200):
            try:
                status, _headers, _body = _request(url, "POST", f"/{index}", b"{}", {"X-Amz-Target": "X.Y"})
                seen.append(str(status))
            except (http.client.RemoteDisconnected, ConnectionError):
                seen.append("drop")
    return seen, proxy


def test_same_seed_same_faults(upstream: Upstream) -> None:
    first, first_proxy = _outcomes(upstream, seed=42)
    second, second_proxy = _outcomes(upstream, seed=42)
    other, _other_proxy = _outcomes(upstream, seed=43)
    assert first == second
    assert first_proxy.events == second_proxy.events
    assert first_proxy.stats == second_proxy.stats
    assert first != other
    assert set(first) == {"200", "400", "500", "503", "drop"}


def test_stats_add_up(upstream: Upstream) -> None:
    seen, proxy = _outcomes(upstream, seed=7)
    stats = proxy.stats
    assert set(stats) == set(FAULT_KINDS)
    assert sum(stats.values()) == 200
    assert stats["throttled"] == seen.count("400")
    assert stats["errored"] == seen.count("500") + seen.count("503")
    assert stats["dropped"] == seen.count("drop")
    assert stats["forwarded"] + stats["slowed"] == seen.count("200") == len(upstream.requests)
    assert [event.kind for event in proxy.events].count("slowed") == stats["slowed"]
    assert min(stats.values()) > 0


def test_concurrent_clients_are_all_answered(upstream: Upstream) -> None:
    """Many connections at once (Terraform's parallel walks) are queued, not reset; every request is counted."""
    proxy = FaultProxy(upstream.url, seed=2, throttle_rate=0.2, error_rate=0.2)
    with proxy as url, ThreadPoolExecutor(max_workers=48) as pool:
        statuses = list(pool.map(lambda index: _request(url, "POST", f"/{index}", b"{}")[0], range(300)))
    assert sum(proxy.stats.values()) == len(statuses) == 300
    assert statuses.count(200) == proxy.stats["forwarded"] == len(upstream.requests)


def test_boto3_list_roles_succeeds_through_throttles(upstream: Upstream) -> None:
    """A real IAM client in standard retry mode outlasts a 50 % throttle rate; upstream sees one request."""
    proxy = FaultProxy(upstream.url, seed=4, throttle_rate=0.5)
    with proxy as url:
        iam = _client("iam", url, max_attempts=10)
        response = iam.list_roles()
        second = iam.list_roles()
    assert [role["RoleName"] for role in response["Roles"]] == ["task-role"]
    assert second["Roles"] == response["Roles"]
    attempts = response["ResponseMetadata"]["RetryAttempts"] + second["ResponseMetadata"]["RetryAttempts"]
    # Seed 4 throttles the first six requests: the first call needs seven attempts.
    assert attempts == proxy.stats["throttled"] == 6
    assert proxy.stats["forwarded"] == len(upstream.requests) == 2


# -- protocol detection ------------------------------------------------------------------------------------


def test_detect_protocol() -> None:
    signed = "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/{}/aws4_request, SignedHeaders=host, Signature=0"
    assert detect_protocol({"x-amz-target": "Logs_20140328.DescribeLogGroups"}, "/") == "json"
    assert detect_protocol({"smithy-protocol": "rpc-v2-cbor"}, "/service/X/operation/Y") == "cbor"
    assert detect_protocol({"Authorization": signed.format("iam")}, "/?Action=ListRoles") == "query"
    assert detect_protocol({"Authorization": signed.format("ec2")}, "/?Action=DescribeVpcs") == "ec2"
    assert detect_protocol({"Authorization": signed.format("s3")}, "/bucket/key") == "rest-xml"
    assert detect_protocol({"Authorization": signed.format("lambda")}, "/2015-03-31/functions/") == "rest-json"
    assert detect_protocol({}, "/bucket/key?X-Amz-Credential=AKID%2F20240101%2Fus-east-1%2Fs3%2Faws4_request") == (
        "rest-xml"
    )
    assert detect_protocol({}, "/bucket/key") == "rest-xml"


def test_fault_response_bodies() -> None:
    status, headers, body = fault_response("query", 503)
    assert status == 503
    assert b"<Type>Receiver</Type><Code>ServiceUnavailable</Code><Message>injected</Message>" in body
    status, headers, body = fault_response("rest-json", "throttle")
    assert (status, dict(headers)["x-amzn-ErrorType"]) == (400, "ThrottlingException")
    status, _headers, body = fault_response("ec2", 500)
    assert status == 500
    assert b"<Response><Errors><Error><Code>InternalError</Code>" in body


# -- configuration -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"throttle_rate": -0.1}, "throttle_rate=-0.1"),
        ({"error_rate": 1.5}, "error_rate=1.5"),
        ({"slow_rate": float("nan")}, "slow_rate=nan"),
        ({"drop_rate": "0.1"}, "drop_rate='0.1'"),
        ({"throttle_rate": 0.6, "error_rate": 0.5}, r"add up to 1\.1 \(throttle_rate=0\.6, error_rate=0\.5\)"),
        ({"slow_seconds": -1}, "slow_seconds=-1"),
        ({"seed": 1.5}, "seed=1.5"),
    ],
)
def test_bad_configuration_names_the_value(kwargs: dict[str, Any], named: str) -> None:
    with pytest.raises(FaultConfigError, match=named) as caught:
        FaultProxy("http://127.0.0.1:5000", **kwargs)
    assert isinstance(caught.value, HarnessError)
    assert isinstance(caught.value, ConfigurationError)


def test_rates_summing_to_one_are_allowed() -> None:
    FaultProxy("http://127.0.0.1:5000", throttle_rate=0.1, error_rate=0.2, slow_rate=0.3, drop_rate=0.4)


@pytest.mark.parametrize("upstream_url", ["https://127.0.0.1:5000", "127.0.0.1:5000", "http://127.0.0.1:5000/x"])
def test_bad_upstream(upstream_url: str) -> None:
    with pytest.raises(FaultConfigError, match="upstream="):
        FaultProxy(upstream_url)


def test_profile_parse() -> None:
    profile = FaultProfile.parse("throttle=0.05,error=0.02,slow=0.02,drop=0.01,seed=7,slow_seconds=0.5")
    assert profile == FaultProfile(throttle=0.05, error=0.02, slow=0.02, drop=0.01, seed=7, slow_seconds=0.5)
    assert FaultProfile.parse(str(profile)) == profile
    assert FaultProfile.parse(" Throttle = 0.1 , ") == FaultProfile(throttle=0.1)
    assert FaultProfile.parse("") == FaultProfile()
    assert not FaultProfile.parse("").active
    assert FaultProfile.parse("moderate,seed=3") == FaultProfile.moderate(seed=3)
    moderate = FaultProfile.moderate()
    assert (moderate.throttle, moderate.error, moderate.slow, moderate.drop) == (0.05, 0.03, 0.02, 0.01)
    assert moderate.slow_seconds == 0.3
    assert moderate.active
    heavy = FaultProfile.parse("heavy,seed=5")
    assert (heavy.throttle, heavy.error, heavy.slow, heavy.drop, heavy.seed) == (0.2, 0.1, 0.0, 0.05, 5)
    assert heavy == FaultProfile.heavy(seed=5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("thottle=0.1", r"unknown fault profile key 'thottle'.*known keys: throttle, error, slow, drop, seed"),
        ("throttle=lots", r"throttle='lots' is not a number"),
        ("seed=1.5", r"seed='1.5' is not an integer"),
        ("throttle", r"'throttle' is not key=value"),
        ("throttle=0.7,error=0.7", r"add up to 1\.4"),
        ("drop=2", r"drop_rate=2\.0 is not a probability"),
    ],
)
def test_profile_parse_errors(text: str, message: str) -> None:
    with pytest.raises(FaultConfigError, match=message):
        FaultProfile.parse(text)


def test_profile_from_env(upstream: Upstream) -> None:
    assert FaultProfile.from_env({}) is None
    assert FaultProfile.from_env({"HARNESS_FAULTS": "  "}) is None
    profile = FaultProfile.from_env({"HARNESS_FAULTS": "throttle=1,seed=9"})
    assert profile == FaultProfile(throttle=1.0, seed=9)
    with pytest.raises(FaultConfigError, match=r"^HARNESS_FAULTS: unknown"):
        FaultProfile.from_env({"HARNESS_FAULTS": "bogus=1"})
    proxy = FaultProxy.from_profile(upstream.url, profile)
    assert (proxy.throttle_rate, proxy.seed) == (1.0, 9)
    with proxy as url:
        assert _request(url, "GET", "/")[0] == 503
    assert proxy.stats["throttled"] == 1


# -- retry counting ----------------------------------------------------------------------------------------


def test_count_retries_counts_each_retry_botocore_makes(upstream: Upstream) -> None:
    proxy = FaultProxy(upstream.url, seed=4, throttle_rate=0.5)
    with proxy as url:
        iam = _client("iam", url, max_attempts=10)
        counter = count_retries(iam)
        count_retries(iam, counter=counter)  # attaching twice counts once
        iam.list_roles()
        iam.list_roles()
    assert counter.retries == proxy.stats["throttled"] == 6, f"expected one retry per throttle, got {counter.retries}"
    assert counter.by_operation == {"ListRoles": 6}


def test_count_retries_sees_no_retry_without_faults(upstream: Upstream) -> None:
    with FaultProxy(upstream.url) as url:
        iam = _client("iam", url, max_attempts=5)
        counter = count_retries(iam)
        iam.list_roles()
    assert counter.retries == 0


def test_retry_report_names_every_layer() -> None:
    line = retry_report({"forwarded": 90, "throttled": 6, "errored": 3, "slowed": 0, "dropped": 1}, 9, 2)
    assert line.startswith("retries: the proxy injected 10 faults in 100 requests (throttled 6, errored 3, slowed 0")
    assert "boto3 retried 9 calls; the harness retried 2 Terraform commands" in line
