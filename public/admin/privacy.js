// The Data tab: find a visitor by its id or by a site and customer id, download everything
// stored about it (JSON), erase it (after typing its id to confirm), and the audit log of
// exports, erasures and retention runs. See docs/api.md "Data rights".
(function () {
  'use strict';

  const Admin = window.SBAdmin;
  const { api, el, $ } = Admin;

  let found = null; // { path, visitorId }: the visitor the last search found
  let generation = 0;

  /** The API paths naming the visitor the form describes, or null with a field error shown. */
  function subjectPaths(form) {
    const visitorId = form.elements.visitor_id.value.trim();
    const siteId = form.elements.site_id.value.trim();
    const customerId = form.elements.customer_id.value.trim();
    if (visitorId) {
      const base = 'api/admin/visitors/' + encodeURIComponent(visitorId);
      return { exportPath: base + '/export', erasePath: base + '/erase' };
    }
    if (siteId || customerId) {
      const query = '?site_id=' + encodeURIComponent(siteId) + '&customer_id=' + encodeURIComponent(customerId);
      return { exportPath: 'api/admin/customers/export' + query, erasePath: 'api/admin/customers/erase' + query };
    }
    return null;
  }

  function count(list) {
    return Array.isArray(list) ? list.length : 0;
  }

  function showFound(data) {
    const box = $('#privacy-found');
    Admin.clear(box);
    const v = data.visitor;
    box.appendChild(el('dl', { class: 'facts' },
      el('dt', { text: 'Visitor' }), el('dd', { class: 'mono', sb: 'privacy-visitor-id', text: v.id }),
      el('dt', { text: 'Name' }), el('dd', { sb: 'privacy-name', text: v.name }),
      el('dt', { text: 'Customer' }), el('dd', { text: v.customer_id ? v.customer_id + (v.email ? ' · ' + v.email : '') : '—' }),
      el('dt', { text: 'Stored' }), el('dd', { sb: 'privacy-counts', text:
        count(data.chats) + ' chats, ' + count(data.messages) + ' messages, ' + count(data.ratings) + ' ratings, ' +
        count(data.offline_messages) + ' offline messages, ' + count(data.page_views) + ' page views' })));
    box.hidden = false;
    $('#privacy-actions').hidden = false;
    $('[data-sb="privacy-confirm"]').value = '';
    $('[data-sb="privacy-erase"]').disabled = true;
  }

  async function find(event) {
    event.preventDefault();
    const form = event.currentTarget;
    Admin.clearError();
    Admin.clearFieldErrors(form);
    found = null;
    $('#privacy-found').hidden = true;
    $('#privacy-actions').hidden = true;
    const paths = subjectPaths(form);
    if (!paths) {
      Admin.reportError(new Admin.ApiError(400, 'missing_field', 'Give a visitor id, or a site id and a customer id.', 'visitor_id'), form);
      return;
    }
    await Admin.busy($('[data-sb="privacy-find"]', form), async () => {
      try {
        // Looking is an export too (it reads everything): the audit log records it.
        const answer = await api('GET', paths.exportPath);
        found = { paths: paths, visitorId: answer.data.visitor.id, answer: answer };
        showFound(answer.data);
        await loadAudit();
      } catch (error) {
        Admin.reportError(error, form);
      }
    });
  }

  function download() {
    if (!found) return;
    const blob = new Blob([JSON.stringify(found.answer, null, 2)], { type: 'application/json' });
    const url = URL.createObjectURL(blob);
    const link = el('a', { href: url, download: 'visitor-' + found.visitorId + '.json', hidden: true });
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  function confirmInput(event) {
    $('[data-sb="privacy-erase"]').disabled = !found || event.currentTarget.value.trim() !== found.visitorId;
  }

  async function erase(event) {
    if (!found) return;
    Admin.clearError();
    await Admin.busy(event.currentTarget, async () => {
      try {
        const answer = await api('POST', found.paths.erasePath, {});
        const r = answer.removed || {};
        Admin.showNotice('Visitor ' + answer.visitor_id + ' erased: ' + (r.chats || 0) + ' chats, ' + (r.messages || 0) +
          ' messages, ' + (r.offline_messages || 0) + ' offline messages, ' + (r.page_views || 0) + ' page views removed.');
        found = null;
        $('#privacy-found').hidden = true;
        $('#privacy-actions').hidden = true;
        $('#privacy-find').reset();
      } catch (error) {
        Admin.reportError(error);
      }
      await loadAudit();
    });
  }

  function describe(entry) {
    const d = entry.detail || {};
    const counts = d.removed || d.counts;
    if (counts) return Object.keys(counts).filter((k) => counts[k]).map((k) => k.replace(/_/g, ' ') + ' ' + counts[k]).join(', ');
    if (entry.action === 'retention.purge') {
      const chats = (d.old_chats || {}).chats || 0;
      const visitors = (d.inactive_visitors || {}).visitors || 0;
      return chats + ' old chats, ' + visitors + ' inactive visitors';
    }
    return '';
  }

  async function loadAudit() {
    const mine = ++generation;
    try {
      const data = await api('GET', 'api/admin/audit-log?limit=100');
      if (mine !== generation) return;
      const body = $('#audit-log');
      Admin.clear(body);
      const entries = data.entries || [];
      for (const entry of entries) {
        body.appendChild(el('tr', { sb: 'audit-row', 'data-action': entry.action },
          el('td', { text: Admin.formatDateTime(entry.at) }),
          el('td', { sb: 'audit-action', text: entry.action }),
          el('td', { class: 'mono', sb: 'audit-subject', text: entry.subject || '—' }),
          el('td', { class: 'mono', text: entry.actor_id || 'retention' }),
          el('td', { sb: 'audit-detail', text: describe(entry) })));
      }
      $('#audit-empty').hidden = entries.length > 0;
    } catch (error) {
      Admin.reportError(error);
    }
  }

  $('#privacy-find').addEventListener('submit', find);
  $('[data-sb="privacy-download"]').addEventListener('click', download);
  $('[data-sb="privacy-confirm"]').addEventListener('input', confirmInput);
  $('[data-sb="privacy-erase"]').addEventListener('click', erase);
  $('#audit-refresh').addEventListener('click', () => {
    Admin.clearError();
    loadAudit();
  });

  Admin.tabs.privacy = { show: loadAudit };
})();
