// quiz.js: the countdown and autosave of an open attempt. The server owns time: the page
// carries the deadline and the server's clock, so a wrong clock on the phone does not
// matter. Every change is saved (PUT /api/v1/attempts/{id}/answers) and shown as saved;
// when the connection drops, answers are kept in localStorage and sent when it returns.
// Without this script the form still works with its Save and Submit buttons.

const bar = document.getElementById("quiz-bar");
const form = document.getElementById("quiz-form");
const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

if (bar && form) {
  const attempt = bar.dataset.attempt;
  const storeKey = "hoctap.attempt." + attempt;
  const timer = document.getElementById("quiz-timer");
  const saveStatus = document.getElementById("quiz-save");
  const submitButton = document.getElementById("quiz-submit");
  let offset = Date.parse(bar.dataset.server) - Date.now(); // server minus client
  let deadline = bar.dataset.deadline ? Date.parse(bar.dataset.deadline) : null;
  let timer_id = null;
  let dirty = false;
  let saving = false;
  let submitted = false;

  const clock = new Intl.DateTimeFormat(document.documentElement.lang, {
    hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false, timeZone: "Asia/Ho_Chi_Minh",
  });
  const show = (text, offline) => {
    saveStatus.textContent = text;
    saveStatus.classList.toggle("offline", !!offline);
    saveStatus.setAttribute("role", offline ? "alert" : "status");
  };

  const decimal = (s) => {
    s = s.trim();
    if (s === "") return null;
    if (s.includes(",")) s = s.replaceAll(".", "").replace(",", ".");
    const n = Number(s);
    return Number.isFinite(n) ? n : null;
  };

  // answers reads every question of the form in the API's shapes.
  const answers = () => {
    const out = {};
    for (const fs of form.querySelectorAll("fieldset[data-qid]")) {
      const q = fs.dataset.qid;
      const name = "q_" + q;
      switch (fs.dataset.type) {
        case "multiple":
          out[q] = [...fs.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);
          break;
        case "single": case "true_false":
          out[q] = fs.querySelector(`input[name="${name}"]:checked`)?.value ?? null;
          break;
        case "numerical":
          out[q] = decimal(fs.querySelector(`[name="${name}"]`).value);
          break;
        case "matching": {
          const pairs = {};
          for (const s of fs.querySelectorAll("select")) if (s.value) pairs[s.name.slice(name.length + 1)] = s.value;
          out[q] = Object.keys(pairs).length ? pairs : null;
          break;
        }
        case "ordering": {
          const ranked = [...fs.querySelectorAll("select")].filter((s) => s.value)
            .sort((a, b) => Number(a.value) - Number(b.value)).map((s) => s.name.slice(name.length + 1));
          out[q] = ranked.length ? ranked : null;
          break;
        }
        default: {
          const v = fs.querySelector(`[name="${name}"]`).value.trim();
          out[q] = v === "" ? null : v;
        }
      }
    }
    return out;
  };

  const save = async () => {
    if (saving || submitted) return;
    const body = answers();
    localStorage.setItem(storeKey, JSON.stringify(body));
    saving = true;
    dirty = false;
    show(bar.dataset.saving, false);
    try {
      const res = await fetch("/api/v1/attempts/" + encodeURIComponent(attempt) + "/answers", {
        method: "PUT",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ answers: body }),
      });
      if (res.status === 401) {
        location.href = "/login?expired=1&next=" + encodeURIComponent(location.pathname);
        return;
      }
      if (res.status === 409) { // the deadline passed: the server graded what it had
        localStorage.removeItem(storeKey);
        location.reload();
        return;
      }
      if (!res.ok) throw new Error("status " + res.status);
      const out = await res.json();
      offset = Date.parse(out.server_time) - Date.now();
      if (out.deadline) deadline = Date.parse(out.deadline);
      if (!dirty) localStorage.removeItem(storeKey);
      show(bar.dataset.saved.replace("%s", clock.format(new Date(out.saved_at))), false);
    } catch (e) {
      dirty = true;
      show(bar.dataset.offline, true);
    } finally {
      saving = false;
    }
  };

  let debounce = null;
  const changed = () => {
    dirty = true;
    localStorage.setItem(storeKey, JSON.stringify(answers()));
    clearTimeout(debounce);
    debounce = setTimeout(save, 800);
  };
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  window.addEventListener("online", () => { if (dirty) save(); });
  setInterval(() => { if (dirty) save(); }, 10000);
  form.addEventListener("submit", () => { submitted = true; localStorage.removeItem(storeKey); });

  // Answers kept while offline (the page was reloaded before they were sent) go back into
  // the form and are sent again.
  const kept = localStorage.getItem(storeKey);
  if (kept) {
    try {
      const a = JSON.parse(kept);
      for (const [q, v] of Object.entries(a)) {
        const fs = form.querySelector(`fieldset[data-qid="${CSS.escape(q)}"]`);
        if (!fs || v === null) continue;
        const name = "q_" + q;
        if (Array.isArray(v) && fs.dataset.type === "multiple") {
          for (const i of fs.querySelectorAll(`input[name="${name}"]`)) i.checked = v.includes(i.value);
        } else if (typeof v === "string" && (fs.dataset.type === "single" || fs.dataset.type === "true_false")) {
          for (const i of fs.querySelectorAll(`input[name="${name}"]`)) i.checked = i.value === v;
        } else if (typeof v === "object" && fs.dataset.type === "matching") {
          for (const [item, opt] of Object.entries(v)) { const s = fs.querySelector(`select[name="${name}_${CSS.escape(item)}"]`); if (s) s.value = opt; }
        } else if (Array.isArray(v) && fs.dataset.type === "ordering") {
          v.forEach((id, i) => { const s = fs.querySelector(`select[name="${name}_${CSS.escape(id)}"]`); if (s) s.value = String(i + 1); });
        } else {
          const el = fs.querySelector(`[name="${name}"]`);
          if (el) el.value = String(v);
        }
      }
      dirty = true;
      save();
    } catch { localStorage.removeItem(storeKey); }
  }

  const pad = (n) => String(n).padStart(2, "0");
  const tick = () => {
    if (deadline === null || !timer) return;
    const left = Math.max(0, Math.round((deadline - (Date.now() + offset)) / 1000));
    const h = Math.floor(left / 3600), m = Math.floor(left / 60) % 60, s = left % 60;
    timer.textContent = (h ? h + ":" + pad(m) : m) + ":" + pad(s);
    timer.classList.toggle("urgent", left <= 60);
    if (left === 60) show(bar.dataset.timeup.replace("%s", "1"), false);
    if (left === 0 && !submitted) {
      clearInterval(timer_id);
      submitted = true;
      localStorage.removeItem(storeKey);
      form.requestSubmit(submitButton); // send what is on the page, then the review
    }
  };
  timer_id = setInterval(tick, 1000);
  tick();
}
