/* Widget frame: the English strings, every key of the core and the lazy modules. Loaded before the
 * panel is drawn when the visitor's language is English (bridge.js, SB.useLang). ES3. */
window.SB.mods['lang-en'] = {
  title: 'Chat with us', minimize: 'Minimize chat',
  choose: 'Who would you like to talk to?', any: 'Any available agent', busy: 'busy',
  loading: 'Loading\u2026', st_choosing: 'Choose an agent', st_queued: 'Waiting for an agent',
  st_open: 'Chatting with {name}', st_closed: 'Chat ended', st_offline: 'We are offline',
  queue: 'You are number {n} in line', agents: 'Online agents', messages: 'Messages',
  input: 'Type a message\u2026', send: 'Send', end: 'End chat',
  joined: '{name} joined the chat', invited: '{name} started a chat with you',
  moved: 'You are now chatting with {name}', you: 'You', agent: 'Agent', sending: 'Sending\u2026',
  failed: 'Not sent: {msg}', closed_by_visitor: 'You ended the chat.',
  closed_by_agent: 'The agent ended the chat.', inactivity: 'The chat ended after a quiet while.',
  visitor_left: 'The chat ended.',
  visitor_banned: 'The chat was ended. You cannot start a new chat for now.',
  again: 'Start a new chat', connection: 'Connection lost. Reconnecting\u2026',
  memory: 'Your browser does not let this chat keep anything: it lasts only while this page is open.',
  new_msg: '({n}) New message', error: 'Something went wrong. Please try again.',
  rate: 'How was your chat?', stars: '{n} of 5 stars', comment: 'Comment (optional)',
  rate_send: 'Send rating', pick: 'Please pick a score.', thanks: 'Thank you for your feedback!',
  offline: 'Nobody is online right now. Leave a message and we will reply by email.',
  name: 'Your name', email: 'Email', body: 'Message', offline_send: 'Send message',
  offline_done: 'Thank you! We will get back to you by email.',
  transcript_email: 'Email me the transcript', transcript_send: 'Send transcript',
  transcript_done: 'The transcript is on its way to your inbox.',
  typing: '{name} is typing\u2026', announce: 'Announcement', dismiss: 'Dismiss',
  earlier: 'Earlier conversations', back: 'Back', no_earlier: 'No earlier conversations.',
  signin: 'Please sign in to chat.', st_signin: 'Sign in to chat'
};
