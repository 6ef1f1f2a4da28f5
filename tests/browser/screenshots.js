// Regenerates the README's widget picture: `node tests/browser/screenshots.js` (after
// `cargo build`). A chat on the demo page at a phone viewport, answered through the API.
'use strict';

const path = require('node:path');
const { ApiAgent, REPO, Server, hook, launchBrowser, say, waitForMessage, widget } = require('./harness');

async function main() {
  const server = await Server.start();
  server.addAgent('E1', 'Alice Martin');
  const agent = await ApiAgent.online(server, 'E1');
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext({ viewport: { width: 375, height: 667 }, hasTouch: true, isMobile: true, deviceScaleFactor: 2 });
    const page = await context.newPage();
    await page.goto(server.url('/demo/'));
    await page.tap(hook('launcher'));
    const chat = widget(page);
    await chat.locator(`${hook('agent-option')}[data-agent-id="${agent.id}"]`).tap();
    await chat.locator(`${hook('chat-status')}[data-state="open"]`).waitFor();
    await say(chat, 'Hi! Do the Ridge 2 tents come with a footprint?');
    const chatId = await agent.waitFor(() => agent.chats()[0], 'a chat');
    await agent.waitFor(() => agent.messages(chatId).length === 1, 'the question');
    await agent.send(chatId, 'a-1', 'Hello! Yes, the footprint is included, and shipping is free this week.');
    await waitForMessage(chat, 'Hello! Yes, the footprint is included, and shipping is free this week.');
    await server.api('POST', `/api/chats/${chatId}/typing`, { typing: true }, agent.token);
    await chat.locator(hook('typing')).waitFor({ state: 'visible' });
    const file = path.join(REPO, 'docs', 'widget.png');
    await page.screenshot({ path: file });
    console.log(`wrote ${file}`);
  } finally {
    await browser.close();
    await agent.stop();
    await server.stop();
  }
}

main().catch((error) => { console.error(error); process.exit(1); });
