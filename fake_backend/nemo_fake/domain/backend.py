"""The fake's whole world in one object (moto's "backend"): every operation the API offers.

A facade: accounts, uploads and renders keep their own stores; this object owns what spans
them (sessions, credits, the agent's runs) and the lifecycle (reset, snapshots, storage).
"""

from __future__ import annotations

import copy
import functools
import heapq
import shutil
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from nemo_fake.clock import Clock, VirtualClock
from nemo_fake.config import FakeConfig, update_in_place
from nemo_fake.domain.accounts import Account, Accounts, ClaimToken, Issue
from nemo_fake.domain.agent import planner, schedule
from nemo_fake.domain.agent.intents import classify
from nemo_fake.domain.agent.runs import AgentRun
from nemo_fake.domain.faults import Faults
from nemo_fake.domain.ids import IdFactory, chance
from nemo_fake.domain.renders import RenderJob, Renders, check_render_id
from nemo_fake.domain.sessions import Session
from nemo_fake.domain.storage import Storage
from nemo_fake.domain.uploads import ReceivedFile, StoredFile, Uploads, deleted_on_failure
from nemo_fake.errors import ApiError, Code
from nemo_fake.journal import Journal


@dataclass(slots=True)  # not frozen: a frozen dataclass costs four times as much to make
class Balance:
    available: int
    frozen: int
    total: int


P = ParamSpec("P")
R = TypeVar("R")


def _one_at_a_time(
    method: Callable[Concatenate[NemoBackend, P], R],
) -> Callable[Concatenate[NemoBackend, P], R]:
    """Runs the method under the backend's one lock. State changes come from the event loop
    and from worker threads (uploads are probed off the loop; tests read state from their own
    thread); two threads settling the same due work once applied its effects twice."""

    @functools.wraps(method)
    def locked(backend: NemoBackend, /, *args: P.args, **kwargs: P.kwargs) -> R:
        # acquire/release, not `with`: 2,000 fewer instructions a call (callgrind, Python
        # 3.11), and every request makes two or three.
        lock = backend._lock
        lock.acquire()
        try:
            return method(backend, *args, **kwargs)
        finally:
            lock.release()

    return locked


class NemoBackend:
    """The fake's whole world (moto's "backend"): every operation the API offers, over the
    stores for accounts, uploads and renders. Knows nothing of HTTP.
    """

    def __init__(
        self,
        config: FakeConfig | None = None,
        clock: Clock | None = None,
        storage: Path | None = None,
    ) -> None:
        self.config = config or FakeConfig()
        self.clock: Clock = clock or VirtualClock()
        self._lock = threading.RLock()
        self._owns_storage = storage is None
        self.storage = storage or Path(tempfile.mkdtemp(prefix="nemo-fake-"))
        self.disk = Storage(self.storage, lambda: self.config.max_storage_bytes)
        self.upload_dir.mkdir(parents=True, exist_ok=True)
        # Snapshots outlive a reset, so a test can reset and go back.
        self._snapshots: dict[str, dict[str, Any]] = {}
        self.reset()

    @_one_at_a_time
    def reset(self) -> None:
        """Forget everything: a fresh world for the same seed."""
        self.ids = IdFactory(self.config.seed)
        self.accounts = Accounts(self.config, self.ids)
        self.sessions: dict[str, Session] = {}
        self.uploads = Uploads(self.config, self.ids, self.disk)
        self.renders = Renders(self.config, self.ids, self.disk.renders)
        self.agent_runs: list[AgentRun] = []
        self._index_pending()
        self.faults = Faults(seed=self.config.seed)
        self.journal = Journal()
        for child in self.storage.iterdir():
            if child != self.upload_dir:
                shutil.rmtree(child, ignore_errors=True)
        for child in self.upload_dir.iterdir():
            child.unlink()
        self.disk.forget()

    @_one_at_a_time
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
    _SNAPSHOT_FIELDS = ("ids", "accounts", "sessions", "uploads", "renders", "agent_runs", "faults")

    @_one_at_a_time
    def snapshot(self) -> str:
        """Remember the whole world now; `restore` goes back to it."""
        snapshot_id = f"snap_{len(self._snapshots) + 1}"
        self._snapshots[snapshot_id] = self._copy_state(
            {name: getattr(self, name) for name in self._SNAPSHOT_FIELDS}
        )
        return snapshot_id

    @_one_at_a_time
    def restore(self, snapshot_id: str) -> None:
        saved = self._snapshots.get(snapshot_id)
        if saved is None:
            raise ApiError(Code.NOT_FOUND, f"No snapshot {snapshot_id!r}")
        for name, value in self._copy_state(saved).items():
            setattr(self, name, value)
        self._index_pending()

    def snapshot_ids(self) -> list[str]:
        """The snapshots taken, oldest first (they outlive a reset)."""
        return list(self._snapshots)

    @_one_at_a_time
    def observe(self, look: Callable[[NemoBackend], R]) -> R:
        """`look` applied to the whole world brought up to the clock, under the lock, so
        nothing changes while it reads (the inspector draws its pages this way)."""
        self._settle()
        return look(self)

    def _copy_state(self, state: dict[str, Any]) -> dict[str, Any]:
        # The config and clock are shared, not copied: a restore must not undo settings.
        # The disk too: its files are not part of a snapshot.
        shared = (self.config, self.clock, self.disk)
        return copy.deepcopy(state, {id(each): each for each in shared})

    def close(self) -> None:
        if self._owns_storage:
            shutil.rmtree(self.storage, ignore_errors=True)

    @property
    def upload_dir(self) -> Path:
        return self.disk.uploads

    def now(self) -> float:
        return self.clock.now()

    # -- auth -------------------------------------------------------------------------------

    @_one_at_a_time
    def issue_anonymous_token(self, client_id: str | None, address: str) -> Issue:
        return self.accounts.issue_anonymous(client_id, address, self.now())

    @_one_at_a_time
    def authenticate(self, bearer: str | None, needs: str | None = None) -> Account:
        return self.accounts.authenticate(bearer, self.now(), needs)

    @_one_at_a_time
    def claim_token(self, account: Account, task_id: str, session_id: str) -> ClaimToken:
        session = self.session(account, session_id)
        if session.task_id != task_id:
            raise ApiError(Code.SESSION_NOT_FOUND, "No such task for this session")
        return self.accounts.claim(account, task_id, session_id, self.now())

    @_one_at_a_time
    def open_claim(self, value: str) -> ClaimToken:
        return self.accounts.open_claim(value, self.now())

    # -- sessions, credits, state -----------------------------------------------------------

    @_one_at_a_time
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

    @_one_at_a_time
    def session(self, account: Account, session_id: str) -> Session:
        self._settle()
        session = self.sessions.get(session_id)
        # Another user's session is answered exactly like a missing one: nothing leaks.
        if session is None or session.user_id != account.user_id:
            raise ApiError(Code.SESSION_NOT_FOUND)
        session.last_active_at = self.now()
        return session

    @_one_at_a_time
    def read_state(
        self, account: Account, session_id: str, read: Callable[[dict[str, Any]], R]
    ) -> R:
        """`read` applied to a session's state body as it is, under the lock: serialising it
        there costs no deep copy (a state read's largest part), and nothing can change it
        midway (the media thread adds uploads to sessions)."""
        return read(self.session(account, session_id).state_view())

    @_one_at_a_time
    def balance(self, account: Account) -> Balance:
        self._settle()
        ledger = account.ledger
        return Balance(ledger.available, ledger.frozen, ledger.total)

    # -- the agent (/run_sse) ---------------------------------------------------------------

    @_one_at_a_time
    def run_message(
        self,
        account: Account,
        session_id: str,
        message: str,
        *,
        force_silent: bool | None = None,
    ) -> AgentRun:
        """Plan what the agent does with a message; credits are frozen now (2001 if short)."""
        session = self.session(account, session_id)
        rng = chance(self.config.seed, "message", session_id, session.messages)
        session.messages += 1
        unsettled = self._unsettled_in.get(session_id, [])
        unsettled[:] = [i for i in unsettled if not self.agent_runs[i].settled]
        busy = any(
            self.agent_runs[i].cost and self.agent_runs[i].running(self.now()) for i in unsettled
        )
        # Re-sending while a run is under way charges again, as the vendor warns it does.
        plan = planner.plan(
            classify(message),
            session,
            self.config,
            rng,
            editing_fee_due=busy or not session.editing_paid,
        )
        events, effects, outcome, silent = schedule.finish(
            plan, self.config, rng, session.language, force_silent=force_silent
        )
        run_id = self.ids.run_id()
        hold_ref = None
        if plan.cost:
            hold_ref = f"{plan.kind}:{run_id}"
            try:
                account.ledger.freeze(plan.cost, hold_ref, self.now(), operation="run_sse")
            except ApiError as error:
                if error.code is not Code.NO_CREDITS:
                    raise
                # VH:7fe0b89: "the backend provides a registration URL with binding parameters".
                register = f"{self.config.web_url}/register?bind={account.user_id}"
                raise ApiError(
                    Code.NO_CREDITS, f"{error.message}; register to get more: {register}"
                ) from None
        agent_run = AgentRun(
            id=run_id,
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
            message=message,
            silent=silent,
        )
        self._track(len(self.agent_runs), agent_run)
        self.agent_runs.append(agent_run)
        return agent_run

    def _index_pending(self) -> None:
        # Runs with effects or charges still to come, by their place in `agent_runs`: a heap by
        # when each is next due, and a list per session. Settling and the busy check look at
        # these only, so the fake does not slow as runs and sessions pile up.
        self._due: list[tuple[float, int]] = []
        self._unsettled_in: dict[str, list[int]] = {}
        for index, run in enumerate(self.agent_runs):
            if not run.settled:
                self._track(index, run)

    def _track(self, index: int, run: AgentRun) -> None:
        heapq.heappush(self._due, (run.next_due(), index))
        self._unsettled_in.setdefault(run.session_id, []).append(index)

    @_one_at_a_time
    def settle(self) -> None:
        """Let every agent run catch up with the clock: apply due effects, charge finished ones."""
        self._settle()

    def _settle(self) -> None:
        """`settle`, for callers that hold the lock already (an RLock taken again still costs a
        fifth of a balance read).

        In the order they fell due across runs, not run by run: two runs of one account (a
        message re-sent while the first still ran) once settled together were charged in the
        order they started, so the ledger was not oldest first, and their edits to a session
        landed in that order too."""
        due = self._due
        if not due:  # nothing pending, the usual case: not even the clock is read
            return
        now = self.now()
        while due and due[0][0] <= now:
            at, index = heapq.heappop(due)
            agent_run = self.agent_runs[index]
            agent_run.settle(
                at,
                self.sessions[agent_run.session_id],
                self.accounts.by_user[agent_run.user_id].ledger,
            )
            if not agent_run.settled:
                heapq.heappush(due, (agent_run.next_due(), index))

    # -- uploads ----------------------------------------------------------------------------

    @_one_at_a_time
    def add_files(
        self, account: Account, session_id: str, received: Sequence[ReceivedFile], base_url: str
    ) -> list[StoredFile]:
        """Take files the web layer streamed to disk; all of them or none (then deleted)."""
        with deleted_on_failure(received):
            session = self.session(account, session_id)
        stored = self.uploads.add_files(session, received, base_url)
        self.disk.added(sum(item.size for item in received))
        return stored

    @_one_at_a_time
    def add_urls(
        self, account: Account, session_id: str, urls: list[str], base_url: str
    ) -> list[StoredFile]:
        """Record URL uploads with plausible metadata. The fake never fetches the internet."""
        return self.uploads.add_urls(self.session(account, session_id), urls, base_url)

    def stored_file(self, file_id: str, filename: str) -> StoredFile:
        """An uploaded file by its cdn_url parts; a URL upload's stand-in is made here."""
        return self.uploads.stored_file(file_id, filename)

    # -- renders ----------------------------------------------------------------------------

    @_one_at_a_time
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
        # A malformed id is reported before an unknown session, and that before a reused id.
        check_render_id(render_id)
        self.session(account, session_id)
        return self.renders.submit(
            account.user_id, render_id, session_id, draft, output, self.now(), fails=fails
        )

    @_one_at_a_time
    def find_render(self, account: Account, render_id: str) -> RenderJob:
        return self.renders.find(account.user_id, render_id)

    @_one_at_a_time
    def cancel_render(self, account: Account, render_id: str) -> RenderJob:
        return self.renders.cancel(account.user_id, render_id, self.now())

    @_one_at_a_time
    def fail_render(
        self, account: Account, render_id: str, reason: str = "Render node failed"
    ) -> RenderJob:
        """Make a running render fail now (for tests and fault rules)."""
        return self.renders.fail(account.user_id, render_id, self.now(), reason)

    def made_render(self, job: RenderJob) -> Path | None:
        """The render's MP4 when it is completed and made already (a stat, no more), else
        None: then `render_output` makes it, off the event loop."""
        path = self.renders.output_path(job)
        if job.status(self.now()) == "completed" and path.exists():
            return path
        return None

    def render_output(self, job: RenderJob) -> Path:
        """The finished MP4, rendered on first request. Blocking: call it off the event loop.
        Older renders are evicted if the files now outgrow the storage cap."""
        made_now = not self.renders.output_path(job).exists()
        path = self.renders.output_file(job, self.now())
        if made_now:  # only new bytes can push the files past the cap: no walk otherwise
            self.disk.evict_renders(keep=path)
        return path

    @_one_at_a_time
    def render_by_secret(self, secret: str) -> RenderJob:
        return self.renders.by_secret(secret)
