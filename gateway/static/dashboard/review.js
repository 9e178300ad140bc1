// The compliance reviewer's view: customers waiting for a restricted-party decision, approve / reject (R-RPL-2).
import { graphql } from "./api.js";
import { $, debounce, el, showMessage, when } from "./dom.js";

const QUEUE = `query DashboardReviewQueue {
  eventsHead
  rplReviewQueue(first: 50) {
    totalCount
    edges { node { id name externalId status compliance { state reviewDeadline matches { listName entryName country } } } }
  }
}`;
const DECIDE = `mutation DashboardDecide($id: ID!, $decision: RplDecision!) {
  decideRplReview(customerId: $id, decision: $decision) { customer { id status } errors { code message } }
}`;

export class ReviewView {
  constructor(token) {
    this.token = token;
    this.reloadSoon = debounce(() => this.load().catch((e) => showMessage(e.message, "error")), 300);
    $("#review-view").hidden = false;
  }

  async load() {
    const data = await graphql(this.token, QUEUE);
    const { totalCount, edges } = data.rplReviewQueue;
    $("#review-total").textContent = `(${totalCount})`;
    $("#review-queue tbody").replaceChildren(...edges.map(({ node }) => this.row(node)));
    return data.eventsHead;
  }

  row(customer) {
    const { compliance } = customer;
    const matches = compliance.matches.map((m) => `${m.entryName} (${m.listName}${m.country ? `, ${m.country}` : ""})`);
    const decide = (decision) => () => this.decide(customer, decision);
    return el("tr", { "data-id": customer.id, "data-status": customer.status },
      el("td", { text: `${customer.name} · ${customer.externalId}` }),
      el("td", { class: "status", text: customer.status }),
      el("td", { text: matches.join("; ") || "—" }),
      el("td", { text: when(compliance.reviewDeadline) }),
      el("td", {},
        el("button", { type: "button", class: "approve", onclick: decide("APPROVE"), text: "Approve" }),
        el("button", { type: "button", class: "reject", onclick: decide("REJECT"), text: "Reject" })));
  }

  async decide(customer, decision) {
    try {
      const { decideRplReview: result } = await graphql(this.token, DECIDE, { id: customer.id, decision });
      if (result.errors.length) {
        showMessage(result.errors.map((e) => e.message).join("; "), "error");
      } else {
        showMessage(`${customer.name}: ${decision === "APPROVE" ? "approved" : "rejected"}`);
      }
    } catch (error) {
      showMessage(error.message, "error");
    }
    await this.load();
  }

  apply(event) {
    if (event.entityType === "CUSTOMER") this.reloadSoon();
  }
}
