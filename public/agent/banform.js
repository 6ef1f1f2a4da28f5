// Banning a chat's visitor from its pane: the Ban visitor button opens a confirmation under the
// pane's tools (reason, duration, whether the address goes too). The ban list itself is bans.js.

import { api } from './api.js';
import { h } from './util.js';

/** The ban durations offered, in minutes ('' = until lifted). */
const BAN_DURATIONS = [
  ['60', '1 hour'], ['1440', '1 day'], ['10080', '7 days'], ['43200', '30 days'], ['', 'Until lifted'],
];

export class BanForm {
  /** `pane`: the ChatPane whose visitor this bans; `banned()` after a ban was made. */
  constructor(pane, banned) {
    this.pane = pane;
    this.banned = banned;
    const id = pane.id;
    this.button = h('button', {
      type: 'button', class: 'ghost', sb: 'ban-visitor', text: 'Ban visitor', 'aria-expanded': 'false',
      onclick: () => this.show(this.form.hidden),
    });
    this.reason = h('input', {
      sb: 'ban-reason', id: `ban-reason-${id}`, maxlength: 500, autocomplete: 'off', placeholder: 'Reason (optional)',
    });
    this.duration = h('select', { sb: 'ban-duration', id: `ban-duration-${id}` },
      ...BAN_DURATIONS.map(([value, text]) => h('option', { value, text, selected: value === '1440' })));
    this.includeIp = h('input', { type: 'checkbox', sb: 'ban-include-ip', id: `ban-ip-${id}`, checked: true });
    this.confirm = h('button', { type: 'submit', class: 'danger small', sb: 'ban-confirm', text: 'Ban' });
    this.form = h(
      'form',
      {
        class: 'ban-form', sb: 'ban-form', hidden: true, 'aria-label': 'Ban this visitor',
        onsubmit: (event) => { event.preventDefault(); this.ban(); },
        onkeydown: (event) => { if (event.key === 'Escape') this.show(false); },
      },
      h('p', { class: 'ban-warning', text: 'Ban this visitor? Their chat ends at once and they cannot chat again until the ban ends.' }),
      h('label', { for: `ban-reason-${id}`, class: 'sr-only', text: 'Reason' }),
      this.reason,
      h('div', { class: 'ban-options' },
        h('label', { for: `ban-duration-${id}`, text: 'For' }),
        this.duration,
        h('label', { class: 'check', for: `ban-ip-${id}` }, this.includeIp, ' and their address')),
      h('div', { class: 'row-end' },
        h('button', { type: 'button', class: 'ghost small', sb: 'ban-cancel', text: 'Cancel', onclick: () => this.show(false) }),
        this.confirm),
    );
  }

  show(open) {
    this.pane.keepBottom(() => { this.form.hidden = !open; });
    this.button.setAttribute('aria-expanded', open ? 'true' : 'false');
    if (open) this.reason.focus();
  }

  async ban() {
    const pane = this.pane;
    if (!pane.visitorId) await pane.loadDetail();
    if (!pane.visitorId) {
      pane.flash('This visitor cannot be banned from here right now.');
      return;
    }
    const minutes = this.duration.value;
    this.confirm.disabled = true;
    try {
      await api('POST', '/api/bans', {
        visitor_id: pane.visitorId,
        include_ip: this.includeIp.checked,
        reason: this.reason.value,
        duration_mins: minutes ? Number(minutes) : null,
      });
      this.show(false);
      this.button.disabled = true;
      this.button.textContent = 'Banned';
      pane.el.dataset.banned = 'true';
      this.banned();
      // The chat's end arrives by the poll; asking now closes the pane even if the poll lags.
      pane.recheck();
    } catch (error) {
      pane.flash(error.message);
    } finally {
      this.confirm.disabled = false;
    }
  }
}
