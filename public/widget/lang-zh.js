/* Widget frame: the Chinese strings, every key of the core and the lazy modules. Loaded before the
 * panel is drawn when the visitor's language is Chinese (bridge.js, SB.useLang). ES3. */
window.SB.mods['lang-zh'] = {
  title: '在线客服', minimize: '收起聊天',
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
  connection: '连接中断，正在重新连接…', announce: '公告', dismiss: '关闭', error: '出错了，请重试。',
  memory: '您的浏览器不允许本聊天保存数据：关闭此页面后对话将不再保留。',
  new_msg: '（{n}）新消息',
  transcript_email: '通过电子邮件发送聊天记录', transcript_send: '发送聊天记录',
  transcript_done: '聊天记录已发往您的邮箱。',
  earlier: '以前的对话', back: '返回', no_earlier: '没有以前的对话。',
  signin: '请登录后再聊天。', st_signin: '登录后聊天'
};
