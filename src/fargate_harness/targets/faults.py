"""A fault-injecting loopback HTTP proxy: throttles, server errors, slow answers and dropped connections.

:class:`FaultProxy` sits between the code under test (boto3, Terraform's AWS provider) and the AWS target (by default
moto's server on a loopback port). It forwards each request unchanged, except that with configured probabilities it
answers with a throttling error, answers with a 500/503 error, waits before forwarding, or closes the connection
without answering. The fault is decided before upstream is contacted, so an injected fault never changes upstream
state: a request the SDK retries after a fault is seen by upstream once.

Error bodies follow the protocol of the request, so that AWS SDKs (botocore, the Go SDK inside the AWS provider)
parse the error code and recognise throttles as throttles:

==================  ====================================  =========================  ===============================
protocol            recognised by                         throttle                   error
==================  ====================================  =========================  ===============================
JSON 1.0/1.1        ``X-Amz-Target`` / x-amz-json type    400 ThrottlingException    500 InternalFailure / 503
Smithy RPCv2 CBOR   ``Smithy-Protocol: rpc-v2-cbor``      400 ThrottlingException    500 InternalFailure / 503
query (IAM, STS)    form body or ``Action=`` in the query 400 Throttling             500 InternalFailure / 503
EC2 query           SigV4 credential scope ``ec2``        503 RequestLimitExceeded   500 InternalError / 503
REST-XML (S3)       scope ``s3`` (or no signature)        503 SlowDown               500 InternalError / 503
REST-JSON (Lambda)  any other signed request              400 ThrottlingException    500 InternalFailure / 503
==================  ====================================  =========================  ===============================

Determinism: one ``random.Random(seed)`` decides every fault, in the order requests reach the proxy. The same seed
and the same sequence of requests give the same faults; concurrent clients (Terraform's parallel walks, xdist workers
sharing a proxy) can reorder requests between runs, and then the faults land on different requests.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import math
import os
import random
import re
import socket
import threading
import time
import urllib.parse
import uuid
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Literal, cast

from fargate_harness.errors import ConfigurationError

LOG = logging.getLogger("fargate_harness.targets.faults")

#: The environment variable a fault profile is read from (see :meth:`FaultProfile.parse`).
FAULTS_ENV = "HARNESS_FAULTS"

#: Named profiles :meth:`FaultProfile.parse` accepts as a bare word.
PRESETS = ("moderate", "heavy")

#: What happened to one request. ``slowed`` requests were forwarded after the delay.
FaultKind = Literal["forwarded", "throttled", "errored", "slowed", "dropped"]
FAULT_KINDS: tuple[FaultKind, ...] = ("forwarded", "throttled", "errored", "slowed", "dropped")

Protocol = Literal["json", "cbor", "query", "ec2", "rest-xml", "rest-json"]

#: Headers that describe one hop, not the message; never copied across the proxy.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "expect",
        "content-length",
    }
)

#: Services whose errors are ``<Error><Code>`` XML documents (REST-XML protocol).
REST_XML_SERVICES = frozenset({"s3", "s3control", "route53", "cloudfront"})

_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/,\s]+/([^/,\s]+)/aws4_request")
_MAX_EVENTS = 10_000


class FaultConfigError(ConfigurationError):
    """A fault rate, delay, seed, upstream URL or profile string that cannot work; the message names it."""


@dataclass(frozen=True)
class FaultEvent:
    """What the proxy did with one request, in arrival order (see :attr:`FaultProxy.events`)."""

    kind: FaultKind
    method: str
    path: str
    status: int | None = None


def _check_rate(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= float(value) <= 1.0:
        raise FaultConfigError(f"{name}={value!r} is not a probability: it must be a number in [0, 1]")
    return float(value)


def _validate(
    throttle_rate: float, error_rate: float, slow_rate: float, drop_rate: float, *, slow_seconds: float, seed: int
) -> tuple[float, float, float, float, float, int]:
    """Check one fault configuration; return it as floats (and an int seed) or raise :class:`FaultConfigError`."""
    rates = {
        "throttle_rate": _check_rate("throttle_rate", throttle_rate),
        "error_rate": _check_rate("error_rate", error_rate),
        "slow_rate": _check_rate("slow_rate", slow_rate),
        "drop_rate": _check_rate("drop_rate", drop_rate),
    }
    total = math.fsum(rates.values())
    if total > 1.0 + 1e-9:
        listed = ", ".join(f"{name}={value:g}" for name, value in rates.items() if value)
        raise FaultConfigError(
            f"the fault rates add up to {total:g} ({listed}); their sum must be in [0, 1], "
            "because each request gets at most one fault"
        )
    if (
        isinstance(slow_seconds, bool)
        or not isinstance(slow_seconds, int | float)
        or not math.isfinite(slow_seconds)
        or not 0.0 <= slow_seconds <= 3600.0
    ):
        raise FaultConfigError(f"slow_seconds={slow_seconds!r} must be a number of seconds in [0, 3600]")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise FaultConfigError(f"seed={seed!r} must be an integer")
    return (
        rates["throttle_rate"],
        rates["error_rate"],
        rates["slow_rate"],
        rates["drop_rate"],
        float(slow_seconds),
        seed,
    )


@dataclass(frozen=True)
class FaultProfile:
    """A validated set of fault rates, as read from ``HARNESS_FAULTS`` (see :meth:`parse`)."""

    throttle: float = 0.0
    error: float = 0.0
    slow: float = 0.0
    drop: float = 0.0
    seed: int = 0
    slow_seconds: float = 1.0

    #: Keys of the profile string, in the order :meth:`__str__` writes them.
    KEYS: ClassVar[tuple[str, ...]] = ("throttle", "error", "slow", "drop", "seed", "slow_seconds")

    def __post_init__(self) -> None:
        _validate(self.throttle, self.error, self.slow, self.drop, slow_seconds=self.slow_seconds, seed=self.seed)

    @classmethod
    def moderate(cls, seed: int = 0) -> FaultProfile:
        """What the suite must survive: 5 % throttles, 3 % server errors, 2 % answers 0.3 s late, 1 % drops.

        Every AWS SDK retries all four in its default retry mode, so a suite that fails under this profile
        depends on a happy path it should not rely on.
        """
        return cls(throttle=0.05, error=0.03, slow=0.02, drop=0.01, seed=seed, slow_seconds=0.3)

    @classmethod
    def heavy(cls, seed: int = 0) -> FaultProfile:
        """A hostile day: 20 % throttles, 10 % server errors, 5 % dropped connections (35 % of requests).

        Every layer's retries are exercised at once: the SDKs' (botocore's, the Go SDK's in the provider)
        and the harness's own retry table for Terraform commands.
        """
        return cls(throttle=0.20, error=0.10, drop=0.05, seed=seed)

    @classmethod
    def parse(cls, text: str) -> FaultProfile:
        """Read ``"throttle=0.05,error=0.02,slow=0.02,drop=0.01,seed=7,slow_seconds=0.5"``.

        Items are separated by commas; every key is optional (rates default to 0, ``seed`` to 0 and
        ``slow_seconds`` to 1). The bare words ``moderate`` and ``heavy`` start from :meth:`moderate` or
        :meth:`heavy`, and later items override them: ``"heavy,seed=3"``. An empty string is the profile with
        no faults.
        """
        values: dict[str, Any] = {}
        for raw in text.split(","):
            item = raw.strip()
            if not item:
                continue
            if item.lower() in PRESETS:
                preset = getattr(cls, item.lower())()
                values.update({name: getattr(preset, name) for name in cls.KEYS})
                continue
            key, sep, value = (part.strip() for part in item.partition("="))
            key = key.lower()
            if not sep:
                raise FaultConfigError(
                    f"fault profile item {item!r} is not key=value; write e.g. 'throttle=0.05,seed=7' "
                    f"(keys: {', '.join(cls.KEYS)}) or one of {', '.join(PRESETS)}"
                )
            if key not in cls.KEYS:
                raise FaultConfigError(
                    f"unknown fault profile key {key!r} in {text!r}; known keys: {', '.join(cls.KEYS)}"
                )
            try:
                values[key] = int(value) if key == "seed" else float(value)
            except ValueError:
                kind = "an integer" if key == "seed" else "a number"
                raise FaultConfigError(f"fault profile value {key}={value!r} is not {kind}") from None
        return cls(**values)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> FaultProfile | None:
        """The profile in ``HARNESS_FAULTS``, or None when it is unset or blank."""
        text = (os.environ if environ is None else environ).get(FAULTS_ENV, "")
        if not text.strip():
            return None
        try:
            return cls.parse(text)
        except FaultConfigError as error:
            raise FaultConfigError(f"{FAULTS_ENV}: {error}") from None

    @property
    def active(self) -> bool:
        """Whether any fault can happen at all."""
        return any((self.throttle, self.error, self.slow, self.drop))

    def __str__(self) -> str:
        return ",".join(f"{field.name}={getattr(self, field.name):g}" for field in fields(self))


class FaultProxy:
    """A reverse proxy on 127.0.0.1 that forwards to ``upstream`` and injects faults (see the module docstring).

    ``start()`` returns the proxy's URL; ``stop()`` stops it; ``with FaultProxy(...) as url:`` does both.
    Paths that start with one of ``exempt`` (default: moto's ``/moto-api``) are always forwarded untouched.
    ``stats`` counts requests per :data:`FaultKind`; each request counts once.
    """

    def __init__(
        self,
        upstream: str,
        *,
        seed: int = 0,
        throttle_rate: float = 0.0,
        error_rate: float = 0.0,
        slow_rate: float = 0.0,
        slow_seconds: float = 1.0,
        drop_rate: float = 0.0,
        exempt: Iterable[str] = ("/moto-api",),
        upstream_timeout: float = 60.0,
    ) -> None:
        (
            self.throttle_rate,
            self.error_rate,
            self.slow_rate,
            self.drop_rate,
            self.slow_seconds,
            self.seed,
        ) = _validate(throttle_rate, error_rate, slow_rate, drop_rate, slow_seconds=slow_seconds, seed=seed)
        parts = urllib.parse.urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname or parts.path not in ("", "/") or parts.query:
            raise FaultConfigError(
                f"upstream={upstream!r} must be a plain http://host:port URL (no path, no query); "
                "the proxy forwards to HTTP targets such as moto's server"
            )
        self.upstream = upstream
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.upstream_timeout = upstream_timeout
        if isinstance(exempt, str):
            exempt = (exempt,)
        self.exempt = tuple(prefix.rstrip("/") or "/" for prefix in exempt)
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._stats: dict[FaultKind, int] = dict.fromkeys(FAULT_KINDS, 0)
        self._events: deque[FaultEvent] = deque(maxlen=_MAX_EVENTS)
        self._server: _ProxyServer | None = None
        self._thread: threading.Thread | None = None
        self.url: str | None = None

    @classmethod
    def from_profile(cls, upstream: str, profile: FaultProfile, **kwargs: Any) -> FaultProxy:
        """A proxy with the rates, seed and delay of ``profile``; ``kwargs`` go to the constructor."""
        return cls(
            upstream,
            seed=profile.seed,
            throttle_rate=profile.throttle,
            error_rate=profile.error,
            slow_rate=profile.slow,
            slow_seconds=profile.slow_seconds,
            drop_rate=profile.drop,
            **kwargs,
        )

    # -- lifecycle -------------------------------------------------------------------------------------------

    def start(self) -> str:
        """Listen on a free loopback port and serve in a daemon thread; return the proxy's URL."""
        if self._server is not None and self.url is not None:
            return self.url
        server = _ProxyServer(("127.0.0.1", 0), _ProxyHandler)
        server.proxy = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="fault-proxy", daemon=True
        )
        self._thread.start()
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        LOG.info("fault proxy %s -> %s (%s)", self.url, self.upstream, self.describe())
        return self.url

    def stop(self) -> None:
        """Stop serving and close every client connection; safe to call twice or before :meth:`start`."""
        server, self._server = self._server, None
        thread, self._thread = self._thread, None
        self.url = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.close_connections()
        if thread is not None:
            thread.join(timeout=10)

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- state -----------------------------------------------------------------------------------------------

    @property
    def stats(self) -> dict[str, int]:
        """Requests so far per kind: forwarded, throttled, errored, slowed (then forwarded), dropped."""
        with self._lock:
            return {kind: count for kind, count in self._stats.items()}

    @property
    def events(self) -> list[FaultEvent]:
        """What happened to each request, oldest first (the last 10,000 requests)."""
        with self._lock:
            return list(self._events)

    def describe(self) -> str:
        """The configuration in one line, for logs and reports."""
        return (
            f"throttle={self.throttle_rate:g}, error={self.error_rate:g}, slow={self.slow_rate:g} "
            f"({self.slow_seconds:g}s), drop={self.drop_rate:g}, seed={self.seed}"
        )

    def is_exempt(self, path: str) -> bool:
        """Whether requests to ``path`` (without the query) bypass fault injection."""
        return any(prefix in ("/", path) or path.startswith(prefix + "/") for prefix in self.exempt)

    def decide(self, method: str, path: str) -> tuple[FaultKind, int | None]:
        """Draw the fate of one request and record it: (kind, status of an injected error or None)."""
        with self._lock:
            kind: FaultKind = "forwarded"
            status: int | None = None
            if not self.is_exempt(path):
                draw = self._rng.random()
                for candidate, rate in (
                    ("throttled", self.throttle_rate),
                    ("errored", self.error_rate),
                    ("slowed", self.slow_rate),
                    ("dropped", self.drop_rate),
                ):
                    if draw < rate:
                        kind = cast(FaultKind, candidate)
                        break
                    draw -= rate
                if kind == "errored":
                    status = 500 if self._rng.random() < 0.5 else 503
            self._stats[kind] += 1
            self._events.append(FaultEvent(kind, method, path, status))
            return kind, status


class _ProxyServer(ThreadingHTTPServer):
    """A threading HTTP server that knows its :class:`FaultProxy` and its open client connections."""

    daemon_threads = True
    block_on_close = False
    #: socketserver's default backlog of 5 resets connections when Terraform's parallel walks open many at once.
    request_queue_size = 128
    proxy: FaultProxy

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, handler)

    def close_connections(self) -> None:
        """Shut down every client connection, waking handler threads that wait for a keep-alive request."""
        with self.connections_lock:
            connections = list(self.connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log a handler's exception instead of printing it; the server keeps serving."""
        LOG.warning("fault proxy: error while serving %s", client_address, exc_info=True)


class _BadRequest(Exception):
    """The client's request cannot be read (bad Content-Length or chunk framing)."""


class _ProxyHandler(BaseHTTPRequestHandler):
    """Handles one client connection (possibly many keep-alive requests) for :class:`FaultProxy`."""

    protocol_version = "HTTP/1.1"
    #: Idle keep-alive connections are closed after this long (the Go SDK's idle timeout is 90 s).
    timeout = 120

    @property
    def proxy(self) -> FaultProxy:
        return cast(_ProxyServer, self.server).proxy

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle's algorithm and delayed ACKs
        # add ~40 ms to every answer on a keep-alive connection.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        server = cast(_ProxyServer, self.server)
        with server.connections_lock:
            server.connections.add(self.connection)

    def finish(self) -> None:
        server = cast(_ProxyServer, self.server)
        with server.connections_lock:
            server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        LOG.debug("fault proxy: " + format, *args)

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def _proxy_request(self) -> None:
        try:
            body = self._read_body()
        except _BadRequest as error:
            self.close_connection = True
            self._respond(400, "Bad Request", [("Content-Type", "text/plain")], f"fault proxy: {error}\n".encode())
            return
        target = self.path
        if "://" in target.split("?", 1)[0]:
            parts = urllib.parse.urlsplit(target)
            target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
        path = urllib.parse.urlsplit(target).path
        kind, status = self.proxy.decide(self.command, path)
        if kind == "dropped":
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if kind in ("throttled", "errored"):
            request_headers = dict(self.headers.items())
            protocol = detect_protocol(request_headers, target)
            json_version = "1.0" if "x-amz-json-1.0" in self.headers.get("Content-Type", "") else "1.1"
            fault: Literal["throttle"] | int = "throttle" if kind == "throttled" else status or 500
            code, headers, payload = fault_response(protocol, fault, json_version)
            self._respond(code, http.client.responses.get(code, ""), headers, payload)
            return
        if kind == "slowed":
            time.sleep(self.proxy.slow_seconds)
        self._forward(target, body)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _proxy_request

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                line = self.rfile.readline(65537)
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise _BadRequest(f"bad chunk size line {line[:40]!r}") from None
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        try:
            size = int(length)
        except ValueError:
            raise _BadRequest(f"bad Content-Length {length!r}") from None
        if size < 0:
            raise _BadRequest(f"bad Content-Length {length!r}")
        body = self.rfile.read(size)
        if len(body) != size:
            raise _BadRequest(f"the body ended after {len(body)} of {size} bytes")
        return body

    def _forward(self, target: str, body: bytes) -> None:
        proxy = self.proxy
        connection = http.client.HTTPConnection(
            proxy.upstream_host, proxy.upstream_port, timeout=proxy.upstream_timeout
        )
        try:
            connection.putrequest(self.command, target, skip_host=True, skip_accept_encoding=True)
            for name, value in self.headers.items():
                if name.lower() not in HOP_BY_HOP:
                    connection.putheader(name, value)
            if body or self.command not in ("GET", "HEAD", "DELETE", "OPTIONS"):
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            response = connection.getresponse()
            payload = response.read()
            headers = [(name, value) for name, value in response.getheaders() if name.lower() not in HOP_BY_HOP]
            length = response.getheader("Content-Length")
            if self.command == "HEAD" and length is not None:
                headers.append(("Content-Length", length))
                self._respond(response.status, response.reason, headers, b"", content_length=False)
            else:
                self._respond(response.status, response.reason, headers, payload)
        except (OSError, http.client.HTTPException) as error:
            LOG.warning("fault proxy: %s %s to %s failed: %s", self.command, target, proxy.upstream, error)
            message = f"fault proxy: upstream {proxy.upstream} failed: {error}\n".encode()
            self._respond(502, "Bad Gateway", [("Content-Type", "text/plain")], message)
        finally:
            connection.close()

    def _respond(
        self,
        status: int,
        reason: str,
        headers: Iterable[tuple[str, str]],
        payload: bytes,
        *,
        content_length: bool = True,
    ) -> None:
        self.send_response_only(status, reason or None)
        for name, value in headers:
            self.send_header(name, value)
        if content_length:
            self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and payload:
            self.wfile.write(payload)
        self.wfile.flush()


def signing_service(headers: Mapping[str, str], target: str) -> str | None:
    """The service in a request's SigV4 credential scope (header or presigned query), or None if unsigned."""
    lowered = {name.lower(): value for name, value in headers.items()}
    match = _CREDENTIAL_SCOPE.search(lowered.get("authorization", ""))
    if match:
        return match.group(1)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(target).query)
    for credential in query.get("X-Amz-Credential", []):
        parts = credential.split("/")
        if len(parts) == 5:
            return parts[3]
    return None


def detect_protocol(headers: Mapping[str, str], target: str) -> Protocol:
    """Which AWS protocol a request speaks (from its headers and request target), to write an error in it."""
    lowered = {name.lower(): value for name, value in headers.items()}
    content_type = lowered.get("content-type", "").lower()
    if lowered.get("smithy-protocol", "").lower() == "rpc-v2-cbor":
        return "cbor"
    if lowered.get("x-amz-target") or content_type.startswith("application/x-amz-json"):
        return "json"
    service = signing_service(headers, target)
    if service == "ec2":
        return "ec2"
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(target).query)
    if content_type.startswith("application/x-www-form-urlencoded") or "Action" in query:
        return "query"
    if service is None or service in REST_XML_SERVICES:
        return "rest-xml"
    return "rest-json"


def _cbor_text(text: str) -> bytes:
    data = text.encode()
    if len(data) < 24:
        return bytes([0x60 + len(data)]) + data
    if len(data) < 256:
        return bytes([0x78, len(data)]) + data
    return bytes([0x79]) + len(data).to_bytes(2, "big") + data


def _cbor_map(items: Mapping[str, str]) -> bytes:
    """A CBOR map of short text strings (all an RPCv2 error body needs)."""
    return bytes([0xA0 + len(items)]) + b"".join(_cbor_text(key) + _cbor_text(value) for key, value in items.items())


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fault_response(
    protocol: Protocol, fault: Literal["throttle"] | int, json_version: str = "1.1"
) -> tuple[int, list[tuple[str, str]], bytes]:
    """The (status, headers, body) of an injected throttle (``"throttle"``) or server error (500 or 503)."""
    request_id = str(uuid.uuid4())
    if fault == "throttle":
        status = 503 if protocol in ("ec2", "rest-xml") else 400
        code = {"ec2": "RequestLimitExceeded", "rest-xml": "SlowDown", "query": "Throttling"}.get(
            protocol, "ThrottlingException"
        )
        message = "Reduce your request rate." if protocol == "rest-xml" else "Rate exceeded"
        kind = "Sender"
    else:
        status = fault
        if status == 503:
            code = "ServiceUnavailable"
        else:
            code = "InternalError" if protocol in ("ec2", "rest-xml") else "InternalFailure"
        message = "injected"
        kind = "Receiver"
    headers = [("x-amzn-RequestId", request_id)]
    if protocol in ("json", "rest-json"):
        content_type = "application/json" if protocol == "rest-json" else f"application/x-amz-json-{json_version}"
        headers += [("Content-Type", content_type), ("x-amzn-ErrorType", code)]
        return status, headers, json.dumps({"__type": code, "message": message}).encode()
    if protocol == "cbor":
        headers += [("Content-Type", "application/cbor"), ("Smithy-Protocol", "rpc-v2-cbor")]
        return status, headers, _cbor_map({"__type": code, "message": message})
    headers += [("Content-Type", "text/xml"), ("x-amz-request-id", request_id)]
    error = f"<Code>{code}</Code><Message>{_xml_escape(message)}</Message>"
    if protocol == "query":
        document = (
            f"<ErrorResponse><Error><Type>{kind}</Type>{error}</Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
    elif protocol == "ec2":
        document = f"<Response><Errors><Error>{error}</Error></Errors><RequestID>{request_id}</RequestID></Response>"
    else:
        document = f"<Error>{error}<RequestId>{request_id}</RequestId></Error>"
    return status, headers, ('<?xml version="1.0" encoding="UTF-8"?>\n' + document).encode()


# -- retries seen by each layer ---------------------------------------------------------------------------------


class RetryCounter:
    """Counts the retries botocore makes on the clients it is attached to (see :func:`count_retries`).

    botocore emits ``needs-retry`` after every attempt of a call, with ``attempts`` = the attempt's number;
    an event with ``attempts >= 2`` therefore stands for exactly one retry. Thread-safe.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._attached: set[int] = set()
        self.retries = 0
        self.by_operation: dict[str, int] = {}

    def _on_needs_retry(self, attempts: int = 1, operation: Any = None, **_kwargs: Any) -> None:
        if attempts < 2:
            return
        name = str(getattr(operation, "name", operation))
        with self._lock:
            self.retries += 1
            self.by_operation[name] = self.by_operation.get(name, 0) + 1

    def attach(self, client: Any) -> Any:
        """Count ``client``'s retries too (once, however often it is attached); return the client."""
        with self._lock:
            if id(client) in self._attached:
                return client
            self._attached.add(id(client))
        client.meta.events.register("needs-retry", self._on_needs_retry)
        return client


def count_retries(*clients: Any, counter: RetryCounter | None = None) -> RetryCounter:
    """Attach a :class:`RetryCounter` (a new one unless given) to boto3 ``clients``; return it."""
    counter = counter or RetryCounter()
    for client in clients:
        counter.attach(client)
    return counter


def retry_report(proxy_stats: Mapping[str, int], boto3_retries: int, harness_retries: int) -> str:
    """One line: what the proxy injected, and how many retries boto3 and the harness made for it."""
    injected = sum(count for kind, count in proxy_stats.items() if kind != "forwarded")
    shown = ", ".join(f"{kind} {proxy_stats.get(kind, 0)}" for kind in FAULT_KINDS if kind != "forwarded")
    return (
        f"retries: the proxy injected {injected} faults in {sum(proxy_stats.values())} requests ({shown}); "
        f"boto3 retried {boto3_retries} calls; the harness retried {harness_retries} Terraform commands "
        "(the rest was retried inside Terraform's AWS provider)"
    )
