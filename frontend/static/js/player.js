// player.js: reports what a learner watched of a video lesson. Every 15 s (and on pause,
// end and leaving the page) it sends the played ranges to PUT /api/v1/lessons/{id}/progress;
// the server merges them, so skipping ahead does not count and resending is harmless.
// Ranges that could not be sent (no connection) are kept in localStorage and sent later.

const video = document.querySelector("video[data-lesson]");
const status = document.getElementById("lesson-status");
const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

if (video) {
  const lesson = video.dataset.lesson;
  const storeKey = "hoctap.pending." + lesson;
  const pending = JSON.parse(localStorage.getItem(storeKey) || "[]");
  let from = null;
  let last = null;
  let sending = false;

  const start = Number(video.dataset.position || 0);
  video.addEventListener("loadedmetadata", () => {
    if (start > 5 && start < video.duration - 5) video.currentTime = start;
  }, { once: true });

  const closeRange = () => {
    if (from !== null && last !== null && last > from) pending.push([from, last]);
    from = last = null;
    localStorage.setItem(storeKey, JSON.stringify(pending));
  };

  video.addEventListener("timeupdate", () => {
    const t = video.currentTime;
    if (from === null || t < last || t - last > 2) { // a seek: start a new range
      closeRange();
      from = last = t;
      return;
    }
    last = t;
  });
  video.addEventListener("seeking", closeRange);

  const fmt = new Intl.NumberFormat(document.documentElement.lang, { maximumFractionDigits: 1 });
  const show = (text, offline) => {
    status.textContent = text;
    status.classList.toggle("offline", offline);
  };

  const send = async (keepalive) => {
    if (sending) return;
    if (from !== null && last > from) { // send the range so far, keep extending it
      pending.push([from, last]);
      from = last;
    }
    const watched = pending.splice(0);
    localStorage.setItem(storeKey, JSON.stringify(watched));
    sending = true;
    try {
      const res = await fetch("/api/v1/lessons/" + encodeURIComponent(lesson) + "/progress", {
        method: "PUT",
        credentials: "same-origin",
        keepalive,
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ position_s: video.currentTime, watched }),
      });
      if (res.status === 401) {
        location.href = "/login?expired=1&next=" + encodeURIComponent(location.pathname);
        return;
      }
      if (!res.ok) throw new Error("status " + res.status);
      const out = await res.json();
      localStorage.setItem(storeKey, JSON.stringify(pending));
      show(out.completed ? status.dataset.done : status.dataset.saved.replace("%s", fmt.format(out.percent) + "%"), false);
    } catch (e) {
      pending.unshift(...watched); // keep them for the next try
      localStorage.setItem(storeKey, JSON.stringify(pending));
      show(status.dataset.offline, true);
    } finally {
      sending = false;
    }
  };

  setInterval(() => { if (!video.paused || pending.length) send(false); }, 15000);
  video.addEventListener("pause", () => send(false));
  video.addEventListener("ended", () => send(false));
  window.addEventListener("online", () => send(false));
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "hidden") send(true); });
  if (pending.length) send(false);
}
