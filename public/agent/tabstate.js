// What the console remembers across reloads, and whose it is.
//
// The view (poll cursor + the chat panes it covers) belongs to one tab: it lives in
// sessionStorage and is written as one object, so after a reload the cursor never claims
// events of a chat the pane list has lost. When every tab wrote one shared pair, a tab that
// had stopped polling could overwrite the pane list of one that had not, and a reload then
// rebuilt a pane part-way through.
//
// Dismissed chats are shared by the agent's tabs (localStorage), each with the last seq seen
// when it was dismissed: the chat stays hidden only while nothing newer happens in it. A chat
// transferred back or reassigned from the queue has newer events and shows again.

import { store, tabStore } from './util.js';

const VIEW_KEY = 'sb.console.view';
const DISMISSED_KEY = 'sb.console.dismissed-at';
const MAX_DISMISSED = 200;
// Keys of the earlier layout, shared by all tabs; dropped so they are never read again.
const OLD_KEYS = ['sb.console.cursor', 'sb.console.panes', 'sb.console.dismissed'];

export { DISMISSED_KEY };

/** This tab's `{cursor, panes}` from before a reload (empty for a new tab). */
export function loadView() {
  const view = tabStore.get(VIEW_KEY, null) || {};
  return {
    cursor: typeof view.cursor === 'string' ? view.cursor : '',
    panes: Array.isArray(view.panes) ? view.panes.filter((id) => typeof id === 'string') : [],
  };
}

export function saveView(cursor, panes) {
  tabStore.set(VIEW_KEY, { cursor: cursor || '', panes });
}

/** chat id → last seq seen when it was dismissed, as every tab wrote it. */
export function readDismissed() {
  const saved = store.get(DISMISSED_KEY, null);
  const map = new Map();
  if (saved && typeof saved === 'object' && !Array.isArray(saved)) {
    for (const [chatId, seq] of Object.entries(saved)) {
      if (typeof seq === 'number') map.set(chatId, seq);
    }
  }
  return map;
}

function writeDismissed(map) {
  const entries = Array.from(map).slice(-MAX_DISMISSED);
  store.set(DISMISSED_KEY, Object.fromEntries(entries));
}

/** Read-modify-write, so what other tabs dismissed meanwhile is kept. */
export function dismissChat(chatId, seq) {
  const map = readDismissed();
  const seen = Math.max(seq, map.get(chatId) || 0);
  map.delete(chatId); // re-inserted last: the newest survive the cap
  map.set(chatId, seen);
  writeDismissed(map);
}

export function undismissChat(chatId) {
  const map = readDismissed();
  if (map.delete(chatId)) writeDismissed(map);
}

/** A new sign-in (or sign-out): nothing of the last session's view applies. */
export function clearState() {
  tabStore.remove(VIEW_KEY);
  store.remove(DISMISSED_KEY);
  for (const key of OLD_KEYS) store.remove(key);
}

export function dropOldKeys() {
  for (const key of OLD_KEYS) store.remove(key);
}
