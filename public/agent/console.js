// The agent console: first-run setup, login, the session (status, poll loop, panes) and the
// routing of poll events to chat panes, the queue, history and the announcement banner.
//
// Reloads: the token lives in localStorage (every tab of the browser is signed in); the poll
// cursor and the list of chat panes are this tab's own (tabstate.js). After a reload each
// listed pane is rebuilt from GET /api/chats/{id}/messages (closed ones included) and its
// unsent replies go out again, then polling resumes from the stored cursor; panes drop events
// they already show by (chat_id, seq), so nothing is lost or shown twice. Without a stored
// cursor (a fresh login, a new tab) the first polls have no cursor and replay the open chats
// from their start.

import { api, onUnauthorized, Poller, setTab, setToken } from './api.js';
import { BansView } from './bans.js';
import { CannedEditor } from './canned.js';
import { ChatPane, configureChats, markReadEverywhere, refreshAgents, refreshCannedSelects } from './chats.js';
import { HistoryView, TranscriptView } from './history.js';
import { Notifier } from './notify.js';
import { clearOutbox, pruneOutbox } from './outbox.js';
import { attentive } from './readmarks.js';
import { OfflineView, QueueView, VisitorsView } from './sidebar.js';
import {
  clearState, DISMISSED_KEY, dismissChat, dropOldKeys, loadView, readDismissed, saveView, undismissChat,
} from './tabstate.js';
import { $, randomId, sb, store } from './util.js';

const AUTH_KEY = 'sb.console.auth';
const STATUS_KEY = 'sb.console.status';
const TAB_KEY = 'sb.console.tab';
const EXPIRED_NOTE = 'Your session has ended. Please sign in again.';

const ui = {
  auth: $('#auth'),
  app: $('#app'),
  setupForm: sb('setup-form'),
  setupError: sb('setup-error'),
  loginForm: sb('login-form'),
  loginNote: sb('login-note'),
  loginError: sb('login-error'),
  me: sb('me'),
  capacity: $('#capacity'),
  status: sb('status'),
  statusError: $('#status-error'),
  connection: sb('connection'),
  grid: sb('chats'),
  emptyChats: $('#empty-chats'),
  announcement: sb('announcement'),
  paused: $('#paused'),
};

const notifier = new Notifier(sb('enable-sound'));
const transcript = new TranscriptView(sb('transcript'));
const history = new HistoryView(sb('history'), transcript);
const queue = new QueueView(sb('queue'));
const visitors = new VisitorsView(sb('visitors'), (chatId) => openPane(chatId)); // my own invitation: no alert
const offline = new OfflineView(sb('offline-messages'));
const bans = new BansView(sb('bans'));
const canned = new CannedEditor(sb('canned-editor'), refreshCannedSelects);

/** The signed-in session; null while the login form shows. */
let session = null;
let tabId = null;
const panes = new Map();

// --- tab identity ---

/**
 * This tab's poll id, kept in sessionStorage so a reload supersedes the old page's poll. A
 * duplicated tab copies sessionStorage, so a tab that finds its id answered by another live
 * tab takes a new one instead of the two superseding each other. The tab keeps answering for
 * whatever id it holds now (it takes a new one on "Resume here").
 */
async function claimTabId() {
  const wanted = sessionStorage.getItem(TAB_KEY) || randomId('tab');
  let id = wanted;
  if ('BroadcastChannel' in window) {
    const channel = new BroadcastChannel('sb-console-tabs');
    channel.addEventListener('message', (event) => {
      if (event.data && event.data.type === 'who' && tabId && event.data.id === tabId) {
        channel.postMessage({ type: 'taken', id: tabId });
      }
    });
    const taken = new Promise((resolve) => {
      setTimeout(() => resolve(false), 150);
      channel.addEventListener('message', (event) => {
        if (event.data && event.data.type === 'taken' && event.data.id === wanted) resolve(true);
      });
    });
    channel.postMessage({ type: 'who', id: wanted });
    if (await taken) id = randomId('tab');
  }
  sessionStorage.setItem(TAB_KEY, id);
  return id;
}

// --- setup and login ---

async function showAuth(note) {
  ui.app.hidden = true;
  ui.auth.hidden = false;
  let needed = false;
  try {
    needed = (await api('GET', '/api/setup', undefined, { anonymous: true })).needed === true;
  } catch (_) { /* show the login form; its submit reports the server being unreachable */ }
  ui.setupForm.hidden = !needed;
  ui.loginForm.hidden = needed;
  ui.loginNote.hidden = !note;
  ui.loginNote.textContent = note || '';
  const form = needed ? ui.setupForm : ui.loginForm;
  const first = form.querySelector('input');
  if (first) first.focus();
}

function showFormError(node, text) {
  node.textContent = text || '';
  node.hidden = !text;
}

async function submitAuth(event, path, fields, errorNode) {
  event.preventDefault();
  const form = event.currentTarget;
  if (!form.reportValidity()) return;
  const body = {};
  for (const field of fields) body[field] = form.elements[field].value.trim();
  if (body.password !== undefined) body.password = form.elements.password.value;
  const button = form.querySelector('button[type=submit]');
  button.disabled = true;
  showFormError(errorNode, '');
  try {
    const answer = await api('POST', path, body, { anonymous: true });
    form.reset();
    const { token, ...agent } = answer;
    startSession({ token, agent }, false);
  } catch (error) {
    if (error.code === 'setup_done') {
      showAuth('An administrator already exists. Please sign in.');
    } else {
      showFormError(errorNode, error.message);
    }
  } finally {
    button.disabled = false;
  }
}

ui.setupForm.addEventListener('submit', (event) => {
  submitAuth(event, '/api/setup', ['employee_id', 'name', 'password'], ui.setupError);
});
ui.loginForm.addEventListener('submit', (event) => {
  submitAuth(event, '/api/agent/login', ['employee_id', 'password'], ui.loginError);
});

// --- the session ---

async function startSession(auth, resume) {
  setToken(auth.token);
  store.set(AUTH_KEY, auth);
  dropOldKeys();
  if (!resume) {
    clearState();
    clearOutbox();
  }
  const saved = resume ? loadView() : { cursor: '', panes: [] };
  session = { auth, me: auth.agent, poller: null, timers: [], cursor: saved.cursor, viewReady: false };
  configureChats({
    me: auth.agent,
    notify: (kind, info) => notifier.notify(info),
    dismiss: dismissPane,
    changed: paneChanged,
    banned: () => bans.refresher.soon(),
    self: (agent) => {
      if (!session) return;
      session.me.max_chats = agent.max_chats;
      paneChanged();
    },
  });
  ui.auth.hidden = true;
  ui.app.hidden = false;
  ui.paused.hidden = true;
  ui.me.textContent = auth.agent.name;
  paneChanged();

  // A reload keeps the chosen status; signing in means coming to work.
  const wanted = resume && store.get(STATUS_KEY, 'online') === 'away' ? 'away' : 'online';
  ui.status.value = wanted;
  setStatus(wanted);

  let rebuilt = true;
  if (saved.panes.length) {
    rebuilt = await rebuildPanes(saved.panes);
    if (!session || session.auth !== auth) return; // the token died while rebuilding
    // A pane could not be read: replay every open chat instead, and ask about the panes
    // the replay does not mention (their chat may have left this agent meanwhile).
    if (!rebuilt) session.cursor = '';
  }
  pruneOutbox(Array.from(panes.keys()));
  session.viewReady = true; // from here on the stored view follows this page
  paneChanged();
  startPolling(session.cursor, { resync: !rebuilt });
  for (const view of [queue, visitors, offline, bans]) view.refresher.start();
  canned.start();
  history.load();
  refreshAgents();
  session.timers.push(setInterval(refreshAgents, 10000));
  session.timers.push(setInterval(() => { queue.tick(); visitors.tick(); }, 1000));
}

function startPolling(cursor, { resync = false } = {}) {
  const poller = new Poller({
    tab: tabId,
    cursor,
    resync,
    handlers: {
      events: handleEvents,
      cursor: saveCursor,
      state: showConnection,
      reset: () => {},
      resync: recheckPanes,
    },
  });
  session.poller = poller;
  poller.start();
}

/** Called after each answer's events are shown: the cursor is stored with the panes it covers. */
function saveCursor(text) {
  if (!session) return;
  session.cursor = text;
  paneChanged();
}

/** Asks the server about every pane that still looks open: see ChatPane.recheck. */
function recheckPanes() {
  for (const pane of panes.values()) {
    if (!pane.readOnly) pane.recheck();
  }
}

function showConnection(state) {
  const labels = { connected: 'Connected', retrying: 'Reconnecting…', superseded: 'Paused' };
  ui.connection.dataset.state = state;
  ui.connection.textContent = labels[state] || state;
  ui.paused.hidden = state !== 'superseded';
}

ui.paused.querySelector('button').addEventListener('click', () => {
  if (!session) return;
  tabId = randomId('tab');
  sessionStorage.setItem(TAB_KEY, tabId);
  setTab(tabId);
  ui.paused.hidden = true;
  // The cursor of what this page has shown (a poller's own may be part-way through a replay).
  // While paused this tab heard nothing: chats may have moved on without it.
  startPolling(session.cursor, { resync: true });
});

function endSession(note) {
  if (!session) {
    showAuth(note);
    return;
  }
  if (session.poller) session.poller.stop();
  session.timers.forEach(clearInterval);
  session = null;
  for (const view of [queue, visitors, offline, bans]) view.refresher.stop();
  canned.stop();
  for (const pane of panes.values()) pane.dispose();
  panes.clear();
  store.remove(AUTH_KEY);
  clearState();
  clearOutbox();
  setToken(null);
  transcript.close();
  ui.announcement.hidden = true;
  notifier.clearTitle();
  showAuth(note);
}

onUnauthorized(() => {
  if (session) endSession(EXPIRED_NOTE);
});

sb('logout').addEventListener('click', async () => {
  try {
    await api('POST', '/api/agent/logout', {});
  } catch (_) { /* the token is dropped here either way */ }
  endSession();
});

async function setStatus(value) {
  ui.statusError.hidden = true;
  try {
    await api('POST', '/api/agent/status', { status: value });
    store.set(STATUS_KEY, value);
    refreshAgents();
  } catch (error) {
    if (error.status === 401) return;
    ui.statusError.textContent = error.message;
    ui.statusError.hidden = false;
    ui.status.value = store.get(STATUS_KEY, 'online');
  }
}

ui.status.addEventListener('change', () => setStatus(ui.status.value));

// --- chat panes ---

function createPane(chatId) {
  let pane = panes.get(chatId);
  if (pane) return pane;
  pane = new ChatPane(chatId);
  panes.set(chatId, pane);
  ui.grid.append(pane.el);
  paneChanged();
  return pane;
}

/**
 * A pane for a chat that just reached me (or that I invited); the header loads in the
 * background (`pane.detailLoaded`). `backfill`: the first event seen is not the chat's start
 * (it came back part-way through a replay), so the history is read as well.
 */
function openPane(chatId, { backfill = false } = {}) {
  const existed = panes.has(chatId);
  const pane = createPane(chatId);
  if (!existed) {
    pane.restoreSends();
    if (backfill) pane.loadHistory().catch(() => { /* the poll still shows what comes next */ });
    pane.detailLoaded = pane.loadDetail();
  }
  return pane;
}

/** "New chat" once the visitor's name is known, if the chat is still open and mine. */
function announceNewChat(pane) {
  pane.detailLoaded.then(() => {
    if (pane.status === 'open' && panes.get(pane.id) === pane) {
      notifier.notify({ title: 'New chat', body: `${pane.visitorName} is waiting for you.`, tag: pane.id });
    }
  });
}

/** After a reload: every listed pane from its stored events. False if one could not be read. */
async function rebuildPanes(ids) {
  const dismissed = readDismissed();
  const results = await Promise.all(ids.map(async (chatId) => {
    const pane = createPane(chatId);
    try {
      const detail = await api('GET', `/api/chats/${encodeURIComponent(chatId)}`);
      if (!detail.agent || detail.agent.agent_id !== session.me.agent_id) {
        removePane(pane); // handed on while the page reloaded (admins may still read it)
        return true;
      }
      if (dismissed.has(chatId) && dismissed.get(chatId) >= Number(detail.last_seq)) {
        removePane(pane); // another tab dismissed it, and nothing happened in it since
        return true;
      }
      await pane.loadHistory();
      await pane.loadDetail(detail);
      pane.restoreSends();
      pane.reads.maybeMarkRead();
      return true;
    } catch (error) {
      if (error.status === 403 || error.status === 404) {
        removePane(pane); // handed on or gone while the page reloaded
        return true;
      }
      if (panes.get(chatId) === pane) pane.restoreSends(); // the replay fills the pane in
      return error.status === 401;
    }
  }));
  return results.every(Boolean);
}

function removePane(pane) {
  panes.delete(pane.id);
  pane.dispose();
  paneChanged();
}

function dismissPane(pane) {
  dismissChat(pane.id, pane.knownSeq);
  removePane(pane);
}

/** Updates the counts and, once the panes of a reload are rebuilt, this tab's stored view. */
function paneChanged() {
  if (session && session.viewReady) saveView(session.cursor, Array.from(panes.keys()));
  const open = Array.from(panes.values()).filter((pane) => pane.status === 'open').length;
  ui.emptyChats.hidden = panes.size > 0;
  const max = session && session.me.max_chats;
  ui.capacity.textContent = max ? `· ${open}/${max} chats` : '';
}

// --- poll events ---

/** A stored chat event (not a notice like typing or read). */
function isChatEvent(ev) {
  return Boolean(ev.chat_id) && /^(message|chat\.)/.test(ev.type);
}

/** The copy of a transfer sent to the agent who handed the chat on: not a sign the chat is mine. */
function handedAway(ev, me) {
  return ev.type === 'chat.transferred' && !(ev.to && ev.to.agent_id === me);
}

/**
 * Chats this agent dismissed that have moved on since (transferred back, reassigned from the
 * queue): they are this agent's again and show with their history, which the server replays
 * from the start once the chat is back among the agent's chats. Returns the dismissed map
 * without them.
 */
function reviveDismissed(events, me) {
  const dismissed = readDismissed();
  for (const ev of events) {
    const seen = isChatEvent(ev) ? dismissed.get(ev.chat_id) : undefined;
    if (seen !== undefined && ev.seq > seen && !handedAway(ev, me)) {
      dismissed.delete(ev.chat_id);
      undismissChat(ev.chat_id);
    }
  }
  return dismissed;
}

function handleEvents(events, { fresh }) {
  if (!session) return;
  const me = session.me.agent_id;
  const dismissed = reviveDismissed(events, me);
  // A replay without cursor also returns recently closed chats: those belong to history.
  const closedInReplay = new Set(fresh ? events.filter((ev) => ev.type === 'chat.closed').map((ev) => ev.chat_id) : []);
  // A chat new to this page arrives with its history; one "new chat" alert covers all of it.
  // Value: the last event that gave the chat to an agent (invited, assigned, transferred).
  const createdNow = new Map();
  let chatEvents = false;
  let closed = false;
  for (const ev of events) {
    try {
      const routed = routeEvent(ev, { fresh, me, dismissed, closedInReplay, createdNow });
      if (routed) chatEvents = true;
      if (routed && ev.type === 'chat.closed') closed = true;
    } catch (err) {
      // One event that cannot be shown must not cost the rest of the answer.
      console.error('switchboard: showing an event failed', ev.type, err);
    }
  }
  // No alert for the replay of chats that were already mine, nor for my own invitations (a
  // chat I invited that came to me again by transfer or from the queue is news).
  for (const [chatId, given] of createdNow) {
    const pane = panes.get(chatId);
    const invitedByMe = given && given.type === 'chat.invited' && given.agent && given.agent.agent_id === me;
    if (pane && !fresh && !invitedByMe) announceNewChat(pane);
  }
  if (chatEvents) queue.refresher.soon();
  if (closed) history.load();
  markReadEverywhere();
  paneChanged();
}

/** Shows one poll event; true if it was a chat event (message or chat.*). */
function routeEvent(ev, { fresh, me, dismissed, closedInReplay, createdNow }) {
  if (ev.type === 'announcement') {
    showAnnouncement(ev.body);
    notifier.notify({ title: 'Announcement', body: ev.body, tag: 'announcement' });
    return false;
  }
  if (!ev.chat_id) return false;
  const pane = panes.get(ev.chat_id);
  if (ev.type === 'typing') {
    if (pane && ev.from === 'visitor') pane.typing.show(ev.typing === true);
    return false;
  }
  if (ev.type === 'read') {
    if (pane && ev.from === 'visitor') pane.reads.setSeen(ev.seq);
    return false;
  }
  if (!isChatEvent(ev)) return false;
  if (dismissed.has(ev.chat_id)) return true;
  if (!pane) {
    if (closedInReplay.has(ev.chat_id)) return true;
    if (handedAway(ev, me)) return true;
    openPane(ev.chat_id, { backfill: ev.seq > 1 });
    createdNow.set(ev.chat_id, null);
  }
  if (createdNow.has(ev.chat_id) && /^chat\.(invited|assigned|transferred)$/.test(ev.type)) {
    createdNow.set(ev.chat_id, ev);
  }
  panes.get(ev.chat_id).apply(ev, { live: !fresh && !createdNow.has(ev.chat_id) });
  return true;
}

function showAnnouncement(body) {
  ui.announcement.querySelector('.banner-text').textContent = body;
  ui.announcement.hidden = false;
}

ui.announcement.querySelector('button').addEventListener('click', () => {
  ui.announcement.hidden = true;
});

window.addEventListener('focus', markReadEverywhere);

// What the agent's other tabs change: the status they chose, the chats they dismissed.
window.addEventListener('storage', (event) => {
  if (!session) return;
  if (event.key === STATUS_KEY) {
    const status = store.get(STATUS_KEY, 'online');
    if (status === 'online' || status === 'away') ui.status.value = status;
  } else if (event.key === DISMISSED_KEY) {
    const dismissed = readDismissed();
    for (const pane of Array.from(panes.values())) {
      if (pane.readOnly && dismissed.has(pane.id) && dismissed.get(pane.id) >= pane.knownSeq) removePane(pane);
    }
  }
});
document.addEventListener('visibilitychange', () => {
  if (attentive()) markReadEverywhere();
});

// --- start ---

(async () => {
  tabId = await claimTabId();
  setTab(tabId);
  const auth = store.get(AUTH_KEY);
  if (auth && auth.token && auth.agent && auth.agent.agent_id) startSession(auth, true);
  else showAuth();
})();
