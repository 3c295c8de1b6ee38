// The chat room page: history, live messages, presence, sending, the connection's state.
// Reconnecting, resuming with ?after= and de-duplicating by id are ResumableSocket's job.
// Everything a user wrote is put on the page with textContent: shown as text, never run as HTML.

import { ResumableSocket } from "../js/resumable-socket.js";

const MAX_LENGTH = 2000;
const PROBLEM_SHOWN_MS = 6000;

const root = document.getElementById("chat");
const messageList = root.querySelector("[data-testid=messages]");
const presenceList = root.querySelector("[data-testid=presence]");
const pendingList = root.querySelector("[data-testid=pending]");
const connectionBadge = root.querySelector("[data-testid=connection]");
const problem = root.querySelector("[data-testid=problem]");
const form = root.querySelector("[data-testid=send-form]");

// Sends the server has not confirmed yet, by client_id. Each is resent with the same client_id
// after a reconnect: the server stores a client_id once, so a resend can never make a duplicate.
const pending = new Map();

// A character that draws something: not a space, control or format character (zero-width, bidi),
// nor a blank letter. The server's rule, visible() in chat/protocol.py.
const VISIBLE = /[^\s\p{Cc}\p{Cf}\p{Zs}\p{Zl}\p{Zp}\u115F\u1160\u3164\uFFA0\u2800]/u;

function newClientId() {
  // crypto.randomUUID() exists only on https:// and localhost pages; this works everywhere.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// Messages ---------------------------------------------------------------------------------------

function messageItem(message) {
  const item = element("li", "message");
  item.dataset.id = String(message.id);
  const created = new Date(message.created);
  const time = element("time", "when", created.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }));
  time.dateTime = message.created;
  time.title = created.toLocaleString();
  // <bdi>: each name and text is its own bidirectional island, so a right-to-left override in one
  // message (U+202E) cannot reorder the name, the time or the messages around it.
  item.append(time, element("bdi", "user", message.user), element("bdi", "text", message.text));
  return item;
}

function showMessage(message) {
  const nearBottom = messageList.scrollHeight - messageList.scrollTop - messageList.clientHeight < 40;
  const item = messageItem(message);
  // Messages arrive in id order; keep that order even if one ever does not.
  let next = null;
  for (let node = messageList.lastElementChild; node; node = node.previousElementSibling) {
    if (Number(node.dataset.id) < message.id) break;
    next = node;
  }
  messageList.insertBefore(item, next);
  if (nearBottom) messageList.scrollTop = messageList.scrollHeight;
  if (message.client_id && pending.has(message.client_id)) {
    pending.get(message.client_id).item.remove();
    pending.delete(message.client_id);
  }
}

function showPresence(users) {
  presenceList.replaceChildren(...users.map((user) => element("li", "", user)));
}

function showProblem(text) {
  problem.textContent = text;
  problem.hidden = false;
  clearTimeout(showProblem.timer);
  showProblem.timer = setTimeout(() => {
    problem.hidden = true;
  }, PROBLEM_SHOWN_MS);
}

// Sending ----------------------------------------------------------------------------------------

function setPendingState(entry, state, detail) {
  entry.state = state;
  entry.item.dataset.state = state;
  const labels = {
    sending: "sending…",
    queued: "not sent yet: will send when the connection is back",
    failed: `not sent: ${detail}`,
  };
  entry.status.textContent = labels[state];
  entry.retry.hidden = state !== "failed";
}

function trySend(entry) {
  const sent = socket.send({ type: "message", text: entry.text, client_id: entry.clientId });
  setPendingState(entry, sent ? "sending" : "queued");
}

function queueMessage(text) {
  const clientId = newClientId();
  const item = element("li", "pending-message");
  item.dataset.clientId = clientId;
  const status = element("span", "status");
  const retry = element("button", "retry", "Retry");
  retry.type = "button";
  const discard = element("button", "discard", "Discard");
  discard.type = "button";
  item.append(element("bdi", "text", text), status, retry, discard);
  pendingList.append(item);
  const entry = { clientId, text, item, status, retry, state: null };
  pending.set(clientId, entry);
  retry.addEventListener("click", () => trySend(entry));
  discard.addEventListener("click", () => {
    item.remove();
    pending.delete(clientId);
  });
  trySend(entry);
}

function resendPending() {
  for (const entry of pending.values()) {
    if (entry.state !== "failed") trySend(entry);
  }
}

function markUnsentQueued() {
  for (const entry of pending.values()) {
    if (entry.state === "sending") setPendingState(entry, "queued");
  }
}

if (form) {
  const input = form.querySelector("input[name=text]");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    if (!VISIBLE.test(text)) return; // blank: the server would refuse it (chat/protocol.py)
    if ([...text].length > MAX_LENGTH) {
      showProblem(`A message can have at most ${MAX_LENGTH.toLocaleString("en-US")} characters.`);
      return;
    }
    queueMessage(text);
    input.value = "";
    input.focus();
  });
}

// Frames and connection state ----------------------------------------------------------------------

function handleFrame(frame) {
  if (frame.type === "presence") {
    showPresence(frame.users);
  } else if (frame.type === "error") {
    const entry = frame.client_id && pending.get(frame.client_id);
    if (entry) setPendingState(entry, "failed", frame.detail);
    else showProblem(`${frame.detail} (${frame.code})`);
  }
}

function showState(state, detail) {
  connectionBadge.dataset.state = state;
  const labels = {
    connecting: "Connecting…",
    open: "Connected",
    waiting: `Disconnected; trying again in ${Math.ceil((detail.delayMs ?? 0) / 1000)} s`,
    closed: "Closed",
  };
  connectionBadge.textContent = labels[state];
  if (state === "open") resendPending();
  if (state === "waiting") markUnsentQueued();
}

const socket = new ResumableSocket(root.dataset.socketPath, {
  port: root.dataset.socketPort,
  onItem: showMessage,
  onFrame: handleFrame,
  onStateChange: showState,
});
socket.start();
