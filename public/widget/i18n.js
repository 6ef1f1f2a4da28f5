/* Switchboard widget: strings in English, Chinese and Korean. ES5. */
(function (W) {
  'use strict';
  var STRINGS = {
    en: {
      title: 'Chat with us', open: 'Open chat', close: 'Close chat', minimize: 'Minimize chat',
      choose: 'Who would you like to talk to?', any: 'Any available agent', busy: 'busy',
      loading: 'Loading…', st_choosing: 'Choose an agent', st_queued: 'Waiting for an agent',
      st_open: 'Chatting with {name}', st_closed: 'Chat ended', st_offline: 'We are offline',
      queue: 'You are number {n} in line', agents: 'Online agents', messages: 'Messages',
      typing: '{name} is typing…', input: 'Type a message…', send: 'Send', end: 'End chat',
      joined: '{name} joined the chat', invited: '{name} started a chat with you',
      moved: 'You are now chatting with {name}', you: 'You', agent: 'Agent', sending: 'Sending…',
      failed: 'Not sent: {msg}', closed_by_visitor: 'You ended the chat.',
      closed_by_agent: 'The agent ended the chat.', inactivity: 'The chat ended after a quiet while.',
      visitor_left: 'The chat ended.',
      visitor_banned: 'The chat was ended. You cannot start a new chat for now.',
      rate: 'How was your chat?', stars: '{n} of 5 stars',
      comment: 'Comment (optional)', rate_send: 'Send rating', pick: 'Please pick a score.',
      thanks: 'Thank you for your feedback!', again: 'Start a new chat',
      offline: 'Nobody is online right now. Leave a message and we will reply by email.',
      name: 'Your name', email: 'Email', body: 'Message', offline_send: 'Send message',
      offline_done: 'Thank you! We will get back to you by email.',
      connection: 'Connection lost. Reconnecting…', new_msg: '({n}) New message',
      announce: 'Announcement', dismiss: 'Dismiss', error: 'Something went wrong. Please try again.'
    },
    zh: {
      title: '在线客服', open: '打开聊天', close: '关闭聊天', minimize: '收起聊天',
      choose: '您想和谁交谈？', any: '任意在线客服', busy: '忙碌',
      loading: '加载中…', st_choosing: '请选择客服', st_queued: '正在等待客服',
      st_open: '正在与 {name} 聊天', st_closed: '对话已结束', st_offline: '客服暂时不在线',
      queue: '您当前排在第 {n} 位', agents: '在线客服', messages: '消息',
      typing: '{name} 正在输入…', input: '输入消息…', send: '发送', end: '结束对话',
      joined: '{name} 加入了对话', invited: '{name} 向您发起了对话',
      moved: '现在由 {name} 为您服务', you: '我', agent: '客服', sending: '发送中…',
      failed: '发送失败：{msg}', closed_by_visitor: '您结束了对话。',
      closed_by_agent: '客服结束了对话。', inactivity: '对话因长时间无消息而结束。',
      visitor_left: '对话已结束。', visitor_banned: '对话已结束，您暂时无法发起新的对话。',
      rate: '您对本次服务满意吗？', stars: '{n} 星（满分 5 星）',
      comment: '留言（可选）', rate_send: '提交评价', pick: '请选择评分。',
      thanks: '感谢您的评价！', again: '开始新对话',
      offline: '目前没有客服在线。请留言，我们会通过电子邮件回复您。',
      name: '您的姓名', email: '电子邮箱', body: '留言内容', offline_send: '发送留言',
      offline_done: '谢谢！我们会尽快通过电子邮件回复您。',
      connection: '连接中断，正在重新连接…', new_msg: '（{n}）新消息',
      announce: '公告', dismiss: '关闭', error: '出错了，请重试。'
    },
    ko: {
      title: '상담 채팅', open: '채팅 열기', close: '채팅 닫기', minimize: '채팅 최소화',
      choose: '어느 상담원과 이야기하시겠어요?', any: '아무 상담원', busy: '상담 중',
      loading: '불러오는 중…', st_choosing: '상담원을 선택하세요', st_queued: '상담원을 기다리는 중',
      st_open: '{name} 님과 채팅 중', st_closed: '채팅이 끝났습니다', st_offline: '지금은 상담 시간이 아닙니다',
      queue: '대기 순서: {n}번째', agents: '접속 중인 상담원', messages: '메시지',
      typing: '{name} 님이 입력 중…', input: '메시지를 입력하세요…', send: '보내기', end: '채팅 종료',
      joined: '{name} 님이 채팅에 참여했습니다', invited: '{name} 님이 채팅을 시작했습니다',
      moved: '이제 {name} 님이 상담합니다', you: '나', agent: '상담원', sending: '보내는 중…',
      failed: '전송 실패: {msg}', closed_by_visitor: '채팅을 종료했습니다.',
      closed_by_agent: '상담원이 채팅을 종료했습니다.', inactivity: '한동안 대화가 없어 채팅이 종료되었습니다.',
      visitor_left: '채팅이 종료되었습니다.',
      visitor_banned: '채팅이 종료되었습니다. 당분간 새 채팅을 시작할 수 없습니다.',
      rate: '상담은 어떠셨나요?', stars: '5점 만점에 {n}점',
      comment: '의견 (선택)', rate_send: '평가 보내기', pick: '점수를 선택해 주세요.',
      thanks: '소중한 의견 감사합니다!', again: '새 채팅 시작',
      offline: '지금은 접속한 상담원이 없습니다. 메시지를 남기시면 이메일로 답변드리겠습니다.',
      name: '이름', email: '이메일', body: '메시지', offline_send: '메시지 보내기',
      offline_done: '감사합니다! 이메일로 답변드리겠습니다.',
      connection: '연결이 끊겼습니다. 다시 연결하는 중…', new_msg: '({n}) 새 메시지',
      announce: '공지', dismiss: '닫기', error: '문제가 발생했습니다. 다시 시도해 주세요.'
    }
  };

  /** The language: data-lang when it names one we have, else the browser's, else English. */
  function pick(wanted) {
    var nav = window.navigator || {};
    var list = [wanted].concat(nav.languages || [], nav.language || nav.userLanguage || '');
    for (var i = 0; i < list.length; i++) {
      var code = String(list[i] || '').toLowerCase().slice(0, 2);
      if (STRINGS[code]) { return code; }
    }
    return 'en';
  }

  W.parts.i18n = function (wanted) {
    var lang = pick(wanted), table = STRINGS[lang];
    /** t('queue', {n: 3}): the string with its {placeholders} filled in (as text, never HTML). */
    function t(key, vars) {
      var text = table[key] || STRINGS.en[key] || key;
      return text.replace(/\{(\w+)\}/g, function (all, name) {
        return vars && vars[name] != null ? String(vars[name]) : '';
      });
    }
    t.lang = lang;
    return t;
  };
  W.boot();
}(window.SwitchboardWidget));
