// A chat pane's way out of a chat: Transfer (to an online agent chosen in the select) and
// Close chat. The online agents are one list for every pane, refreshed by refreshAgents in
// chats.js.

import { api } from './api.js';
import { h } from './util.js';

let onlineAgents = [];

/** The online agents other than me, as GET /api/agents last said; fill the selects after. */
export function setOnlineAgents(agents) {
  onlineAgents = agents;
}

export class TransferTools {
  /** `pane`: the ChatPane these act on; `refresh()` asks for the online agents again. */
  constructor(pane, refresh) {
    this.pane = pane;
    this.refresh = refresh;
    const id = pane.id;
    this.target = h('select', {
      sb: 'transfer-target', id: `transfer-${id}`,
      onfocus: () => this.refresh(),
      onmousedown: () => this.refresh(),
    });
    this.transferButton = h('button', {
      type: 'button', sb: 'transfer', text: 'Transfer', onclick: () => this.transfer(),
    });
    this.closeButton = h('button', {
      type: 'button', class: 'danger', sb: 'close-chat', text: 'Close chat', onclick: () => this.close(),
    });
  }

  /** What a chat that is not mine (any more) disables. */
  get controls() {
    return [this.target, this.transferButton, this.closeButton];
  }

  fill() {
    const chosen = this.target.value;
    this.target.replaceChildren(
      h('option', { value: '', text: 'Transfer to…' }),
      ...(onlineAgents.length ? [] : [h('option', { value: '-', disabled: true, text: 'No other agent is online' })]),
      ...onlineAgents.map((agent) => h('option', {
        value: agent.agent_id,
        text: `${agent.name} (${agent.active_chats}/${agent.max_chats})${agent.available ? '' : ' — full'}`,
      })),
    );
    if (onlineAgents.some((agent) => agent.agent_id === chosen)) this.target.value = chosen;
  }

  async transfer() {
    const pane = this.pane;
    const target = this.target.value;
    if (!target) {
      pane.flash('Choose an agent to transfer to.');
      return;
    }
    const agent = onlineAgents.find((a) => a.agent_id === target);
    this.transferButton.disabled = true;
    try {
      const answer = await api('POST', `/api/chats/${encodeURIComponent(pane.id)}/transfer`, { agent_id: target });
      pane.setStatus('transferred', answer && answer.seq ? answer.seq : pane.lastSeq + 1, agent);
    } catch (error) {
      pane.flash(error.message);
      this.refresh();
      if (error.status === 403) pane.recheck();
    } finally {
      this.transferButton.disabled = pane.readOnly;
    }
  }

  async close() {
    const pane = this.pane;
    this.closeButton.disabled = true;
    try {
      const answer = await api('POST', `/api/chats/${encodeURIComponent(pane.id)}/close`, {});
      pane.setStatus('closed', answer && answer.seq ? answer.seq : pane.lastSeq + 1);
    } catch (error) {
      if (error.code === 'chat_closed') pane.setStatus('closed', pane.lastSeq + 1);
      else pane.flash(error.message);
      if (error.status === 403) pane.recheck();
    } finally {
      this.closeButton.disabled = pane.readOnly;
    }
  }
}
