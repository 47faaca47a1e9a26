"""Fixtures for the SDK conformance tests (the official `openai`,
`anthropic` and `google-genai` Python SDKs).

The session starts the real binaries: `fake-upstream` (a fake that speaks
OpenAI chat completions, OpenAI Responses and Anthropic messages) and
`modelgate serve` in front of it, with endpoints of all three specs pointing
at the same fake. Nothing is built here; the
binaries come from `MODELGATE_BIN` and `FAKE_UPSTREAM_BIN`, by default the
debug builds in `target/debug` of this repository.

Readiness is read from each process's stdout: both print one
`... listening on http://ADDR` line once their socket is bound.
"""

from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import threading
from pathlib import Path
from typing import IO, Iterator

import anthropic
import openai
import pytest
from google import genai
from google.genai import types as genai_types

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BIN_DIR = REPO_ROOT / "target" / "debug"

# The keys the gateway sends upstream. Tests check they never reach a client.
UPSTREAM_KEY = "sk-fake-upstream-key-1234"
# The fake Azure resource's key (`modelgate_testkit::azure::Resource::default`).
AZURE_KEY = "fake-azure-key"
ANTHROPIC_UPSTREAM_KEY = "sk-ant-fake-key-5678"
RESPONSES_UPSTREAM_KEY = "sk-fake-responses-key-4321"
GOOGLE_UPSTREAM_KEY = "goog-fake-key-2468"
# The keys of the endpoints the Responses tests' 429s go to (see `_config`).
RESPONSES_LIMITED_KEYS = (
    "sk-fake-limited-key-4444",
    "sk-ant-fake-limited-key-5555",
    "sk-fake-limited-key-6666",
)

# How long a process may take to print its "listening" line. Generous: a
# debug build on a loaded 2-core machine can be slow to start.
STARTUP_TIMEOUT_S = 60.0

# Variables that would point the gateway at another config or server.
_SCRUBBED_ENV = (
    "MODELGATE_URL",
    "MODELGATE_CONFIG",
    "MODELGATE_MASTER_KEY",
    "MODELGATE_API_KEY",
    "MODELGATE_ADMIN_TOKEN",
)


# The anthropic SDK reads `ANTHROPIC_*` variables (extra headers, keys, base
# URL, credential profiles) even next to explicit arguments; the host's must
# not leak into the tests' requests.
for _var in [v for v in os.environ if v.startswith("ANTHROPIC_")]:
    del os.environ[_var]
# Likewise google-genai: a Vertex switch, keys or a project from the host
# would send its requests elsewhere.
for _var in [v for v in os.environ if v.startswith(("GOOGLE_", "GEMINI_"))]:
    del os.environ[_var]


def _binary(env_var: str, name: str) -> Path:
    path = Path(os.environ.get(env_var) or DEFAULT_BIN_DIR / name)
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.exit(
            f"{name} binary not found at {path}; build it with "
            "`cargo build -p modelgate -p modelgate-testkit --bins` or set "
            f"{env_var}",
            returncode=2,
        )
    return path


def _child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED_ENV}
    # Loopback traffic must never go through a proxy, whatever the host has.
    no_proxy = "127.0.0.1,localhost"
    for var in ("NO_PROXY", "no_proxy"):
        env[var] = f"{no_proxy},{env[var]}" if env.get(var) else no_proxy
    return env


class _Process:
    """A child process whose stdout lines are read by a thread into a queue
    (which also keeps the pipe drained) and whose stderr goes to a file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path):
        self.name = name
        self.log_path = log_dir / f"{name}.stderr.log"
        self._log: IO[bytes] = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=env,
            text=True,
            bufsize=1,
        )
        self._lines: "queue.Queue[str | None]" = queue.Queue()
        self._reader = threading.Thread(target=self._read, name=f"{name}-stdout", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)  # EOF

    def stderr_tail(self, limit: int = 4000) -> str:
        self._log.flush()
        try:
            return self.log_path.read_text(errors="replace")[-limit:]
        except OSError:
            return ""

    def wait_for_url(self, prefix: str) -> str:
        """Blocks until a stdout line starts with `prefix` and returns the
        rest of it (the URL)."""
        try:
            line = self._lines.get(timeout=STARTUP_TIMEOUT_S)
        except queue.Empty:
            raise RuntimeError(
                f"{self.name} printed nothing within {STARTUP_TIMEOUT_S:.0f}s; "
                f"stderr:\n{self.stderr_tail()}"
            ) from None
        if line is None or not line.startswith(prefix):
            self.proc.poll()
            raise RuntimeError(
                f"{self.name} did not announce itself (expected a line starting "
                f"with {prefix!r}, got {line!r}, exit code {self.proc.returncode}); "
                f"stderr:\n{self.stderr_tail()}"
            )
        return line[len(prefix):].strip()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._reader.join(timeout=5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()


# The `slow` endpoint's idle timeout, and the slow fake's pause between
# stream chunks: far apart, so the timeout fires however loaded the machine.
SLOW_IDLE_TIMEOUT = "500ms"
SLOW_CHUNK_DELAY_MS = "10000"


def _config(upstream_url: str, slow_upstream_url: str, azure_url: str) -> str:
    # `limited` points at the same fake with its own key. It exists only for
    # the 429 test: the gateway puts a key that got a 429 in cooldown for
    # the whole endpoint (1s when the upstream sends no Retry-After), which
    # would turn the other tests' requests to `fake` into 429s. For the same
    # reason every 429 test has its own `*limited*` endpoint: a second 429
    # test on the same one could meet the gateway's own cooldown answer
    # instead of the upstream's.
    #
    # `slow` (and `claude-slow`, of spec anthropic) point at a fake that
    # pauses between stream chunks longer than the endpoint's idle timeout,
    # to get a failure in the middle of a stream.
    #
    # `claude` is an Anthropic endpoint on the same fake (which serves
    # /v1/messages too). Its public model is `claude-fake`, mapped to the
    # fake's `fake-model`: a bare `fake-model` stays unambiguous (only `fake`
    # offers it), while `claude-fake` and `claude/claude-fake` reach `claude`.
    #
    # `resp` is an OpenAI Responses endpoint on the same fake (which serves
    # /v1/responses too). It lists no model, so the model list and the
    # tests that call every listed model do not change; `resp/fake-model`
    # reaches it. The three `limited-resp-*` endpoints (one per spec) are the
    # Responses tests' 429 endpoints, for the cooldown reason above.
    #
    # `gem` is a Gemini API endpoint (spec `google`) on the same fake (which
    # serves /v1beta/models/...:generateContent too). It lists no model, like
    # `resp`; its public model `gemini-fake` is `fake-model` upstream.
    #
    # `az` (a dated api-version: classic deployment URLs) and `az-v1`
    # point at the fake Azure resource (`fake-upstream --azure`), whose
    # deployments are `fake-deployment` and `fake-mini`.
    return f"""\
endpoints:
  - name: fake
    spec: openai-chat-completions
    base_url: {upstream_url}/v1
    api_key: {UPSTREAM_KEY}
    models: {{default: [fake-model], fetch: false}}
    model_map: {{gpt-4o: fake-model}}
  - name: limited
    spec: openai-chat-completions
    base_url: {upstream_url}/v1
    api_key: sk-fake-limited-key-5678
    models: {{default: [], fetch: false}}
  - name: slow
    spec: openai-chat-completions
    base_url: {slow_upstream_url}/v1
    api_key: sk-fake-slow-key-9012
    models: {{default: [], fetch: false}}
    timeouts: {{idle: {SLOW_IDLE_TIMEOUT}}}
  - name: claude
    spec: anthropic
    base_url: {upstream_url}
    api_key: {ANTHROPIC_UPSTREAM_KEY}
    models: {{default: [claude-fake], fetch: false}}
    model_map: {{claude-fake: fake-model}}
  - name: claude-slow
    spec: anthropic
    base_url: {slow_upstream_url}
    api_key: sk-ant-fake-slow-key-3456
    models: {{default: [], fetch: false}}
    timeouts: {{idle: {SLOW_IDLE_TIMEOUT}}}
  - name: claude-limited
    spec: anthropic
    base_url: {upstream_url}
    api_key: sk-ant-fake-limited-key-1111
    models: {{default: [], fetch: false}}
  - name: claude-limited-oai
    spec: anthropic
    base_url: {upstream_url}
    api_key: sk-ant-fake-limited-key-2222
    models: {{default: [], fetch: false}}
  - name: limited-ant
    spec: openai-chat-completions
    base_url: {upstream_url}/v1
    api_key: sk-fake-limited-key-3333
    models: {{default: [], fetch: false}}
  - name: resp
    spec: openai-responses
    base_url: {upstream_url}/v1
    api_key: {RESPONSES_UPSTREAM_KEY}
    models: {{default: [], fetch: false}}
  - name: limited-resp-chat
    spec: openai-chat-completions
    base_url: {upstream_url}/v1
    api_key: {RESPONSES_LIMITED_KEYS[0]}
    models: {{default: [], fetch: false}}
  - name: limited-resp-ant
    spec: anthropic
    base_url: {upstream_url}
    api_key: {RESPONSES_LIMITED_KEYS[1]}
    models: {{default: [], fetch: false}}
  - name: limited-resp-resp
    spec: openai-responses
    base_url: {upstream_url}/v1
    api_key: {RESPONSES_LIMITED_KEYS[2]}
    models: {{default: [], fetch: false}}
  - name: gem
    spec: google
    base_url: {upstream_url}
    api_key: {GOOGLE_UPSTREAM_KEY}
    models: {{default: [], fetch: false}}
    model_map: {{gemini-fake: fake-model}}
  - name: az
    spec: azure
    base_url: {azure_url}
    api_version: 2024-10-21
    api_key: {AZURE_KEY}
    models: {{default: [], fetch: false}}
    model_map: {{gpt-4o-azure: fake-deployment}}
  - name: az-v1
    spec: azure
    base_url: {azure_url}/openai/v1
    api_key: {AZURE_KEY}
    models: {{default: [], fetch: false}}
    model_map: {{gpt-4o-mini: fake-mini}}
"""


class _Upstreams:
    def __init__(
        self, url: str, slow_url: str, azure_url: str, work: Path, env: dict[str, str]
    ):
        self.url = url
        self.slow_url = slow_url
        self.azure_url = azure_url
        self.work = work
        self.env = env


@pytest.fixture(scope="session")
def upstreams(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Upstreams]:
    """Starts three fake-upstreams (one slow, one an Azure resource). All are
    stopped at the end of the session, whatever the tests did."""
    fake_bin = _binary("FAKE_UPSTREAM_BIN", "fake-upstream")
    work = tmp_path_factory.mktemp("modelgate")
    env = _child_env()
    os.environ.update({k: env[k] for k in ("NO_PROXY", "no_proxy")})

    with contextlib.ExitStack() as stack:
        upstream = _Process(
            "fake-upstream", [str(fake_bin), "--listen", "127.0.0.1:0"], env, work
        )
        stack.callback(upstream.stop)
        upstream_url = upstream.wait_for_url("fake-upstream listening on ")

        slow_upstream = _Process(
            "slow-fake-upstream",
            [
                str(fake_bin),
                "--listen",
                "127.0.0.1:0",
                "--delay-ms",
                SLOW_CHUNK_DELAY_MS,
            ],
            env,
            work,
        )
        stack.callback(slow_upstream.stop)
        slow_upstream_url = slow_upstream.wait_for_url("fake-upstream listening on ")

        azure = _Process(
            "azure-fake-upstream",
            [str(fake_bin), "--listen", "127.0.0.1:0", "--azure"],
            env,
            work,
        )
        stack.callback(azure.stop)
        azure_url = azure.wait_for_url("fake-upstream listening on ")

        config = work / "modelgate.yaml"
        config.write_text(_config(upstream_url, slow_upstream_url, azure_url))

        yield _Upstreams(upstream_url, slow_upstream_url, azure_url, work, env)


def _start_gateway(
    stack: contextlib.ExitStack, name: str, upstreams: _Upstreams, extra: list[str]
) -> str:
    modelgate_bin = _binary("MODELGATE_BIN", "modelgate")
    data_dir = upstreams.work / f"{name}-data"
    data_dir.mkdir(exist_ok=True)
    gateway = _Process(
        name,
        [
            str(modelgate_bin),
            "serve",
            "--config",
            str(upstreams.work / "modelgate.yaml"),
            "--data-dir",
            str(data_dir),
            "--listen",
            "127.0.0.1:0",
            *extra,
        ],
        upstreams.env,
        upstreams.work,
    )
    stack.callback(gateway.stop)
    url = gateway.wait_for_url("modelgate listening on ")
    assert url.startswith("http://127.0.0.1:"), url
    return url


@pytest.fixture(scope="session")
def gateway_url(upstreams: _Upstreams) -> Iterator[str]:
    """Starts the gateway (no gateway keys: it listens on loopback) in front
    of the fakes; yields its base URL (without `/v1`). It is stopped at the
    end of the session, whatever the tests did."""
    with contextlib.ExitStack() as stack:
        yield _start_gateway(stack, "modelgate", upstreams, [])


class SecuredGateway:
    def __init__(self, url: str, key: str):
        self.url = url
        self.key = key


@pytest.fixture(scope="session")
def secured_gateway(upstreams: _Upstreams) -> Iterator[SecuredGateway]:
    """A second gateway, started with `--require-keys` and one gateway key
    (created beforehand with `modelgate keys create`), for the tests of how
    clients send their key."""
    modelgate_bin = _binary("MODELGATE_BIN", "modelgate")
    data_dir = upstreams.work / "modelgate-secured-data"
    data_dir.mkdir()
    created = subprocess.run(
        [
            str(modelgate_bin),
            "--config",
            str(upstreams.work / "modelgate.yaml"),
            "--data-dir",
            str(data_dir),
            "keys",
            "create",
            "sdk-tests",
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=upstreams.env,
        timeout=STARTUP_TIMEOUT_S,
    )
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("mg-") and "\n" not in key, created.stdout
    with contextlib.ExitStack() as stack:
        url = _start_gateway(stack, "modelgate-secured", upstreams, ["--require-keys"])
        yield SecuredGateway(url, key)


@pytest.fixture
def client(gateway_url: str) -> Iterator[openai.OpenAI]:
    c = openai.OpenAI(base_url=f"{gateway_url}/v1", api_key="sk-anything", max_retries=0)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def async_client_factory(gateway_url: str):
    """Makes AsyncOpenAI clients; create them inside the coroutine that uses
    them (their connection pool belongs to that event loop)."""

    def make() -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(
            base_url=f"{gateway_url}/v1", api_key="sk-anything", max_retries=0
        )

    return make


@pytest.fixture
def anthropic_client(gateway_url: str) -> Iterator[anthropic.Anthropic]:
    # The Anthropic SDK's base URL is the host: it adds /v1/messages itself.
    c = anthropic.Anthropic(base_url=gateway_url, api_key="sk-anything", max_retries=0)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def async_anthropic_factory(gateway_url: str):
    """Makes AsyncAnthropic clients; create them inside the coroutine that
    uses them (their connection pool belongs to that event loop)."""

    def make() -> anthropic.AsyncAnthropic:
        return anthropic.AsyncAnthropic(
            base_url=gateway_url, api_key="sk-anything", max_retries=0
        )

    return make


def make_genai_client(base_url: str, api_version: str | None, key: str = "sk-anything") -> genai.Client:
    """A google-genai client of the Gemini API pointed at the gateway (never
    at Google): `api_version` None keeps the SDK's default path."""
    options = genai_types.HttpOptions(
        base_url=base_url,
        retry_options=genai_types.HttpRetryOptions(attempts=1),
    )
    if api_version is not None:
        options.api_version = api_version
    return genai.Client(api_key=key, http_options=options)


@pytest.fixture(params=["v1", "v1beta"])
def genai_client(request: pytest.FixtureRequest, gateway_url: str) -> Iterator[genai.Client]:
    """The google-genai client, once per API version the SDK may use."""
    c = make_genai_client(gateway_url, request.param)
    try:
        yield c
    finally:
        c.close()
