// The pre-chat form: on a page whose script tag names a site with a form, the widget asks it
// before the chat starts, checks required fields and formats itself (no request until they are
// right), shows the server's refusal next to the form, and the answers reach the agent console
// as text, markup included.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { customerSite, hook, loginConsole, openWidget, say, shopWorld, waitForMessage } = require('./harness');

const FORM = [
  { name: 'full_name', type: 'name', label: 'Your name', required: true },
  { name: 'email', type: 'email', label: 'Email', required: true },
  { name: 'phone', type: 'phone', label: 'Phone' },
  { name: 'question', type: 'text', label: 'Your question', required: true },
  { name: 'topic', type: 'choice', label: 'Topic', options: ['Billing', 'Orders'] },
];

/** A site for the shop's origin with FORM as its pre-chat form; its id. */
async function siteWithForm(w) {
  const made = await w.server.api('POST', '/api/admin/sites', { name: 'Acme', origins: [w.site.origin] }, w.admin.token);
  assert.strictEqual(made.status, 201, JSON.stringify(made.body));
  const siteId = made.body.site.site_id;
  await setForm(w, siteId, FORM);
  return siteId;
}

async function setForm(w, siteId, fields) {
  const set = await w.server.api('POST', `/api/admin/sites/${siteId}/prechat-form`, { fields }, w.admin.token);
  assert.strictEqual(set.status, 200, JSON.stringify(set.body));
}

test('the widget asks the site\'s pre-chat form first and the console shows the answers as text', async () => {
  const w = await shopWorld({ agentOnline: false });
  let shop = null;
  try {
    const siteId = await siteWithForm(w);
    // The same shop page, its script tag now naming the site.
    await w.site.close();
    shop = await customerSite(w.server, { port: w.site.port, scriptAttrs: `data-site="${siteId}"` });

    const alice = await w.open();
    await loginConsole(alice, w.server, 'E1');

    const page = await w.open();
    const starts = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && /\/api\/chats$/.test(request.url())) starts.push(request.postData());
    });
    await page.goto(shop.url);
    const chat = await openWidget(page);
    await chat.locator(hook('agent-any')).click();

    // The form, before any chat: real labels, the choice's options.
    const form = chat.locator(hook('prechat-form'));
    await form.waitFor({ state: 'visible' });
    assert.strictEqual(await chat.locator(`${hook('chat-status')}`).getAttribute('data-state'), 'prechat');
    assert.strictEqual(await chat.locator('label[for="sbw-prechat-full_name"]').textContent(), 'Your name');
    assert.strictEqual(await chat.locator('label[for="sbw-prechat-phone"]').textContent(), 'Phone (optional)');
    assert.deepStrictEqual(await chat.locator(`${hook('prechat-topic')} option`).allTextContents(), ['Choose\u2026', 'Billing', 'Orders']);
    assert.strictEqual(await chat.locator(hook('input')).isVisible(), false, 'no message before the form');

    // Required fields and formats are checked here: nothing is sent until they are right.
    await chat.locator(hook('prechat-submit')).click();
    await chat.locator(hook('prechat-full_name-error')).getByText('Your name is required.').waitFor();
    assert.strictEqual(await chat.locator(hook('prechat-question-error')).textContent(), 'Your question is required.');
    await chat.locator(hook('prechat-full_name')).fill('<b>x</b>');
    await chat.locator(hook('prechat-email')).fill('not-an-email');
    await chat.locator(hook('prechat-phone')).fill('call me');
    await chat.locator(hook('prechat-question')).fill('Where is <i>my</i> order?');
    await chat.locator(hook('prechat-submit')).click();
    await chat.locator(hook('prechat-email-error')).getByText(/must be an email address/).waitFor();
    assert.match(await chat.locator(hook('prechat-phone-error')).textContent(), /must be a phone number/);
    assert.strictEqual(await chat.locator(hook('prechat-full_name-error')).textContent(), '');
    assert.deepStrictEqual(starts, [], 'no chat start was requested while the form was wrong');

    // A form changed after the widget read it: the server's refusal shows next to the form.
    await setForm(w, siteId, [...FORM, { name: 'order', type: 'text', label: 'Order number', required: true }]);
    await chat.locator(hook('prechat-email')).fill('ana@example.com');
    await chat.locator(hook('prechat-phone')).fill('');
    await chat.locator(hook('prechat-topic')).selectOption('Orders');
    await chat.locator(hook('prechat-submit')).click();
    await chat.locator(hook('prechat-error')).getByText(/order/).waitFor();
    assert.strictEqual(starts.length, 1);
    assert.strictEqual(await form.isVisible(), true, 'the form stays for another try');

    await setForm(w, siteId, FORM);
    await chat.locator(hook('prechat-submit')).click();
    await chat.locator(`${hook('chat-status')}[data-state="open"]`).waitFor();
    assert.strictEqual(await form.isVisible(), false);
    assert.strictEqual(starts.length, 2);
    assert.deepStrictEqual(JSON.parse(starts[1]).prechat, {
      full_name: '<b>x</b>', email: 'ana@example.com', question: 'Where is <i>my</i> order?', topic: 'Orders',
    });
    await say(chat, 'Hello');

    // The console shows the answers with the chat, as text, in its customer panel's place for them.
    const pane = alice.locator(hook('chat')).first();
    await waitForMessage(pane, 'Hello');
    const chatId = await pane.getAttribute('data-chat-id');
    const answers = pane.locator(`#customer-prechat-${chatId} > ${hook('prechat')}`);
    await answers.waitFor();
    assert.deepStrictEqual(await answers.locator('dt').allTextContents(), ['Your name', 'Email', 'Your question', 'Topic']);
    assert.deepStrictEqual(await answers.locator(hook('prechat-answer')).allTextContents(),
      ['<b>x</b>', 'ana@example.com', 'Where is <i>my</i> order?', 'Orders']);
    assert.strictEqual(await answers.locator('b, i').count(), 0, 'no element made from an answer');
    assert.deepStrictEqual(w.errors, []);
  } finally {
    if (shop) await shop.close();
    await w.close();
  }
});

test('without a site, or with a site that has no form, the widget starts the chat at once', async () => {
  const w = await shopWorld({ agentOnline: true });
  let shop = null;
  try {
    const made = await w.server.api('POST', '/api/admin/sites', { name: 'Acme', origins: [w.site.origin] }, w.admin.token);
    assert.strictEqual(made.status, 201);
    await w.site.close();
    shop = await customerSite(w.server, { port: w.site.port, scriptAttrs: `data-site="${made.body.site.site_id}"` });
    const page = await w.open();
    await page.goto(shop.url);
    const chat = await openWidget(page);
    await chat.locator(hook('agent-any')).click();
    await chat.locator(`${hook('chat-status')}[data-state="open"]`).waitFor();
    assert.strictEqual(await chat.locator(hook('prechat-form')).isVisible(), false);
    assert.deepStrictEqual(w.errors, []);
  } finally {
    if (shop) await shop.close();
    await w.close();
  }
});
