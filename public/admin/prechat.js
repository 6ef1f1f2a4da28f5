// The Pre-chat form tab: per site (GET /api/admin/sites), the fields the widget asks before a
// visitor's first message — add, remove, reorder; type, label, required, a choice's options —
// saved whole with POST /api/admin/sites/{site_id}/prechat-form. The server checks the form
// again and says which field is wrong; labels and options are shown as text.
(function () {
  'use strict';

  const Admin = window.SBAdmin;
  const { api, el, $ } = Admin;

  const TYPES = [
    { value: 'name', label: 'Name' },
    { value: 'email', label: 'Email' },
    { value: 'phone', label: 'Phone' },
    { value: 'text', label: 'Question (text)' },
    { value: 'choice', label: 'Choice list' },
  ];
  const MAX_FIELDS = 10;

  let sites = [];
  let fields = []; // the form being edited: [{name, type, label, required, options: [..]}]
  let generation = 0;

  function site() {
    return sites.find((s) => s.site_id === $('#prechat-site').value) || null;
  }

  function copyOf(form) {
    return (form || []).map((f) => ({
      name: f.name, type: f.type, label: f.label, required: !!f.required, options: (f.options || []).slice(),
    }));
  }

  /** A name for a new field of `type` that no other field has. */
  function freshName(type) {
    const base = type === 'text' ? 'question' : type;
    let name = base;
    for (let i = 2; fields.some((f) => f.name === name); i += 1) name = base + '_' + i;
    return name;
  }

  function move(index, by) {
    const to = index + by;
    if (to < 0 || to >= fields.length) return;
    const [field] = fields.splice(index, 1);
    fields.splice(to, 0, field);
    render();
    $('[data-sb="prechat-field"][data-index="' + to + '"] [data-sb="prechat-field-' + (by < 0 ? 'up' : 'down') + '"]')?.focus();
  }

  function row(field, index) {
    const id = 'prechat-' + index;
    const options = el('textarea', {
      id: id + '-options', sb: 'prechat-field-options', rows: 3,
      oninput: (event) => { field.options = event.target.value.split('\n').map((o) => o.trim()).filter(Boolean); },
    });
    options.value = field.options.join('\n');
    const optionsBox = el('label', { for: id + '-options', class: 'prechat-options' }, 'Options (one per line)', options);
    optionsBox.hidden = field.type !== 'choice';
    const type = el('select', {
      id: id + '-type', sb: 'prechat-field-type',
      onchange: (event) => { field.type = event.target.value; optionsBox.hidden = field.type !== 'choice'; },
    }, TYPES.map((t) => el('option', { value: t.value, text: t.label })));
    type.value = field.type;
    const label = el('input', {
      id: id + '-label', sb: 'prechat-field-label', maxlength: 100, autocomplete: 'off',
      oninput: (event) => { field.label = event.target.value; },
    });
    label.value = field.label;
    const name = el('input', {
      id: id + '-name', sb: 'prechat-field-name', maxlength: 32, autocomplete: 'off', class: 'mono',
      pattern: '[a-z0-9_]{1,32}', oninput: (event) => { field.name = event.target.value; },
    });
    name.value = field.name;
    const required = el('input', {
      id: id + '-required', type: 'checkbox', sb: 'prechat-field-required',
      onchange: (event) => { field.required = event.target.checked; },
    });
    required.checked = field.required;
    return el('fieldset', { class: 'prechat-field', sb: 'prechat-field', 'data-index': String(index) },
      el('legend', { text: 'Field ' + (index + 1) }),
      el('div', { class: 'form-grid' },
        el('label', { for: id + '-label' }, 'Label', label),
        el('label', { for: id + '-type' }, 'Type', type),
        el('label', { for: id + '-name' }, 'Key (a-z, 0-9, _)', name),
        el('label', { for: id + '-required', class: 'checkbox' }, required, ' Required')),
      optionsBox,
      el('div', { class: 'actions' },
        el('button', { type: 'button', class: 'secondary', sb: 'prechat-field-up', disabled: index === 0, onclick: () => move(index, -1), 'aria-label': 'Move field ' + (index + 1) + ' up' }, 'Up'),
        el('button', { type: 'button', class: 'secondary', sb: 'prechat-field-down', disabled: index === fields.length - 1, onclick: () => move(index, 1), 'aria-label': 'Move field ' + (index + 1) + ' down' }, 'Down'),
        el('button', {
          type: 'button', class: 'secondary', sb: 'prechat-field-remove', 'aria-label': 'Remove field ' + (index + 1),
          onclick: () => { fields.splice(index, 1); render(); },
        }, 'Remove')));
  }

  function render() {
    const box = $('#prechat-fields');
    Admin.clear(box);
    fields.forEach((field, index) => box.appendChild(row(field, index)));
    $('#prechat-none').hidden = fields.length > 0;
    $('#prechat-add').disabled = fields.length >= MAX_FIELDS;
  }

  function pick() {
    Admin.clearFieldErrors($('#prechat-editor'));
    const chosen = site();
    $('#prechat-editor').hidden = !chosen;
    fields = copyOf(chosen && chosen.prechat_form);
    render();
  }

  async function load() {
    const mine = ++generation;
    try {
      const data = await api('GET', 'api/admin/sites');
      if (mine !== generation) return;
      const before = $('#prechat-site').value;
      sites = data.sites || [];
      const select = $('#prechat-site');
      Admin.clear(select);
      for (const s of sites) select.appendChild(el('option', { value: s.site_id, text: s.name }));
      if (sites.some((s) => s.site_id === before)) select.value = before;
      $('#prechat-no-sites').hidden = sites.length > 0;
      select.disabled = sites.length === 0;
      pick();
    } catch (error) {
      Admin.reportError(error);
    }
  }

  function add() {
    const type = $('#prechat-new-type').value;
    const label = TYPES.find((t) => t.value === type).label.replace(' (text)', '').replace(' list', '');
    fields.push({ name: freshName(type), type, label, required: false, options: type === 'choice' ? ['Option 1'] : [] });
    render();
    $('[data-sb="prechat-field"][data-index="' + (fields.length - 1) + '"] [data-sb="prechat-field-label"]').focus();
  }

  async function save(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const chosen = site();
    if (!chosen) return;
    Admin.clearError();
    Admin.clearFieldErrors(form);
    const body = {
      fields: fields.map((f) => {
        const out = { name: f.name.trim(), type: f.type, label: f.label.trim(), required: f.required };
        if (f.type === 'choice') out.options = f.options;
        return out;
      }),
    };
    await Admin.busy($('[data-sb="prechat-save"]', form), async () => {
      try {
        const answer = await api('POST', 'api/admin/sites/' + encodeURIComponent(chosen.site_id) + '/prechat-form', body);
        sites = sites.map((s) => (s.site_id === chosen.site_id ? answer.site : s));
        fields = copyOf(answer.site.prechat_form);
        render();
        Admin.showNotice(fields.length ? 'Saved the pre-chat form of "' + chosen.name + '".' : 'The pre-chat form of "' + chosen.name + '" is off.');
      } catch (error) {
        Admin.reportError(error, form);
      }
    });
  }

  $('#prechat-new-type').append(...TYPES.map((t) => el('option', { value: t.value, text: t.label })));
  $('#prechat-site').addEventListener('change', pick);
  $('#prechat-add').addEventListener('click', add);
  $('#prechat-editor').addEventListener('submit', save);
  $('#prechat-refresh').addEventListener('click', () => {
    Admin.clearError();
    load();
  });

  Admin.tabs.prechat = { show: load };
})();
