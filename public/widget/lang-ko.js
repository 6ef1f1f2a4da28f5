/* Widget frame: the Korean strings, every key of the core and the lazy modules. Loaded before the
 * panel is drawn when the visitor's language is Korean (bridge.js, SB.useLang). ES3. */
window.SB.mods['lang-ko'] = {
  title: '상담 채팅', minimize: '채팅 최소화',
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
  connection: '연결이 끊겼습니다. 다시 연결하는 중…', announce: '공지', dismiss: '닫기', error: '문제가 발생했습니다. 다시 시도해 주세요.',
  memory: '브라우저가 이 채팅의 저장을 허용하지 않습니다. 이 페이지를 닫으면 대화가 사라집니다.',
  new_msg: '({n}) 새 메시지',
  transcript_email: '채팅 기록을 이메일로 받기', transcript_send: '기록 보내기',
  transcript_done: '채팅 기록을 이메일로 보냈습니다.',
  earlier: '이전 대화', back: '뒤로', no_earlier: '이전 대화가 없습니다.',
  signin: '채팅하려면 로그인하세요.', st_signin: '로그인 후 채팅'
};
