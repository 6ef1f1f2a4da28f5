// The Sites tab: the websites that embed the widget (GET/POST /api/admin/sites…). A site's
// signing secret is shown once, right after it is made or rotated, and is gone from the page when
// the tab is left or reloaded. Rotating and deleting take two clicks (the first arms the button).
(function () {
  'use strict';

  const Admin = window.SBAdmin;
  const { api, el, $ } = Admin;

  let generation = 0;
  let sites = [];

  /** The tag a site pastes into its pages. */
  function snippet(site) {
    return '<script src="' + location.origin + '/widget.js" data-site="' + site.site_id + '" async></script>';
  }

  function look(site) {
    const parts = [];
    if (site.color) parts.push(site.color);
    if (site.default_lang) parts.push(site.default_lang);
    if (site.require_verified) parts.push('verified only');
    if (site.greeting) parts.push('“' + site.greeting + '”');
    return parts.join(', ') || 'defaults';
  }

  function armed(button, label) {
    if (button.getAttribute('data-armed') === 'true') return true;
    button.setAttribute('data-armed', 'true');
    button.textContent = label;
    return false;
  }

  function row(site) {
    return el('tr', { sb: 'site-row', 'data-site-id': site.site_id, 'data-name': site.name },
      el('td', { text: site.name }),
      el('td', { class: 'mono', sb: 'site-origins', text: site.origins.join(' ') }),
      el('td', { class: 'mono nowrap', sb: 'site-prefix', text: site.secret_prefix + '…' }),
      el('td', { sb: 'site-look', text: look(site) }),
      el('td', null, el('code', { class: 'mono small', sb: 'site-snippet', text: snippet(site) })),
      el('td', { class: 'actions' },
        el('button', { type: 'button', class: 'secondary', sb: 'site-edit', onclick: () => edit(site) }, 'Edit'),
        el('button', { type: 'button', class: 'secondary', sb: 'site-rotate', onclick: (event) => rotate(site, event.currentTarget) }, 'Rotate secret'),
        el('button', { type: 'button', class: 'secondary', sb: 'site-delete', onclick: (event) => remove(site, event.currentTarget) }, 'Delete')));
  }

  function hideSecret() {
    $('#site-secret-box').hidden = true;
    $('#site-secret').value = '';
  }

  function showSecret(name, secret) {
    $('#site-secret').value = secret;
    $('#site-secret-name').textContent = name;
    $('#site-secret-box').hidden = false;
  }

  async function load() {
    const mine = ++generation;
    try {
      const data = await api('GET', 'api/admin/sites');
      if (mine !== generation) return;
      sites = data.sites || [];
      const body = $('#sites');
      Admin.clear(body);
      for (const site of sites) body.appendChild(row(site));
      $('#sites-empty').hidden = sites.length > 0;
    } catch (error) {
      Admin.reportError(error);
    }
  }

  function resetForm() {
    const form = $('#site-form');
    form.reset();
    form.elements.site_id.value = '';
    $('#site-form-title').textContent = 'New site';
    $('#site-submit').textContent = 'Create site';
    $('#site-cancel').hidden = true;
    Admin.clearFieldErrors(form);
  }

  function edit(site) {
    const form = $('#site-form');
    resetForm();
    form.elements.site_id.value = site.site_id;
    form.elements.name.value = site.name;
    form.elements.origins.value = site.origins.join(' ');
    form.elements.greeting.value = site.greeting || '';
    form.elements.color.value = site.color || '';
    form.elements.default_lang.value = site.default_lang || '';
    form.elements.require_verified.checked = !!site.require_verified;
    $('#site-form-title').textContent = 'Edit ' + site.name;
    $('#site-submit').textContent = 'Save';
    $('#site-cancel').hidden = false;
    form.elements.name.focus();
  }

  async function save(event) {
    event.preventDefault();
    const form = event.currentTarget;
    Admin.clearError();
    Admin.clearFieldErrors(form);
    const id = form.elements.site_id.value;
    // Blank greeting, color or language clear them (the widget's defaults apply).
    const body = {
      name: form.elements.name.value.trim(),
      origins: form.elements.origins.value.trim(),
      greeting: form.elements.greeting.value,
      color: form.elements.color.value.trim(),
      default_lang: form.elements.default_lang.value,
      require_verified: form.elements.require_verified.checked,
    };
    await Admin.busy($('#site-submit'), async () => {
      try {
        if (id) {
          const changed = await api('POST', 'api/admin/sites/' + encodeURIComponent(id), body);
          Admin.showNotice('Saved "' + changed.site.name + '".');
        } else {
          // A new site has nothing to clear: blanks are left out.
          for (const field of ['greeting', 'color', 'default_lang']) if (!body[field]) delete body[field];
          hideSecret();
          const made = await api('POST', 'api/admin/sites', body);
          showSecret(made.site.name, made.secret);
        }
        resetForm();
        await load();
      } catch (error) {
        Admin.reportError(error, form);
      }
    });
  }

  async function rotate(site, button) {
    Admin.clearError();
    if (!armed(button, 'Click again: the old secret stops working')) return;
    await Admin.busy(button, async () => {
      try {
        const rotated = await api('POST', 'api/admin/sites/' + encodeURIComponent(site.site_id) + '/secret', {});
        showSecret(rotated.site.name, rotated.secret);
      } catch (error) {
        Admin.reportError(error);
      }
      await load();
    });
  }

  async function remove(site, button) {
    Admin.clearError();
    if (!armed(button, 'Click again to delete')) return;
    await Admin.busy(button, async () => {
      try {
        const deleted = await api('POST', 'api/admin/sites/' + encodeURIComponent(site.site_id) + '/delete', {});
        Admin.showNotice('Deleted "' + site.name + '"; its ' + deleted.visitors_detached + ' visitors are kept, belonging to no site.');
      } catch (error) {
        Admin.reportError(error);
      }
      await load();
    });
  }

  async function copySecret() {
    const input = $('#site-secret');
    input.select();
    try {
      await navigator.clipboard.writeText(input.value);
      Admin.showNotice('Secret copied.');
    } catch (error) {
      Admin.showNotice('Press Ctrl+C (⌘C) to copy the selected secret.');
    }
  }

  $('#sites-refresh').addEventListener('click', () => {
    Admin.clearError();
    load();
  });
  $('#site-form').addEventListener('submit', save);
  $('#site-cancel').addEventListener('click', resetForm);
  $('#site-secret').addEventListener('focus', (event) => event.currentTarget.select());
  $('#site-secret-copy').addEventListener('click', copySecret);

  Admin.tabs.sites = {
    show() {
      hideSecret();
      resetForm();
      return load();
    },
  };
})();
