// The Bans tab: every ban in force (with the banned address, which only admins see), Lift, and
// a form to ban an address by hand. Visitors are banned from the agent console's chat panes.
(function () {
  'use strict';

  const Admin = window.SBAdmin;
  const { api, el, $ } = Admin;

  let generation = 0;

  function until(ban) {
    return ban.expires_at === null || ban.expires_at === undefined ? 'until lifted' : Admin.formatDateTime(ban.expires_at);
  }

  async function load() {
    const mine = ++generation;
    try {
      const data = await api('GET', 'api/bans');
      if (mine !== generation) return;
      const body = $('#bans');
      Admin.clear(body);
      const bans = data.bans || [];
      for (const ban of bans) {
        const lift = ban.can_lift
          ? el('button', { type: 'button', class: 'secondary', sb: 'lift-ban', text: 'Lift', onclick: (event) => liftBan(ban, event.currentTarget) })
          : null;
        body.appendChild(el('tr', { sb: 'ban-row', 'data-ban-id': ban.ban_id },
          el('td', { sb: 'ban-who', text: ban.visitor_id ? ban.visitor_name || ban.visitor_id : '—' }),
          el('td', { class: 'mono', sb: 'ban-address', text: ban.ip || (ban.ip_banned ? 'yes' : '—') }),
          el('td', { sb: 'ban-reason', text: ban.reason || '' }),
          el('td', { text: ban.created_by_name || ban.created_by }),
          el('td', { text: Admin.formatDateTime(ban.created_at) }),
          el('td', { sb: 'ban-until', text: until(ban) }),
          el('td', null, lift)));
      }
      $('#bans-empty').hidden = bans.length > 0;
    } catch (error) {
      Admin.reportError(error);
    }
  }

  async function liftBan(ban, button) {
    Admin.clearError();
    await Admin.busy(button, async () => {
      try {
        await api('POST', 'api/bans/' + encodeURIComponent(ban.ban_id) + '/lift', {});
        Admin.showNotice('Ban lifted.');
      } catch (error) {
        Admin.reportError(error);
      }
      await load();
    });
  }

  async function banAddress(event) {
    event.preventDefault();
    const form = event.currentTarget;
    Admin.clearError();
    Admin.clearFieldErrors(form);
    const duration = form.elements.duration_mins.value;
    const body = {
      ip: form.elements.ip.value.trim(),
      reason: form.elements.reason.value,
      duration_mins: duration ? Number(duration) : null,
    };
    await Admin.busy($('[data-sb="ban-submit"]', form), async () => {
      try {
        const answer = await api('POST', 'api/bans', body);
        form.reset();
        const closed = answer.chats_closed ? ' ' + answer.chats_closed + ' chat(s) ended.' : '';
        Admin.showNotice('Address ' + (answer.ban.ip || body.ip) + ' banned.' + closed);
        await load();
      } catch (error) {
        Admin.reportError(error, form);
      }
    });
  }

  $('#bans-refresh').addEventListener('click', () => {
    Admin.clearError();
    load();
  });
  $('#ban-create').addEventListener('submit', banAddress);

  Admin.tabs.bans = { show: load };
})();
