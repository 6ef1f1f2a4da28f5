// Telling the agent something happened: a short Web Audio beep, a blinking title while the
// window is hidden or unfocused, and a desktop notification only while the page is hidden (a
// visible page in an unfocused window already shows the chat; a pop-up over it is noise).
// Nothing here may throw into its callers: alerts run inside the poll's event handling, and
// browsers refuse audio or notifications in many ways (autoplay rules, policies, old APIs).

import { store } from './util.js';

const SOUND_KEY = 'sb.console.sound';
const BASE_TITLE = 'Switchboard';

export class Notifier {
  constructor(button) {
    this.button = button;
    this.soundOn = store.get(SOUND_KEY, false) === true;
    this.audio = null;
    this.count = 0;
    this.blinkTimer = null;
    this.lastBeep = 0;
    button.addEventListener('click', () => this.toggle());
    // Audio may only start after a gesture: after a reload, the first click or key arms it.
    const arm = () => {
      if (this.soundOn) this.ensureAudio();
    };
    document.addEventListener('pointerdown', arm, { once: true, capture: true });
    document.addEventListener('keydown', arm, { once: true, capture: true });
    const calm = () => {
      if (document.visibilityState === 'visible' && document.hasFocus()) this.clearTitle();
    };
    window.addEventListener('focus', calm);
    document.addEventListener('visibilitychange', calm);
    this.render();
  }

  ensureAudio() {
    try {
      const Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) return null;
      if (!this.audio) this.audio = new Context();
      if (this.audio.state === 'suspended') this.audio.resume().catch(() => {});
      return this.audio;
    } catch (_) {
      return null; // refused (policy, no audio device): the title and notifications still work
    }
  }

  async toggle() {
    if (this.soundOn) {
      this.soundOn = false;
      store.set(SOUND_KEY, false);
      this.render();
      return;
    }
    this.soundOn = true;
    store.set(SOUND_KEY, true);
    this.ensureAudio(); // inside the click, so autoplay rules allow it
    this.beep();
    this.render(); // the permission prompt below may stay open for a long time
    if ('Notification' in window && Notification.permission === 'default') {
      try {
        await Notification.requestPermission(); // the old callback-only form returns nothing
      } catch (_) { /* blocked: sound and title still work */ }
    }
    this.render();
  }

  render() {
    const desktop = 'Notification' in window ? Notification.permission : 'unsupported';
    this.button.setAttribute('aria-pressed', String(this.soundOn));
    this.button.textContent = this.soundOn ? 'Sound on' : 'Enable sound';
    this.button.title = this.soundOn
      ? `Sound and notifications are on (desktop notifications: ${desktop}). Click to mute.`
      : 'Turn on a sound and desktop notifications for new chats and messages';
  }

  beep() {
    try {
      this.playBeep();
    } catch (_) { /* an audio context that fails mid-way: stay silent */ }
  }

  playBeep() {
    const audio = this.soundOn && this.ensureAudio();
    if (!audio || Date.now() - this.lastBeep < 700) return;
    this.lastBeep = Date.now();
    const start = audio.currentTime + 0.01;
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = 'sine';
    osc.frequency.setValueAtTime(880, start);
    osc.frequency.setValueAtTime(660, start + 0.09);
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(0.2, start + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.22);
    osc.connect(gain).connect(audio.destination);
    osc.start(start);
    osc.stop(start + 0.25);
  }

  /** Something new: `title` / `body` for the desktop notification, `tag` groups them. */
  notify({ title, body, tag }) {
    this.beep();
    const looking = document.visibilityState === 'visible' && document.hasFocus();
    if (looking) return;
    this.count += 1;
    this.blink();
    if (document.visibilityState !== 'hidden') return;
    try {
      if (!('Notification' in window) || Notification.permission !== 'granted') return;
      const note = new Notification(title, { body: body || '', tag: tag || undefined });
      note.onclick = () => {
        window.focus();
        note.close();
      };
    } catch (_) { /* some platforms only allow notifications from a service worker */ }
  }

  blink() {
    const alert = `(${this.count}) New message — ${BASE_TITLE}`;
    document.title = alert;
    if (this.blinkTimer) return;
    let on = true;
    this.blinkTimer = setInterval(() => {
      on = !on;
      document.title = on ? `(${this.count}) New message — ${BASE_TITLE}` : BASE_TITLE;
    }, 1000);
  }

  clearTitle() {
    clearInterval(this.blinkTimer);
    this.blinkTimer = null;
    this.count = 0;
    document.title = BASE_TITLE;
  }
}
