// A small graphql-transport-ws client for one subscription that survives dropped connections.
//
// connection_init carries {"authorization": "Bearer …"}; then one `subscribe`. Every event received moves the
// resume position (`after`) to its cursor. When the socket drops (or the server ends the subscription with a
// resumable error: SLOW_CONSUMER, EVENTS_UNAVAILABLE, …) it reconnects with exponential backoff and resumes after
// the last cursor; events already applied are dropped by cursor, so each is applied exactly once. CURSOR_EXPIRED
// (the position is too old to resume from) asks the page to reload its data: `onExpired()` returns the new head.

const PROTOCOL = "graphql-transport-ws";
const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 10_000;
const REMEMBERED = 5_000; // cursors kept for de-duplication
const FORBIDDEN = 4403;
// A connection that died without a close (a laptop asleep, a proxy gone) is noticed by our own pings: one every
// PING_MS, and the socket is given up when nothing at all was heard for SILENCE_MS.
const PING_MS = 20_000;
const SILENCE_MS = 30_000;

export class LiveFeed {
  constructor({ url, token, query, filter = null, onEvent, onState, onExpired }) {
    Object.assign(this, { url, token, query, filter, onEvent, onState, onExpired });
    this.after = null;
    this.seen = new Set();
    this.failures = 0;
    this.socket = null;
    this.stopped = true;
    this.timer = null;
    this.operation = 0;
    this.watchdog = null;
    this.lastHeard = 0;
  }

  start(after) {
    this.stop();
    this.after = after;
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.watchdog);
    const socket = this.socket;
    this.socket = null;
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close(1000, "Normal Closure");
  }

  state(name, detail = "") {
    this.onState?.(name, detail);
  }

  connect() {
    this.state(this.failures ? "reconnecting" : "connecting");
    const socket = new WebSocket(this.url, PROTOCOL);
    this.socket = socket;
    socket.onopen = () => this.send(socket, { type: "connection_init", payload: { authorization: `Bearer ${this.token}` } });
    socket.onmessage = (message) => {
      if (socket !== this.socket) return;
      this.lastHeard = Date.now();
      this.receive(socket, JSON.parse(message.data));
    };
    socket.onclose = (event) => {
      if (socket !== this.socket || this.stopped) return;
      this.socket = null;
      if (event.code === FORBIDDEN) {
        this.stopped = true;
        this.state("refused", event.reason || "the gateway refused the token");
      } else {
        this.retry();
      }
    };
  }

  send(socket, message) {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }

  subscribe(socket) {
    this.operation += 1;
    const variables = { after: this.after, filter: this.filter };
    this.send(socket, { id: String(this.operation), type: "subscribe", payload: { query: this.query, variables } });
  }

  receive(socket, message) {
    switch (message.type) {
      case "connection_ack":
        this.failures = 0;
        this.state("live");
        this.subscribe(socket);
        clearInterval(this.watchdog);
        this.watchdog = setInterval(() => {
          if (Date.now() - this.lastHeard > SILENCE_MS) this.drop(socket);
          else this.send(socket, { type: "ping" });
        }, PING_MS);
        break;
      case "ping":
        this.send(socket, { type: "pong" });
        break;
      case "next":
        if (message.id !== String(this.operation)) break;
        if (message.payload.errors?.length) this.failed(socket, message.payload.errors);
        else this.deliver(message.payload.data.provisioningEvents);
        break;
      case "error":
        if (message.id === String(this.operation)) this.failed(socket, message.payload);
        break;
      case "complete":
        if (message.id === String(this.operation) && !this.ending) this.drop(socket); // ended by the server: resume
        this.ending = false;
        break;
      default:
        break;
    }
  }

  deliver(event) {
    if (this.seen.has(event.cursor)) return;
    this.seen.add(event.cursor);
    if (this.seen.size > REMEMBERED) this.seen.delete(this.seen.values().next().value);
    this.after = event.cursor;
    this.onEvent(event);
  }

  async failed(socket, errors) {
    const extensions = errors[0]?.extensions ?? {};
    this.ending = true; // the `complete` that follows an error is expected
    if (extensions.code === "CURSOR_EXPIRED") {
      this.state("reloading", "the live position expired: reloading");
      this.stop();
      try {
        const head = await this.onExpired();
        this.seen.clear();
        this.start(head);
      } catch {
        this.stopped = false; // the reload failed (the gateway away again): try again later, the same way
        this.retry();
      }
      return;
    }
    if (extensions.code === "FORBIDDEN" || extensions.code === "UNAUTHENTICATED") {
      this.stop();
      this.state("refused", errors[0].message);
      return;
    }
    if (extensions.cursor) this.after = extensions.cursor; // resumable: SLOW_CONSUMER, EVENTS_UNAVAILABLE, …
    this.drop(socket);
  }

  drop(socket) {
    if (socket === this.socket) {
      this.socket = null;
      socket.close(1000, "Normal Closure");
    }
    this.retry();
  }

  retry() {
    clearInterval(this.watchdog);
    if (this.stopped) return;
    this.failures += 1;
    this.state("reconnecting");
    const delay = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (this.failures - 1));
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay * (0.75 + Math.random() / 2));
  }
}
