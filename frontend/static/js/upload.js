// upload.js: sends a lecture file straight to storage. It asks the server for a presigned
// upload (POST /api/v1/media/uploads), PUTs the bytes (in parts for large files) with a
// progress bar, then confirms (POST /api/v1/media/uploads/{id}/complete) and puts the
// media id into the lesson form's hidden field. The file never passes through Hoctap.

const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

const api = async (path, body) => {
  const res = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify(body),
  });
  if (res.status === 401) {
    location.href = "/login?expired=1&next=" + encodeURIComponent(location.pathname);
    throw new Error("signed out");
  }
  const out = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(out?.error?.message || "status " + res.status);
  return out;
};

// put sends one body with XMLHttpRequest, whose upload events give progress.
const put = (url, headers, body, onProgress) => new Promise((resolve, reject) => {
  const xhr = new XMLHttpRequest();
  xhr.open("PUT", url);
  for (const [k, v] of Object.entries(headers || {})) xhr.setRequestHeader(k, v);
  xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded); };
  xhr.onload = () => (xhr.status >= 200 && xhr.status < 300 ? resolve(xhr.getResponseHeader("ETag") || "") : reject(new Error("status " + xhr.status)));
  xhr.onerror = () => reject(new Error("network"));
  xhr.send(body);
});

for (const input of document.querySelectorAll("input[type=file][data-upload-for]")) {
  const target = document.getElementById(input.dataset.uploadFor);
  const bar = document.getElementById(input.dataset.progress);
  const status = document.getElementById(input.dataset.status);
  const submit = input.form?.querySelector("button:not([type=button])");

  // A video's length is read from the file itself, so the lesson knows its duration.
  const readDuration = (file) => {
    const out = document.getElementById(input.dataset.duration);
    const minutes = document.getElementById(input.dataset.durationMin);
    if (!out || !file.type.startsWith("video/")) return;
    const probe = document.createElement("video");
    probe.preload = "metadata";
    probe.onloadedmetadata = () => {
      if (Number.isFinite(probe.duration) && probe.duration > 0) {
        out.value = String(Math.round(probe.duration));
        if (minutes) minutes.value = String(Math.max(1, Math.ceil(probe.duration / 60)));
      }
      URL.revokeObjectURL(probe.src);
    };
    probe.src = URL.createObjectURL(file);
  };

  input.addEventListener("change", async () => {
    const file = input.files?.[0];
    if (!file) return;
    readDuration(file);
    target.value = "";
    bar.hidden = false;
    bar.value = 0;
    if (submit) submit.disabled = true;
    status.textContent = status.dataset.uploading.replace("%s", file.name);
    const show = (sent) => { bar.value = Math.round((sent / file.size) * 100); };
    try {
      const ticket = await api("/api/v1/media/uploads", {
        filename: file.name, content_type: file.type || "application/octet-stream", size: file.size,
      });
      const parts = [];
      if (ticket.parts?.length) {
        let done = 0;
        for (const p of ticket.parts) {
          const from = (p.number - 1) * ticket.part_size;
          const chunk = file.slice(from, Math.min(from + ticket.part_size, file.size));
          const etag = await put(p.url, p.headers, chunk, (n) => show(done + n));
          done += chunk.size;
          parts.push({ number: p.number, etag });
        }
      } else {
        await put(ticket.url, ticket.headers, file, show);
      }
      const obj = await api("/api/v1/media/uploads/" + encodeURIComponent(ticket.upload_id) + "/complete", parts.length ? { parts } : {});
      target.value = obj.id;
      bar.value = 100;
      status.textContent = status.dataset.done;
    } catch (e) {
      status.textContent = status.dataset.failed + " (" + e.message + ")";
      bar.hidden = true;
    } finally {
      if (submit) submit.disabled = false;
    }
  });
}
