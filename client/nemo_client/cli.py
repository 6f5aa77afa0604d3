"""`nemo-client`: the reference client's workflow from a terminal.

The token and session are kept in the config directory between invocations, so
`upload`, `chat`, `status` and `export` work on one project, as a chat with the skill would.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable, Coroutine
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import click

from nemo_client.api import NemoApi
from nemo_client.assistant import Assistant, Project
from nemo_client.config import DEFAULT_CONFIG_DIR, ClientConfig
from nemo_client.errors import NemoApiError
from nemo_client.timeline import summarize
from nemo_client.timer import ScaledTimer

PROJECT_FILE = "project.json"


@dataclass
class Context:
    config: ClientConfig
    as_json: bool
    speed: float


@click.group()
@click.option("--api-url", envvar="NEMO_API_URL", help="API base URL (env NEMO_API_URL).")
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
def main(
    ctx: click.Context, api_url: str | None, as_json: bool, config_dir: Path, speed: float
) -> None:
    """A reference client for the NemoVideo API."""
    config = ClientConfig.from_env(config_dir=config_dir)
    if api_url:
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

    async def flow(assistant: Assistant) -> Any:
        return {"files": [item.raw for item in await assistant.upload(list(items))]}

    _run(ctx, flow)


@main.command()
@click.argument("message")
@click.pass_obj
def chat(ctx: Context, message: str) -> None:
    """Say something; routed like the skill (export, credits, status, upload, or the agent)."""

    async def flow(assistant: Assistant) -> Any:
        ok = await assistant.handle(message)
        if not ok:
            raise click.exceptions.Exit(1)
        return {"ok": ok}

    _run(ctx, flow)


@main.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Where to save.")
@click.pass_obj
def export(ctx: Context, out: Path | None) -> None:
    """Render the timeline and download the MP4."""

    async def flow(assistant: Assistant) -> Any:
        path = await assistant.export(out)
        if path is None:
            raise click.exceptions.Exit(1)
        return {"path": str(path)}

    _run(ctx, flow)


def _run(ctx: Context, flow: Callable[[Assistant], Coroutine[Any, Any, Any]]) -> None:
    project = _load_project(ctx.config.config_dir)
    bars: dict[str, Any] = {}

    def say(text: str) -> None:
        click.echo(text, err=ctx.as_json)

    def on_progress(kind: str, percent: int) -> None:
        if ctx.as_json:
            return
        bar = bars.get(kind)
        if bar is None:
            label = "Uploading" if kind == "upload" else "Rendering"
            bar = bars[kind] = click.progressbar(length=100, label=label, file=sys.stderr)
            bar.__enter__()
        bar.update(percent - bar.pos)
        if percent >= 100:
            # Finished: the next upload or render gets a bar of its own.
            bars.pop(kind).__exit__(None, None, None)

    async def go() -> Any:
        api = NemoApi(ctx.config)
        assistant = Assistant(
            api,
            say=say,
            project=project,
            timer=ScaledTimer(ctx.speed),
            downloads=Path.cwd(),
            on_progress=on_progress,
        )
        try:
            return await flow(assistant)
        except NemoApiError as error:
            say("❌ " + assistant.explain(error))
            raise SystemExit(1) from None
        finally:
            _save_project(ctx.config.config_dir, assistant.project)
            await api.aclose()

    try:
        result = asyncio.run(go())
    finally:
        for bar in bars.values():
            bar.__exit__(None, None, None)
    if ctx.as_json:
        click.echo(json.dumps(result, ensure_ascii=False, default=str))


def _load_project(config_dir: Path) -> Project:
    path = config_dir.expanduser() / PROJECT_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Project(**{k: data.get(k) for k in Project().to_dict()})
    except (OSError, ValueError, TypeError):
        return Project()


def _save_project(config_dir: Path, project: Project) -> None:
    folder = config_dir.expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / PROJECT_FILE
    # The token is a credential: readable by its owner only.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(project.to_dict(), handle)
