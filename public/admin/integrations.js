// The Integrations tab: the keys outside systems read the event feed (GET /api/events) with.
// The list never holds a key itself, only its first characters; a new key is shown once, right
// after it is made, and is gone from the page when the tab is left or reloaded. Revoking is
// final: the key is refused from its next request on, on every node.
(function () {
  'use strict';

  const Admin = window.SBAdmin;
  const { api, el, $ } = Admin;

  // What a key may do; the server refuses any scope it does not know.
  const SCOPES = [{ name: 'events:read', label: 'Read the event feed (GET /api/events)' }];

  let generation = 0;

  function status(key) {
    if (key.revoked_at !== null && key.revoked_at !== undefined) {
      return el('span', { class: 'muted', sb: 'integration-status', text: 'Revoked ' + Admin.formatDateTime(key.revoked_at) });
    }
    return el('span', { sb: 'integration-status', text: 'Active' });
  }

  function row(key) {
    const revoked = key.revoked_at !== null && key.revoked_at !== undefined;
    return el('tr', { sb: 'integration-row', 'data-key-id': key.key_id, 'data-name': key.name, 'data-revoked': revoked ? 'true' : 'false' },
      el('td', { text: key.name }),
      el('td', { class: 'mono nowrap', sb: 'integration-prefix', text: key.prefix + '…' }),
      el('td', { class: 'mono', text: (key.scopes || []).join(' ') }),
      el('td', { class: 'nowrap', text: Admin.formatDateTime(key.created_at) + (key.created_by_name ? ' by ' + key.created_by_name : '') }),
      el('td', { class: 'nowrap', text: key.last_used_at ? Admin.formatDateTime(key.last_used_at) : 'never' }),
      el('td', null, status(key)),
      el('td', { class: 'actions' },
        revoked ? null : el('button', {
          type: 'button', class: 'secondary', sb: 'integration-revoke', onclick: (event) => revoke(key, event.currentTarget),
        }, 'Revoke')));
  }

  function hideSecret() {
    $('#integration-secret-box').hidden = true;
    $('#integration-secret').value = '';
  }

  async function load() {
    const mine = ++generation;
    try {
      const data = await api('GET', 'api/admin/integration-keys');
      if (mine !== generation) return;
      const keys = data.keys || [];
      const body = $('#integrations');
      Admin.clear(body);
      for (const key of keys) body.appendChild(row(key));
      $('#integrations-empty').hidden = keys.length > 0;
    } catch (error) {
      Admin.reportError(error);
    }
  }

  // Revoking is final, so it takes two clicks: the first arms the button, the second revokes.
  async function revoke(key, button) {
    Admin.clearError();
    if (button.getAttribute('data-armed') !== 'true') {
      button.setAttribute('data-armed', 'true');
      button.textContent = 'Click again to revoke';
      return;
    }
    await Admin.busy(button, async () => {
      try {
        await api('POST', 'api/admin/integration-keys/' + encodeURIComponent(key.key_id) + '/revoke', {});
        Admin.showNotice('Revoked "' + key.name + '".');
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
    hideSecret();
    const scopes = SCOPES.map((scope) => scope.name).filter((name) => $('[name="scope"][value="' + name + '"]', form).checked);
    const body = { name: form.elements.name.value.trim(), scopes };
    await Admin.busy($('[data-sb="new-integration-submit"]', form), async () => {
      try {
        const made = await api('POST', 'api/admin/integration-keys', body);
        form.reset();
        $('#integration-secret').value = made.secret;
        $('#integration-secret-name').textContent = made.key.name;
        $('#integration-secret-box').hidden = false;
        await load();
      } catch (error) {
        Admin.reportError(error, form);
      }
    });
  }

  function renderScopes() {
    const box = $('#integration-scopes');
    for (const scope of SCOPES) {
      box.appendChild(el('label', { class: 'checkbox' },
        el('input', { type: 'checkbox', name: 'scope', value: scope.name, checked: true, sb: 'new-integration-scope' }),
        ' ', el('span', { class: 'mono', text: scope.name }), ' — ' + scope.label));
    }
  }

  renderScopes();
  $('#integrations-refresh').addEventListener('click', () => {
    Admin.clearError();
    load();
  });
  $('#integration-create').addEventListener('submit', create);
  $('#integration-secret').addEventListener('focus', (event) => event.currentTarget.select());

  Admin.tabs.integrations = {
    show() {
      hideSecret();
      return load();
    },
  };
})();
