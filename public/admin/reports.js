// The Ratings tab (per-agent report) and the Announcements tab (send one, list past ones; the
// switch for email to visitors, shown when the server has email configured).
(function () {
  'use strict';

  const Admin = window.SBAdmin;
  const { api, el, $ } = Admin;

  let ratingsGeneration = 0;
  let announcementsGeneration = 0;

  function average(value) {
    if (value === null || value === undefined) return '—';
    return Number(value).toFixed(2);
  }

  async function loadRatings() {
    const generation = ++ratingsGeneration;
    try {
      const data = await api('GET', 'api/admin/stats/agents');
      if (generation !== ratingsGeneration) return;
      const body = $('#ratings');
      Admin.clear(body);
      const agents = data.agents || [];
      for (const agent of agents) {
        const rated = agent.average_score !== null && agent.average_score !== undefined;
        body.appendChild(el('tr', { sb: 'rating-row', 'data-agent-id': agent.agent_id, 'data-employee-id': agent.employee_id },
          el('td', { class: 'mono', text: agent.employee_id }),
          el('td', { text: agent.name }),
          el('td', { class: 'num', sb: 'ratings-count', text: agent.ratings }),
          el('td', { class: 'num' },
            el('span', { sb: 'ratings-average', text: average(agent.average_score) }),
            rated ? el('span', { class: 'stars small', 'aria-hidden': 'true', text: ' ' + Admin.stars(agent.average_score) }) : null),
          el('td', { class: 'num', sb: 'chats-closed', text: agent.chats_closed })));
      }
      $('#ratings-empty').hidden = agents.length > 0;
    } catch (error) {
      Admin.reportError(error);
    }
  }

  async function loadAnnouncements() {
    const generation = ++announcementsGeneration;
    try {
      const data = await api('GET', 'api/admin/announcements?limit=50');
      if (generation !== announcementsGeneration) return;
      const list = $('#announcement-list');
      Admin.clear(list);
      const announcements = data.announcements || [];
      for (const item of announcements) {
        list.appendChild(el('li', { sb: 'announcement-item', 'data-announcement-id': item.announcement_id },
          el('time', { class: 'muted small', datetime: new Date(item.created_at).toISOString(), text: Admin.formatDateTime(item.created_at) }),
          el('p', { class: 'body', text: item.body })));
      }
      $('#announcements-empty').hidden = announcements.length > 0;
    } catch (error) {
      Admin.reportError(error);
    }
  }

  async function loadEmailSwitch() {
    try {
      const data = await api('GET', 'api/admin/email');
      $('#email-switch').hidden = !data.configured;
      $('[data-sb="visitor-email"]').checked = !!data.visitor_email;
    } catch (error) {
      Admin.reportError(error);
    }
  }

  async function switchEmail(event) {
    const box = event.currentTarget;
    Admin.clearError();
    box.disabled = true;
    try {
      const data = await api('POST', 'api/admin/email', { visitor_email: box.checked });
      box.checked = !!data.visitor_email;
      Admin.showNotice(data.visitor_email ? 'Email to visitors is on.' : 'Email to visitors is off.');
    } catch (error) {
      box.checked = !box.checked;
      Admin.reportError(error);
    } finally {
      box.disabled = false;
    }
  }

  async function announce(event) {
    event.preventDefault();
    const form = event.currentTarget;
    Admin.clearError();
    Admin.clearFieldErrors(form);
    const text = form.elements.body.value;
    await Admin.busy($('[data-sb="announcement-submit"]', form), async () => {
      try {
        await api('POST', 'api/admin/announcements', { body: text });
        form.reset();
        Admin.showNotice('Announcement sent to everyone online.');
        await loadAnnouncements();
      } catch (error) {
        Admin.reportError(error, form);
      }
    });
  }

  $('#ratings-refresh').addEventListener('click', () => {
    Admin.clearError();
    loadRatings();
  });
  $('#announcement-form').addEventListener('submit', announce);
  $('[data-sb="visitor-email"]').addEventListener('change', switchEmail);
  $('#email-switch').addEventListener('submit', (event) => event.preventDefault());
  // Ctrl/Cmd+Enter sends, as in most message boxes; plain Enter makes a new line.
  $('[data-sb="announcement-body"]').addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      $('[data-sb="announcement-submit"]').click();
    }
  });

  Admin.tabs.ratings = { show: loadRatings };
  Admin.tabs.announcements = { show: () => Promise.all([loadAnnouncements(), loadEmailSwitch()]) };
})();
