// The visitor flow through a real cluster: three nodes on one PostgreSQL with Redis between them
// and nginx in front, round robin, no stickiness. `.ci/cluster-browser` starts all of that, runs
// this file, and afterwards checks from the logs that every node served polls.
//
// One visitor's consecutive requests land on different nodes here, so a message stored through
// one node must wake a poll held on another, and a cursor one node made must be read right by the
// next. The test fails if a message is lost, repeated or out of order on either side, or if an
// answer reaches the widget only after its 25 s poll ran out (nothing woke it across nodes).
//
// Skipped unless SWITCHBOARD_BASE_URL names the running cluster; SWITCHBOARD_CONFIG is a config
// file with its store (the CLI adds the agents there) and SWITCHBOARD_SITE_PORT the port of the
// shop its `cors.allowed_origins` names (http://127.0.0.1:PORT).
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { conversation, say, shopWorld, startChatFromWidget, transcript, waitForMessage } = require('./harness');

const BASE = process.env.SWITCHBOARD_BASE_URL || '';
const skip = BASE ? false : 'needs a running cluster at SWITCHBOARD_BASE_URL (.ci/cluster-browser starts one)';

/** Round trips: with three nodes every request of one side moves the round robin on. */
const ROUNDS = 6;
/** Far below the widget's 25 s hold: an answer that comes within this woke the held poll. */
const WAKE_WITHIN_MS = 8000;
/** Types stored in a chat's seq space (notices carry their own ids in `seq`). */
const STORED = new Set(['chat.queued', 'chat.assigned', 'chat.invited', 'message', 'chat.closed']);

test('through nginx round robin, a visitor on another origin chats with an agent: once, in order, at once', { skip }, async () => {
  const w = await shopWorld({ baseUrl: BASE, sitePort: Number(process.env.SWITCHBOARD_SITE_PORT) });
  try {
    const page = await w.open();
    const chat = await startChatFromWidget(page, w.site.url, w.agent.id);
    const expected = [];
    let slowest = 0;
    let chatId = null;
    for (let i = 1; i <= ROUNDS; i += 1) {
      await say(chat, `Question ${i}`);
      expected.push(`visitor: Question ${i}`);
      chatId = chatId || await w.agent.waitFor(() => w.agent.chats()[0], 'the chat');
      await w.agent.waitFor(() => w.agent.messages(chatId).length >= expected.length, `question ${i}`);
      const sentAt = Date.now();
      await w.agent.send(chatId, `a-${i}`, `Answer ${i}`);
      expected.push(`agent: Answer ${i}`);
      try {
        await waitForMessage(chat, `Answer ${i}`, WAKE_WITHIN_MS);
      } catch (error) {
        throw new Error(`answer ${i} did not reach the widget within ${WAKE_WITHIN_MS} ms: ${error.message}`);
      }
      slowest = Math.max(slowest, Date.now() - sentAt);
    }
    console.log(`# ${ROUNDS} answers, slowest reached the widget in ${slowest} ms`);

    assert.deepStrictEqual(await conversation(chat), expected, 'the widget shows every message once, in order');
    assert.deepStrictEqual(w.agent.messages(chatId), expected, 'the agent received every message once, in order');
    const seqs = w.agent.events.filter((e) => e.chat_id === chatId && STORED.has(e.type)).map((e) => e.seq);
    assert.deepStrictEqual(seqs, [...new Set(seqs)].sort((a, b) => a - b), 'no chat event twice or out of order');
    const stored = (await transcript(w.server, w.admin.token, chatId)).filter((e) => e.type === 'message');
    assert.deepStrictEqual(stored.map((e) => `${e.from}: ${e.body}`), expected, 'the store holds the same chat');
    assert.deepStrictEqual(w.errors, []);
  } finally {
    await w.close();
  }
});
