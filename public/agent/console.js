// The agent console: first-run setup, login, the session (status, poll loop, panes) and the
// routing of poll events to chat panes, the queue, history and the announcement banner.
//
// Reloads: the token, the poll cursor and the list of chat panes live in localStorage. After
// a reload each listed pane is rebuilt from GET /api/chats/{id}/messages (closed ones
// included), then polling resumes from the stored cursor; panes drop events they already
// show by (chat_id, seq), so nothing is lost or shown twice. Without a stored cursor (a fresh
// login) the first poll has no cursor and returns the open chats from their start.

import { api, onUnauthorized, Poller, setToken } from './api.js';
import { cannedReplies, mountCannedEditor } from './canned.js';
import {
  attentive, ChatPane, configureChats, markReadEverywhere, refreshAgents, refreshCannedSelects,
} from './chats.js';
import { HistoryView, TranscriptView } from './history.js';
import { Notifier } from './notify.js';
import { OfflineView, QueueView, VisitorsView } from './sidebar.js';
import { $, randomId, sb, store } from './util.js';

const AUTH_KEY = 'sb.console.auth';
const CURSOR_KEY = 'sb.console.cursor';
const PANES_KEY = 'sb.console.panes';
const DISMISSED_KEY = 'sb.console.dismissed';
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
const visitors = new VisitorsView(sb('visitors'), (chatId) => openPane(chatId, { announce: false }));
const offline = new OfflineView(sb('offline-messages'));
mountCannedEditor(sb('canned-editor'), refreshCannedSelects);

/** The signed-in session; null while the login form shows. */
let session = null;
let tabId = null;
const panes = new Map();
let dismissed = new Set();

// --- tab identity ---

/**
 * This tab's poll id, kept in sessionStorage so a reload supersedes the old page's poll. A
 * duplicated tab copies sessionStorage, so a tab that finds its id answered by another live
 * tab takes a new one instead of the two superseding each other.
 */
async function claimTabId() {
  let id = sessionStorage.getItem(TAB_KEY) || randomId('tab');
  if ('BroadcastChannel' in window) {
    const channel = new BroadcastChannel('sb-console-tabs');
    const taken = new Promise((resolve) => {
      setTimeout(() => resolve(false), 150);
      channel.addEventListener('message', (event) => {
        if (event.data && event.data.type === 'taken' && event.data.id === id) resolve(true);
      });
    });
    channel.addEventListener('message', (event) => {
      if (event.data && event.data.type === 'who' && event.data.id === id) channel.postMessage({ type: 'taken', id });
    });
    channel.postMessage({ type: 'who', id });
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
  const storedPanes = resume ? store.get(PANES_KEY, []) : [];
  if (!resume) {
    store.remove(CURSOR_KEY);
    store.set(PANES_KEY, []);
    store.set(DISMISSED_KEY, []);
  }
  session = { auth, me: auth.agent, poller: null, timers: [] };
  dismissed = new Set(store.get(DISMISSED_KEY, []));
  configureChats({
    me: auth.agent,
    canned: cannedReplies,
    notify: (kind, info) => notifier.notify(info),
    dismiss: dismissPane,
    changed: paneChanged,
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

  let cursor = resume ? store.get(CURSOR_KEY, '') : '';
  if (resume) {
    const rebuilt = await rebuildPanes(Array.isArray(storedPanes) ? storedPanes : []);
    if (!session || session.auth !== auth) return; // the token died while rebuilding
    if (!rebuilt) cursor = ''; // a pane could not be rebuilt: replay every open chat instead
  }
  startPolling(cursor || '');
  for (const view of [queue, visitors, offline]) view.refresher.start();
  history.load();
  refreshAgents();
  session.timers.push(setInterval(refreshAgents, 10000));
  session.timers.push(setInterval(() => { queue.tick(); visitors.tick(); }, 1000));
}

function startPolling(cursor) {
  const poller = new Poller({
    tab: tabId,
    cursor,
    handlers: {
      events: handleEvents,
      cursor: (text) => store.set(CURSOR_KEY, text),
      state: showConnection,
      reset: () => {},
    },
  });
  session.poller = poller;
  poller.start();
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
  ui.paused.hidden = true;
  startPolling(session.poller ? session.poller.cursor : store.get(CURSOR_KEY, ''));
});

function endSession(note) {
  if (!session) {
    showAuth(note);
    return;
  }
  if (session.poller) session.poller.stop();
  session.timers.forEach(clearInterval);
  session = null;
  for (const view of [queue, visitors, offline]) view.refresher.stop();
  for (const pane of panes.values()) pane.dispose();
  panes.clear();
  for (const key of [AUTH_KEY, CURSOR_KEY, PANES_KEY, DISMISSED_KEY]) store.remove(key);
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

/** A pane for a chat that just reached me (or that I invited); the header loads in the background. */
function openPane(chatId, { announce }) {
  const existed = panes.has(chatId);
  const pane = createPane(chatId);
  if (!existed) {
    pane.loadDetail().then(() => {
      if (announce && pane.status === 'open') {
        notifier.notify({ title: 'New chat', body: `${pane.visitorName} is waiting for you.`, tag: chatId });
      }
    });
  }
  return pane;
}

/** After a reload: every listed pane from its stored events. False if one could not be read. */
async function rebuildPanes(ids) {
  const results = await Promise.all(ids.filter((id) => typeof id === 'string').map(async (chatId) => {
    const pane = createPane(chatId);
    try {
      const detail = await api('GET', `/api/chats/${encodeURIComponent(chatId)}`);
      if (!detail.agent || detail.agent.agent_id !== session.me.agent_id) {
        removePane(pane); // handed on while the page reloaded (admins may still read it)
        return true;
      }
      let after = 0;
      for (let page = 0; page < 50 && after !== null; page += 1) {
        const answer = await api('GET', `/api/chats/${encodeURIComponent(chatId)}/messages`, undefined, {
          query: { after_seq: after, limit: 200 },
        });
        for (const ev of answer.events || []) pane.apply(ev, { live: false });
        after = answer.next_after_seq === undefined ? null : answer.next_after_seq;
      }
      await pane.loadDetail(detail);
      pane.maybeMarkRead();
      return true;
    } catch (error) {
      if (error.status === 403 || error.status === 404) {
        removePane(pane); // handed on or gone while the page reloaded
        return true;
      }
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
  dismissed.add(pane.id);
  store.set(DISMISSED_KEY, Array.from(dismissed).slice(-200));
  removePane(pane);
}

function paneChanged() {
  store.set(PANES_KEY, Array.from(panes.keys()));
  const open = Array.from(panes.values()).filter((pane) => pane.status === 'open').length;
  ui.emptyChats.hidden = panes.size > 0;
  const max = session && session.me.max_chats;
  ui.capacity.textContent = max ? `· ${open}/${max} chats` : '';
}

// --- poll events ---

function handleEvents(events, { fresh }) {
  if (!session) return;
  // A first poll without cursor also returns recently closed chats: those belong to history.
  const closedInAnswer = new Set(fresh ? events.filter((ev) => ev.type === 'chat.closed').map((ev) => ev.chat_id) : []);
  // A chat new to this page arrives with its history; one "new chat" alert covers all of it.
  const createdNow = new Set();
  let chatEvents = false;
  let closed = false;
  const me = session.me.agent_id;
  for (const ev of events) {
    if (ev.type === 'announcement') {
      showAnnouncement(ev.body);
      notifier.notify({ title: 'Announcement', body: ev.body, tag: 'announcement' });
      continue;
    }
    if (!ev.chat_id) continue;
    const pane = panes.get(ev.chat_id);
    if (ev.type === 'typing') {
      if (pane && ev.from === 'visitor') pane.showTyping(ev.typing === true);
      continue;
    }
    if (ev.type === 'read') {
      if (pane && ev.from === 'visitor') pane.setSeen(ev.seq);
      continue;
    }
    if (!/^(message|chat\.)/.test(ev.type)) continue;
    chatEvents = true;
    if (ev.type === 'chat.closed') closed = true;
    if (dismissed.has(ev.chat_id)) continue;
    if (!pane) {
      if (closedInAnswer.has(ev.chat_id)) continue;
      if (ev.type === 'chat.transferred' && !(ev.to && ev.to.agent_id === me)) continue;
      // Invitations are this agent's own doing: no "new chat" alert for them.
      openPane(ev.chat_id, { announce: ev.type !== 'chat.invited' });
      createdNow.add(ev.chat_id);
    }
    panes.get(ev.chat_id).apply(ev, { live: !fresh && !createdNow.has(ev.chat_id) });
  }
  if (chatEvents) queue.refresher.soon();
  if (closed) history.load();
  markReadEverywhere();
  paneChanged();
}

function showAnnouncement(body) {
  ui.announcement.querySelector('.banner-text').textContent = body;
  ui.announcement.hidden = false;
}

ui.announcement.querySelector('button').addEventListener('click', () => {
  ui.announcement.hidden = true;
});

window.addEventListener('focus', markReadEverywhere);
document.addEventListener('visibilitychange', () => {
  if (attentive()) markReadEverywhere();
});

// --- start ---

(async () => {
  tabId = await claimTabId();
  const auth = store.get(AUTH_KEY);
  if (auth && auth.token && auth.agent && auth.agent.agent_id) startSession(auth, true);
  else showAuth();
})();
