// The dashboard page: sign-in, the views the token's roles call for, the live feed and its event log.
import { claims, graphql, websocketUrl } from "./api.js";
import { $, el, showMessage, when } from "./dom.js";
import { LiveFeed } from "./live.js";
import { PartnerView } from "./partner.js";
import { ReviewView } from "./review.js";
import { TrialsView } from "./trials.js";

const TOKEN_KEY = "wholesale-dashboard-token";
const LOG_SIZE = 200;
const REFRESH_MS = 30_000;
const EVENTS = `subscription DashboardEvents($filter: EventFilter, $after: String) {
  provisioningEvents(filter: $filter, after: $after) {
    cursor entityType entityId customerId fromStatus toStatus action occurredAt
    actor { kind sub system }
    customer { id status backgroundWork { kind attempts nextAttemptAt waitingFor lastError { code message } } }
  }
}`;

// A token handed over in the address's fragment (never sent to a server): `#token=` (make run's link, a portal),
// or `#access_token=` (an identity provider's redirect, OAuth 2.0 fragment response). Kept for this tab only.
function takeToken() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const handed = fragment.get("token") ?? fragment.get("access_token");
  if (handed) {
    sessionStorage.setItem(TOKEN_KEY, handed);
    history.replaceState(null, "", location.pathname + location.search); // out of the address bar and history
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

function showSignIn(reason = "") {
  $("#sign-in").hidden = false;
  if (reason) showMessage(reason, "error");
  $("#token-submit").addEventListener("click", () => {
    const token = $("#token-input").value.trim().replace(/^Bearer\s+/i, "");
    if (!token) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    location.reload();
  });
}

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  location.replace(location.pathname);
}

function setLive(state, detail) {
  const status = $("#live-status");
  status.dataset.state = state;
  status.textContent = state === "refused" ? "signed out" : detail || state;
  if (state === "refused") { // the token expired or was refused: ask for a new one
    sessionStorage.removeItem(TOKEN_KEY);
    showSignIn(`Signed out: ${detail}`);
  }
}

function logEvent(event) {
  const log = $("#event-log");
  const who = event.actor.sub ?? event.actor.system ?? event.actor.kind.toLowerCase();
  const what = event.fromStatus || event.toStatus ? `${event.fromStatus ?? "—"} → ${event.toStatus}` : event.action;
  log.prepend(el("li", { "data-event-id": event.cursor, "data-entity-id": event.entityId },
    el("time", { text: when(event.occurredAt) }), ` ${event.entityType.toLowerCase()} ${event.entityId}: ${what} `,
    el("span", { class: "actor", text: `by ${who}` })));
  while (log.children.length > LOG_SIZE) log.lastElementChild.remove();
}

async function main() {
  const token = takeToken();
  if (!token) return showSignIn();
  const payload = claims(token);
  if (!payload) return showSignIn("That is not a JWT: paste the token itself.");
  const roles = Array.isArray(payload.roles) ? payload.roles : [];
  $("#who").textContent = `${payload.sub ?? "?"}${payload.org ? ` · ${payload.org}` : ""} · ${roles.join(", ") || "no roles"}`;
  $("#sign-out").hidden = false;
  $("#sign-out").addEventListener("click", signOut);

  const views = [];
  // A sales admin (R-TRI-2) reads trials only; other partner admins get the customers and, for a resale partner
  // (one with trials), its trials too.
  const salesOnly = roles.includes("sales_admin") && !roles.some((r) => r === "full_admin" || r === "read_only_admin");
  if (payload.org && !salesOnly) views.push(new PartnerView(token));
  if (payload.org) views.push(new TrialsView(token, salesOnly));
  if (roles.includes("compliance_reviewer")) views.push(new ReviewView(token));
  if (!views.length) return showMessage("This token has no role the dashboard shows (a partner admin or a compliance reviewer).", "error");

  // The state and the events head are read together; the feed starts after that head.
  const loadAll = async () => {
    const heads = await Promise.all(views.map((view) => view.load()));
    views.forEach((view) => view.loadCounts?.());
    document.body.dataset.loads = String(Number(document.body.dataset.loads ?? 0) + 1);
    return heads[0];
  };
  let head;
  try {
    head = await loadAll();
  } catch (error) {
    if (error.code === "UNAUTHENTICATED") {
      sessionStorage.removeItem(TOKEN_KEY);
      return showSignIn(`Signed out: ${error.message}`);
    }
    return showMessage(error.message, "error");
  }
  performance.mark("dashboard-first-data");
  if (!payload.org || salesOnly) {
    // Platform roles (a compliance reviewer) have no org, so no event feed (events are read per org), and a sales
    // admin's scopes read no events: their views are read again every REFRESH_MS instead.
    setLive("polling", "refreshed every 30 s");
    setInterval(() => views.forEach((view) => view.load().catch((e) => showMessage(e.message, "error"))), REFRESH_MS);
    return;
  }
  $("#events-panel").hidden = false;

  const feed = new LiveFeed({
    url: websocketUrl(), token, query: EVENTS,
    onEvent: (event) => {
      logEvent(event);
      views.forEach((view) => view.apply(event));
    },
    onState: setLive,
    onExpired: async () => {
      const fresh = await loadAll();
      $("#event-log").prepend(el("li", { class: "gap", text: "Too long offline to catch up event by event: data reloaded." }));
      return fresh;
    },
  });
  feed.start(head);
  // A parent partner widening the table to its sub-partners' customers widens the feed too, from the new head.
  if (views[0] instanceof PartnerView) {
    views[0].onScope = (includeSubPartners, fresh) => {
      feed.filter = includeSubPartners ? { includeSubPartners } : null;
      feed.start(fresh);
    };
  }
  window.addEventListener("pagehide", () => feed.stop());
}

main().catch((error) => showMessage(`The dashboard failed: ${error.message}`, "error"));
