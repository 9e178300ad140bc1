// The partner / sub-partner admin view: status tiles, the customers table (paged, filtered, updated in place by
// live events) and one customer's detail with its history (R-AUD) and background work (R-DASH-2).
import { graphql } from "./api.js";
import { $, backgroundWork, debounce, el, showMessage, when } from "./dom.js";

const PAGE_SIZE = 25;
const STATUSES = ["provisioning", "pending_rpl_review", "pending_customer_approval", "provisioned",
  "provisioned_with_errors", "updating", "deleting", "error"];
const WORK = "backgroundWork { kind attempts nextAttemptAt waitingFor lastError { code message } }";

const CUSTOMERS = `query DashboardCustomers($filter: CustomerFilter, $first: Int, $after: String) {
  eventsHead viewer { orgKind }
  customers(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id name externalId status updatedAt ${WORK} } }
  }
}`;
const COUNTS = `query DashboardTiles($filter: DashboardFilter) {
  dashboardCounts(filter: $filter) { customers retrying customersByStatus { status count } }
}`;
const DETAIL = `query DashboardCustomer($id: ID!) {
  customer(id: $id) {
    id name externalId status orgId createdAt lastStatusChange ${WORK}
    errors { code message } compliance { state reviewDeadline }
    events(first: 100) {
      totalCount
      edges { node { cursor occurredAt action entityType fromStatus toStatus reason
        actor { kind sub system roles onBehalfOfSubPartnerOrgId } changes { field from to } } }
    }
  }
}`;

function actorText(actor) {
  if (actor.kind === "SYSTEM" || !actor.sub) return actor.system ? `system (${actor.system})` : actor.kind.toLowerCase();
  const behalf = actor.onBehalfOfSubPartnerOrgId ? ` for ${actor.onBehalfOfSubPartnerOrgId}` : "";
  return `${actor.sub}${actor.roles.length ? ` (${actor.roles.join(", ")})` : ""}${behalf}`;
}

function describeEvent(e) {
  const what = e.entityType === "CUSTOMER" ? "" : `${e.entityType.toLowerCase().replace(/_/g, " ")}: `;
  return e.action === "STATUS_CHANGE" ? `${what}${e.fromStatus ?? "—"} → ${e.toStatus}` : `${what}${e.action.toLowerCase()}`;
}

export class PartnerView {
  constructor(token) {
    this.token = token;
    this.pages = [null]; // the `after` of each page seen: "previous" goes back through them
    this.openId = null;
    this.reloadSoon = debounce(() => this.load().catch((e) => showMessage(e.message, "error")), 300);
    this.countsSoon = debounce(() => this.loadCounts(), 300);
    this.detailSoon = debounce(() => this.loadDetail(), 300);
    const select = $("#filter-status");
    for (const status of STATUSES) select.append(el("option", { value: status, text: status.replace(/_/g, " ") }));
    this.scope = false; // whether the table and the feed include the sub-partners' customers
    $("#filter").addEventListener("submit", (event) => {
      event.preventDefault();
      this.pages = [null];
      this.reload();
      this.loadCounts();
    });
    $("#page-next").addEventListener("click", () => { this.pages.push(this.nextAfter); this.reload(); });
    $("#page-prev").addEventListener("click", () => { this.pages.pop(); this.reload(); });
    $("#partner-view").hidden = false;
  }

  filter() {
    const status = $("#filter-status").value;
    const name = $("#filter-name").value.trim();
    return { status: status ? [status] : null, nameContains: name || null, includeSubPartners: $("#filter-subs").checked };
  }

  async reload() {
    try {
      const head = await this.load();
      const scope = $("#filter-subs").checked;
      if (scope !== this.scope) {
        this.scope = scope;
        this.onScope?.(scope, head);
      }
    } catch (error) {
      showMessage(error.message, "error");
    }
  }

  // Loads the current page; returns the events head read with it (where the live feed starts).
  async load() {
    const after = this.pages[this.pages.length - 1];
    const data = await graphql(this.token, CUSTOMERS, { filter: this.filter(), first: PAGE_SIZE, after });
    const { totalCount, pageInfo, edges } = data.customers;
    this.nextAfter = pageInfo.endCursor;
    $("#filter-subs").closest("label").hidden = data.viewer.orgKind !== "PARTNER"; // a sub-partner has none
    $("#customers-total").textContent = `(${totalCount})`;
    $("#page-number").textContent = `page ${this.pages.length}`;
    $("#page-prev").disabled = this.pages.length === 1;
    $("#page-next").disabled = !pageInfo.hasNextPage;
    $("#customers tbody").replaceChildren(...edges.map(({ node }) => this.row(node)));
    return data.eventsHead;
  }

  row(customer) {
    return el("tr", { "data-id": customer.id, "data-status": customer.status, onclick: () => this.open(customer.id) },
      el("td", { class: "name", text: customer.name }),
      el("td", { text: customer.externalId }),
      el("td", { class: "status" }, el("span", { class: `badge ${customer.status}`, text: customer.status })),
      el("td", { class: "work", text: backgroundWork(customer.backgroundWork) }),
      el("td", { class: "updated", text: when(customer.updatedAt) }));
  }

  async loadCounts() {
    const tiles = $("#tiles");
    try {
      const { dashboardCounts: counts } = await graphql(this.token, COUNTS,
        { filter: { includeSubPartners: $("#filter-subs").checked } });
      const tile = (key, label, count) => el("div", { class: "tile", "data-tile": key },
        el("span", { class: "count", text: String(count) }), el("span", { class: "label", text: label }));
      tiles.replaceChildren(tile("customers", "customers", counts.customers),
        ...counts.customersByStatus.map((c) => tile(c.status, c.status.replace(/_/g, " "), c.count)),
        tile("retrying", "retrying", counts.retrying));
      tiles.dataset.state = "ready";
    } catch (error) {
      tiles.replaceChildren(el("p", { class: "unavailable", text: `Counts unavailable: ${error.message}` }));
      tiles.dataset.state = "unavailable";
    }
  }

  // A live event: the row changes in place; a customer not on this page reloads the first page (a new one).
  apply(event) {
    if (event.entityType === "CUSTOMER") {
      const row = $(`#customers tr[data-id="${CSS.escape(event.entityId)}"]`);
      if (row) {
        // The customer as it is now (the event's `toStatus` may be older than what the table already shows).
        const status = event.customer?.status ?? event.toStatus;
        row.dataset.status = status;
        row.querySelector(".status").replaceChildren(el("span", { class: `badge ${status}`, text: status }));
        row.querySelector(".updated").textContent = when(event.occurredAt);
        row.classList.remove("changed");
        void row.offsetWidth; // restart the highlight
        row.classList.add("changed");
        if (event.customer) row.querySelector(".work").textContent = backgroundWork(event.customer.backgroundWork);
      } else if (this.pages.length === 1) {
        this.reloadSoon();
      }
    }
    if (this.openId && (event.entityId === this.openId || event.customerId === this.openId)) this.detailSoon();
    this.countsSoon();
  }

  async open(id) {
    this.openId = id;
    await this.loadDetail();
  }

  async loadDetail() {
    if (!this.openId) return;
    const { customer } = await graphql(this.token, DETAIL, { id: this.openId });
    const detail = $("#detail");
    detail.hidden = false;
    detail.dataset.id = this.openId;
    if (!customer) {
      $("#detail-name").textContent = "Customer not found (deleted, or not visible)";
      return;
    }
    $("#detail-name").textContent = customer.name;
    const facts = [["Status", customer.status], ["External id", customer.externalId], ["Webex org", customer.orgId ?? "—"],
      ["Compliance", customer.compliance.state], ["Created", when(customer.createdAt)],
      ["Last status change", when(customer.lastStatusChange)],
      ["Errors", customer.errors.map((e) => `${e.code}: ${e.message}`).join("; ") || "none"]];
    $("#detail-facts").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })]));
    $("#detail-work").textContent = backgroundWork(customer.backgroundWork) || "none (idle)";
    const { totalCount, edges } = customer.events;
    $("#detail-history-total").textContent = `(${totalCount})`;
    $("#history tbody").replaceChildren(...edges.map(({ node: e }) => el("tr", { "data-event-id": e.cursor },
      el("td", { text: when(e.occurredAt) }),
      el("td", { class: "actor", text: actorText(e.actor) }),
      el("td", { text: describeEvent(e) }),
      el("td", { text: e.changes.map((c) => `${c.field}: ${c.from ?? "—"} → ${c.to ?? "—"}`).join("; ") || e.reason || "" }))));
  }
}
