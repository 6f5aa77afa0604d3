"""Sessions, project state and the credit balance."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from nemo_fake.http.api_route import ApiRoute
from nemo_fake.http.auth import authenticate, check_app_name, check_user_segment
from nemo_fake.http.body import JsonBody, Text, json_object
from nemo_fake.http.context import backend_of
from nemo_fake.http.envelope import ok
from nemo_fake.http.faults import operation

TASK_NAME = Text("task_name", description="The project's name, free text")
LANGUAGE = Text("language", default="en", max_length=32, description="The agent's language")
SESSION_BODY = JsonBody((TASK_NAME, LANGUAGE))


@operation("create_session")
async def create_session(request: Request) -> Response:
    account = authenticate(request, call="session")
    check_user_segment(account, request.path_params["user"])
    check_app_name(request.path_params["app"])
    body = await json_object(request)
    session = backend_of(request).create_session(
        account,
        task_name=TASK_NAME.read(body),
        language=LANGUAGE.read(body),
    )
    return ok(
        {"task_id": session.task_id, "session_id": session.session_id, "user_id": account.user_id}
    )


@operation("state")
async def latest_state(request: Request) -> Response:
    account = authenticate(request)
    check_app_name(request.path_params["app"])
    check_user_segment(account, request.path_params["user"])
    return backend_of(request).read_state(
        account,
        request.path_params["session_id"],
        lambda state: ok({**state, "user_id": account.user_id}),  # rendered here, under the lock
    )


@operation("balance")
async def balance(request: Request) -> Response:
    account = authenticate(request)
    found = backend_of(request).balance(account)
    return ok({"available": found.available, "frozen": found.frozen, "total": found.total})


routes = [
    ApiRoute("/api/tasks/{user}/with-session/{app}", create_session, methods=["POST"]),
    ApiRoute("/api/state/{app}/{user}/{session_id}/latest", latest_state, methods=["GET"]),
    ApiRoute("/api/credits/balance/simple", balance, methods=["GET"]),
]
