"""`nemo-fake`: serve the fake, and make sample media to upload to it."""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path
from typing import Any

import click
import yaml

from nemo_fake import media
from nemo_fake.clock import ScaledClock
from nemo_fake.config import FakeConfig, with_overrides
from nemo_fake.demo import run_demo
from nemo_fake.domain.backend import NemoBackend
from nemo_fake.http.app import create_app


@click.group()
@click.version_option(package_name="nemo-fake")
def main() -> None:
    """An offline fake of the NemoVideo cloud video API."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8787, show_default=True, type=int, help="Port (0: any free).")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed for ids and chance.")
@click.option(
    "--speed",
    default=60.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="API seconds per wall-clock second (1 = the documented durations).",
)
@click.option(
    "--poll-shape",
    type=click.Choice(["current", "reference", "early"]),
    default="current",
    show_default=True,
    help="Body shape of render polls: vendor SKILL.md, api-reference.md, or early SKILL.md.",
)
@click.option(
    "--event-shape",
    type=click.Choice(["adk", "typed"]),
    default="adk",
    show_default=True,
    help='/run_sse events: Google ADK events, or api-reference.md\'s {"type": ...} events.',
)
@click.option(
    "--silent-ratio",
    type=click.FloatRange(0, 1),
    default=0.3,
    show_default=True,
    help="Share of edits whose stream ends with tool calls only, no text.",
)
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="KEY=VALUE",
    help="Set any FakeConfig field (YAML value), e.g. --set stream_faults.drop_after_events=3.",
)
@click.option(
    "--scenario",
    "scenario_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Start with a scenario file's seed, settings and faults.",
)
@click.option(
    "--admin-token",
    envvar="NEMO_FAKE_ADMIN_TOKEN",
    help="Require this bearer on /_fake/ (which otherwise answers loopback clients only).",
)
@click.option("--demo", is_flag=True, help="Walk the quick-edit flow against itself on start.")
def serve(
    host: str,
    port: int,
    seed: int,
    speed: float,
    poll_shape: str,
    event_shape: str,
    silent_ratio: float,
    settings: tuple[str, ...],
    scenario_file: Path | None,
    admin_token: str | None,
    demo: bool,
) -> None:
    """Serve the fake API until interrupted."""
    import uvicorn

    planned = _scenario(scenario_file) if scenario_file else None
    if planned is not None:
        seed = planned.seed
        given = click.get_current_context().get_parameter_source("speed")
        if planned.speed is not None and given == click.core.ParameterSource.DEFAULT:
            speed = planned.speed
    config = _configure(
        {
            "seed": seed,
            "poll_shape": poll_shape,
            "event_shape": event_shape,
            "silent_edit_ratio": silent_ratio,
        },
        settings,
    )
    if planned is not None:
        config = with_overrides(config, planned.settings)
    backend = NemoBackend(config=config, clock=ScaledClock(speed))
    for rule in planned.faults if planned is not None else []:
        backend.faults.add(rule)
    app = create_app(backend, admin_token=admin_token)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    # httpx logs every demo request again, with its full URL; one line per request is enough.
    logging.getLogger("httpx").setLevel(logging.WARNING)

    class Announce(uvicorn.Server):
        demo_task: asyncio.Task[None] | None = None

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            bound = self.servers[0].sockets[0].getsockname()[1] if self.servers else port
            url = f"http://{host}:{bound}"
            click.echo(
                f"nemo-fake serving the NemoVideo API at {url} (seed {seed}, speed {speed}x)"
            )
            click.echo("Point a client at it with:")
            click.echo(f"  export NEMO_API_URL={url}")
            if demo:
                self.demo_task = asyncio.create_task(run_demo(url, click.echo))

    server = Announce(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    try:
        server.run()
    finally:
        backend.close()


def _scenario(path: Path) -> Any:
    from nemo_fake.testing import scenarios

    try:
        return scenarios.load(path)
    except scenarios.ScenarioError as error:
        raise click.BadParameter(str(error), param_hint="--scenario") from None


def _configure(options: dict[str, Any], settings: tuple[str, ...]) -> FakeConfig:
    overrides = dict(options)
    for item in settings:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--set")
        overrides[key.strip()] = yaml.safe_load(raw)
    try:
        return with_overrides(FakeConfig(), overrides)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--set") from None


@main.group()
def scenario() -> None:
    """Scenario files: scripted workflows and faults (see scenarios/)."""


@scenario.command("run")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--target",
    metavar="URL",
    help="Run against a served fake (its /_fake/ control API) instead of one in-process.",
)
def scenario_run(paths: tuple[Path, ...], target: str | None) -> None:
    """Run scenario files (or every *.yaml in a folder); exit 1 if any step fails."""
    from nemo_fake.testing import scenarios

    files = [file for path in paths for file in scenarios.discover(path)]
    passed = failed = 0
    for file in files:
        try:
            loaded = scenarios.load(file)
        except scenarios.ScenarioError as error:
            click.echo(f"✗ {error}")
            failed += 1
            continue
        click.echo(f"{loaded.name} ({file})")
        results = scenarios.run_sync(
            loaded, target=target, on_step=lambda r: click.echo(scenarios.describe(r))
        )
        if all(result.passed for result in results):
            passed += 1
        else:
            failed += 1
    click.echo(f"scenarios: {passed} passed, {failed} failed")
    if failed or not files:
        raise SystemExit(1)


@main.command("sample-video")
@click.argument("dest", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--duration", default=10.0, show_default=True, type=float, help="Seconds.")
@click.option("--width", default=640, show_default=True, type=int)
@click.option("--height", default=360, show_default=True, type=int)
def sample_video(dest: Path, duration: float, width: int, height: int) -> None:
    """Write a small real MP4 to DEST, for trying uploads."""
    media.make_sample_video(dest, duration_s=duration, width=width, height=height)
    click.echo(f"wrote {dest} ({dest.stat().st_size} bytes, {duration:g}s, {width}x{height})")
