"""A thin reference client for the NemoVideo API: typed calls and the skill's workflow.

It knows nothing of nemo-fake: pointed at the real API with a real token it works the same.
"""

from nemo_client.api import NemoApi
from nemo_client.assistant import (
    REFERENCE_POLLING,
    SKILL_POLLING,
    Assistant,
    ChatResult,
    Project,
    RenderPolling,
)
from nemo_client.config import ClientConfig
from nemo_client.errors import NemoApiError, StreamInterrupted
from nemo_client.gui import translate
from nemo_client.models import (
    AgentEvent,
    AnonymousToken,
    Balance,
    ClaimToken,
    ProjectState,
    RenderStatus,
    SessionInfo,
    UploadedFile,
)
from nemo_client.router import route
from nemo_client.timeline import describe_changes, summarize
from nemo_client.timer import ManualTimer, RealTimer, ScaledTimer, Timer

__all__ = [
    "REFERENCE_POLLING",
    "SKILL_POLLING",
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
    "RenderPolling",
    "RenderStatus",
    "ScaledTimer",
    "SessionInfo",
    "StreamInterrupted",
    "Timer",
    "UploadedFile",
    "describe_changes",
    "route",
    "summarize",
    "translate",
]
