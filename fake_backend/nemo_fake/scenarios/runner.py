"""Running a scenario: the reference client plays each step against a fake (in process, or a
served one through its control API) and every expectation is checked after the step."""

from __future__ import annotations

import asyncio
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from nemo_fake.http.auth import attribution
from nemo_fake.scenarios.format import (
    Advance,
    Chat,
    Expectations,
    RawRequest,
    Scenario,
    Simple,
    Step,
    Upload,
)
from nemo_fake.testing.control import FakeControl
from nemo_fake.testing.fake import NemoFake
from nemo_fake.testing.reference_client import NemoClient, reference_client
from nemo_fake.testing.remote import RemoteFake
from nemo_fake.testing.tls import shared_tls_context

ATTRIBUTION = attribution("nemo-scenario")
SESSION_ID = "{session_id}"  # in a raw request, stands for the scenario's session
REMOTE_TIMEOUT = 60.0


@dataclass
class StepResult:
    """One step played: what failed (nothing, when it passed)."""

    step: Step
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def apply(
    scenario: Scenario, fake: FakeControl, overrides: Mapping[str, object] | None = None
) -> None:
    """Start `fake` afresh with the scenario's seed, settings and fault rules. `overrides` win
    over the scenario's settings (`serve --scenario` passes its explicit flags here)."""
    fake.configure({**scenario.overrides(), **(overrides or {})})
    fake.reset()  # a seed takes effect at a reset
    for rule in scenario.fault_rules():
        fake.faults.add(rule)


@contextmanager
def applied(scenario: Scenario, fake: FakeControl) -> Iterator[None]:
    """`apply` for the length of the block, then the settings in force before it come back."""
    before = fake.config.to_dict()
    apply(scenario, fake)
    try:
        yield
    finally:
        fake.configure(before)


async def run(
    scenario: Scenario,
    *,
    target: str | None = None,
    admin_token: str | None = None,
    on_step: Callable[[StepResult], None] | None = None,
) -> list[StepResult]:
    """Play a scenario with the reference client; one result per step. Without a target it
    runs against a fresh in-process fake; with one, against that served fake, whose previous
    settings are put back afterwards."""
    if target is None:
        with NemoFake() as fake:
            apply(scenario, fake)
            async with fake.http() as http:
                return await _play_all(scenario, fake, http, on_step)
    with RemoteFake(target, admin_token) as remote, applied(scenario, remote):
        tls = shared_tls_context()
        async with httpx.AsyncClient(base_url=target, timeout=REMOTE_TIMEOUT, verify=tls) as http:
            return await _play_all(scenario, remote, http, on_step)


def run_sync(
    scenario: Scenario,
    *,
    target: str | None = None,
    admin_token: str | None = None,
    on_step: Callable[[StepResult], None] | None = None,
) -> list[StepResult]:
    return asyncio.run(run(scenario, target=target, admin_token=admin_token, on_step=on_step))


def describe(result: StepResult) -> str:
    """A step's line for a report: ✓ or ✗, its title, and each failure indented below."""
    mark = "✓" if result.passed else "✗"
    lines = [f"  {mark} {result.step.title}"]
    lines += ["      " + re.sub(r"\s+", " ", failure)[:400] for failure in result.failures]
    return "\n".join(lines)


async def _play_all(
    scenario: Scenario,
    fake: FakeControl,
    http: httpx.AsyncClient,
    on_step: Callable[[StepResult], None] | None,
) -> list[StepResult]:
    results: list[StepResult] = []
    with tempfile.TemporaryDirectory(prefix="nemo-scenario-") as folder:
        client = reference_client(fake, http, Path(folder), client_id=f"scenario-{scenario.name}")
        for step in scenario.steps:
            client.said.clear()
            result = StepResult(step)
            try:
                await _play(step, client, http, result)
            except Exception as error:  # a step that crashes fails, the run goes on
                result.failures.append(f"raised {type(error).__name__}: {error}")
            results.append(result)
            if on_step:
                on_step(result)
    return results


async def _play(
    step: Step, client: NemoClient[FakeControl], http: httpx.AsyncClient, result: StepResult
) -> None:
    assistant, action = client.assistant, step.action
    ok: bool | None = None
    response: httpx.Response | None = None
    if isinstance(action, Upload):
        ok = await assistant.handle("upload", files=list(action.items))
    elif isinstance(action, Chat):
        ok = await assistant.handle(action.message)
    elif isinstance(action, Simple):
        ok = await assistant.handle(action.action)
    elif isinstance(action, Advance):
        client.fake.advance(action.seconds)
    else:
        response = await _raw(action, client, http)
    await _check(step.expect, client, ok, response, result.failures)


async def _check(
    expect: Expectations,
    client: NemoClient[FakeControl],
    ok: bool | None,
    response: httpx.Response | None,
    failures: list[str],
) -> None:
    said, api = client.said, client.assistant.api
    if expect.ok is not None and ok != expect.ok:
        failures.append(f"ok was {ok}, expected {expect.ok}; said {said}")
    for text in expect.said:
        if not any(text in line for line in said):
            failures.append(f"nothing said contains {text!r}; said {said}")
    for text in expect.said_not:
        if any(text in line for line in said):
            failures.append(f"something said contains {text!r}; said {said}")
    for key, wanted in (("status", expect.status), ("code", expect.code)):
        if wanted is None:
            continue
        if response is None:
            failures.append(f"{key} is checked on request steps only")
            continue
        actual = response.status_code if key == "status" else _code(response)
        if actual != wanted:
            failures.append(f"{key} was {actual}, expected {wanted}")
    if expect.state:
        state = await api.state(str(client.assistant.project.session_id))
        counts = {
            "video_infos": len(state.video_infos),
            "generated_media": len(state.generated_media),
            "tracks": len(state.draft.get("t", [])),
            "duration_ms": state.draft.get("d"),
        }
        for key, wanted in expect.state.items():
            if counts[key] != wanted:
                failures.append(f"state {key} was {counts[key]}, expected {wanted}")
    if expect.ledger:
        balance = await api.balance()
        for key, wanted in expect.ledger.items():
            if getattr(balance, key) != wanted:
                failures.append(f"ledger {key} was {getattr(balance, key)}, expected {wanted}")
    if expect.journal is not None:
        check = expect.journal
        found = client.fake.journal.find(
            operation=check.operation, status=check.status, code=check.code
        )
        count, wanted_count, filters = len(found), check.count, check.filters()
        if (wanted_count is None and count == 0) or (
            wanted_count is not None and count != wanted_count
        ):
            failures.append(
                f"journal has {count} matching {filters}, expected {wanted_count or 'some'}"
            )


async def _raw(
    request: RawRequest, client: NemoClient[FakeControl], http: httpx.AsyncClient
) -> httpx.Response:
    assistant = client.assistant
    headers = {**ATTRIBUTION, **request.headers} if request.attribution else dict(request.headers)
    await assistant.connect()
    if request.auth:
        headers.setdefault("Authorization", f"Bearer {assistant.project.token}")
    session_id = str(assistant.project.session_id)
    return await http.request(
        request.method,
        request.path.replace(SESSION_ID, session_id),
        headers=headers,
        json=_fill(request.json, session_id),
    )


def _fill(value: object, session_id: str) -> object:
    """`{session_id}` anywhere in a raw request stands for the scenario's session."""
    if isinstance(value, str):
        return value.replace(SESSION_ID, session_id)
    if isinstance(value, list):
        return [_fill(item, session_id) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, session_id) for key, item in value.items()}
    return value


def _code(response: httpx.Response) -> int | None:
    try:
        body: object = response.json()
    except ValueError:
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, int) else None
