// Small DOM helpers: everything shown is set as text, never parsed as HTML.

export const $ = (selector, root = document) => root.querySelector(selector);

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

export function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toISOString().replace("T", " ").slice(0, 19) + "Z";
}

export function showMessage(text, kind = "info") {
  const message = $("#message");
  message.textContent = text;
  message.dataset.kind = kind;
  message.hidden = !text;
}

export function backgroundWork(work) {
  if (!work) return "";
  const parts = [`${work.kind}`];
  if (work.attempts) parts.push(`${work.attempts} failed attempt${work.attempts === 1 ? "" : "s"}`);
  if (work.nextAttemptAt) parts.push(`next ${when(work.nextAttemptAt)}`);
  if (work.waitingFor) parts.push(`waiting for ${work.waitingFor.replace(/_/g, " ")}`);
  if (work.lastError) parts.push(`last error ${work.lastError.code}`);
  return parts.join(" · ");
}

// Coalesces bursts of calls into one, `ms` after the last (reloads after a flurry of events).
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
