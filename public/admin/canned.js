// The Canned replies tab: the team's canned replies, which every agent has in the console. Each
// row edits its shortcut and text in place (Save) or deletes it; the form adds one. Agents'
// own replies are theirs alone and never shown here.
(function () {
  'use strict';

  const Admin = window.SBAdmin;
  const { api, el, $ } = Admin;

  let generation = 0;

  function row(reply) {
    const shortcut = el('input', {
      sb: 'canned-shortcut', name: 'shortcut', maxlength: 32, class: 'mono narrow', autocomplete: 'off',
      'aria-label': 'Shortcut of /' + reply.shortcut,
    });
    shortcut.value = reply.shortcut;
    const body = el('textarea', { sb: 'canned-body', name: 'body', rows: 2, 'aria-label': 'Text of /' + reply.shortcut });
    body.value = reply.body;
    const tr = el('tr', { sb: 'canned-row', 'data-canned-id': reply.canned_id, 'data-shortcut': reply.shortcut },
      el('td', null, shortcut, el('span', { class: 'field-error', 'data-field-error': 'shortcut' })),
      el('td', null, body, el('span', { class: 'field-error', 'data-field-error': 'body' })),
      el('td', { class: 'nowrap', text: Admin.formatDateTime(reply.updated_at) }),
      el('td', { class: 'actions' },
        el('div', { class: 'buttons' },
          el('button', { type: 'button', sb: 'canned-save', onclick: (event) => save(reply, tr, event.currentTarget) }, 'Save'),
          el('button', {
            type: 'button', class: 'secondary', sb: 'canned-delete', onclick: (event) => remove(reply, event.currentTarget),
          }, 'Delete'))));
    return tr;
  }

  async function load() {
    const mine = ++generation;
    try {
      const data = await api('GET', 'api/canned');
      if (mine !== generation) return;
      const team = (data.canned || []).filter((reply) => reply.scope === 'team');
      const body = $('#canned');
      Admin.clear(body);
      for (const reply of team) body.appendChild(row(reply));
      $('#canned-empty').hidden = team.length > 0;
    } catch (error) {
      Admin.reportError(error);
    }
  }

  async function save(reply, tr, button) {
    Admin.clearError();
    Admin.clearFieldErrors(tr);
    await Admin.busy(button, async () => {
      try {
        const body = { shortcut: $('[name="shortcut"]', tr).value.trim(), body: $('[name="body"]', tr).value };
        await api('POST', 'api/canned/' + encodeURIComponent(reply.canned_id), body);
        Admin.showNotice('Saved /' + body.shortcut + '.');
        await load();
      } catch (error) {
        Admin.reportError(error, tr);
      }
    });
  }

  async function remove(reply, button) {
    Admin.clearError();
    await Admin.busy(button, async () => {
      try {
        await api('POST', 'api/canned/' + encodeURIComponent(reply.canned_id) + '/delete', {});
        Admin.showNotice('Deleted /' + reply.shortcut + '.');
      } catch (error) {
        Admin.reportError(error);
      }
      await load();
    });
  }

  async function create(event) {
    event.preventDefault();
    const form = event.currentTarget;
    Admin.clearError();
    Admin.clearFieldErrors(form);
    const body = { scope: 'team', shortcut: form.elements.shortcut.value.trim(), body: form.elements.body.value };
    await Admin.busy($('[data-sb="new-canned-submit"]', form), async () => {
      try {
        await api('POST', 'api/canned', body);
        form.reset();
        Admin.showNotice('Added /' + body.shortcut + '.');
        await load();
      } catch (error) {
        Admin.reportError(error, form);
      }
    });
  }

  $('#canned-refresh').addEventListener('click', () => {
    Admin.clearError();
    load();
  });
  $('#canned-create').addEventListener('submit', create);

  Admin.tabs.canned = { show: load };
})();
