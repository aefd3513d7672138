// live.js: keeps a live room current over the websocket /ws/live/{id}?since=SEQ. Every
// room event carries a sequence number; after a dropped connection the client reconnects
// (with growing pauses) asking for what came after the last one it saw, so nothing is
// missed. Messages carry a client_id, so a message resent after a reconnect is stored once.
// Everything is drawn with textContent: room text is never parsed as HTML.

const room = document.getElementById("live-room");

if (room) {
  const t = room.dataset;
  const session = t.session;
  const trainer = t.trainer === "true";
  let since = Number(t.since || 0);
  let ws = null;
  let retry = 0;
  let ended = false;
  const pending = new Map(); // client_id → frame, until the server echoes the event

  const status = document.getElementById("live-status");
  const presence = document.getElementById("presence");
  const chat = document.getElementById("chat");
  const questions = document.getElementById("questions");
  const polls = document.getElementById("polls");
  // Times as the pages write them: dd/MM/yyyy HH:mm in Vietnam's time, in both languages.
  const parts = new Intl.DateTimeFormat("en-GB", {
    day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: "Asia/Ho_Chi_Minh",
  });
  const clock = { format: (d) => {
    const p = Object.fromEntries(parts.formatToParts(d).map((x) => [x.type, x.value]));
    return `${p.day}/${p.month}/${p.year} ${p.hour}:${p.minute}`;
  } };
  const el = (tag, props = {}, ...children) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
      if (k === "text") e.textContent = v;
      else if (k === "class") e.className = v;
      else if (k.startsWith("data-") || k.startsWith("aria-")) e.setAttribute(k, v);
      else e[k] = v;
    }
    e.append(...children);
    return e;
  };
  const setStatus = (text) => { if (status) status.textContent = text; };
  const send = (frame) => {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
  };
  const sendTracked = (frame) => {
    frame.client_id = crypto.randomUUID();
    pending.set(frame.client_id, frame);
    send(frame);
  };

  // The mute length the trainer chose in the room's controls (10 minutes without them).
  const muteMinutes = () => Number(document.getElementById("mute-minutes")?.value || 10);
  const slowNote = document.getElementById("slowmode");
  const showSlowMode = (seconds) => {
    if (slowNote) slowNote.textContent = seconds > 0 ? t.slowOn.replace("%d", seconds) : t.slowOff;
    const pick = document.getElementById("slowmode-seconds");
    if (pick && [...pick.options].some((o) => Number(o.value) === seconds)) pick.value = String(seconds);
  };

  const trainerTools = (li, ev) => {
    if (!trainer) return;
    li.append(" ", el("button", { type: "button", class: "icon danger", onclick: () => send({ type: "chat.delete", event_seq: ev.seq }) },
      el("span", { "aria-hidden": "true", text: "✕" }), el("span", { class: "sr-only", text: t.delete })));
    if (ev.user?.id && ev.user.id !== t.me) {
      li.append(" ", el("button", { type: "button", class: "link", text: t.mute, onclick: () => send({ type: "user.mute", user_id: ev.user.id, minutes: muteMinutes() }) }));
    }
  };

  const addMessage = (ev) => {
    if (chat.querySelector(`li[data-seq="${ev.seq}"]`)) return;
    const li = el("li", { "data-seq": String(ev.seq) },
      el("strong", { text: ev.user?.full_name ?? "" }), " ",
      el("span", { class: "muted", text: clock.format(new Date(ev.at)) }), el("br"),
      el("span", { class: "msg", text: ev.text }));
    trainerTools(li, ev);
    chat.append(li);
    while (chat.children.length > 200) chat.firstElementChild.remove();
    chat.scrollTop = chat.scrollHeight;
  };

  const questionItem = (id) => questions.querySelector(`li[data-qid="${CSS.escape(id)}"]`);
  const upvoteButton = (id, n) => el("button", { type: "button", class: "upvote", "data-qid": id,
    onclick: () => send({ type: "question.upvote", question_id: id }) }, "▲ ", el("span", { class: "n", text: String(n) }), " ",
    el("span", { class: "sr-only", text: t.upvote }));
  const addQuestion = (ev) => {
    if (questionItem(ev.question_id)) return;
    const tools = el("span", { class: "qtools" }, upvoteButton(ev.question_id, 0));
    if (trainer) tools.append(" ", el("button", { type: "button", class: "link", text: t.markAnswered, onclick: () => send({ type: "question.answered", question_id: ev.question_id }) }));
    questions.append(el("li", { "data-qid": ev.question_id }, el("span", { class: "qtext", text: ev.text }), " ",
      el("span", { class: "muted", text: "· " + (ev.user?.full_name ?? "") }), " ", tools));
  };
  const sortQuestions = () => {
    const items = [...questions.children];
    items.sort((a, b) => (a.classList.contains("answered") - b.classList.contains("answered")) ||
      (Number(b.querySelector(".n")?.textContent || 0) - Number(a.querySelector(".n")?.textContent || 0)));
    questions.append(...items);
  };

  const pollBox = (id) => polls.querySelector(`.poll[data-poll="${CSS.escape(id)}"]`);
  const addPoll = (ev) => {
    if (pollBox(ev.poll_id)) return;
    const list = el("ul", { class: "poll-choices" });
    ev.choices.forEach((c, i) => list.append(el("li", {},
      el("button", { type: "button", class: "vote", text: c, onclick: () => send({ type: "poll.vote", poll_id: ev.poll_id, choice: i }) }), " ",
      el("progress", { max: 100, value: 0, "aria-hidden": "true" }), " ", el("span", { class: "n", text: "0" }))));
    const box = el("div", { class: "poll", "data-poll": ev.poll_id }, el("p", { class: "poll-q", text: ev.question }), list);
    if (trainer) box.append(el("button", { type: "button", class: "link close-poll", text: t.closePoll, onclick: () => send({ type: "poll.close", poll_id: ev.poll_id }) }));
    polls.prepend(box);
  };
  const tally = (ev, closed) => {
    const box = pollBox(ev.poll_id);
    if (!box) return;
    [...box.querySelectorAll(".poll-choices li")].forEach((li, i) => {
      const n = ev.counts?.[i] ?? 0;
      li.querySelector(".n").textContent = String(n);
      li.querySelector("progress").value = ev.votes ? (n * 100) / ev.votes : 0;
      if (closed) li.querySelector("button").disabled = true;
    });
    if (closed && !box.querySelector(".badge")) {
      box.querySelector(".poll-q").append(" ", el("span", { class: "badge", text: t.closed }));
      box.querySelector(".close-poll")?.remove();
    }
  };

  const apply = (ev) => {
    if (ev.client_id) pending.delete(ev.client_id);
    switch (ev.type) {
      case "chat.message": addMessage(ev); break;
      case "chat.deleted": chat.querySelector(`li[data-seq="${ev.event_seq}"]`)?.remove(); break;
      case "question.asked": addQuestion(ev); sortQuestions(); break;
      case "question.upvoted": {
        const n = questionItem(ev.question_id)?.querySelector(".n");
        if (n) n.textContent = String(ev.upvotes);
        sortQuestions();
        break;
      }
      case "question.answered": {
        const li = questionItem(ev.question_id);
        if (li && !li.classList.contains("answered")) {
          li.classList.add("answered");
          li.querySelector(".qtools").append(" ", el("span", { class: "badge badge-published", text: t.answered }));
        }
        sortQuestions();
        break;
      }
      case "poll.opened": addPoll(ev); break;
      case "poll.results": tally(ev, false); break;
      case "poll.closed": tally(ev, true); break;
      case "slowmode.set": showSlowMode(ev.seconds ?? 0); break;
      case "user.muted":
        if (ev.user_id === t.me && ev.minutes > 0) setStatus(t.mutedMe.replace("%d", ev.minutes));
        break;
      case "session.ended":
        ended = true;
        setStatus(t.ended);
        for (const f of room.querySelectorAll("form")) f.hidden = true;
        ws?.close();
        break;
    }
  };

  let reconnectTimer = null;
  const connect = () => {
    clearTimeout(reconnectTimer);
    if (ended || (ws && (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING))) return;
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const sock = new WebSocket(`${proto}//${location.host}/ws/live/${encodeURIComponent(session)}?since=${since}`);
    ws = sock;
    setStatus(retry ? t.reconnecting : t.connecting);
    sock.onopen = () => {
      retry = 0;
      setStatus(t.connected);
      for (const frame of pending.values()) send(frame); // resend what was not acknowledged
    };
    sock.onmessage = (m) => {
      let ev;
      try { ev = JSON.parse(m.data); } catch { return; }
      if (ev.type === "presence") {
        presence.textContent = presence.dataset.label.replace("%d", ev.count);
        return;
      }
      if (ev.type === "error") {
        setStatus(ev.message || t.reconnecting);
        if (ev.client_id) pending.delete(ev.client_id);
        return;
      }
      if (typeof ev.seq === "number") {
        if (ev.seq <= since) return; // already shown
        since = ev.seq;
      }
      apply(ev);
    };
    sock.onclose = (e) => {
      if (ended || ws !== sock) return;
      if (e.code === 4401 || e.code === 1008) { // the session expired or was refused
        location.href = "/login?expired=1&next=" + encodeURIComponent(location.pathname);
        return;
      }
      retry++;
      setStatus(t.reconnecting);
      reconnectTimer = setTimeout(connect, Math.min(30000, 500 * 2 ** Math.min(retry, 6)) + Math.random() * 500);
    };
  };

  // A phone that loses its network closes the room at once and says so; when the network
  // returns it reconnects without waiting for the back-off, catching up from the last seq.
  window.addEventListener("offline", () => { retry++; setStatus(t.reconnecting); ws?.close(); });
  window.addEventListener("online", () => connect());

  // Server-rendered items get their buttons wired too.
  for (const b of room.querySelectorAll("button.upvote")) b.onclick = () => send({ type: "question.upvote", question_id: b.dataset.qid });
  for (const b of room.querySelectorAll("button.vote")) b.onclick = () => send({ type: "poll.vote", poll_id: b.dataset.poll, choice: Number(b.dataset.choice) });
  if (trainer) {
    for (const li of chat.querySelectorAll("li[data-seq]")) trainerTools(li, { seq: Number(li.dataset.seq), user: { id: li.dataset.user } });
    for (const li of questions.querySelectorAll("li[data-qid]:not(.answered)")) {
      li.querySelector(".qtools").append(" ", el("button", { type: "button", class: "link", text: t.markAnswered, onclick: () => send({ type: "question.answered", question_id: li.dataset.qid }) }));
    }
    for (const box of polls.querySelectorAll(".poll")) {
      if (!box.querySelector(".badge")) box.append(el("button", { type: "button", class: "link close-poll", text: t.closePoll, onclick: () => send({ type: "poll.close", poll_id: box.dataset.poll }) }));
    }
  }

  document.getElementById("chat-form")?.addEventListener("submit", (e) => {
    e.preventDefault();
    const input = document.getElementById("chat-text");
    const text = input.value.trim();
    if (!text) return;
    sendTracked({ type: "chat.send", text });
    input.value = "";
  });
  document.getElementById("ask-form")?.addEventListener("submit", (e) => {
    e.preventDefault();
    const input = document.getElementById("ask-text");
    const text = input.value.trim();
    if (!text) return;
    sendTracked({ type: "question.ask", text });
    input.value = "";
  });
  document.getElementById("slowmode-form")?.addEventListener("submit", (e) => {
    e.preventDefault();
    send({ type: "slowmode.set", seconds: Number(document.getElementById("slowmode-seconds").value) });
  });
  document.getElementById("poll-form")?.addEventListener("submit", (e) => {
    e.preventDefault();
    const q = document.getElementById("poll-question");
    const c = document.getElementById("poll-choices");
    const choices = c.value.split("\n").map((s) => s.trim()).filter(Boolean);
    if (!q.value.trim() || choices.length < 2) return;
    send({ type: "poll.open", question: q.value.trim(), choices });
    q.value = c.value = "";
  });
  connect();
}
