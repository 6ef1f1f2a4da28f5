// The ban list in the sidebar: the bans in force, with Lift for the agent who made one (and
// for admins). Agents see whether an address is banned with a visitor, never the address;
// admins see it here and on the admin pages.

import { api } from './api.js';
import { Refresher } from './sidebar.js';
import { fmtDateTime, h } from './util.js';

export class BansView {
  constructor(root) {
    this.list = h('ul', { class: 'ban-list' });
    this.line = h('p', { class: 'muted' });
    this.count = root.closest('section').querySelector('.count');
    root.append(this.list, this.line);
    this.refresher = new Refresher(() => this.load(), 30000);
  }

  async load() {
    let bans;
    try {
      bans = (await api('GET', '/api/bans')).bans || [];
    } catch (error) {
      this.setLine(error.message, true);
      throw error;
    }
    this.list.replaceChildren(...bans.map((ban) => this.row(ban)));
    this.setLine(bans.length ? '' : 'Nobody is banned.');
    this.count.textContent = String(bans.length);
  }

  row(ban) {
    const who = ban.visitor_id ? ban.visitor_name || 'Visitor' : 'An address';
    const address = ban.ip || (ban.visitor_id && ban.ip_banned ? 'with address' : '');
    const until = ban.expires_at ? `until ${fmtDateTime(ban.expires_at)}` : 'until lifted';
    const error = h('p', { class: 'row-error error', role: 'alert', hidden: true });
    const lift = ban.can_lift
      ? h('button', {
        type: 'button', class: 'small', sb: 'lift-ban', text: 'Lift',
        'aria-label': `Lift the ban on ${who}`,
        onclick: (event) => this.lift(ban, event.currentTarget, error),
      })
      : null;
    return h(
      'li',
      { class: 'ban-row', sb: 'ban-row', data: { banId: ban.ban_id, visitorId: ban.visitor_id || '' } },
      h('div', { class: 'ban-head' },
        h('strong', { class: 'name', text: who }),
        address ? h('span', { class: 'pill', sb: 'ban-address', text: address }) : null),
      ban.reason ? h('div', { class: 'ban-reason', text: ban.reason }) : null,
      h('div', { class: 'muted ban-meta', text: `${until} · by ${ban.created_by_name || 'an agent'}` }),
      lift ? h('div', { class: 'row-end' }, lift) : null,
      error,
    );
  }

  async lift(ban, button, error) {
    button.disabled = true;
    try {
      await api('POST', `/api/bans/${encodeURIComponent(ban.ban_id)}/lift`, {});
      this.refresher.soon();
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
      button.disabled = false;
      if (failure.status === 409 || failure.status === 404) this.refresher.soon();
    }
  }

  setLine(text, isError = false) {
    this.line.textContent = text || '';
    this.line.hidden = !text;
    this.line.classList.toggle('error', isError);
  }
}
