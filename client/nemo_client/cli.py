"""`nemo-client`: the reference client's workflow from a terminal.

The token and session are kept in the config directory between invocations, with the API URL
they came from, so `upload`, `chat`, `status` and `export` work on one project, as a chat with
the skill would. A failure is one line (with `--json`, also a JSON error object on stdout) and
a non-zero exit status: 1, or 130 for Ctrl-C.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from collections.abc import Callable, Coroutine
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, NoReturn

import click
import httpx

from nemo_client.api import NemoApi
from nemo_client.assistant import URL, Assistant, Project
from nemo_client.config import DEFAULT_API_URL, DEFAULT_CONFIG_DIR, ClientConfig
from nemo_client.errors import NemoApiError
from nemo_client.timeline import summarize
from nemo_client.timer import ScaledTimer

PROJECT_FILE = "project.json"
INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl-C
URL_HINT = "(NEMO_API_URL / --api-url)"
BAR_LABELS = {"upload": "Uploading", "render": "Rendering"}
ENVIRONMENT = f"""\b
Environment variables:
  NEMO_API_URL    the API's base URL (default {DEFAULT_API_URL})
  NEMO_WEB_URL    the web app, for claim and registration links
  NEMO_TOKEN      a token to use instead of asking for an anonymous one
  NEMO_CLIENT_ID  the X-Client-Id tokens are asked with (default: one kept in the config dir)
  SKILL_SOURCE    the X-Skill-Platform header (default: from where the client is installed)
"""

Flow = Callable[[Assistant], Coroutine[Any, Any, Any]]


@dataclass
class Context:
    config: ClientConfig
    as_json: bool
    speed: float


class Failure(Exception):
    """Why a command stops: `code` is the API's error code, or a word of the client's own."""

    def __init__(
        self, code: int | str, message: str = "", *, exit_code: int = 1, shown: bool = False
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.exit_code = exit_code
        self.shown = shown  # the assistant already said why


@click.group(epilog=ENVIRONMENT)
@click.version_option(package_name="nemo-fake", prog_name="nemo-client")
@click.option(
    "--api-url",
    envvar="NEMO_API_URL",
    default=DEFAULT_API_URL,
    show_default=True,
    help="API base URL (env NEMO_API_URL).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON result on stdout.")
@click.option(
    "--config-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_CONFIG_DIR,
    show_default=True,
    help="Where the client id, token and current session are kept.",
)
@click.option(
    "--speed",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Divide every wait by this (match `nemo-fake serve --speed`; 1 for the real API).",
)
@click.pass_context
def main(ctx: click.Context, api_url: str, as_json: bool, config_dir: Path, speed: float) -> None:
    """A reference client for the NemoVideo API."""
    config = ClientConfig.from_env(config_dir=config_dir)
    config = replace(config, api_url=api_url.rstrip("/"))
    ctx.obj = Context(config, as_json, speed)


@main.command()
@click.pass_obj
def credits(ctx: Context) -> None:
    """Show the credit balance."""

    async def flow(assistant: Assistant) -> Any:
        return asdict(await assistant.credits())

    _run(ctx, flow)


@main.command()
@click.pass_obj
def status(ctx: Context) -> None:
    """Show the project's timeline."""

    async def flow(assistant: Assistant) -> Any:
        state = await assistant.status()
        return {"summary": summarize(state.draft), "draft": state.draft}

    _run(ctx, flow)


@main.command()
@click.argument("items", nargs=-1, required=True)
@click.pass_obj
def upload(ctx: Context, items: tuple[str, ...]) -> None:
    """Upload files (PATH) or links (URL) to the project."""
    for item in items:
        problem = _not_a_file(item)
        if problem:
            _report(ctx, problem)

    async def flow(assistant: Assistant) -> Any:
        return {"files": [item.raw for item in await assistant.upload(list(items))]}

    _run(ctx, flow)


@main.command()
@click.argument("message")
@click.pass_obj
def chat(ctx: Context, message: str) -> None:
    """Say something; routed like the skill (export, credits, status, upload, or the agent)."""

    async def flow(assistant: Assistant) -> Any:
        if not await assistant.handle(message):
            raise Failure("failed", shown=True)
        return {"ok": True}

    _run(ctx, flow, with_said=True)


@main.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Where to save.")
@click.pass_obj
def export(ctx: Context, out: Path | None) -> None:
    """Render the timeline and download the MP4."""

    async def flow(assistant: Assistant) -> Any:
        path = await assistant.export(out)
        if path is None:
            raise Failure("failed", shown=True)
        return {"path": str(path)}

    _run(ctx, flow)


def _run(ctx: Context, flow: Flow, *, with_said: bool = False) -> None:
    """Run one flow on the saved project; every way it can fail ends in `_report`."""
    project = _load_project(ctx.config)
    said: list[str] = []
    bar = _ProgressBar(enabled=not ctx.as_json and sys.stderr.isatty())

    def say(text: str) -> None:
        said.append(text)
        bar.clear()
        click.echo(text, err=ctx.as_json)
        bar.redraw()

    async def go() -> Any:
        api = NemoApi(ctx.config)
        assistant = Assistant(
            api,
            say=say,
            project=project,
            timer=ScaledTimer(ctx.speed),
            downloads=Path.cwd(),
            on_progress=bar.show,
        )
        try:
            return await flow(assistant)
        except NemoApiError as error:
            raise Failure(error.code, assistant.explain(error)) from None
        except (httpx.TransportError, httpx.InvalidURL) as error:
            raise Failure("unreachable", _unreachable(error, ctx.config.api_url)) from None
        finally:
            _save_project(ctx.config, assistant.project)
            await api.aclose()

    extra = {"said": said} if with_said else {}
    try:
        try:
            result = asyncio.run(go())
        finally:
            bar.close()
    except Failure as failure:
        if failure.shown and not failure.message:
            failure.message = said[-1].removeprefix("❌ ") if said else "failed"
        _report(ctx, failure, extra)
    except (KeyboardInterrupt, asyncio.CancelledError):
        _report(ctx, Failure("interrupted", "interrupted", exit_code=INTERRUPTED), extra)
    if ctx.as_json:
        if with_said:
            result = {**result, **extra}
        click.echo(json.dumps(result, ensure_ascii=False, default=str))


def _report(ctx: Context, failure: Failure, extra: dict[str, Any] | None = None) -> NoReturn:
    """One line saying what went wrong (unless the assistant said it); with `--json`, also
    `{"ok": false, "error": {"code", "message"}}` on stdout. Then exit."""
    if not failure.shown:
        click.echo(f"❌ {failure.message}", err=ctx.as_json)
    if ctx.as_json:
        error = {"code": failure.code, "message": failure.message}
        click.echo(json.dumps({"ok": False, "error": error, **(extra or {})}, ensure_ascii=False))
    raise click.exceptions.Exit(failure.exit_code)


def _not_a_file(item: str) -> Failure | None:
    """Why `upload` can't send `item` (checked before anything is asked of the API)."""
    if URL.fullmatch(item):
        return None
    path = Path(item).expanduser()
    if path.is_dir():
        return Failure("is_a_directory", f"{item} is a directory, not a file")
    if not path.is_file():
        return Failure("no_such_file", f"no such file: {item}")
    return None


def _unreachable(error: Exception, api_url: str) -> str:
    """One line for a connection problem: where, why, and what to check."""
    if isinstance(error, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
        return f"cannot reach {api_url}: not an http:// or https:// URL; set the API URL {URL_HINT}"
    url = api_url
    if isinstance(error, httpx.RequestError):
        try:
            target = error.request.url
            url = f"{target.scheme}://{target.netloc.decode()}"
        except RuntimeError:
            pass  # no request attached
    return f"cannot reach {url}: {_reason(error)}; is the API URL right? {URL_HINT}"


def _reason(error: Exception) -> str:
    if isinstance(error, httpx.TimeoutException):
        return "timed out"
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "unknown host"
        cause = cause.__cause__ or cause.__context__
    if isinstance(error, httpx.ConnectError):
        return "cannot connect"
    return "the connection was lost"


class _ProgressBar:
    """One bar at a time on stderr, for an upload or a render; none unless stderr is a
    terminal (a CI log or a pipe gets no bar noise). A message said while a bar is up takes
    the bar's line, and the bar is drawn again under it."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self.kind = ""
        self.bar: Any = None  # click's ProgressBar while one is shown

    def show(self, kind: str, percent: int) -> None:
        if not self.enabled:
            return
        if self.bar is not None and kind != self.kind:
            self.close()
        if self.bar is None:
            self.kind = kind
            self.bar = click.progressbar(
                length=100, label=BAR_LABELS.get(kind, kind), file=sys.stderr
            )
            self.bar.__enter__()
        self.bar.update(percent - self.bar.pos)
        if percent >= 100:
            self.close()  # finished: the next upload or render gets a bar of its own

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None

    def clear(self) -> None:
        if self.bar is not None:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()

    def redraw(self) -> None:
        if self.bar is not None:
            self.bar._last_line = None  # click draws only a changed line
            self.bar.render_progress()


def _load_project(config: ClientConfig) -> Project:
    """The saved project, if it was made against this API URL: a token or session from
    another API (the fake's at production, or the other way round) is never sent."""
    path = config.config_dir.expanduser() / PROJECT_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("api_url") != config.api_url:
            return Project()
        return Project(**{k: data.get(k) for k in Project().to_dict()})
    except (OSError, ValueError, TypeError, AttributeError):
        return Project()


def _save_project(config: ClientConfig, project: Project) -> None:
    """Keep a project that has a token or a session, with the API URL it belongs to."""
    if not (project.token or project.session_id):
        return  # a failed first start leaves nothing behind
    folder = config.config_dir.expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / PROJECT_FILE
    # The token is a credential: readable by its owner only.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({**project.to_dict(), "api_url": config.api_url}, handle)
