// Follow the gateway's `provisioningEvents` subscription with the npm `graphql-ws` client (graphql-transport-ws).
//
//   node subscribe.mjs <ws-url> <token> [<variables as JSON>]
//
// Writes one line per happening to stdout, and nothing else there:
//   READY            the server acknowledged the connection and the subscription has been sent
//   {...}            one received event (the `provisioningEvents` object), as JSON
//   ERROR <json>     an error (GraphQL errors, a socket error): the script exits 1
//   CLOSED <code>    the socket closed: the script exits 1
//   COMPLETE         the server completed the subscription: the script exits 1
// It never stops by itself otherwise: whoever started it reads what it needs, then kills it.
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const SUBSCRIPTION = `
subscription($filter: EventFilter, $after: String) {
  provisioningEvents(filter: $filter, after: $after) {
    cursor entityType entityId customerId fromStatus toStatus version customer { id status }
  }
}`;

function emit(line) {
  process.stdout.write(`${line}\n`);
}

// Write the last line, then leave once it has been flushed.
function finish(line, code) {
  process.stdout.write(`${line}\n`, () => process.exit(code));
}

// Errors and close events do not serialise usefully with JSON.stringify alone.
function describe(value) {
  if (value instanceof Error) {
    return { name: value.name, message: value.message, ...("code" in value ? { code: value.code } : {}) };
  }
  if (value && typeof value === "object") {
    if ("code" in value && "reason" in value) return { code: value.code, reason: String(value.reason) };
    // ws's ErrorEvent keeps its fields in getters, which JSON.stringify skips.
    if (value.error instanceof Error) return describe(value.error);
    if ("message" in value) return { type: value.type, message: String(value.message) };
  }
  return value;
}

const [url, token, variablesJson = "{}"] = process.argv.slice(2);
if (!url || !token) {
  process.stderr.write("usage: node subscribe.mjs <ws-url> <token> [<variables as JSON>]\n");
  process.exit(2);
}
let variables;
try {
  variables = JSON.parse(variablesJson);
} catch (err) {
  process.stderr.write(`the variables are not JSON: ${err.message}\n`);
  process.exit(2);
}

let finished = false;
function fail(line) {
  if (!finished) {
    finished = true;
    finish(line, 1);
  }
}

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${token}` },
  retryAttempts: 0, // a refusal or a drop must show, not be papered over by a reconnect
  on: {
    // `connected` fires on connection_ack; the client sends the pending subscribe message right after, a few
    // promise continuations later. setImmediate runs once those microtasks have drained, so READY follows it.
    connected: () => setImmediate(() => finished || emit("READY")),
    closed: (event) => fail(`CLOSED ${event?.code ?? "unknown"}`),
    error: (err) => fail(`ERROR ${JSON.stringify(describe(err))}`),
  },
});

client.subscribe(
  { query: SUBSCRIPTION, variables },
  {
    next: (result) => {
      if (finished) return;
      if (result.errors?.length) {
        fail(`ERROR ${JSON.stringify(result.errors)}`);
      } else {
        emit(JSON.stringify(result.data.provisioningEvents));
      }
    },
    error: (err) => fail(`ERROR ${JSON.stringify(describe(err))}`),
    complete: () => fail("COMPLETE"),
  },
);
