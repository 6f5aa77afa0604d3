"""The skill's workflow on top of the API: routing, chat with the silent-edit fallback, GUI
translation, the timeline summary, export with polling, the error policy, disconnect recovery.

Everything the user should see goes through `say`; no raw API response or token ever does.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from nemo_client.api import NemoApi
from nemo_client.config import persistent_client_id
from nemo_client.errors import NemoApiError, StreamInterrupted, advice
from nemo_client.gui import GuiAction, translate
from nemo_client.models import AgentEvent, Balance, ProjectState, RenderStatus, UploadedFile
from nemo_client.router import route
from nemo_client.timeline import describe_changes, summarize
from nemo_client.timer import RealTimer, Timer

T = TypeVar("T")

STILL_WORKING_EVERY = 120.0  # "Every 2 min: ⏳ Still working..."
HEARTBEAT_TIMEOUT = 600.0  # "10 min heartbeats-only -> assume timeout"
RECOVERY_WAITS = (30.0, 60.0, 60.0, 60.0, 60.0)  # then "after 5 unchanged queries" give up
RATE_LIMIT_WAIT = 30.0
TEMPORARY_ISSUE = re.compile(r"temporary issue|临时问题", re.IGNORECASE)
URL = re.compile(r"https?://\S+")


@dataclass(frozen=True)
class RenderPolling:
    """How export waits for a render: a poll every `every` seconds, at most `polls` of them.
    The skill and the API reference differ, within the same five minutes."""

    every: float
    polls: int


SKILL_POLLING = RenderPolling(every=30.0, polls=10)  # SKILL.md: every 30 s, 10 polls
REFERENCE_POLLING = RenderPolling(every=10.0, polls=30)  # api-reference.md: every 10 s, 30


@dataclass
class Project:
    """What the client keeps between calls (and the CLI between runs)."""

    token: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    task_id: str | None = None
    anonymous: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ChatResult:
    """What one chat message came to: the texts said and the changes read from the state."""

    texts: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    silent: bool = False
    recovered: bool = False
    failed: bool = False


class Assistant:
    """The skill's workflow over `NemoApi`: routing, chat, upload, export and the error policy.

    Everything it tells the user goes through `say`; every wait through `timer`.
    """

    def __init__(
        self,
        api: NemoApi,
        *,
        say: Callable[[str], None] = print,
        timer: Timer | None = None,
        project: Project | None = None,
        language: str | None = None,
        downloads: Path | None = None,
        auto_export: bool = False,
        on_progress: Callable[[str, int], None] | None = None,
        render_polling: RenderPolling = SKILL_POLLING,
    ) -> None:
        self.api = api
        self.render_polling = render_polling
        self.say = say
        self.timer = timer or RealTimer()
        self.project = project or Project(token=api.token)
        self.language = language
        self.downloads = downloads or Path.cwd()
        self.auto_export = auto_export
        self.on_progress = on_progress
        # The client id tokens are asked with; replaced (and kept) when the API refuses it.
        self.client_id = api.config.client_id
        if self.project.token:
            self.api.token = self.project.token

    # -- the front door -----------------------------------------------------------------------

    async def handle(self, message: str, files: Sequence[str] = ()) -> bool:
        """Route one user message (and any files) to the right flow. False if it failed."""
        try:
            kind = route(message, has_file=bool(files))
            if kind == "export":
                return await self.export() is not None
            if kind == "credits":
                await self.credits()
            elif kind == "state":
                await self.status()
            elif kind == "upload":
                await self.upload(list(files) or _mentioned_files(message))
            else:
                return not (await self.chat(message)).failed
            return True
        except NemoApiError as error:
            self.say("❌ " + self.explain(error))
            return False

    # -- connection ---------------------------------------------------------------------------

    async def connect(self) -> None:
        """A token and a session, made once ("Setting up...") and reused."""
        if not self.api.token:
            self.say("Setting up...")
            await self._authenticate()
        if not self.project.session_id:
            await self._new_session()

    async def _authenticate(self) -> None:
        if not self.client_id:
            self.client_id = persistent_client_id(self.api.config.config_dir)
        for attempt in range(2):
            try:
                issued = await self.api.anonymous_token(self.client_id)
                break
            except NemoApiError as error:
                if attempt == 0 and error.code == 400:
                    # "Missing X-Client-Id: generate a Client-Id and retry." Later re-auths
                    # (1001) use the new id too, never the refused one.
                    self.client_id = persistent_client_id(self.api.config.config_dir, renew=True)
                elif attempt == 0 and error.code == 429:
                    await self.timer.sleep(RATE_LIMIT_WAIT)
                else:
                    raise
        self.api.token = issued.token
        self.project.token = issued.token
        self.project.user_id = issued.user_id or self.project.user_id
        self.project.anonymous = True

    async def _new_session(self) -> None:
        created = await self._with_policy(
            lambda: self.api.create_session("project", self.language or "en"), renew=False
        )
        self.project.session_id = created.session_id
        self.project.task_id = created.task_id
        self.project.user_id = created.user_id or self.project.user_id

    async def _with_policy(self, call: Callable[[], Awaitable[T]], *, renew: bool = True) -> T:
        """The seed's error table: 1001 re-auth (same client id), 1002 new session, 429 wait
        30 s; each once. Anything else goes to the caller."""
        reauthenticated = renewed = waited = False
        while True:
            try:
                return await call()
            except NemoApiError as error:
                if error.code == 1001 and not reauthenticated:
                    reauthenticated = True
                    await self._authenticate()
                elif error.code == 1002 and renew and not renewed:
                    renewed = True
                    self.say("⚠️ " + advice(error))
                    await self._new_session()
                elif error.code == 429 and not waited:
                    waited = True
                    await self.timer.sleep(RATE_LIMIT_WAIT)
                else:
                    raise

    @property
    def _sid(self) -> str:
        assert self.project.session_id, "connect() first"
        return self.project.session_id

    # -- credits, state, upload ---------------------------------------------------------------

    async def credits(self) -> Balance:
        await self.connect()
        balance = await self._with_policy(self.api.balance)
        self.say(
            f"💳 Credits: {balance.available} available"
            f" ({balance.frozen} reserved for work in progress, {balance.total} total)"
        )
        return balance

    async def state(self) -> ProjectState:
        await self.connect()
        state = await self._with_policy(lambda: self.api.state(self._sid))
        self.project.user_id = state.user_id or self.project.user_id
        return state

    async def status(self) -> ProjectState:
        """Say the timeline summary; return the state it summarizes."""
        state = await self.state()
        self.say(summarize(state.draft))
        return state

    async def upload(self, items: Sequence[str]) -> list[UploadedFile]:
        await self.connect()
        if not items:
            self.say("Send the file in chat or give me a URL.")
            return []
        uploaded: list[UploadedFile] = []
        urls = [item for item in items if URL.fullmatch(item)]
        if urls:
            uploaded += await self._with_policy(lambda: self.api.upload_urls(self._sid, urls))
        for item in items:
            if item in urls:
                continue
            path = Path(item).expanduser()
            if path.is_dir():
                self.say(f"❌ {item} is a directory, not a file")
                continue
            if not path.is_file():
                self.say(f"❌ No such file: {item}")
                continue
            uploaded += await self._upload_path(path)
        for done in uploaded:
            self.say(f"✅ Uploaded {done.filename}{_media_details(done)}")
        return uploaded

    async def _upload_path(self, path: Path) -> list[UploadedFile]:
        size = path.stat().st_size
        sent = 0
        shown = -1

        def progress(n: int) -> None:
            # Each percent once: the read that finds the end of the file re-reports 100%.
            nonlocal sent, shown
            sent += n
            percent = min(100, sent * 100 // size) if size else 100
            if self.on_progress and percent != shown:
                shown = percent
                self.on_progress("upload", percent)

        return await self._with_policy(lambda: self.api.upload_file(self._sid, path, progress))

    # -- chat ---------------------------------------------------------------------------------

    async def chat(self, text: str) -> ChatResult:
        if self.language is None:
            self.language = "zh" if re.search(r"[\u4e00-\u9fff]", text) else "en"
        before = await self.state()
        self.say("⏳ This may take a few minutes.")
        result = ChatResult()
        try:
            await self._stream(text, result)
        except (httpx.TransportError, StreamInterrupted):
            return await self._recover(before, result)
        if result.failed:
            return result
        if not result.texts:
            # ~30% of edits end with tool calls only: report the change from the state.
            result.silent = True
            after = await self.state()
            result.changes = describe_changes(before.state, after.state)
            for line in result.changes or ["✅ Done. The timeline is unchanged."]:
                self.say(line)
        return result

    async def _stream(self, text: str, result: ChatResult) -> None:
        actions: list[GuiAction] = []

        async def open_stream() -> tuple[AsyncGenerator[AgentEvent, None], AgentEvent | None]:
            events = self.api.run_sse(self._sid, text)
            return events, await anext(events, None)

        # Errors before the stream starts follow the error table, each retried once like any
        # call; never re-send once the agent has started (that would charge twice).
        events, first = await self._with_policy(open_stream)
        try:
            await self._read(events, first, result, actions)
        finally:
            await events.aclose()  # a heartbeat timeout or an error event lets the stream go
        if not result.failed:
            await self._follow_gui(actions)

    async def _read(
        self,
        events: AsyncIterator[AgentEvent],
        first: AgentEvent | None,
        result: ChatResult,
        actions: list[GuiAction],
    ) -> None:
        last_content = last_notice = self.timer.now()
        event = first
        while event is not None:
            now = self.timer.now()
            if event.kind == "heartbeat":
                if now - last_content >= HEARTBEAT_TIMEOUT:
                    raise StreamInterrupted("only heartbeats for 10 minutes")
                if now - last_notice >= STILL_WORKING_EVERY:
                    self.say("⏳ Still working...")
                    last_notice = now
            else:
                last_content = last_notice = now
            if event.kind == "text":
                if TEMPORARY_ISSUE.search(event.text) and result.texts:
                    pass  # the backend's spurious trailing hiccup after a normal reply
                else:
                    translated = translate(event.text)
                    if translated.text:
                        result.texts.append(translated.text)
                        self.say(translated.text)
                    seen = {action.kind for action in actions}
                    actions += [a for a in translated.actions if a.kind not in seen]
            elif event.kind == "error":
                result.failed = True
                self.say(f"❌ The backend reported an error: {event.text}")
                return
            event = await anext(events, None)

    async def _follow_gui(self, found: list[GuiAction]) -> None:
        """Do through the API what the backend told a GUI user to do."""
        actions = {action.kind for action in found}
        if any(
            action.kind == "execute" and re.search(r"upload|上传", action.phrase, re.IGNORECASE)
            for action in found
        ):
            # Vendor doc: never mention GUI upload buttons.
            self.say("Send the file in chat or give me a URL.")
        if "show_timeline" in actions or "show_state" in actions:
            await self.status()
        if "show_credits" in actions:
            await self.credits()
        if "export" in actions:
            if self.auto_export:
                await self.export()
            else:
                self.say('Say "export" when you want the MP4.')

    async def _recover(self, before: ProjectState, result: ChatResult) -> ChatResult:
        """Vendor §3.6: don't re-send; wait 30 s and query state; if unchanged wait 60 s and
        query again; after 5 unchanged queries report failure."""
        self.say("⚠️ The connection dropped. Checking on the work (not re-sending).")
        for wait in RECOVERY_WAITS:
            await self.timer.sleep(wait)
            after = await self.state()
            changes = describe_changes(before.state, after.state)
            if changes:
                result.recovered = True
                result.changes = changes
                for line in changes:
                    self.say(line)
                return result
        result.failed = True
        self.say("❌ The backend didn't finish after 5 checks. Want me to try again?")
        return result

    # -- export -------------------------------------------------------------------------------

    async def export(self, dest: Path | None = None) -> Path | None:
        """Pre-check, render with a fresh id, poll, download, retry once; then the claim link."""
        state = await self.state()
        if not state.ready_for_export:
            self.say("There's nothing to export yet: upload a video or ask me to generate one.")
            return None
        failure = ""
        for attempt in range(2):
            render_id = f"render_{int(self.timer.wall() * 1000)}{'_retry' if attempt else ''}"
            try:
                status = await self._with_policy(
                    lambda: self.api.submit_render(render_id, self._sid, state.draft)  # noqa: B023
                )
            except NemoApiError as error:
                if error.code == 402 or attempt:
                    raise
                failure = error.message
                self.say(f"⚠️ The render could not start ({failure}); retrying with a new id.")
                continue
            self.say("⏳ Rendering ~30s")
            status = await self._poll(status)
            if status.status == "completed":
                return await self._deliver(status, dest)
            if not status.finished:
                self.say(f"⏳ The render is still at {status.progress}%; try export again later.")
                return None
            failure = status.error or status.status
            if attempt == 0:
                self.say(f"⚠️ The render failed ({failure}); retrying with a new id.")
        self.say(f"❌ The render failed twice: {failure}")
        return None

    async def _poll(self, status: RenderStatus) -> RenderStatus:
        shown = status.progress
        for _ in range(self.render_polling.polls):
            if status.finished:
                break
            await self.timer.sleep(self.render_polling.every)
            render_id = status.id
            status = await self._with_policy(lambda: self.api.render_status(render_id))  # noqa: B023
            if self.on_progress:
                self.on_progress("render", status.progress)
            if status.progress != shown and not status.finished:
                shown = status.progress
                self.say(f"⏳ {status.progress}%")
        return status

    async def _deliver(self, status: RenderStatus, dest: Path | None) -> Path:
        target = dest or self.downloads / f"{status.id}.mp4"
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            if not status.url:
                raise NemoApiError(404, "no output.url", http_status=404)
            await self.api.download(status.url, target)
        except (NemoApiError, httpx.TransportError):
            await self.api.download(self.api.fallback_download_url(status.id), target)
        self.say(f"✅ Video ready! {target}")
        link = await self._claim_link()
        if link:
            self.say(f"Open the project in NemoVideo: {link}")
        return target

    async def _claim_link(self) -> str | None:
        """A browser link carrying a claim token: the real token never goes in a URL."""
        if not self.project.task_id:
            return None
        try:
            claim = await self.api.claim_token(self.project.task_id, self._sid)
        except NemoApiError:
            return None
        return f"{self.api.config.web_url}/workspace/claim?ct={claim.claim_token}"

    # -- messages -----------------------------------------------------------------------------

    def explain(self, error: NemoApiError) -> str:
        """The seed's advice for an error, with the registration link for anonymous users."""
        register = None
        if error.code == 2001 and self.project.anonymous and self.project.user_id:
            register = f"{self.api.config.web_url}/register?bind={self.project.user_id}"
        return advice(error, anonymous=self.project.anonymous, register_url=register)


def _media_details(item: UploadedFile) -> str:
    details = []
    if item.duration:
        details.append(f"{item.duration:g}s")
    if item.width and item.height:
        details.append(f"{item.width}x{item.height}")
    return f" ({', '.join(details)})" if details else ""


def _mentioned_files(message: str) -> list[str]:
    """URLs and existing paths named in an "upload ..." message."""
    found = URL.findall(message)
    for word in message.split():
        if word not in found and Path(word).expanduser().is_file():
            found.append(word)
    return found
