// The Agents tab: the list with per-row capacity, rename, disable / enable and password reset,
// and the form that creates an agent.
(function () {
  'use strict';

  const Admin = window.SBAdmin;
  const { api, el, $ } = Admin;
  const REFRESH_MS = 15000;

  // employee_id → { row, agent, cells… } so a refresh updates rows in place and keeps edits.
  const rows = new Map();
  let refreshTimer = null;

  function agentPath(employeeId, suffix) {
    return 'api/admin/agents/' + encodeURIComponent(employeeId) + (suffix || '');
  }

  async function load() {
    try {
      const data = await api('GET', 'api/admin/agents');
      render(data.agents || []);
    } catch (error) {
      Admin.reportError(error);
    }
  }

  function render(agents) {
    const body = $('#agents');
    const seen = new Set();
    for (const agent of agents) {
      seen.add(agent.employee_id);
      let entry = rows.get(agent.employee_id);
      if (!entry) {
        entry = buildRow(agent);
        rows.set(agent.employee_id, entry);
      }
      update(entry, agent);
      body.appendChild(entry.row); // appending again keeps the server's order
    }
    for (const [employeeId, entry] of rows) {
      if (!seen.has(employeeId)) {
        entry.row.remove();
        rows.delete(employeeId);
      }
    }
    $('#agents-empty').hidden = agents.length > 0;
  }

  function buildRow(agent) {
    const entry = { agent: agent };
    const id = agent.employee_id;
    entry.name = el('input', { sb: 'agent-name', name: 'name', maxlength: 64, 'aria-label': 'Name of ' + id });
    entry.maxChats = el('input', {
      sb: 'agent-max-chats', name: 'max_chats', type: 'number', min: 1, max: 100, step: 1,
      class: 'narrow', 'aria-label': 'Max chats of ' + id,
    });
    entry.active = el('span', { sb: 'agent-active-chats' });
    entry.role = el('td', { sb: 'agent-role' });
    entry.status = el('td', { sb: 'agent-status' });
    entry.online = el('td', { sb: 'agent-online' });
    entry.disabled = el('td', { sb: 'agent-disabled' });
    entry.save = el('button', { type: 'button', sb: 'agent-save', onclick: () => save(entry) }, 'Save');
    entry.toggle = el('button', { type: 'button', class: 'secondary', onclick: () => toggleDisabled(entry) });
    entry.reset = el('button', {
      type: 'button', class: 'secondary', sb: 'agent-reset-password', 'aria-expanded': 'false',
      onclick: () => togglePasswordForm(entry),
    }, 'Reset password');
    entry.password = el('input', {
      sb: 'agent-new-password', name: 'password', type: 'password', autocomplete: 'new-password',
      placeholder: 'New password', 'aria-label': 'New password for ' + id,
    });
    entry.passwordForm = el('form', { class: 'inline-form', sb: 'agent-password-form', novalidate: true, hidden: true },
      entry.password,
      el('button', { type: 'submit', sb: 'agent-password-submit' }, 'Set password'),
      el('button', { type: 'button', class: 'secondary', sb: 'agent-password-cancel', onclick: () => closePasswordForm(entry) }, 'Cancel'),
      el('span', { class: 'field-error', 'data-field-error': 'password' }));
    entry.passwordForm.addEventListener('submit', (event) => {
      event.preventDefault();
      resetPassword(entry);
    });
    entry.nameCell = el('td', null, entry.name, el('span', { class: 'field-error', 'data-field-error': 'name' }));
    entry.row = el('tr', { sb: 'agent-row', 'data-employee-id': id },
      el('td', { class: 'mono', text: id }),
      entry.nameCell,
      entry.role,
      entry.status,
      entry.online,
      el('td', { class: 'nowrap' }, entry.active, ' / ', entry.maxChats,
        el('span', { class: 'field-error', 'data-field-error': 'max_chats' })),
      entry.disabled,
      el('td', { class: 'actions' },
        el('div', { class: 'buttons' }, entry.save, entry.toggle, entry.reset),
        entry.passwordForm,
        el('span', { class: 'field-error', 'data-field-error': 'row' })));
    // Enter in the name or capacity input saves the row.
    for (const input of [entry.name, entry.maxChats]) {
      input.addEventListener('keydown', (event) => {
        if (event.key === 'Enter') {
          event.preventDefault();
          save(entry);
        }
      });
    }
    return entry;
  }

  // An input the admin is editing keeps its value; otherwise it follows the server.
  function syncInput(input, value) {
    const text = String(value);
    const edited = input.dataset.shown !== undefined && input.value !== input.dataset.shown;
    if (!edited && document.activeElement !== input) input.value = text;
    input.dataset.shown = text;
  }

  function update(entry, agent) {
    entry.agent = agent;
    const me = Admin.session.me() || {};
    const row = entry.row;
    row.setAttribute('data-agent-id', agent.agent_id);
    row.setAttribute('data-disabled', agent.disabled ? 'true' : 'false');
    row.setAttribute('data-online', agent.online ? 'true' : 'false');
    row.classList.toggle('is-disabled', !!agent.disabled);
    row.classList.toggle('is-me', agent.agent_id === me.agent_id);
    syncInput(entry.name, agent.name);
    syncInput(entry.maxChats, agent.max_chats);
    entry.active.textContent = String(agent.active_chats);
    entry.role.textContent = agent.role;
    entry.status.textContent = agent.status;
    entry.online.textContent = agent.online ? 'online' : 'offline';
    entry.online.className = agent.online ? 'yes' : 'muted';
    entry.disabled.textContent = agent.disabled ? 'disabled' : 'no';
    entry.disabled.className = agent.disabled ? 'warn' : 'muted';
    entry.toggle.setAttribute('data-sb', agent.disabled ? 'agent-enable' : 'agent-disable');
    entry.toggle.textContent = agent.disabled ? 'Enable' : 'Disable';
  }

  /** Applies an agent answered by a change, as if the list had been reloaded. */
  function applyAgent(agent, saved) {
    const entry = rows.get(agent.employee_id);
    if (!entry) return load();
    if (saved) {
      // The saved values are now the server's, so the inputs count as unedited again.
      entry.name.value = entry.name.dataset.shown = agent.name;
      entry.maxChats.value = entry.maxChats.dataset.shown = String(agent.max_chats);
    }
    update(entry, agent);
  }

  async function save(entry) {
    Admin.clearError();
    Admin.clearFieldErrors(entry.row);
    const change = {};
    const name = entry.name.value.trim();
    if (name !== entry.agent.name) change.name = name;
    const rawMax = entry.maxChats.value.trim();
    if (rawMax === '' || !/^-?\d+$/.test(rawMax)) {
      Admin.reportError(new Admin.ApiError(400, 'invalid_field', 'Max chats must be a whole number from 1 to 100.', 'max_chats'), entry.row);
      return;
    }
    // Always sent, so "Save" works even when nothing was edited (the API needs one field).
    change.max_chats = Number(rawMax);
    await Admin.busy(entry.save, async () => {
      try {
        const agent = await api('POST', agentPath(entry.agent.employee_id), change);
        applyAgent(agent, true);
        Admin.showNotice('Saved ' + agent.employee_id + ': ' + agent.name + ', at most ' + agent.max_chats + ' chats.');
      } catch (error) {
        Admin.reportError(error, entry.row, { agent_not_found: 'row' });
        if (error.code === 'agent_not_found') load();
      }
    });
  }

  async function toggleDisabled(entry) {
    Admin.clearError();
    Admin.clearFieldErrors(entry.row);
    const disabling = !entry.agent.disabled;
    await Admin.busy(entry.toggle, async () => {
      try {
        const agent = await api('POST', agentPath(entry.agent.employee_id, disabling ? '/disable' : '/enable'), {});
        applyAgent(agent);
        Admin.showNotice(agent.employee_id + (agent.disabled ? ' is disabled: it is logged out and cannot log in.' : ' is enabled again.'));
      } catch (error) {
        Admin.reportError(error, entry.row, { agent_not_found: 'row' });
      }
    });
  }

  function togglePasswordForm(entry) {
    if (entry.passwordForm.hidden) {
      entry.passwordForm.hidden = false;
      entry.reset.setAttribute('aria-expanded', 'true');
      entry.password.focus();
    } else {
      closePasswordForm(entry);
    }
  }

  function closePasswordForm(entry) {
    entry.passwordForm.hidden = true;
    entry.password.value = '';
    entry.reset.setAttribute('aria-expanded', 'false');
    Admin.clearFieldErrors(entry.passwordForm);
  }

  async function resetPassword(entry) {
    Admin.clearError();
    Admin.clearFieldErrors(entry.row);
    const submit = $('[data-sb="agent-password-submit"]', entry.passwordForm);
    await Admin.busy(submit, async () => {
      try {
        const agent = await api('POST', agentPath(entry.agent.employee_id, '/password'), { password: entry.password.value });
        closePasswordForm(entry);
        applyAgent(agent);
        Admin.showNotice('Password of ' + agent.employee_id + ' changed; its sessions were logged out.');
      } catch (error) {
        Admin.reportError(error, entry.passwordForm, { agent_not_found: 'password' });
      }
    });
  }

  async function create(event) {
    event.preventDefault();
    const form = event.currentTarget;
    Admin.clearError();
    Admin.clearFieldErrors(form);
    const request = {
      employee_id: form.elements.employee_id.value.trim(),
      name: form.elements.name.value.trim(),
      password: form.elements.password.value,
      role: form.elements.role.value,
    };
    const rawMax = form.elements.max_chats.value.trim();
    if (rawMax !== '') request.max_chats = /^-?\d+$/.test(rawMax) ? Number(rawMax) : rawMax;
    if (form.elements.max_chats.validity.badInput) {
      Admin.reportError(new Admin.ApiError(400, 'invalid_field', 'Max chats must be a whole number from 1 to 100.', 'max_chats'), form);
      return;
    }
    await Admin.busy($('[data-sb="new-submit"]', form), async () => {
      try {
        const agent = await api('POST', 'api/admin/agents', request);
        form.reset();
        Admin.showNotice('Created ' + agent.employee_id + ' (' + agent.name + ').');
        await load();
      } catch (error) {
        Admin.reportError(error, form, { employee_id_taken: 'employee_id' });
      }
    });
  }

  function autoRefresh() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => {
      if (Admin.currentTab() === 'agents' && !document.hidden) load().then(autoRefresh);
      else autoRefresh();
    }, REFRESH_MS);
  }

  $('#agent-create').addEventListener('submit', create);
  $('#agents-refresh').addEventListener('click', () => {
    Admin.clearError();
    load();
  });

  Admin.tabs.agents = {
    show() {
      load();
      autoRefresh();
    },
  };
})();
