// The visitor flow on a phone: a 375×667 touch viewport, the panel full screen, taps instead of
// clicks, and a screenshot kept as an artifact (never committed).
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const {
  ARTIFACTS, ApiAgent, Server, customerSite, freePort, hook, launchBrowser, shownMessages, waitForMessage, watchErrors,
  widget,
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
    const chat = widget(page);
    const panel = chat.locator(hook('panel'));
    await panel.waitFor({ state: 'visible' });
    // The panel lives in the widget's iframe: both the frame on the page and the panel in it
    // (boxes in the page's coordinates) fill the phone screen.
    for (const [what, located] of [['frame', page.locator(hook('frame'))], ['panel', panel]]) {
      const box = await located.boundingBox();
      assert.ok(box && box.width >= 370 && box.height >= 600, `the ${what} fills the phone screen: ${JSON.stringify(box)}`);
    }

    await chat.locator(`${hook('agent-option')}[data-agent-id="${agent.id}"]`).tap();
    await chat.locator(`${hook('chat-status')}[data-state="open"]`).waitFor();
    for (const name of ['send', 'minimize', 'end-chat']) {
      const target = await chat.locator(hook(name)).boundingBox();
      assert.ok(target && target.width >= 44 && target.height >= 44, `${name} is a 44 px touch target: ${JSON.stringify(target)}`);
    }
    await chat.locator(hook('input')).tap();
    await chat.locator(hook('input')).fill('Hello from my phone');
    await chat.locator(hook('send')).tap();
    const chatId = await agent.waitFor(() => agent.chats()[0], 'a chat');
    await agent.waitFor(() => agent.messages(chatId).includes('visitor: Hello from my phone'), 'the message');
    await agent.send(chatId, 'a-1', 'Hi! What can I do for you?');
    await waitForMessage(chat, 'Hi! What can I do for you?');
    const shown = (await shownMessages(chat)).filter((m) => m.from !== 'system').map((m) => m.text);
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
