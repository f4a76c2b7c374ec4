// SPDX-License-Identifier: Apache-2.0
// The hub's status page: renders the cluster from /api/events (server-sent events: the status again whenever it
// changes) and follows an actor's log through /api/logs. No framework and no build step; text goes in through
// textContent only, never as HTML.
'use strict';

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('data-')) e.setAttribute(k, v);
    else if (k === 'title') e.title = v;
    else if (k === 'onclick') e.onclick = v;
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

const state = (s) => el('span', { class: 'state ' + String(s).toLowerCase() }, String(s).toLowerCase());
const mib = (m) => (m >= 1024 ? (m / 1024).toFixed(1) + ' GiB' : m + ' MiB');

function render(status) {
  const actors = status.actors || [];
  const exited = status.exited || [];
  const tickets = status.tickets || [];
  // Who holds each GPU: a live actor on it, else a ticket's rank.
  const holders = {};
  for (const t of tickets) {
    for (const s of t.slots || []) {
      for (const g of s.gpus || []) holders[s.node + '/' + g] = 'ticket ' + t.ticket + ' rank ' + s.rank + (s.actor ? ' (' + s.actor + ')' : '');
    }
  }
  for (const a of actors) {
    for (const g of a.gpus || []) if (!holders[a.node + '/' + g] || !a.ticket) holders[a.node + '/' + g] = a.id;
  }

  const alive = status.nodes.filter((n) => n.alive).length;
  const gpus = status.nodes.reduce((sum, n) => sum + (n.alive ? n.gpus.length : 0), 0);
  const free = status.nodes.reduce((sum, n) => sum + (n.alive ? n.freeGpus.length : 0), 0);
  $('summary').textContent = alive + ' of ' + status.nodes.length + ' nodes alive, ' + free + ' of ' + gpus + ' GPUs free, '
    + actors.length + ' actors and processes, ' + tickets.length + ' tickets';

  // Several hubs on etcd: the leader (this page's hub) and its standbys.
  const hubs = status.hubs || [];
  $('hubsection').hidden = !hubs.length;
  $('hubs').tBodies[0].replaceChildren(...hubs.map((h) => el('tr', { 'data-hub': h.address },
    el('td', { class: 'mono' }, h.address), el('td', {}, state(h.role)))));

  const nodes = $('nodes').tBodies[0];
  nodes.replaceChildren(...status.nodes.map((n) => {
    const chips = n.gpus.map((g) => {
      const isFree = n.freeGpus.includes(g.index);
      const who = holders[n.id + '/' + g.index];
      return el('span', { class: 'gpu ' + (isFree ? 'free' : 'used'), 'data-gpu': String(g.index),
        title: (g.name || 'GPU') + ' ' + g.index + (isFree ? ': free' : ': used by ' + (who || 'an actor')) },
        String(g.index), isFree ? null : ' ' + (who || 'used'));
    });
    return el('tr', { 'data-node': n.id },
      el('td', { class: 'mono' }, n.id), el('td', { class: 'mono' }, n.host + ':' + n.port), el('td', {}, state(n.alive ? 'alive' : 'dead')),
      el('td', {}, ...(chips.length ? chips : ['none'])), el('td', {}, n.freeCpus + ' / ' + n.cpus),
      el('td', {}, mib(n.freeMemoryMb) + ' / ' + mib(n.memoryMb)), el('td', {}, String(n.actors)));
  }));

  const ticketBox = $('tickets');
  if (!tickets.length) {
    ticketBox.replaceChildren(el('p', { class: 'empty' }, 'none'));
  } else {
    ticketBox.replaceChildren(...tickets.map((t) => {
      const head = el('div', {}, el('b', { class: 'mono' }, t.ticket), ' ', state(t.state), ' ', t.strategy.toLowerCase(), ', ',
        (t.slots || []).length + ' ranks',
        t.slots && t.slots.length ? ', master ' + t.slots[0].masterAddr + ':' + t.slots[0].masterPort : '',
        t.restart ? ', gang restarts ' + t.restarts + '/' + t.restart.maxRestarts : '',
        t.reason ? el('span', { class: 'reason' }, ' (' + t.reason + ')') : null);
      const rows = (t.slots || []).map((s) => el('tr', {},
        el('td', {}, 'rank ' + s.rank), el('td', { class: 'mono' }, s.node), el('td', {}, 'local ' + s.localRank + '/' + s.localWorldSize),
        el('td', {}, (s.gpus || []).join(', ') || 'no GPU'), el('td', { class: 'mono' }, s.actor || ''),
        el('td', {}, s.actorState ? state(s.actorState) : '')));
      return el('div', { class: 'ticket', 'data-ticket': t.ticket }, head,
        el('table', {}, el('tbody', {}, ...rows)));
    }));
  }

  const row = (a, gone) => el('tr', { 'data-actor': a.id, class: gone ? 'gone' : '' },
    el('td', { class: 'mono' }, a.id),
    el('td', { class: 'mono' }, a.command ? a.command.join(' ') : a.type),
    el('td', { class: 'mono' }, a.node),
    el('td', {}, state(a.state)),
    el('td', { class: 'mono' }, a.pid > 0 ? String(a.pid) : ''),
    el('td', { class: 'mono' }, a.port > 0 ? a.host + ':' + a.port : (a.ports ? 'ports ' + a.ports.join(', ') : '')),
    el('td', {}, (a.gpus || []).join(', ')),
    el('td', {}, a.restarts ? String(a.restarts) : ''),
    el('td', { class: 'reason' }, a.reason || ''),
    el('td', {}, el('button', { type: 'button', 'data-log': a.id, onclick: () => tail(a.id) }, 'log')));
  $('actors').tBodies[0].replaceChildren(...actors.map((a) => row(a, false)), ...exited.map((a) => row(a, true)));
}

// ------------------------------------------------------------------ live updates

function connect() {
  const events = new EventSource('/api/events');
  events.addEventListener('status', (e) => {
    $('live').textContent = 'live';
    $('live').className = 'badge';
    render(JSON.parse(e.data));
  });
  events.onerror = () => {
    // EventSource reconnects by itself; say so meanwhile.
    $('live').textContent = 'reconnecting';
    $('live').className = 'badge off';
  };
}

// ------------------------------------------------------------------ log tail

let tailing = null;

function tail(actorId) {
  const me = { actor: actorId, offset: 0, timer: null };
  if (tailing && tailing.timer) clearTimeout(tailing.timer);
  tailing = me;
  $('logactor').textContent = actorId;
  $('log').textContent = '';
  $('logpanel').hidden = false;
  const poll = async () => {
    if (tailing !== me) return;
    try {
      const r = await fetch('/api/logs/' + encodeURIComponent(actorId) + '?offset=' + me.offset, { cache: 'no-store' });
      const body = await r.json();
      if (tailing !== me) return;
      if (!r.ok) {
        $('log').append(document.createTextNode('[' + (body.error || r.status) + ']\n'));
        me.timer = setTimeout(poll, 2000);
        return;
      }
      if (body.data) {
        const log = $('log');
        const atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
        log.append(document.createTextNode(body.data));
        if (atEnd) log.scrollTop = log.scrollHeight;
      }
      me.offset = body.nextOffset;
      me.timer = setTimeout(poll, body.data ? 100 : 500);
    } catch (e) {
      me.timer = setTimeout(poll, 2000);
    }
  };
  poll();
}

$('logclose').onclick = () => {
  if (tailing && tailing.timer) clearTimeout(tailing.timer);
  tailing = null;
  $('logpanel').hidden = true;
};

connect();
