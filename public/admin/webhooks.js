// The Webhooks tab: the endpoints events are POSTed to (docs/webhooks.md), each with its event
// types, secret and state — a disabled one says why — and actions to enable, disable, delete
// it or read its delivery log, where any delivery can be sent again. The form registers one.
(function () {
  'use strict';

  const Admin = window.SBAdmin;
  const { api, el, $ } = Admin;

  let generation = 0;
  // The endpoint whose delivery log is open.
  let opened = null;

  function path(webhook, rest) {
    return 'api/admin/webhooks/' + encodeURIComponent(webhook.webhook_id) + (rest || '');
  }

  function stateCell(webhook) {
    if (webhook.enabled) return el('td', null, el('span', { sb: 'webhook-state', class: 'badge' }, 'Enabled'));
    return el('td', null,
      el('span', { sb: 'webhook-state', class: 'badge badge-off' }, 'Disabled'),
      el('div', { sb: 'webhook-reason', class: 'small muted', text: webhook.disabled_reason || '' }));
  }

  function row(webhook) {
    const toggle = webhook.enabled
      ? el('button', { type: 'button', class: 'secondary', sb: 'webhook-disable',
        onclick: (event) => act(webhook, '/disable', 'Disabled', event.currentTarget) }, 'Disable')
      : el('button', { type: 'button', sb: 'webhook-enable',
        onclick: (event) => act(webhook, '/enable', 'Enabled', event.currentTarget) }, 'Enable');
    return el('tr', { sb: 'webhook-row', 'data-webhook-id': webhook.webhook_id, 'data-url': webhook.url },
      el('td', { class: 'mono wrap webhook-url', sb: 'webhook-url', text: webhook.url }),
      el('td', { sb: 'webhook-events', text: webhook.events.join(', ') }),
      stateCell(webhook),
      el('td', { sb: 'webhook-failures', text: String(webhook.consecutive_failures) }),
      el('td', null,
        el('details', null, el('summary', null, 'Show'), el('code', { sb: 'webhook-secret', class: 'mono wrap', text: webhook.secret }))),
      el('td', { class: 'actions' },
        el('div', { class: 'buttons' },
          el('button', { type: 'button', class: 'secondary', sb: 'webhook-deliveries',
            onclick: () => openLog(webhook) }, 'Deliveries'),
          toggle,
          el('button', { type: 'button', class: 'secondary', sb: 'webhook-delete',
            onclick: (event) => remove(webhook, event.currentTarget) }, 'Delete'))));
  }

  function deliveryRow(webhook, delivery) {
    const when = delivery.state === 'pending' && delivery.next_at
      ? 'next try ' + Admin.formatDateTime(delivery.next_at)
      : Admin.formatDateTime(delivery.done_at || delivery.created_at);
    return el('tr', { sb: 'delivery-row', 'data-event-id': delivery.event_id, 'data-state': delivery.state },
      el('td', { class: 'mono', text: String(delivery.event_id) }),
      el('td', { text: delivery.event_type || '' }),
      el('td', { sb: 'delivery-state', text: delivery.state }),
      el('td', { sb: 'delivery-attempts', text: String(delivery.attempts) }),
      el('td', { sb: 'delivery-status', text: delivery.last_status == null ? '—' : String(delivery.last_status) }),
      el('td', { sb: 'delivery-error', class: 'small wrap', text: delivery.last_error || '' }),
      el('td', { class: 'nowrap', text: when }),
      el('td', { class: 'actions' },
        el('button', { type: 'button', class: 'secondary', sb: 'delivery-resend',
          onclick: (event) => resend(webhook, delivery, event.currentTarget) }, 'Send again')));
  }

  async function load() {
    const mine = ++generation;
    try {
      const data = await api('GET', 'api/admin/webhooks');
      if (mine !== generation) return;
      const body = $('#webhooks');
      Admin.clear(body);
      for (const webhook of data.webhooks) body.appendChild(row(webhook));
      $('#webhooks-empty').hidden = data.webhooks.length > 0;
      renderTypes(data.event_types || []);
      const still = opened && data.webhooks.find((webhook) => webhook.webhook_id === opened.webhook_id);
      if (still) await loadLog(still);
      else closeLog();
    } catch (error) {
      Admin.reportError(error);
    }
  }

  // The event types to pick from in the form (kept as checked across reloads).
  function renderTypes(types) {
    const box = $('#webhook-types');
    if (box.childElementCount === types.length) return;
    Admin.clear(box);
    for (const type of types) {
      box.appendChild(el('label', { class: 'check' },
        el('input', { type: 'checkbox', name: 'events', value: type, sb: 'new-webhook-event' }), ' ' + type));
    }
  }

  function closeLog() {
    opened = null;
    $('#webhook-log').hidden = true;
  }

  async function openLog(webhook) {
    Admin.clearError();
    await loadLog(webhook);
    $('#webhook-log').scrollIntoView({ block: 'nearest' });
  }

  async function loadLog(webhook) {
    opened = webhook;
    try {
      const data = await api('GET', path(webhook, '/deliveries'));
      if (!opened || opened.webhook_id !== webhook.webhook_id) return;
      $('#webhook-log-url').textContent = webhook.url;
      const body = $('#deliveries');
      Admin.clear(body);
      for (const delivery of data.deliveries) body.appendChild(deliveryRow(webhook, delivery));
      $('#deliveries-empty').hidden = data.deliveries.length > 0;
      $('#webhook-log').hidden = false;
    } catch (error) {
      Admin.reportError(error);
    }
  }

  async function act(webhook, action, done, button) {
    Admin.clearError();
    await Admin.busy(button, async () => {
      try {
        await api('POST', path(webhook, action), {});
        Admin.showNotice(done + ' ' + webhook.url + '.');
      } catch (error) {
        Admin.reportError(error);
      }
      await load();
    });
  }

  async function remove(webhook, button) {
    Admin.clearError();
    if (opened && opened.webhook_id === webhook.webhook_id) closeLog();
    await act(webhook, '/delete', 'Deleted', button);
  }

  async function resend(webhook, delivery, button) {
    Admin.clearError();
    await Admin.busy(button, async () => {
      try {
        await api('POST', path(webhook, '/deliveries/' + delivery.event_id + '/resend'), {});
        Admin.showNotice('Event ' + delivery.event_id + ' will be sent again.');
        await loadLog(webhook);
      } catch (error) {
        Admin.reportError(error);
      }
    });
  }

  async function create(event) {
    event.preventDefault();
    const form = event.currentTarget;
    Admin.clearError();
    Admin.clearFieldErrors(form);
    const events = Array.from(form.querySelectorAll('[name="events"]:checked')).map((box) => box.value);
    const body = { url: form.elements.url.value.trim(), events: events };
    const secret = form.elements.secret.value.trim();
    if (secret) body.secret = secret;
    await Admin.busy($('[data-sb="new-webhook-submit"]', form), async () => {
      try {
        const made = await api('POST', 'api/admin/webhooks', body);
        form.reset();
        Admin.showNotice('Registered ' + made.webhook.url + '. Its secret is in the list (Show).');
        await load();
      } catch (error) {
        Admin.reportError(error, form);
      }
    });
  }

  $('#webhooks-refresh').addEventListener('click', () => {
    Admin.clearError();
    load();
  });
  $('#webhook-log-close').addEventListener('click', closeLog);
  $('#webhook-create').addEventListener('submit', create);

  Admin.tabs.webhooks = { show: load };
})();
