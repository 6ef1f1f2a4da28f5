// A chat pane's read markers, both ways: what I have read goes to the server while the pane is
// on screen and I am looking (otherwise an unread count shows), and the "Seen" marker goes
// after the last entry the visitor has read.

import { api } from './api.js';
import { h } from './util.js';

/** The agent is looking: the tab is visible and the window has focus. */
export function attentive() {
  return document.visibilityState === 'visible' && document.hasFocus();
}

export class ReadMarks {
  /** `pane`: the ChatPane whose log and seqs these follow. */
  constructor(pane) {
    this.pane = pane;
    this.readSent = 0;
    this.seenByVisitor = 0;
    this.unread = 0;
    this.unreadBadge = h('span', { class: 'unread', hidden: true, 'aria-label': 'unread messages' });
    this.marker = h('div', { class: 'read-marker', sb: 'read-marker', text: 'Seen' });
  }

  // --- the visitor's side ---

  /** The visitor has read up to `seq`: the "Seen" marker goes after that entry. */
  setSeen(seq) {
    if (seq <= this.seenByVisitor) return;
    this.seenByVisitor = seq;
    this.marker.dataset.seq = String(seq);
    this.marker.remove();
    this.pane.insert(this.marker, seq + 0.5);
  }

  // --- my side ---

  /** A visitor's message arrived live: unread unless I see it now. */
  arrived() {
    if (attentive() && this.pane.onScreen) return;
    this.unread += 1;
    this.showUnread();
  }

  maybeMarkRead() {
    const pane = this.pane;
    if (pane.readOnly || !pane.onScreen || !attentive()) return;
    this.unread = 0;
    this.showUnread();
    if (pane.lastSeq <= this.readSent) return;
    const seq = pane.lastSeq;
    this.readSent = seq;
    api('POST', `/api/chats/${encodeURIComponent(pane.id)}/read`, { seq }).catch((error) => {
      // Network trouble: try again on the next event or focus. A 4xx would only repeat.
      if (error.retryable && this.readSent === seq) this.readSent = 0;
      if (error.status === 403) pane.recheck();
    });
  }

  showUnread() {
    this.unreadBadge.hidden = this.unread === 0;
    this.unreadBadge.textContent = String(this.unread);
  }
}
