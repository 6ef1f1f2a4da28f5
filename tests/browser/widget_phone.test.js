// The visitor flow on a phone: a 375×667 touch viewport, the panel full screen, taps instead of
// clicks, and a screenshot kept as an artifact (never committed).
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const {
  ARTIFACTS, ApiAgent, Server, customerSite, freePort, hook, launchBrowser, shownMessages, waitForMessage, watchErrors,
} = require('./harness');

test('the visitor flow works at a phone viewport with touch', async () => {
  const sitePort = await freePort();
  const server = await Server.start({ origins: [`http://127.0.0.1:${sitePort}`] });
  server.addAgent('E1', 'Alice');
  const agent = await ApiAgent.online(server, 'E1');
  const site = await customerSite(server, { port: sitePort });
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext({
      viewport: { width: 375, height: 667 }, hasTouch: true, isMobile: true, deviceScaleFactor: 2,
    });
    const page = await context.newPage();
    const errors = watchErrors(page, []);
    await page.goto(site.url);
    await page.tap(hook('launcher'));
    const panel = await page.waitForSelector(hook('panel'), { state: 'visible' });
    const box = await panel.boundingBox();
    assert.ok(box.width >= 370 && box.height >= 600, `the panel fills the phone screen: ${JSON.stringify(box)}`);

    await page.tap(`${hook('agent-option')}[data-agent-id="${agent.id}"]`);
    await page.waitForSelector(`${hook('chat-status')}[data-state="open"]`);
    for (const name of ['send', 'minimize', 'end-chat']) {
      const target = await page.locator(hook(name)).boundingBox();
      assert.ok(target && target.width >= 44 && target.height >= 44, `${name} is a 44 px touch target: ${JSON.stringify(target)}`);
    }
    await page.tap(hook('input'));
    await page.fill(hook('input'), 'Hello from my phone');
    await page.tap(hook('send'));
    const chatId = await agent.waitFor(() => agent.chats()[0], 'a chat');
    await agent.waitFor(() => agent.messages(chatId).includes('visitor: Hello from my phone'), 'the message');
    await agent.send(chatId, 'a-1', 'Hi! What can I do for you?');
    await waitForMessage(page, 'Hi! What can I do for you?');
    const shown = (await shownMessages(page)).filter((m) => m.from !== 'system').map((m) => m.text);
    assert.deepStrictEqual(shown, ['Hello from my phone', 'Hi! What can I do for you?']);

    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const shot = path.join(ARTIFACTS, 'widget-phone-375x667.png');
    await page.screenshot({ path: shot });
    console.log(`phone screenshot: ${shot}`);
    assert.deepStrictEqual(errors, []);
  } finally {
    await browser.close();
    await agent.stop();
    await site.close();
    await server.stop();
  }
});
