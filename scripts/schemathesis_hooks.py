"""schemathesis hooks for scripts/schemathesis.sh.

- A serializer for `application/wasm`, so that plugin uploads are generated
  (as raw bytes, like `application/octet-stream`) instead of skipped.
- WebSocket handshakes: a `101 Switching Protocols` answer turns its
  connection into a WebSocket, which the HTTP client would otherwise put
  back in its pool and send the next request on (reading the server's
  first frame as a status line). The connections are dropped after a 101.
- `refusals_follow_game_rules`: the document describes every input rule
  the server applies by itself; a few rules belong to the game or the queue
  a request names (the game's config and seat range, an action's legality,
  whether bytes are a game component, the queue's party size and latency
  limit) and no schema can state them. The run lets positive (schema-valid)
  requests to those operations be refused with 400/422 (the config of
  `positive_data_acceptance`), and this check makes sure that such a
  refusal names one of those rules and nothing else.
"""

import schemathesis
import schemathesis.transport.requests as requests_transport
from schemathesis.transport.serialization import serialize_binary


@schemathesis.serializer("application/wasm")
def wasm_serializer(ctx, value):
    return {"data": serialize_binary(value)}


_send = requests_transport._request


def _send_dropping_upgraded_connections(session, data, max_stream_events):
    response = _send(session, data, max_stream_events)
    if response.status_code == 101:
        # Closes the pooled connections; the session opens new ones.
        session.close()
    return response


requests_transport._request = _send_dropping_upgraded_connections


# operationId -> (status, error code, message prefix or None) of the refusals
# that name a rule of the game or queue.
GAME_RULE_REFUSALS = {
    "createRoom": [(422, "invalid_config", None), (422, "invalid_seats", None)],
    "act": [(422, "malformed_action", None), (422, "illegal_action", None)],
    "publishPlugin": [
        (422, code, None)
        for code in (
            "invalid_component",
            "forbidden_import",
            "wrong_world",
            "invalid_game_info",
            "plugin_fault",
            # The server's configured most (limits.max_room_memory_bytes).
            "memory_limit_too_large",
        )
    ],
    # What a UI module is (an ES module exporting mount) is no schema's to
    # say, nor how much of the version's asset budget earlier cases spent.
    "attachPluginUi": [(422, "ui_not_a_module", None), (413, "ui_too_large", "the UI assets would be ")],
    "createTicket": [
        (400, "invalid_ticket", "invalid ticket request: a party of "),
        (400, "invalid_ticket", "invalid ticket request: no region within "),
    ],
}


@schemathesis.check
def refusals_follow_game_rules(ctx, response, case):
    """A schema-valid request to a game-dependent operation is refused only by a game or queue rule."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    rules = GAME_RULE_REFUSALS.get(case.operation.definition.raw.get("operationId"))
    if rules is None or response.status_code not in {status for status, _, _ in rules}:
        return None
    try:
        error = response.json()["error"]
        code, message = error["code"], error["message"]
    except (ValueError, KeyError, TypeError):
        raise AssertionError(f"a {response.status_code} refusal without an error body: {response.text[:200]}")
    for status, rule_code, prefix in rules:
        if response.status_code == status and code == rule_code and (prefix is None or message.startswith(prefix)):
            return None
    raise AssertionError(
        f"schema-valid request refused with {response.status_code} `{code}`, which is not a game or queue rule: {message}"
    )
