// The admin pages' shell: login as an admin, logout, and switching between the section tabs.
// Each section (agents.js, transcripts.js, reports.js, bans.js, canned.js, webhooks.js, integrations.js, sites.js, prechat.js, privacy.js) registers SBAdmin.tabs.<name>.show().
(function () {
  'use strict';

  const Admin = window.SBAdmin;
  const { api, session, $ } = Admin;
  const TAB_NAMES = ['agents', 'transcripts', 'ratings', 'announcements', 'bans', 'canned', 'webhooks', 'integrations', 'sites', 'prechat', 'privacy'];

  let currentTab = null;

  function showLogin(message) {
    $('#app-view').hidden = true;
    $('#who').hidden = true;
    $('#login-view').hidden = false;
    $('[data-sb="login-error"]').textContent = message || '';
    Admin.clearError();
    currentTab = null;
    const idInput = $('[data-sb="login-employee-id"]');
    (idInput.value ? $('[data-sb="login-password"]') : idInput).focus();
  }

  function showApp() {
    const me = session.me() || {};
    $('#me').textContent = me.name ? me.name + ' (' + me.employee_id + ')' : me.employee_id || '';
    $('#who').hidden = false;
    $('#login-view').hidden = true;
    $('#app-view').hidden = false;
    const fromHash = location.hash.replace('#', '');
    selectTab(TAB_NAMES.indexOf(fromHash) >= 0 ? fromHash : 'agents');
  }

  function selectTab(name) {
    currentTab = name;
    for (const tabName of TAB_NAMES) {
      const selected = tabName === name;
      const button = $('[data-sb="tab-' + tabName + '"]');
      button.setAttribute('aria-selected', selected ? 'true' : 'false');
      button.tabIndex = selected ? 0 : -1;
      $('#panel-' + tabName).hidden = !selected;
    }
    if (location.hash !== '#' + name) history.replaceState(null, '', '#' + name);
    Admin.clearError();
    Admin.hideNotice(); // a notice belongs to the tab where it happened
    const section = Admin.tabs[name];
    if (section && section.show) section.show();
  }

  Admin.currentTab = function () { return currentTab; };

  // Any call answered 401 means the token is gone (logged out, disabled, password reset).
  Admin.onUnauthorized = function () {
    if ($('#app-view').hidden) return;
    session.clear();
    showLogin('Your session has ended. Please log in again.');
  };

  async function login(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const errorLine = $('[data-sb="login-error"]', form);
    const employeeId = $('[data-sb="login-employee-id"]', form).value.trim();
    const passwordInput = $('[data-sb="login-password"]', form);
    errorLine.textContent = '';
    if (!employeeId || !passwordInput.value) {
      errorLine.textContent = 'Enter your employee ID and password.';
      return;
    }
    await Admin.busy($('[data-sb="login-submit"]', form), async () => {
      try {
        const me = await api('POST', 'api/agent/login',
          { employee_id: employeeId, password: passwordInput.value }, { token: null, keepSession: true });
        if (me.role !== 'admin') {
          // Do not leave a live agent token behind for an account that cannot use this page.
          await api('POST', 'api/agent/logout', undefined, { token: me.token, keepSession: true }).catch(() => null);
          passwordInput.value = '';
          errorLine.textContent = 'This account is not an admin. Use the agent console, or ask an admin for access.';
          return;
        }
        session.save(me.token, { agent_id: me.agent_id, employee_id: me.employee_id, name: me.name });
        passwordInput.value = '';
        showApp();
      } catch (error) {
        errorLine.textContent = error.message;
      }
    });
  }

  async function logout() {
    const token = session.token();
    session.clear();
    showLogin('');
    if (token) await api('POST', 'api/agent/logout', undefined, { token: token, keepSession: true }).catch(() => null);
  }

  // Arrow keys move between tabs, as in the WAI-ARIA tabs pattern.
  function tabKeys(event) {
    const index = TAB_NAMES.indexOf(currentTab);
    let next = null;
    if (event.key === 'ArrowRight') next = TAB_NAMES[(index + 1) % TAB_NAMES.length];
    else if (event.key === 'ArrowLeft') next = TAB_NAMES[(index + TAB_NAMES.length - 1) % TAB_NAMES.length];
    if (!next) return;
    event.preventDefault();
    selectTab(next);
    $('[data-sb="tab-' + next + '"]').focus();
  }

  function start() {
    $('#login-form').addEventListener('submit', login);
    $('#logout').addEventListener('click', logout);
    const tablist = $('[role="tablist"]');
    tablist.addEventListener('keydown', tabKeys);
    for (const name of TAB_NAMES) {
      $('[data-sb="tab-' + name + '"]').addEventListener('click', () => selectTab(name));
    }
    // Logging out (or in) in another tab of this browser applies here too.
    window.addEventListener('storage', (event) => {
      if (event.key !== session.TOKEN_KEY) return;
      if (!event.newValue) showLogin('You logged out in another tab.');
      else if ($('#app-view').hidden) showApp();
    });
    if (session.token()) showApp();
    else showLogin('');
  }

  start();
})();
