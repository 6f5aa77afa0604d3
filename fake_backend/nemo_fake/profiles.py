"""Profiles: the vendor's protocol eras, each a named bundle of settings with its source.

Clients in the wild were written against different versions of the vendor's docs. A profile sets
every setting one era documented; any setting can still be overridden on top (`--set`, PATCH
/_fake/config). Sources: V = SKILL.md v1.9 (the current doc), R = references/api-reference.md,
E = the early SKILL.md, VH:<commit> = a commit of the vendor's skill repository (see
docs/sources.md).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from nemo_fake.config import DAY, FakeConfig

__all__ = [
    "PROFILES",
    "Profile",
    "Reliance",
    "check_reliance",
    "incompatibility",
    "profile",
    "under",
]


@dataclass(frozen=True)
class Profile:
    """One era: what each setting is in it, and where that value comes from."""

    name: str
    title: str
    settings: Mapping[str, object]
    sources: Mapping[str, str]


def _profile(name: str, title: str, **values: tuple[object, str]) -> Profile:
    return Profile(
        name,
        title,
        {key: value for key, (value, _) in values.items()},
        {key: source for key, (_, source) in values.items()},
    )


# Every era's render fits both documented polling budgets, which are the same five minutes.
RENDER_TIMING = ((30.0, 90.0), "S: 30-90 s, inside V's 30 s x 10 polls and R's 10 s x 30")

PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        _profile(
            "current",
            "vendor SKILL.md v1.9, the current doc (the default)",
            poll_shape=("current", "V: status at the top level, the file at output.url"),
            submit_shape=("current", "V shows no submit answer: the poll body"),
            legacy_render_paths=(False, "V: /api/render/proxy/lambda"),
            event_shape=("adk", "V and A: /run_sse is Google ADK's api_server"),
            attribution_required=("export", "V, CHANGELOG 1.5: a render without them is 402"),
            client_id_required=(True, "VH:ff57a62 on: HTTP 400 without X-Client-Id"),
            token_ttl=(7 * DAY, "VH:4058666 on: 7 days"),
            rate_window=(7 * DAY, "VH:ff57a62 on: per 7 days"),
            tokens_per_client=(1, "VH:ff57a62 on: 1 per person per 7 days"),
            tokens_per_address=(10, "VH:8dad8df on: 10 per 7 days per IP"),
            anonymous_scopes=(("read", "write", "upload"), "VH:4058666 on"),
            render_seconds=RENDER_TIMING,
        ),
        _profile(
            "reference",
            "references/api-reference.md (R, VH:7fe0b89)",
            poll_shape=("reference", "R: {success, data: {id, status, progress, outputUrl}}"),
            submit_shape=("reference", "R: {success, data: {id, status: pending, progress}}"),
            legacy_render_paths=(False, "R: /api/render/proxy/lambda"),
            event_shape=("typed", "R illustrates {type: text|tool_call|tool_result|heartbeat}"),
            attribution_required=("session_and_run_sse", "VH:7fe0b89: session and /run_sse"),
            client_id_required=(False, "R: the token request needs no body or header"),
            token_ttl=(7 * DAY, "R: expires_at, 7 days"),
            rate_window=(3600.0, "R: 5 per IP per hour"),
            tokens_per_client=(None, "R: no per-client limit"),
            tokens_per_address=(5, "R: 5 per IP per hour"),
            anonymous_scopes=(("*",), "R: scopes *"),
            render_seconds=((30.0, 90.0), "S: 30-90 s (R's example: 27.6 s), inside 10 s x 30"),
        ),
        _profile(
            "no-expiry",
            "the middle era: tokens that never expire (VH:c27cf3e..ac7a1d7)",
            poll_shape=("current", "VH:9e7f2a5: the corrected response format"),
            submit_shape=("current", "no submit answer shown"),
            legacy_render_paths=(False, "/lambda since VH:762a39f"),
            event_shape=("adk", "as V"),
            attribution_required=(
                "session_and_run_sse",
                "VH:cdbcf03..0f53a2e (the era's last, VH:7ab544f on, put them on every call)",
            ),
            client_id_required=(True, "VH:ff57a62 on"),
            token_ttl=(None, "VH:c27cf3e..ac7a1d7: tokens do not expire"),
            rate_window=(7 * DAY, "VH:ff57a62: per 7 days"),
            tokens_per_client=(1, "VH:ff57a62: 1 per person per 7 days"),
            tokens_per_address=(10, "VH:8dad8df: 10 per IP per 7 days (none given before it)"),
            anonymous_scopes=(("*",), "VH:9e7f2a5..17d6520: scopes *"),
            render_seconds=RENDER_TIMING,
        ),
        _profile(
            "early",
            "the first SKILL.md commits, before /lambda (VH:27ce8fe, e0833df)",
            poll_shape=("early", "VH:27ce8fe, and E: {taskId, status, progress, output: {url,..}}"),
            submit_shape=("current", "VH:27ce8fe shows no submit answer: the poll body"),
            legacy_render_paths=(True, "VH:27ce8fe, e0833df: POST .../proxy/draft, GET .../<id>"),
            event_shape=("adk", "VH:27ce8fe: as V"),
            attribution_required=("none", "VH:27ce8fe..9e7f2a5 send no attribution headers"),
            client_id_required=(False, "VH:27ce8fe..79e38a5: no body needed"),
            token_ttl=(7 * DAY, "VH:27ce8fe: an anonymous token lasts 7 days"),
            rate_window=(3600.0, "VH:27ce8fe..79e38a5: 5 per IP per hour"),
            tokens_per_client=(None, "VH:27ce8fe: no per-client limit (no client id)"),
            tokens_per_address=(5, "VH:27ce8fe..79e38a5: 5 per IP per hour"),
            anonymous_scopes=(
                ("read", "write", "upload"),
                "VH:27ce8fe does not say for anonymous tokens: the current value",
            ),
            render_seconds=RENDER_TIMING,
        ),
    )
}


def under(config: FakeConfig, name: str) -> FakeConfig:
    """`config` moved to the era `name`: the era's settings, then every setting `config` holds
    that differs from the defaults (the ones someone chose, which win over any era)."""
    defaults = FakeConfig().to_dict()
    chosen = {key: value for key, value in config.to_dict().items() if value != defaults[key]}
    chosen.pop("profile", None)
    return FakeConfig.for_profile(name, **chosen)


def profile(name: str) -> Profile:
    """The profile called `name`, or ValueError naming the ones there are."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; one of {', '.join(PROFILES)}") from None


#: What a test or scenario relies on the current doc for: setting names, each with the era
#: values it breaks under (None: any value other than its own).
Reliance = Mapping[str, Collection[object] | None]


def check_reliance(relies_on: Reliance) -> None:
    """ValueError naming each setting that no profile changes (a misspelt or stale name)."""
    known = {name for p in PROFILES.values() for name in p.settings}
    unknown = sorted(set(relies_on) - known)
    if unknown:
        raise ValueError(
            f"not a setting any profile changes: {', '.join(unknown)}; "
            f"one of {', '.join(sorted(known))}"
        )


def incompatibility(era: str, relies_on: Reliance, config: FakeConfig | None = None) -> str | None:
    """Why something that passes with `config` (the defaults if None) is expected to fail when
    moved to `era`: each setting it relies on that the era changes (to one of the values
    named), with the era's value and its source. None when the era changes none of them.
    ValueError for a name that no profile sets, so a stale marker cannot hide."""
    check_reliance(relies_on)
    before = config if config is not None else FakeConfig()
    after = under(before, era)
    facts = []
    for name, breaking in relies_on.items():
        value = getattr(after, name)
        if value == getattr(before, name) or (breaking is not None and value not in breaking):
            continue
        source = PROFILES[era].sources.get(name, "set so by the era")
        facts.append(f"{name} is {value!r} in {era} ({source})")
    return "; ".join(facts) or None
