"""The fake's whole world in one object (moto's "backend"): every operation the API offers."""

from __future__ import annotations

import copy
import hashlib
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from nemo_fake import media
from nemo_fake.clock import Clock, VirtualClock
from nemo_fake.config import FakeConfig, update_in_place
from nemo_fake.domain import draft as drafts
from nemo_fake.domain.accounts import Account, Accounts, ClaimToken, Issue
from nemo_fake.domain.agent import planner, timeline
from nemo_fake.domain.agent.intents import classify
from nemo_fake.domain.agent.operations import Operation
from nemo_fake.domain.faults import Faults
from nemo_fake.domain.ids import IdFactory, chance
from nemo_fake.domain.renders import RenderJob
from nemo_fake.domain.sessions import Session
from nemo_fake.domain.uploads import StoredFile
from nemo_fake.errors import ApiError, Code
from nemo_fake.journal import Journal

RENDER_ID = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
OUTPUT_FORMATS = ("mp4",)
OUTPUT_QUALITIES = ("high", "medium", "low")
STILL_IMAGE_MS = 3000


class ReceivedFile(Protocol):
    """A file already streamed to disk by the web layer."""

    @property
    def filename(self) -> str: ...
    @property
    def path(self) -> Path: ...
    @property
    def size(self) -> int: ...
    @property
    def sha256(self) -> str: ...


@dataclass(frozen=True)
class Balance:
    available: int
    frozen: int
    total: int


class NemoBackend:
    def __init__(
        self,
        config: FakeConfig | None = None,
        clock: Clock | None = None,
        storage: Path | None = None,
    ) -> None:
        self.config = config or FakeConfig()
        self.clock: Clock = clock or VirtualClock()
        self._owns_storage = storage is None
        self.storage = storage or Path(tempfile.mkdtemp(prefix="nemo-fake-"))
        self.upload_dir.mkdir(parents=True, exist_ok=True)
        # Snapshots outlive a reset, so a test can reset and go back.
        self._snapshots: dict[str, dict[str, Any]] = {}
        self.reset()

    def reset(self) -> None:
        """Forget everything: a fresh world for the same seed."""
        self.ids = IdFactory(self.config.seed)
        self.accounts = Accounts(self.config, self.ids)
        self.sessions: dict[str, Session] = {}
        self.files: dict[str, StoredFile] = {}
        self.renders: dict[tuple[str, str], RenderJob] = {}
        self._render_files: dict[str, RenderJob] = {}
        self.operations: list[Operation] = []
        self.faults = Faults(seed=self.config.seed)
        self.journal = Journal()
        for child in self.storage.iterdir():
            if child != self.upload_dir:
                shutil.rmtree(child, ignore_errors=True)
        for child in self.upload_dir.iterdir():
            child.unlink()

    def configure(self, overrides: Mapping[str, object]) -> list[str]:
        """Change settings of the running fake, by the names and with the checks of
        `serve --set` (`{"seed": 3, "stream_faults.drop_after_events": 2}`, or the nested
        `{"stream_faults": {...}}`); a refused one raises `SettingError` and nothing changes.

        The config object is changed in place, since every part of the fake holds it, and
        settings apply from the next request on. Except `seed`, in part: ids and fault chances
        are seeded at reset, so they follow a new seed from the next `reset()` (the agent's
        and renders' chances use it at once). Returns the names of the settings that changed.
        """
        return update_in_place(self.config, overrides)

    # Everything a snapshot holds; files on disk are kept as they are.
    _SNAPSHOT_FIELDS = (
        "ids", "accounts", "sessions", "files", "renders", "_render_files", "operations",
        "faults",
    )  # fmt: skip

    def snapshot(self) -> str:
        """Remember the whole world now; `restore` goes back to it."""
        snapshot_id = f"snap_{len(self._snapshots) + 1}"
        self._snapshots[snapshot_id] = self._copy_state(
            {name: getattr(self, name) for name in self._SNAPSHOT_FIELDS}
        )
        return snapshot_id

    def restore(self, snapshot_id: str) -> None:
        saved = self._snapshots.get(snapshot_id)
        if saved is None:
            raise ApiError(Code.NOT_FOUND, f"No snapshot {snapshot_id!r}")
        for name, value in self._copy_state(saved).items():
            setattr(self, name, value)

    def _copy_state(self, state: dict[str, Any]) -> dict[str, Any]:
        # The config and clock are shared, not copied: a restore must not undo settings.
        return copy.deepcopy(state, {id(self.config): self.config, id(self.clock): self.clock})

    def close(self) -> None:
        if self._owns_storage:
            shutil.rmtree(self.storage, ignore_errors=True)

    @property
    def upload_dir(self) -> Path:
        return self.storage / "uploads"

    def now(self) -> float:
        return self.clock.now()

    # -- auth -------------------------------------------------------------------------------

    def issue_anonymous_token(self, client_id: str, address: str) -> Issue:
        return self.accounts.issue_anonymous(client_id, address, self.now())

    def authenticate(self, bearer: str | None) -> Account:
        return self.accounts.authenticate(bearer, self.now())

    def claim_token(self, account: Account, task_id: str, session_id: str) -> ClaimToken:
        session = self.session(account, session_id)
        if session.task_id != task_id:
            raise ApiError(Code.SESSION_NOT_FOUND, "No such task for this session")
        return self.accounts.claim(account, task_id, session_id, self.now())

    # -- sessions, credits, state -----------------------------------------------------------

    def create_session(self, account: Account, task_name: str, language: str) -> Session:
        session = Session.new(
            self.ids.session_id(),
            self.ids.task_id(),
            task_name,
            language,
            account.user_id,
            self.now(),
        )
        self.sessions[session.session_id] = session
        return session

    def session(self, account: Account, session_id: str) -> Session:
        self.settle()
        session = self.sessions.get(session_id)
        # Another user's session is answered exactly like a missing one: nothing leaks.
        if session is None or session.user_id != account.user_id:
            raise ApiError(Code.SESSION_NOT_FOUND)
        return session

    def balance(self, account: Account) -> Balance:
        self.settle()
        ledger = account.ledger
        return Balance(ledger.available, ledger.frozen, ledger.total)

    # -- the agent (/run_sse) ---------------------------------------------------------------

    def run_message(
        self,
        account: Account,
        session_id: str,
        message: str,
        *,
        force_silent: bool | None = None,
    ) -> Operation:
        """Plan what the agent does with a message; credits are frozen now (2001 if short)."""
        session = self.session(account, session_id)
        rng = chance(self.config.seed, "message", session_id, session.messages)
        session.messages += 1
        busy = any(
            op.session_id == session_id and op.cost and op.running(self.now())
            for op in self.operations
        )
        # Re-sending while an operation runs charges again, as the vendor warns it does.
        plan = planner.plan(
            classify(message),
            session,
            self.config,
            rng,
            editing_fee_due=busy or not session.editing_paid,
        )
        events, effects, outcome = timeline.finish(
            plan, self.config, rng, session.language, force_silent=force_silent
        )
        operation_id = "e-" + self.ids.secret()
        hold_ref = None
        if plan.cost:
            hold_ref = f"{plan.kind}:{operation_id}"
            account.ledger.freeze(plan.cost, hold_ref, self.now())
        operation = Operation(
            id=operation_id,
            user_id=account.user_id,
            session_id=session_id,
            kind=plan.kind,
            started_at=self.now(),
            events=events,
            effects=effects,
            cost=plan.cost,
            hold_ref=hold_ref,
            outcome=outcome,
            charges_editing_fee=plan.charges_editing_fee,
        )
        self.operations.append(operation)
        return operation

    def settle(self) -> None:
        """Let every operation catch up with the clock: apply due effects, charge finished ones."""
        now = self.now()
        for operation in self.operations:
            if not operation.settled:
                operation.settle(
                    now,
                    self.sessions[operation.session_id],
                    self.accounts.by_user[operation.user_id].ledger,
                )

    # -- uploads ----------------------------------------------------------------------------

    def add_files(
        self, account: Account, session_id: str, received: Sequence[ReceivedFile], base_url: str
    ) -> list[StoredFile]:
        """Take files the web layer streamed to disk; all of them or none (then deleted)."""
        try:
            session = self.session(account, session_id)
            probed = []
            for item in received:
                file_type = media.file_type_for(item.filename)
                probed.append((item, media.probe(item.path, file_type)))
        except BaseException:
            for item in received:
                item.path.unlink(missing_ok=True)
            raise
        stored = [
            self._store(
                session,
                filename=item.filename,
                info=info,
                path=item.path,
                size=item.size,
                sha256=item.sha256,
                base_url=base_url,
            )
            for item, info in probed
        ]
        return stored

    def add_urls(
        self, account: Account, session_id: str, urls: list[str], base_url: str
    ) -> list[StoredFile]:
        """Record URL uploads with plausible metadata. The fake never fetches the internet."""
        session = self.session(account, session_id)
        planned = [self._plan_url(url, base_url) for url in urls]
        return [
            self._store(session, base_url=base_url, source_url=url, **plan)
            for url, plan in zip(urls, planned, strict=True)
        ]

    def stored_file(self, file_id: str, filename: str) -> StoredFile:
        """An uploaded file by its cdn_url parts; a URL upload's stand-in is made here."""
        stored = self.files.get(file_id)
        if stored is None or stored.filename != filename:
            raise ApiError(Code.NOT_FOUND, "No such file")
        if stored.path is None:
            stored.path = self._make_stand_in(stored)
        return stored

    def _plan_url(self, url: str, base_url: str) -> dict[str, Any]:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ApiError(Code.BAD_REQUEST, f"Not an http(s) URL: {url[:200]!r}")
        filename = unquote(parts.path.rstrip("/").rsplit("/", 1)[-1]) or parts.netloc
        file_type = media.file_type_for(filename)
        own = self._own_file(url, base_url)
        if own is not None:
            return {
                "filename": own.filename,
                "info": media.MediaInfo(
                    own.file_type, own.duration, own.width, own.height, own.fps
                ),
                "path": None,
                "size": own.size,
                "sha256": own.sha256,
                "copy_of": own,
            }
        rng = chance(self.config.seed, "url", url)
        info = {
            "video": media.MediaInfo("video", float(rng.randint(15, 60)), 1280, 720, 25.0),
            "image": media.MediaInfo("image", 0.0, 1280, 720, None),
            "audio": media.MediaInfo("audio", float(rng.randint(15, 60)), None, None, None),
        }[file_type]
        return {
            "filename": filename,
            "info": info,
            "path": None,
            "size": None,
            "sha256": hashlib.sha256(url.encode()).hexdigest(),
        }

    def _own_file(self, url: str, base_url: str) -> StoredFile | None:
        """A URL this fake handed out (a cdn_url) is read back from storage, not fetched."""
        if not url.startswith(base_url.rstrip("/") + "/cdn/uploads/"):
            return None
        file_id = url[len(base_url.rstrip("/") + "/cdn/uploads/") :].split("/", 1)[0]
        return self.files.get(file_id)

    def _store(
        self,
        session: Session,
        *,
        filename: str,
        info: media.MediaInfo,
        path: Path | None,
        size: int | None,
        sha256: str,
        base_url: str,
        source_url: str | None = None,
        copy_of: StoredFile | None = None,
    ) -> StoredFile:
        file_id = self.ids.file_id()
        if copy_of is not None and copy_of.path is not None:
            path = self.upload_dir / f"{file_id}{Path(copy_of.filename).suffix}"
            shutil.copyfile(copy_of.path, path)
        stored = StoredFile(
            file_id=file_id,
            user_id=session.user_id,
            session_id=session.session_id,
            filename=filename,
            file_type=info.file_type,
            path=path,
            size=size,
            sha256=sha256,
            duration=info.duration,
            width=info.width,
            height=info.height,
            fps=info.fps,
            cdn_url=f"{base_url.rstrip('/')}/cdn/uploads/{file_id}/{filename}",
            source_url=source_url,
        )
        self.files[file_id] = stored
        session.video_infos.append(stored.info())
        self._place_on_timeline(session, stored)
        return stored

    @staticmethod
    def _place_on_timeline(session: Session, stored: StoredFile) -> None:
        # `session_state_applied: true`: an upload lands on the draft, so the state is
        # exportable straight away (videos and stills on the video track, audio as BGM).
        length = STILL_IMAGE_MS if stored.file_type == "image" else round(stored.duration * 1000)
        segment: dict[str, Any] = {
            "d": max(length, 1),
            "n": stored.filename,
            "src": stored.cdn_url,
            "in": 0,
        }
        if stored.file_type == "audio":
            segment["v"] = 100
        track_type = drafts.AUDIO if stored.file_type == "audio" else drafts.VIDEO
        drafts.append_segment(session.draft, track_type, segment)

    def _make_stand_in(self, stored: StoredFile) -> Path:
        """Media for a URL upload, made on first download to match its recorded metadata."""
        path = self.upload_dir / f"{stored.file_id}{Path(stored.filename).suffix.lower()}"
        if stored.file_type == "video":
            media.render_mp4(
                path.with_suffix(".mp4"),
                width=stored.width or 1280,
                height=stored.height or 720,
                duration_ms=round(stored.duration * 1000),
                fps=round(stored.fps or 25),
                seed=self.config.seed,
                # A stand-in only has to be real media of the recorded shape: keep it cheap.
                loop_seconds=1,
            )
            path = path.with_suffix(".mp4")
        elif stored.file_type == "image":
            path = path.with_suffix(".png")
            media.make_sample_image(path, width=stored.width or 1280, height=stored.height or 720)
        else:
            path = path.with_suffix(".wav")
            media.make_sample_audio(path, duration_s=stored.duration)
        stored.size = path.stat().st_size
        return path

    # -- renders ----------------------------------------------------------------------------

    def submit_render(
        self,
        account: Account,
        render_id: str,
        session_id: str,
        draft: object,
        output: dict[str, Any] | None,
        *,
        fails: bool = False,
    ) -> RenderJob:
        if not RENDER_ID.match(render_id):
            raise ApiError(
                Code.BAD_REQUEST,
                "id must be 1-128 characters of letters, digits, '_', '-' or '.'",
                field="id",
            )
        self.session(account, session_id)
        if (account.user_id, render_id) in self.renders:
            raise ApiError(
                Code.CONFLICT, f"Render id {render_id!r} already used; retry with a new id"
            )
        checked = drafts.validate_for_render(draft)
        if checked["d"] > self.config.max_render_ms:
            raise ApiError(
                Code.BAD_REQUEST,
                f"Draft is {checked['d']} ms long; the fake renders at most "
                f"{self.config.max_render_ms} ms",
                field="draft.d",
            )
        output = self._check_output(output)
        rng = chance(self.config.seed, "render", account.user_id, render_id)
        low, high = self.config.render_seconds
        total = rng.uniform(low, high)
        pending = min(self.config.render_pending_seconds, total / 2)
        job = RenderJob(
            id=render_id,
            user_id=account.user_id,
            session_id=session_id,
            draft=checked,
            output=output,
            submitted_at=self.now(),
            pending_seconds=pending,
            processing_seconds=total - pending,
            file_secret=self.ids.secret(),
            fails=fails or rng.random() < self.config.render_failure_rate,
        )
        self.renders[(account.user_id, render_id)] = job
        self._render_files[job.file_secret] = job
        return job

    def render(self, account: Account, render_id: str) -> RenderJob:
        job = self.renders.get((account.user_id, render_id))
        if job is None:
            raise ApiError(Code.NOT_FOUND, f"No render {render_id!r}")
        return job

    def cancel_render(self, account: Account, render_id: str) -> RenderJob:
        job = self.render(account, render_id)
        status = job.status(self.now())
        if status not in ("pending", "processing"):
            raise ApiError(
                Code.CONFLICT, f"Render is {status}; only a running render can be cancelled"
            )
        job.cancel(self.now())
        return job

    def fail_render(
        self, account: Account, render_id: str, reason: str = "Render node failed"
    ) -> RenderJob:
        """Make a running render fail now (for tests and fault rules)."""
        job = self.render(account, render_id)
        job.fail(self.now(), reason)
        return job

    def render_output(self, job: RenderJob) -> Path:
        """The finished MP4, rendered on first request. Blocking: call it off the event loop."""
        status = job.status(self.now())
        if status != "completed":
            raise ApiError(Code.CONFLICT, f"Render is {status}, not completed")
        path = self.storage / "renders" / job.file_secret / f"{job.id}.mp4"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            media.render_mp4(
                path,
                width=job.width,
                height=job.height,
                duration_ms=job.duration_ms,
                fps=self.config.render_fps,
                seed=self.config.seed,
            )
        return path

    def render_by_secret(self, secret: str) -> RenderJob:
        job = self._render_files.get(secret)
        if job is None:
            raise ApiError(Code.NOT_FOUND, "No such file")
        return job

    @staticmethod
    def _check_output(output: dict[str, Any] | None) -> dict[str, Any]:
        checked = {"format": "mp4", "quality": "high", **(output or {})}
        if checked["format"] not in OUTPUT_FORMATS:
            raise ApiError(Code.BAD_REQUEST, "output.format must be 'mp4'", field="output.format")
        if checked["quality"] not in OUTPUT_QUALITIES:
            raise ApiError(
                Code.BAD_REQUEST,
                "output.quality must be one of high, medium, low",
                field="output.quality",
            )
        return checked
