"""``POST /proxy/v1/chat/completions``: an OpenAI-compatible logging proxy (DESIGN §8).

Forwards the body unchanged to the upstream the administrator named (``capture.upstream``),
returns its answer unchanged (SSE streams chunk by chunk), and logs the pair with latency and
usage after the answer is complete. Upstream errors pass through with their status; a timeout or
an unreachable upstream answers 504/502 with an OpenAI-shaped error. Both are logged.
Authenticate with a team ingest key (``Authorization: Bearer ftdbi_…``, what the OpenAI client
sends as its api_key) or a member's token with ``X-FinetuneDB-Team: <id>``.
"""

from __future__ import annotations

import logging
import time

import orjson
from django.conf import settings
from django.http import Http404, HttpResponse, StreamingHttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework.views import APIView

from finetunedb.exceptions import ApplicationError
from finetunedb.teams.permissions import Action
from finetunedb.teams.rate_limits import caller_key, rate_limit_hit
from finetunedb.teams.scoping import NOT_FOUND, parse_id
from finetunedb.teams.selectors import team_get_for_user

from ..authentication import PROXY_AUTHENTICATION, IsUserOrIngestKey
from ..models import IngestKey
from ..services.logs import log_batch_authorize
from ..services.proxy import proxy_log, stream_summary
from ..upstream import upstream_get, upstream_open

logger = logging.getLogger(__name__)
TEAM_REQUIRED = "With a personal token, name the team with the X-FinetuneDB-Team header."
NOT_AN_OBJECT = "The body must be a JSON object (an OpenAI chat completion request)."
CHUNK = 64 * 1024


def openai_error(status: int, message: str, kind: str) -> HttpResponse:
    body = {"error": {"message": message, "type": kind, "param": None, "code": kind}}
    return HttpResponse(orjson.dumps(body), status=status, content_type="application/json")


class _LogWhenClosed:
    """Runs ``after`` when the server closes the response, once the body (or the stream's last
    chunk) is sent: the caller never waits for the log's write."""

    def __init__(self, *args, after, **kwargs):
        super().__init__(*args, **kwargs)
        self._after = after

    def close(self):
        try:
            after, self._after = self._after, None
            if after is not None:
                after()
        except Exception:  # a log that cannot be written never fails the call; it is reported
            logger.exception("proxy: the call's log could not be written")
        finally:
            super().close()


class LoggedAfterResponse(_LogWhenClosed, HttpResponse):
    pass


class LoggedAfterStreamingResponse(_LogWhenClosed, StreamingHttpResponse):
    pass


class ProxyChatCompletionsApi(APIView):
    authentication_classes = PROXY_AUTHENTICATION
    permission_classes = [IsUserOrIngestKey]

    @extend_schema(request=None, responses={200: None})
    def post(self, request):
        raw = request.body  # forwarded byte for byte; read before request.data parses it
        key = request.auth if isinstance(request.auth, IngestKey) else None
        decision = rate_limit_hit(
            scope="proxy", key=caller_key(user=request.user, auth=request.auth)
        )
        if not decision.allowed:
            response = openai_error(429, decision.message, "rate_limit_exceeded")
            for name, value in decision.headers().items():
                response[name] = value
            return response
        if key is not None:
            team = key.team
        else:
            team_id = parse_id(request.headers.get("X-FinetuneDB-Team"))
            if team_id is None:
                raise ApplicationError(TEAM_REQUIRED, code="team_required")
            team = team_get_for_user(request.user, team_id)
            if team is None:
                raise Http404(NOT_FOUND)
            log_batch_authorize(user=request.user, team=team, action=Action.ANNOTATE)
        payload = request.data
        if not isinstance(payload, dict):
            raise ApplicationError(NOT_AN_OBJECT, code="invalid")
        upstream = upstream_get(request.headers.get("X-FinetuneDB-Upstream"))
        timeout = float(getattr(settings, "FINETUNEDB_PROXY_TIMEOUT_S", 60))
        started = time.perf_counter()
        log = dict(team=team, ingest_key=key, request=payload, upstream=upstream.name)
        try:
            answer = upstream_open(upstream, "/chat/completions", raw, timeout=timeout)
        except TimeoutError:
            proxy_log(
                **log,
                started=started,
                error={"message": "upstream timed out", "type": "upstream_timeout"},
            )
            return openai_error(
                504,
                f"The upstream {upstream.name!r} did not answer in {timeout:g} s.",
                "upstream_timeout",
            )
        except OSError as exc:
            proxy_log(
                **log,
                started=started,
                error={"message": "upstream unreachable", "type": "upstream_unreachable"},
            )
            logger.warning("proxy upstream %s unreachable: %s", upstream.name, exc)
            return openai_error(
                502, f"The upstream {upstream.name!r} could not be reached.", "upstream_unreachable"
            )
        status = answer.status if hasattr(answer, "status") else answer.code
        content_type = answer.headers.get("Content-Type", "application/json")
        if status == 200 and content_type.startswith("text/event-stream"):
            return self._stream(answer, log, started, content_type)
        try:
            body = answer.read()
        except TimeoutError:
            proxy_log(
                **log,
                started=started,
                error={"message": "upstream timed out", "type": "upstream_timeout"},
            )
            return openai_error(
                504,
                f"The upstream {upstream.name!r} did not answer in {timeout:g} s.",
                "upstream_timeout",
            )
        finally:
            answer.close()
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            parsed = None
        latency_ms = round((time.perf_counter() - started) * 1000)
        if status == 200 and isinstance(parsed, dict):
            outcome = {"completion": parsed}
        else:
            error = parsed.get("error") if isinstance(parsed, dict) else None
            if not isinstance(error, dict) or not isinstance(error.get("message"), str):
                error = {"message": f"upstream answered {status}", "type": "upstream_error"}
            outcome = {"error": {**error, "status": status}}
            if not isinstance(parsed, dict):
                proxy_log(**log, started=started, **outcome)
                return openai_error(
                    502 if status == 200 else status,
                    f"The upstream answered {status} without a JSON body.",
                    "upstream_error",
                )
        # logged once the answer is on its way: the caller does not wait for the log's write
        return LoggedAfterResponse(
            body,
            status=status,
            content_type=content_type,
            after=lambda: proxy_log(**log, started=started, latency_ms=latency_ms, **outcome),
        )

    def _stream(self, answer, log, started, content_type):
        outcome = {}  # set when the stream ends; logged when the server closes the response

        def chunks():
            seen = []
            try:
                while True:
                    chunk = answer.read1(CHUNK) if hasattr(answer, "read1") else answer.read(CHUNK)
                    if not chunk:
                        break
                    seen.append(chunk)
                    yield chunk
            except TimeoutError:
                outcome["error"] = {
                    "message": "upstream timed out mid-stream",
                    "type": "upstream_timeout",
                }
                return
            finally:
                answer.close()
            outcome["completion"] = stream_summary(b"".join(seen))
            outcome["latency_ms"] = round((time.perf_counter() - started) * 1000)

        def after():
            if outcome:  # not when the caller went away mid-stream
                proxy_log(**log, started=started, **outcome)

        # the last chunk reaches the caller before the log is written
        response = LoggedAfterStreamingResponse(chunks(), content_type=content_type, after=after)
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"
        return response
