// The resale partners' trials view (DOMAIN.md §10, R-TRI-11): the trials the token may see, soonest end first,
// with their days remaining; those ending within 7 days are marked and counted as "expiring soon".
import { graphql } from "./api.js";
import { $, debounce, el, showMessage, when } from "./dom.js";

const SOON_DAYS = 7;
const TRIALS = `query DashboardTrials($filter: TrialFilter) {
  trials(filter: $filter, first: 50, orderBy: ENDS_AT_ASC) {
    totalCount
    edges { node { id companyName status services daysRemaining endsAt } }
  }
  expiring: trials(filter: { expiringWithinDays: ${SOON_DAYS} }) { totalCount }
}`;

export class TrialsView {
  // `always`: show the view even without trials (a sales admin's token is for nothing else).
  constructor(token, always) {
    this.token = token;
    this.always = always;
    this.reloadSoon = debounce(() => this.load().catch((e) => showMessage(e.message, "error")), 300);
    $("#trials-soon-only").addEventListener("change", () => this.reloadSoon());
  }

  async load() {
    const soonOnly = $("#trials-soon-only").checked;
    let data;
    try {
      data = await graphql(this.token, TRIALS, { filter: soonOnly ? { expiringWithinDays: SOON_DAYS } : null });
    } catch (error) {
      if (this.always) throw error; // a sales admin's page has nothing else to show
      $("#trials-view").hidden = true; // e.g. a token without trials_read: the rest of the page is unaffected
      return;
    }
    const { totalCount, edges } = data.trials;
    const view = $("#trials-view");
    view.hidden = !this.always && totalCount === 0 && !soonOnly;
    $("#trials-total").textContent = `(${totalCount})`;
    $("#trials-expiring .count").textContent = String(data.expiring.totalCount);
    $("#trials tbody").replaceChildren(...edges.map(({ node }) => this.row(node)));
    view.dataset.state = "ready";
  }

  row(trial) {
    const soon = trial.status === "active" && trial.daysRemaining !== null && trial.daysRemaining <= SOON_DAYS;
    return el("tr", { "data-id": trial.id, "data-status": trial.status, class: soon ? "expiring" : null },
      el("td", { class: "name", text: trial.companyName }),
      el("td", { class: "status" }, el("span", { class: `badge ${trial.status}`, text: trial.status.replace(/_/g, " ") })),
      el("td", { text: trial.services.join(", ") }),
      el("td", { class: "days", text: trial.daysRemaining === null ? "—" : String(trial.daysRemaining) }),
      el("td", { class: "ends", text: when(trial.endsAt) }));
  }

  // A live trial event: the list is read again (a status or an end date moved).
  apply(event) {
    if (event.entityType === "TRIAL") this.reloadSoon();
  }
}
