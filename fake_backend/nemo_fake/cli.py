"""`nemo-fake`: serve the fake, and make sample media to upload to it."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click
import yaml

from nemo_fake.clock import MAX_SPEED
from nemo_fake.config import FakeConfig, with_overrides
from nemo_fake.domain.faults import FaultRule
from nemo_fake.profiles import PROFILES as _PROFILES

if TYPE_CHECKING:
    from nemo_fake.clock import ScaledClock
    from nemo_fake.record import Cassette
    from nemo_fake.scenarios import Scenario
    from nemo_fake.testing.fake import NemoFake

# Each command imports what it uses when it runs: `sample-video` needs PyAV, not the web stack.

LOG_LEVELS = ("debug", "info", "warning", "error")
PROFILE_NAMES = tuple(_PROFILES)
# A sample is for trying uploads: an hour is plenty, and a typo cannot fill the disk.
MAX_SAMPLE_SECONDS = 3600.0
# serve's flags that set a FakeConfig field: option name -> field.
SETTING_FLAGS = {"profile": "profile", "seed": "seed", "poll_shape": "poll_shape",
                 "event_shape": "event_shape", "silent_ratio": "silent_edit_ratio"}  # fmt: skip


@click.group()
@click.version_option(package_name="nemo-fake")
def main() -> None:
    """An offline fake of the NemoVideo cloud video API."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port",
    default=8787,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port (0: any free).",
)
@click.option("--seed", default=0, show_default=True, type=int, help="Seed for ids and chance.")
@click.option(
    "--speed",
    default=60.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True, max=MAX_SPEED),
    help="API seconds per wall-clock second (1 = the documented durations).",
)
@click.option(
    "--profile",
    type=click.Choice(list(PROFILE_NAMES)),
    default="current",
    show_default=True,
    help="A protocol era's settings (nemo-fake profiles lists them); other flags override it.",
)
@click.option(
    "--poll-shape",
    type=click.Choice(["current", "reference", "early", "minimal"]),
    default="current",
    show_default=True,
    help="Body shape of render polls: vendor SKILL.md, api-reference.md, early SKILL.md, or "
    "the minimal {success, data: {status, progress, outputUrl}}.",
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
@click.option(
    "--log-level",
    type=click.Choice(LOG_LEVELS, case_sensitive=False),
    default="info",
    show_default=True,
    help="Least severe log lines shown: requests are info, the fake's own errors error.",
)
@click.option("--quiet", is_flag=True, help="No line per request.")
def serve(
    host: str,
    port: int,
    seed: int,
    speed: float,
    profile: str,
    poll_shape: str,
    event_shape: str,
    silent_ratio: float,
    settings: tuple[str, ...],
    scenario_file: Path | None,
    admin_token: str | None,
    demo: bool,
    log_level: str,
    quiet: bool,
) -> None:
    """Serve the fake API until interrupted (Ctrl+C or SIGTERM)."""
    from nemo_fake.clock import ScaledClock
    from nemo_fake.scenarios import apply
    from nemo_fake.testing.fake import NemoFake

    context = click.get_current_context()

    def explicit(name: str) -> bool:
        return context.get_parameter_source(name) != click.core.ParameterSource.DEFAULT

    planned = _scenario(scenario_file) if scenario_file else None
    if planned is not None and planned.speed is not None and not explicit("speed"):
        speed = planned.speed
    # Precedence, the same for every setting: a scenario's values, then explicit flags, then
    # --set. Without a scenario, the flags' defaults are FakeConfig's own.
    chosen = {key: context.params[flag] for flag, key in SETTING_FLAGS.items() if explicit(flag)}
    overrides = {**chosen, **_settings(settings)}
    if planned is None:
        fake = NemoFake(
            _configure(FakeConfig(), overrides), clock=ScaledClock(speed), admin_token=admin_token
        )
    else:
        _configure(planned.config(), overrides)  # refused here, naming the flag
        fake = NemoFake(clock=ScaledClock(speed), admin_token=admin_token)
    try:
        if planned is not None:
            apply(planned, fake, overrides)
        banner = _scenario_banner(planned, overrides) if planned is not None else None
        with _stopped_by_signals():
            _log(log_level.lower(), quiet=quiet)
            _serve(fake, host=host, port=port, speed=speed, demo=demo, banner=banner)
    finally:
        # Every way out passes here (Ctrl-C, SIGTERM, a port in use): no uploads or renders
        # are left behind in the temporary folder.
        fake.close()


def _serve(
    fake: NemoFake[ScaledClock],
    *,
    host: str,
    port: int,
    speed: float,
    demo: bool,
    banner: str | None,
) -> None:
    import uvicorn

    from nemo_fake.demo import run_demo

    config = fake.config

    class Announce(uvicorn.Server):
        demo_task: asyncio.Task[None] | None = None
        stop_signal: int | None = None

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            bound = self.servers[0].sockets[0].getsockname()[1] if self.servers else port
            url = f"http://{host}:{bound}"
            click.echo(
                f"nemo-fake serving the NemoVideo API at {url} (seed {config.seed}, speed {speed}x)"
            )
            if config.profile != "current":
                click.echo(f"profile {config.profile}: {_PROFILES[config.profile].title}")
            if banner is not None:
                click.echo(banner)
            click.echo(f"Uploads and renders go to {fake.backend.storage} (deleted on exit).")
            click.echo("Point a client at it with:")
            click.echo(f"  export NEMO_API_URL={url}")
            click.echo(f"Watch it in the inspector: {url}/_fake/ui")
            click.echo("Press Ctrl+C to stop.")
            if demo:
                self.demo_task = asyncio.create_task(run_demo(url, click.echo, speed=speed))

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            if self.stop_signal is None:
                self.stop_signal = sig
            super().handle_exit(sig, frame)

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            how = f" ({signal.Signals(self.stop_signal).name})" if self.stop_signal else ""
            click.echo(f"nemo-fake shutting down{how}")
            await super().shutdown(sockets=sockets)

    # uvicorn logs at the chosen level, except info: its info lines repeat the banner. Its
    # access log would repeat the request lines.
    level = logging.getLogger().level
    level = logging.WARNING if level == logging.INFO else level
    Announce(
        uvicorn.Config(fake.app, host=host, port=port, log_level=level, access_log=False)
    ).run()


def _log(level: str, *, quiet: bool) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    # httpx logs every demo request again, with its full URL; one line per request is enough.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if quiet:
        logging.getLogger("nemo_fake.requests").setLevel(logging.WARNING)


class _Stopped(Exception):
    """SIGINT or SIGTERM, after uvicorn shut down gracefully: a normal end of `serve`."""


@contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """Make SIGINT and SIGTERM a clean exit (status 0), as uvicorn's own command does.

    uvicorn (>= 0.29) handles both by shutting down gracefully, then restores the handlers it
    found and raises the signal again. Left at Python's defaults, SIGINT would then be a
    KeyboardInterrupt (click: "Aborted!", status 1) and SIGTERM would kill the process before
    any cleanup; with this handler in place instead, both end here, after the shutdown. A
    signal before uvicorn starts, or after it stops, ends here too."""

    def stop(sig: int, frame: FrameType | None) -> None:
        raise _Stopped(sig)

    handled = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, stop) for sig in handled}
    try:
        yield
    except _Stopped:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _scenario(path: Path) -> Scenario:
    from nemo_fake.scenarios import ScenarioError, load

    try:
        return load(path)
    except ScenarioError as error:
        raise click.BadParameter(str(error), param_hint="--scenario") from None


def _scenario_banner(planned: Scenario, overrides: Mapping[str, object]) -> str:
    """Which scenario is loaded, with what: its settings (and which flags won over them)
    and its fault rules."""
    settings = {**planned.settings}
    lines = [f"scenario {planned.name} ({planned.path})"]
    shown = ", ".join(f"{key}={value}" for key, value in settings.items()) or "none"
    lines.append(f"  settings: {shown}")
    won = [f"{key}={overrides[key]}" for key in overrides if key in {*settings, "seed"}]
    if won:
        lines.append(f"  overridden on the command line: {', '.join(won)}")
    rules = [_describe_rule(rule) for rule in planned.faults] or ["none"]
    lines.append(f"  fault rules: {'; '.join(rules)}")
    return "\n".join(lines)


def _describe_rule(rule: FaultRule) -> str:
    defaults = FaultRule(rule.operation)
    fields = {
        key: value
        for key, value in rule.to_dict().items()
        if key not in ("operation", "id", "fired", "seen") and value != getattr(defaults, key)
    }
    return " ".join([rule.operation, *(f"{key}={value}" for key, value in fields.items())])


def _settings(items: tuple[str, ...]) -> dict[str, object]:
    """`--set KEY=VALUE` pairs, each value read as YAML."""
    settings: dict[str, object] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--set")
        settings[key.strip()] = yaml.safe_load(raw)
    return settings


def _configure(base: FakeConfig, overrides: Mapping[str, object]) -> FakeConfig:
    try:
        return with_overrides(base, overrides)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--set") from None


@main.command()
def profiles() -> None:
    """List the protocol-era profiles, what each sets, and where each value comes from."""
    from nemo_fake.profiles import PROFILES

    for era in PROFILES.values():
        click.echo(f"{era.name}: {era.title}")
        for key, value in era.settings.items():
            shown = list(value) if isinstance(value, tuple) else value
            click.echo(f"  {key:<21} {shown!r:<28} {era.sources[key]}")


@main.command()
@click.option(
    "--profile",
    type=click.Choice(PROFILE_NAMES),
    default="current",
    show_default=True,
    help="The protocol era the document describes.",
)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="NAME=VALUE",
    help="A setting, as `serve --set` takes it (repeatable).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write it here: YAML for .yaml or .yml, else JSON. Without it, JSON on stdout.",
)
def openapi(profile: str, overrides: tuple[str, ...], out: Path | None) -> None:
    """The OpenAPI 3.1 document of the fake: what `GET /openapi.json` answers."""
    import json

    from nemo_fake.http.app import create_app
    from nemo_fake.http.openapi import build
    from nemo_fake.http.routes.contract import package_version

    config = _configure(FakeConfig.for_profile(profile), _settings(overrides))
    app = create_app(config=config)
    try:
        document = build(app.routes, app.state.backend.config, package_version())
    finally:
        app.state.backend.close()
    if out is not None and out.suffix.lower() in (".yaml", ".yml"):
        # libyaml's dumper where PyYAML has it: the pure-Python one takes a second here.
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        text = yaml.dump(document, Dumper=dumper, sort_keys=False, allow_unicode=True)
    else:
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as error:
        raise click.ClickException(f"cannot write {out}: {error.strerror or error}") from None
    click.echo(f"wrote {out} (OpenAPI 3.1, profile {profile})")


@main.command()
@click.option("--upstream", required=True, metavar="URL", help="The API to record (real or fake).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8788, show_default=True, type=int, help="0 picks a free one.")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The cassette (YAML), written after every exchange.",
)
def record(upstream: str, host: str, port: int, out: Path) -> None:
    """Record the exchanges of any client pointed at this proxy (NEMO_API_URL) with UPSTREAM:
    answers pass through unchanged and as they come; the cassette keeps no credential."""
    from nemo_fake.record import recording_proxy
    from nemo_fake.testing.live_server import LiveServer

    if not upstream.startswith(("http://", "https://")):
        raise click.BadParameter(
            f"{upstream} is not an http:// or https:// URL", param_hint="--upstream"
        )
    if not out.parent.is_dir():
        raise click.BadParameter(f"no folder {out.parent} to write into", param_hint="--out")
    _log("warning", quiet=True)
    with (
        _stopped_by_signals(),
        LiveServer(recording_proxy(upstream, out), host=host, port=port) as proxy,
    ):
        click.echo(f"recording {upstream} through {proxy.url} into {out}")
        click.echo(f"Point a client at it: export NEMO_API_URL={proxy.url}")
        click.echo("Press Ctrl+C to stop.")
        while True:
            time.sleep(3600)


@main.command()
@click.argument("cassette", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--target", metavar="URL", help="Replay against this API instead of a fresh fake.")
@click.option(
    "--profile",
    type=click.Choice(PROFILE_NAMES),
    default="current",
    show_default=True,
    help="The in-process fake's protocol era.",
)
@click.option("--set", "overrides", multiple=True, metavar="NAME=VALUE", help="A setting.")
def verify(cassette: Path, target: str | None, profile: str, overrides: tuple[str, ...]) -> None:
    """Replay CASSETTE against a fake (or --target) and report every drift by contract: status,
    code, JSON structure, render progression, stream events, media. Exit 1 on drift."""
    import httpx

    from nemo_fake.record import verify as replay

    loaded = _cassette(cassette)
    config = _configure(FakeConfig.for_profile(profile), _settings(overrides))
    try:
        report = asyncio.run(replay(loaded, target=target, config=config))
    except httpx.HTTPError as error:
        raise click.ClickException(f"{target} did not answer: {error}") from None
    for line in report.lines():
        click.echo(line)
    if not report.clean:
        raise SystemExit(1)


@main.group()
def scenario() -> None:
    """Scenario files: scripted workflows and faults (see scenarios/)."""


def _cassette(path: Path) -> Cassette:
    """A cassette file, or one line saying why it is not one."""
    from nemo_fake.record import Cassette

    try:
        return Cassette.load(path)
    except (ValueError, TypeError, yaml.YAMLError) as error:
        raise click.ClickException(f"{path}: not a cassette ({error})") from None


@scenario.command("from-cassette")
@click.argument("cassette", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The scenario file to write.",
)
def scenario_from_cassette(cassette: Path, out: Path) -> None:
    """Turn a recorded CASSETTE into a scenario: each call a raw request expecting the recorded
    status and code (see `nemo-fake record`)."""
    from nemo_fake.record.to_scenario import to_scenario

    loaded = _cassette(cassette)
    converted = to_scenario(loaded, out.stem)
    try:
        out.write_text(converted.text, encoding="utf-8")
    except OSError as error:
        raise click.ClickException(f"cannot write {out}: {error.strerror or error}") from None
    for line in converted.left_out:
        click.echo(f"left out {line}")
    click.echo(f"wrote {out}: {converted.steps} steps")


@scenario.command("run")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--target",
    metavar="URL",
    help="Run against a served fake (its /_fake/ control API) instead of one in-process. "
    "Each scenario's seed and settings are applied to it, and its own put back afterwards.",
)
@click.option(
    "--admin-token",
    envvar="NEMO_FAKE_ADMIN_TOKEN",
    help="The served fake's admin token, if it was started with one.",
)
@click.option(
    "--profile",
    "profile_choice",
    type=click.Choice([*PROFILE_NAMES, "all"]),
    help="Run under this protocol era's settings (a scenario's own settings still win); "
    "`all` runs every scenario under every profile and prints a table.",
)
def scenario_run(
    paths: tuple[Path, ...], target: str | None, admin_token: str | None, profile_choice: str | None
) -> None:
    """Run scenario files (or every *.yaml in a folder); exit 1 if any step fails. Under a
    profile that breaks what a scenario declares it relies on (`incompatible`), failing is
    expected and passing is the error."""
    from nemo_fake.scenarios import ScenarioError, describe, discover, load, run_sync

    files = [file for path in paths for file in discover(path)]
    if not files:
        raise click.ClickException(
            "no scenario files (*.yaml, *.yml) in " + ", ".join(str(path) for path in paths)
        )
    if target is not None:
        _check_target(target, admin_token)
    eras: list[str | None] = list(PROFILE_NAMES) if profile_choice == "all" else [profile_choice]
    outcome: dict[str, dict[str | None, str]] = {}
    broken = 0
    for file in files:
        try:
            loaded = load(file)
        except ScenarioError as error:
            click.echo(f"✗ {error}")
            broken += 1
            continue
        for era in eras:
            played = loaded if era is None else loaded.in_era(era)
            click.echo(f"{loaded.name} ({file})" + ("" if era is None else f" [profile {era}]"))
            results = run_sync(
                played,
                target=target,
                admin_token=admin_token,
                on_step=lambda result: click.echo(describe(result)),
            )
            passed = all(result.passed for result in results)
            expected = None if era is None else loaded.expected_failure(era)
            if expected is None:
                outcome.setdefault(loaded.name, {})[era] = "passed" if passed else "failed"
            elif passed:
                click.echo(f"  ✗ passed, though expected to fail here: {expected}")
                outcome.setdefault(loaded.name, {})[era] = "failed"
            else:
                click.echo(f"  x expected incompatibility: {expected}")
                outcome.setdefault(loaded.name, {})[era] = "incompatible"
    if len(eras) > 1:
        click.echo(_matrix(outcome, eras))
    counts = Counter(state for row in outcome.values() for state in row.values())
    failed = counts["failed"] + broken
    summary = f"scenarios: {counts['passed']} passed, {failed} failed"
    if counts["incompatible"]:
        summary += f", {counts['incompatible']} expected incompatibilities"
    click.echo(summary)
    if failed:
        raise SystemExit(1)


MATRIX_MARKS = {"passed": "✓", "failed": "✗", "incompatible": "x"}


def _matrix(outcome: Mapping[str, Mapping[str | None, str]], eras: list[str | None]) -> str:
    """Scenario x profile: which eras a client survives, and which it is known not to."""
    width = max(len(name) for name in outcome)
    head = " ".join(f"{era!s:^10}" for era in eras)
    lines = [f"{'':<{width}} {head}"]
    for name, row in outcome.items():
        marks = " ".join(f"{MATRIX_MARKS[row[era]]:^10}" for era in eras)
        lines.append(f"{name:<{width}} {marks}")
    lines.append("✓ passed  ✗ failed  x expected incompatibility (the scenario's `incompatible`)")
    return "\n".join(lines)


def _check_target(target: str, admin_token: str | None) -> None:
    """One line, before any scenario runs, when the target is not a fake we can drive."""
    from nemo_fake.testing.remote import ControlError, RemoteFake

    try:
        with RemoteFake(target, admin_token) as remote:
            remote.ping()
    except ControlError as error:
        raise click.ClickException(
            f"{target} does not answer as nemo-fake's control API ({error}); start one with "
            "`nemo-fake serve`, or pass --admin-token if it has one"
        ) from None


def _even_size(context: click.Context, param: click.Parameter, value: int) -> int:
    # yuv420p halves the colour planes in both directions, so H.264 takes even sizes only.
    if value <= 0 or value % 2:
        raise click.BadParameter(f"{value} is not an even number above 0, as H.264 needs")
    return value


@main.command("sample-video")
@click.argument("dest", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--duration",
    default=10.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True, max=MAX_SAMPLE_SECONDS),
    help="Seconds.",
)
@click.option("--width", default=640, show_default=True, type=int, callback=_even_size)
@click.option("--height", default=360, show_default=True, type=int, callback=_even_size)
def sample_video(dest: Path, duration: float, width: int, height: int) -> None:
    """Write a small real MP4 to DEST, for trying uploads."""
    from nemo_fake import media

    if not dest.parent.is_dir():
        raise click.BadParameter(f"no folder {dest.parent} to write into", param_hint="DEST")
    try:
        media.make_sample_video(dest, duration_s=duration, width=width, height=height)
    except OSError as error:
        raise click.ClickException(f"cannot write {dest}: {error.strerror or error}") from None
    click.echo(f"wrote {dest} ({dest.stat().st_size} bytes, {duration:g}s, {width}x{height})")


@main.command()
@click.argument("url", default="http://127.0.0.1:8787", envvar="NEMO_API_URL")
@click.option(
    "--timeout",
    default=30.0,
    show_default=True,
    type=click.FloatRange(min=0, max=3600),
    help="Seconds to wait before giving up.",
)
def wait(url: str, timeout: float) -> None:
    """Wait until a fake (or any API) answers at URL (default $NEMO_API_URL, else
    http://127.0.0.1:8787): for scripts that start `nemo-fake serve ... &` and go on."""
    import httpx

    if not url.startswith(("http://", "https://")):
        raise click.ClickException(f"{url} is not an http:// or https:// URL")
    deadline = time.monotonic() + timeout
    probe = f"{url.rstrip('/')}/api/credits/balance/simple"
    while True:
        try:
            httpx.get(probe, timeout=1.0)  # any answer, 1001 included, means it is up
        except httpx.TransportError as error:
            if time.monotonic() >= deadline:
                why = str(error) or type(error).__name__
                raise click.ClickException(
                    f"nothing answered at {url} within {timeout:g} s ({why})"
                ) from None
            time.sleep(0.05)
        except httpx.InvalidURL as error:
            raise click.ClickException(f"{url} is not a valid URL: {error}") from None
        else:
            click.echo(f"ready: {url}")
            return
