"""A thin reference client for the NemoVideo API: typed calls and the skill's workflow.

It knows nothing of nemo-fake: pointed at the real API with a real token it works the same.
"""

from client.api import NemoApi, parse_event
from client.assistant import Assistant, ChatResult, Project
from client.config import ClientConfig
from client.errors import NemoApiError, StreamInterrupted, advice
from client.gui import translate
from client.models import (
    AgentEvent,
    AnonymousToken,
    Balance,
    ClaimToken,
    ProjectState,
    RenderStatus,
    SessionInfo,
    UploadedFile,
)
from client.router import route
from client.timeline import describe_changes, summarize
from client.timer import ManualTimer, RealTimer, Timer

__all__ = [
    "AgentEvent",
    "AnonymousToken",
    "Assistant",
    "Balance",
    "ChatResult",
    "ClaimToken",
    "ClientConfig",
    "ManualTimer",
    "NemoApi",
    "NemoApiError",
    "Project",
    "ProjectState",
    "RealTimer",
    "RenderStatus",
    "SessionInfo",
    "StreamInterrupted",
    "Timer",
    "UploadedFile",
    "advice",
    "describe_changes",
    "parse_event",
    "route",
    "summarize",
    "translate",
]
