/* admin.js -- Videoflix Studio: the staff panel's behaviour (plain ES2020, no build step).
 *
 * Talks to the same-origin API: POST /api/login/, /api/logout/, /api/token/refresh/ and the
 * staff-only /api/admin/... endpoints.  Authentication is the HttpOnly cookie pair set by
 * /api/login/; this script never sees a token.  Everything user-supplied is rendered with
 * textContent, never as HTML. */
(function () {
  'use strict';

  const $ = (sel, root = document) => root.querySelector(sel);
  const POLL_ACTIVE_MS = 2000;
  const POLL_IDLE_MS = 15000;

  const state = {
    me: null,
    view: 'videos',
    videos: [],
    jobs: [],
    users: [],
    pollTimer: null,
    rows: new Map(), /* video id -> {tr, refs} */
  };

  /* ------------------------------------------------------------------ API */

  class ApiError extends Error {
    constructor(status, data) {
      super(flatten(data) || defaultMessage(status));
      this.status = status;
      this.data = data;
    }
  }

  function defaultMessage(status) {
    switch (status) {
      case 0: return 'The server cannot be reached. Check your connection.';
      case 401: return 'Your session has ended. Please sign in again.';
      case 403: return 'You do not have permission to do that.';
      case 404: return 'Not found. It may have been deleted.';
      case 413: return 'The file is larger than the upload limit.';
      case 415: return 'That file is not a supported video.';
      case 429: return 'Too many attempts. Please wait a moment.';
      case 503: return 'The server is busy. Please try again in a moment.';
      case 507: return 'The server is low on disk space. Uploads are paused.';
      default: return 'An error has occurred (' + status + ').';
    }
  }

  /* Every string inside an error body, like the public frontend does. */
  function flatten(data) {
    const out = [];
    (function walk(v) {
      if (typeof v === 'string') out.push(v);
      else if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        Object.keys(v).forEach((k) => { if (k !== 'request_id' && k !== 'code') walk(v[k]); });
      }
    })(data);
    return out.join(' ');
  }

  async function rawFetch(method, path, body) {
    const opts = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, opts);
    } catch (e) {
      return { status: 0, data: null };
    }
    let data = null;
    const text = await res.text();
    if (text) {
      try { data = JSON.parse(text); } catch (e) { data = null; }
    }
    return { status: res.status, data };
  }

  let refreshing = null;
  function refreshToken() {
    if (!refreshing) {
      refreshing = rawFetch('POST', '/api/token/refresh/').then((r) => r.status === 200)
        .finally(() => { setTimeout(() => { refreshing = null; }, 0); });
    }
    return refreshing;
  }

  /* Call the API; a 401 is retried once after refreshing the access cookie. */
  async function api(method, path, body) {
    let r = await rawFetch(method, path, body);
    if (r.status === 401 && await refreshToken())
      r = await rawFetch(method, path, body);
    if (r.status === 401 && state.me) {
      signedOut('Your session has ended. Please sign in again.');
    }
    if (r.status < 200 || r.status > 299) throw new ApiError(r.status, r.data);
    return r.data;
  }

  /* ------------------------------------------------------------ helpers */

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === null || v === undefined || v === false) continue;
        if (k === 'class') node.className = v;
        else if (k === 'text') node.textContent = v;
        else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
        else node.setAttribute(k, v === true ? '' : v);
      }
    }
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  const SVG_NS = 'http://www.w3.org/2000/svg';
  const ICONS = {
    play: 'M7 5v14l11-7z',
    edit: 'M4 20h4L19 9l-4-4L4 16zM14 6l4 4',
    redo: 'M20 12a8 8 0 1 1-2.3-5.7M20 4v5h-5',
    trash: 'M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13',
    film: 'M4 5h16v14H4zM8 5v14M16 5v14M4 9h4M4 15h4M16 9h4M16 15h4',
  };
  function icon(name) {
    const svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('class', 'icon');
    svg.setAttribute('aria-hidden', 'true');
    const p = document.createElementNS(SVG_NS, 'path');
    p.setAttribute('d', ICONS[name]);
    svg.append(p);
    return svg;
  }

  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  function ago(iso) {
    if (!iso) return '';
    const s = (Date.parse(iso) - Date.now()) / 1000;
    const abs = Math.abs(s);
    if (abs < 45) return 'just now';
    if (abs < 3600) return rtf.format(Math.round(s / 60), 'minute');
    if (abs < 86400) return rtf.format(Math.round(s / 3600), 'hour');
    if (abs < 86400 * 30) return rtf.format(Math.round(s / 86400), 'day');
    return new Date(iso).toLocaleDateString();
  }
  function timeCell(iso) {
    return el('time', { datetime: iso || '', title: iso ? new Date(iso).toLocaleString() : '' }, ago(iso));
  }

  function duration(sec) {
    if (!sec || sec <= 0) return '—';
    const s = Math.floor(sec); // as video players show it (8.6 s is 0:08)
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const mm = String(m).padStart(h ? 2 : 1, '0'), ss = String(r).padStart(2, '0');
    return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
  }

  function bytes(n) {
    if (!Number.isFinite(n)) return '';
    const u = ['B', 'KB', 'MB', 'GB', 'TB'];
    let i = 0;
    while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
    return (i ? n.toFixed(n < 10 ? 1 : 0) : n) + ' ' + u[i];
  }

  function toast(msg, kind = 'info') {
    const t = el('div', { class: 'toast toast-' + kind, role: kind === 'error' ? 'alert' : 'status' }, msg);
    $('#toasts').append(t);
    setTimeout(() => t.remove(), kind === 'error' ? 8000 : 4500);
  }

  function showError(node, msg) {
    node.textContent = msg || '';
    node.hidden = !msg;
  }

  function setProgress(bar, pct, indeterminate) {
    const v = Math.max(0, Math.min(100, Math.round(pct || 0)));
    bar.classList.toggle('indeterminate', !!indeterminate);
    bar.querySelector('.progress-fill').style.width = indeterminate ? '' : v + '%';
    if (indeterminate) bar.removeAttribute('aria-valuenow');
    else bar.setAttribute('aria-valuenow', String(v));
  }

  function progressBar(label) {
    return el('div', { class: 'progress', role: 'progressbar', 'aria-label': label,
      'aria-valuemin': '0', 'aria-valuemax': '100' }, el('div', { class: 'progress-fill' }));
  }

  /* A modal confirm built on <dialog>; resolves true when confirmed. */
  function confirmDialog(title, text, okLabel) {
    const dlg = $('#confirm-dialog');
    $('#confirm-title').textContent = title;
    $('#confirm-text').textContent = text;
    $('#confirm-ok').textContent = okLabel || 'Delete';
    dlg.returnValue = '';
    dlg.showModal();
    return new Promise((resolve) => {
      dlg.addEventListener('close', () => resolve(dlg.returnValue === 'ok'), { once: true });
    });
  }

  /* -------------------------------------------------------- sign in/out */

  async function boot() {
    wireStatic();
    try {
      state.me = await api('GET', '/api/admin/me/');
      signedIn();
    } catch (e) {
      showLogin(e.status === 403 ? 'This account has no staff access.' : '');
    }
  }

  function showLogin(message) {
    stopPolling();
    state.me = null;
    $('#app-view').hidden = true;
    $('#login-view').hidden = false;
    showError($('#login-error'), message);
    $('#login-email').focus();
  }

  function signedOut(message) {
    document.querySelectorAll('dialog[open]').forEach((d) => d.close());
    showLogin(message);
  }

  function signedIn() {
    $('#login-view').hidden = true;
    $('#app-view').hidden = false;
    $('#me-email').textContent = state.me.email;
    $('#upload-limit').textContent = bytes(state.me.upload_max_bytes);
    route();
  }

  async function onLogin(ev) {
    ev.preventDefault();
    const email = $('#login-email').value.trim();
    const password = $('#login-password').value;
    const err = $('#login-error');
    if (!email || !password) {
      showError(err, 'Enter your email and password.');
      return;
    }
    const btn = $('#login-submit');
    btn.disabled = true;
    btn.textContent = 'Signing in…';
    try {
      const r = await rawFetch('POST', '/api/login/', { email, password });
      if (r.status !== 200) throw new ApiError(r.status, r.data);
      try {
        state.me = await api('GET', '/api/admin/me/');
      } catch (e) {
        if (e.status === 403) {
          await rawFetch('POST', '/api/logout/');
          throw new Error('This account has no staff access. Ask an administrator to make you staff.');
        }
        throw e;
      }
      $('#login-password').value = '';
      showError(err, '');
      signedIn();
    } catch (e) {
      showError(err, e.message);
    } finally {
      btn.disabled = false;
      btn.textContent = 'Sign in';
    }
  }

  async function onLogout() {
    await rawFetch('POST', '/api/logout/');
    location.hash = '';
    showLogin('');
  }

  /* ------------------------------------------------------------ routing */

  function route() {
    const view = (location.hash || '#videos').slice(1);
    state.view = ['videos', 'jobs', 'users'].includes(view) ? view : 'videos';
    for (const v of ['videos', 'jobs', 'users']) {
      $('#' + v + '-view').hidden = v !== state.view;
      const tab = $(`.tab[data-view="${v}"]`);
      if (v === state.view) tab.setAttribute('aria-current', 'page');
      else tab.removeAttribute('aria-current');
    }
    document.title = state.view[0].toUpperCase() + state.view.slice(1) + ' · Videoflix Studio';
    refresh();
  }

  function stopPolling() {
    clearTimeout(state.pollTimer);
    state.pollTimer = null;
  }

  async function refresh() {
    stopPolling();
    if (!state.me) return;
    let active = false;
    try {
      if (state.view === 'videos') active = await loadVideos();
      else if (state.view === 'jobs') active = await loadJobs();
      else await loadUsers();
    } catch (e) {
      if (e.status !== 401) toast(e.message, 'error');
    }
    if (state.me) {
      state.pollTimer = setTimeout(refresh, active ? POLL_ACTIVE_MS : POLL_IDLE_MS);
    }
  }

  /* ------------------------------------------------------------- videos */

  const STATE_LABEL = { uploaded: 'Queued', processing: 'Transcoding', ready: 'Ready', failed: 'Failed' };

  function jobActive(v) {
    return v.job && (v.job.state === 'queued' || v.job.state === 'running');
  }

  async function loadVideos() {
    const list = await api('GET', '/api/admin/videos/');
    state.videos = list;
    renderVideos();
    const cats = [...new Set(list.map((v) => v.category).filter(Boolean))].sort();
    $('#category-list').replaceChildren(...cats.map((c) => el('option', { value: c })));
    return list.some((v) => v.state === 'uploaded' || v.state === 'processing' || jobActive(v));
  }

  function renderVideos() {
    const q = $('#video-search').value.trim().toLowerCase();
    const f = $('#video-filter').value;
    const shown = state.videos.filter((v) =>
      (!f || v.state === f) &&
      (!q || (v.title || '').toLowerCase().includes(q) || (v.category || '').toLowerCase().includes(q)));
    const tbody = $('#video-rows');
    const keep = new Set();
    shown.forEach((v, i) => {
      let row = state.rows.get(v.id);
      if (!row) {
        row = createVideoRow(v);
        state.rows.set(v.id, row);
      }
      updateVideoRow(row, v);
      keep.add(v.id);
      if (tbody.children[i] !== row.tr) tbody.insertBefore(row.tr, tbody.children[i] || null);
    });
    for (const [id, row] of state.rows) {
      if (!keep.has(id)) {
        row.tr.remove();
        state.rows.delete(id);
      }
    }
    const n = state.videos.length;
    const busy = state.videos.filter((v) => v.state === 'uploaded' || v.state === 'processing').length;
    const failed = state.videos.filter((v) => v.state === 'failed').length;
    $('#videos-summary').textContent = n === 0 ? 'Your library is empty.' :
      `${n} video${n === 1 ? '' : 's'}` + (busy ? ` · ${busy} transcoding` : '') +
      (failed ? ` · ${failed} failed` : '');
    $('#videos-empty').hidden = n !== 0;
    $('#video-table').hidden = n === 0;
  }

  function createVideoRow(v) {
    const refs = {};
    refs.thumb = el('div', { class: 'thumb' }, icon('film'));
    refs.title = el('div', { class: 'video-title clamp' });
    refs.meta = el('div', { class: 'video-meta clamp' });
    refs.badge = el('span', { class: 'badge' });
    refs.bar = progressBar('Transcoding progress');
    refs.note = el('div', { class: 'status-note' });
    refs.error = el('div', { class: 'status-error' });
    refs.duration = el('td', { class: 'num', 'data-label': 'Duration' });
    refs.renditions = el('td', { 'data-label': 'Renditions' });
    refs.added = el('td', { 'data-label': 'Added' });
    const act = (cls, name, label, fn) => el('button', { class: 'act ' + cls, type: 'button', title: label,
      onclick: () => fn(refs.v) }, icon(name), el('span', { class: 'act-label' }, label));
    refs.preview = act('act-preview', 'play', 'Preview', openPreview);
    refs.edit = act('act-edit', 'edit', 'Edit', openEdit);
    refs.retranscode = act('act-retranscode', 'redo', 'Re-transcode', retranscode);
    refs.del = act('act-danger act-delete', 'trash', 'Delete', deleteVideo);
    const tr = el('tr', { 'data-video-id': String(v.id) },
      el('td', { 'data-label': 'Video' },
        el('div', { class: 'video-cell' }, refs.thumb, el('div', null, refs.title, refs.meta))),
      el('td', { class: 'status-cell', 'data-label': 'Status' }, refs.badge, refs.bar, refs.note, refs.error),
      refs.duration, refs.renditions, refs.added,
      el('td', null, el('div', { class: 'row-actions' }, refs.preview, refs.edit, refs.retranscode, refs.del)));
    return { tr, refs };
  }

  function updateVideoRow(row, v) {
    const r = row.refs;
    r.v = v;
    row.tr.dataset.state = v.state;
    if (v.thumbnail_url && r.thumbSrc !== v.thumbnail_url) {
      r.thumbSrc = v.thumbnail_url;
      const img = el('img', { class: 'thumb', alt: '', src: v.thumbnail_url, loading: 'lazy' });
      img.addEventListener('error', () => { img.replaceWith(el('div', { class: 'thumb' }, icon('film'))); });
      r.thumb.replaceWith(img);
      r.thumb = img;
    }
    r.title.textContent = v.title || 'Untitled';
    r.title.title = v.title || '';
    r.meta.textContent = [v.category || 'Uncategorised', v.description].filter(Boolean).join(' · ');

    const job = v.job;
    let label = STATE_LABEL[v.state] || v.state;
    let kind = { uploaded: 'info', processing: 'warn', ready: 'ok', failed: 'danger' }[v.state] || 'muted';
    let pct = 0, showBar = false, indeterminate = false, note = '';
    if (jobActive(v)) {
      if (job.state === 'running') {
        pct = job.progress || 0;
        label = 'Transcoding';
        kind = 'warn';
        showBar = true;
        note = `${pct}%` + (job.attempts > 1 ? ` · attempt ${job.attempts}` : '');
      } else {
        label = v.state === 'ready' ? 'Ready · re-transcode queued' : 'Queued';
        kind = v.state === 'ready' ? 'ok' : 'info';
        showBar = v.state !== 'ready';
        indeterminate = true;
        note = job.attempts > 0 ? `Retrying (attempt ${job.attempts + 1})` : 'Waiting for a worker';
      }
    } else if (v.state === 'processing') {
      showBar = true;
      indeterminate = true;
    } else if (v.state === 'ready') {
      note = v.width && v.height ? `${v.width}×${v.height}` : '';
    }
    r.badge.className = 'badge badge-' + kind;
    r.badge.textContent = label;
    r.bar.hidden = !showBar;
    r.bar.setAttribute('aria-label', `Transcoding progress of ${v.title || 'video'}`);
    if (showBar) setProgress(r.bar, pct, indeterminate);
    r.note.textContent = note;
    r.note.hidden = !note;
    const err = v.state === 'failed' ? (v.error || (job && job.error) || 'Transcoding failed.') : '';
    r.error.textContent = err;
    r.error.hidden = !err;

    r.duration.textContent = duration(v.duration);
    r.renditions.replaceChildren(...(v.renditions || []).map((x) => el('span', { class: 'chip' }, x)));
    if (!(v.renditions || []).length) r.renditions.textContent = '—';
    r.added.replaceChildren(timeCell(v.created_at));

    r.preview.disabled = v.state !== 'ready';
    r.retranscode.disabled = jobActive(v);
    r.preview.setAttribute('aria-label', `Preview ${v.title}`);
    r.edit.setAttribute('aria-label', `Edit ${v.title}`);
    r.retranscode.setAttribute('aria-label', `Re-transcode ${v.title}`);
    r.del.setAttribute('aria-label', `Delete ${v.title}`);
  }

  async function deleteVideo(v) {
    const ok = await confirmDialog('Delete video?',
      `“${v.title}” and all its renditions, thumbnail and source file will be removed. This cannot be undone.`,
      'Delete video');
    if (!ok) return;
    try {
      await api('DELETE', `/api/admin/videos/${v.id}/`);
      toast(`Deleted “${v.title}”.`, 'ok');
      refresh();
    } catch (e) {
      toast(e.message, 'error');
    }
  }

  async function retranscode(v) {
    try {
      await api('POST', `/api/admin/videos/${v.id}/transcode/`, {});
      toast(`Re-transcode of “${v.title}” queued.`, 'ok');
      refresh();
    } catch (e) {
      toast(e.message, 'error');
    }
  }

  /* --------------------------------------------------------------- edit */

  let editing = null;
  function openEdit(v) {
    editing = v;
    $('#edit-title-input').value = v.title || '';
    $('#edit-category').value = v.category || '';
    $('#edit-description').value = v.description || '';
    showError($('#edit-error'), '');
    $('#edit-dialog').showModal();
  }

  async function onEditSubmit(ev) {
    ev.preventDefault();
    const body = {
      title: $('#edit-title-input').value.trim(),
      category: $('#edit-category').value.trim(),
      description: $('#edit-description').value.trim(),
    };
    if (!body.title) {
      showError($('#edit-error'), 'A title is required.');
      return;
    }
    if (!body.category) {
      showError($('#edit-error'), 'A category is required.');
      return;
    }
    try {
      await api('PATCH', `/api/admin/videos/${editing.id}/`, body);
      $('#edit-dialog').close();
      toast('Changes saved.', 'ok');
      refresh();
    } catch (e) {
      showError($('#edit-error'), e.message);
    }
  }

  /* ------------------------------------------------------------- upload */

  let xhr = null;

  function openUpload() {
    $('#upload-form').reset();
    setFile(null);
    showError($('#upload-error'), '');
    $('#upload-progress').hidden = true;
    $('#upload-submit').disabled = false;
    $('#upload-dialog').showModal();
  }

  function setFile(file) {
    const dz = $('#dropzone');
    dz.classList.toggle('has-file', !!file);
    $('#dropzone-title').textContent = file ? file.name : '';
    if (!file) {
      $('#dropzone-title').append('Drop a video file here or ', el('u', null, 'browse'));
    } else {
      $('#dropzone-hint').textContent = bytes(file.size) + ' · click to choose another file';
      const t = $('#upload-title-input');
      if (!t.value) t.value = file.name.replace(/\.[^.]+$/, '').replace(/[_.-]+/g, ' ').trim();
    }
  }

  function chosenFile() {
    const f = $('#upload-file').files;
    return f && f.length ? f[0] : null;
  }

  function onUploadSubmit(ev) {
    ev.preventDefault();
    const file = chosenFile();
    const title = $('#upload-title-input').value.trim();
    const errNode = $('#upload-error');
    if (!file) return showError(errNode, 'Choose a video file to upload.');
    if (!title) return showError(errNode, 'A title is required.');
    if (!$('#upload-category').value.trim()) return showError(errNode, 'A category is required.');
    const limit = state.me && state.me.upload_max_bytes;
    if (limit && file.size > limit) {
      return showError(errNode, `The file is ${bytes(file.size)}; the upload limit is ${bytes(limit)}.`);
    }
    showError(errNode, '');
    startUpload(file, title, false);
  }

  function startUpload(file, title, retried) {
    const fd = new FormData();
    fd.append('title', title);
    fd.append('category', $('#upload-category').value.trim());
    fd.append('description', $('#upload-description').value.trim());
    fd.append('file', file, file.name);

    const bar = $('#upload-bar');
    const started = performance.now();
    $('#upload-progress').hidden = false;
    $('#upload-status').textContent = 'Uploading…';
    $('#upload-submit').disabled = true;
    setProgress(bar, 0);
    $('#upload-percent').textContent = '0%';

    xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/admin/videos/');
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (e) => {
      if (!e.lengthComputable) return;
      const pct = (e.loaded / e.total) * 100;
      setProgress(bar, pct);
      $('#upload-percent').textContent = Math.floor(pct) + '%';
      const secs = (performance.now() - started) / 1000;
      const rate = secs > 0 ? e.loaded / secs : 0;
      const eta = rate > 0 ? Math.ceil((e.total - e.loaded) / rate) : 0;
      $('#upload-detail').textContent = `${bytes(e.loaded)} of ${bytes(e.total)}` +
        (rate ? ` · ${bytes(rate)}/s` : '') + (eta > 1 ? ` · ${duration(eta)} left` : '');
      if (e.loaded === e.total) $('#upload-status').textContent = 'Checking the video…';
    };
    xhr.onload = async () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
      const st = xhr.status;
      xhr = null;
      if (st === 401 && !retried && await refreshToken()) {
        startUpload(file, title, true);
        return;
      }
      $('#upload-submit').disabled = false;
      if (st === 201) {
        $('#upload-dialog').close();
        toast(`Uploaded “${data && data.title ? data.title : title}”. Transcoding is queued.`, 'ok');
        location.hash = '#videos';
        refresh();
        return;
      }
      $('#upload-progress').hidden = true;
      let msg = flatten(data) || defaultMessage(st);
      if (st === 413 && state.me) msg = `The file is larger than the upload limit of ${bytes(state.me.upload_max_bytes)}.`;
      showError($('#upload-error'), msg);
      if (st === 401) signedOut(msg);
    };
    xhr.onerror = () => {
      xhr = null;
      $('#upload-submit').disabled = false;
      $('#upload-progress').hidden = true;
      showError($('#upload-error'), 'The upload failed: the connection was interrupted.');
    };
    xhr.onabort = () => {
      xhr = null;
      $('#upload-submit').disabled = false;
      $('#upload-progress').hidden = true;
    };
    xhr.send(fd);
  }

  function cancelUpload() {
    if (xhr) xhr.abort();
    $('#upload-dialog').close();
  }

  /* ------------------------------------------------------------ preview */

  let hls = null;

  function openPreview(v) {
    const dlg = $('#preview-dialog');
    const video = $('#preview-video');
    const select = $('#quality');
    const src = `/api/video/${v.id}/master.m3u8`;
    $('#preview-title').textContent = v.title;
    showError($('#preview-error'), '');
    select.replaceChildren(el('option', { value: '-1' }, 'Auto'));
    select.disabled = true;
    $('#quality-now').textContent = '';
    dlg.showModal();

    const play = () => video.play().catch(() => { video.muted = true; return video.play().catch(() => {}); });
    if (window.Hls && window.Hls.isSupported()) {
      hls = new window.Hls({ xhrSetup: (x) => { x.withCredentials = true; } });
      hls.on(window.Hls.Events.MANIFEST_PARSED, () => {
        const levels = hls.levels.map((l, i) => ({ i, h: l.height })).sort((a, b) => b.h - a.h);
        for (const l of levels) select.append(el('option', { value: String(l.i) }, l.h + 'p'));
        select.disabled = false;
        play();
      });
      hls.on(window.Hls.Events.LEVEL_SWITCHED, (_, d) => {
        const l = hls.levels[d.level];
        $('#quality-now').textContent = l ? `${l.height}p` + (hls.autoLevelEnabled ? ' (auto)' : '') : '';
      });
      hls.on(window.Hls.Events.ERROR, (_, d) => {
        if (!d.fatal) return;
        showError($('#preview-error'), d.type === 'networkError' ?
          'The stream could not be loaded. Your session may have ended: reload the page.' :
          'The stream could not be played in this browser.');
        hls.destroy();
        hls = null;
      });
      hls.loadSource(src);
      hls.attachMedia(video);
    } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
      video.src = src;
      play();
    } else {
      showError($('#preview-error'), 'This browser cannot play HLS streams.');
    }
  }

  function closePreview() {
    const video = $('#preview-video');
    if (hls) { hls.destroy(); hls = null; }
    video.pause();
    video.removeAttribute('src');
    video.load();
  }

  function onQualityChange() {
    if (!hls) return;
    const level = Number($('#quality').value);
    hls.currentLevel = level;
    const l = hls.levels[level];
    $('#quality-now').textContent = level < 0 ? 'auto' : (l ? `${l.height}p` : '');
  }

  /* --------------------------------------------------------------- jobs */

  const JOB_BADGE = { queued: 'info', running: 'warn', done: 'ok', failed: 'danger' };

  async function loadJobs() {
    const f = $('#job-filter').value;
    state.jobs = await api('GET', '/api/admin/jobs/' + (f ? '?state=' + encodeURIComponent(f) : ''));
    const tbody = $('#job-rows');
    tbody.replaceChildren(...state.jobs.map(jobRow));
    $('#jobs-empty').hidden = state.jobs.length !== 0;
    $('#job-table').hidden = state.jobs.length === 0;
    return state.jobs.some((j) => j.state === 'queued' || j.state === 'running');
  }

  function jobRow(j) {
    const subject = j.kind === 'transcode' ?
      (j.video_id ? `Video #${j.video_id}` + (j.video_title ? ` · ${j.video_title}` : ' (deleted)') : '—') :
      (j.kind === 'mail' ? 'Email' : '—');
    const status = el('td', { class: 'status-cell', 'data-label': 'State' },
      el('span', { class: 'badge badge-' + (JOB_BADGE[j.state] || 'muted') }, j.state));
    if (j.state === 'running') {
      const bar = progressBar(`Progress of job ${j.id}`);
      setProgress(bar, j.progress || 0);
      status.append(bar, el('div', { class: 'status-note' }, `${j.progress || 0}%`));
    }
    if (j.error) status.append(el('div', { class: 'status-error' }, j.error));
    const retry = el('button', { class: 'act', type: 'button', 'aria-label': `Retry job ${j.id}`,
      onclick: async () => {
        try {
          await api('POST', `/api/admin/jobs/${j.id}/retry/`, {});
          toast(`Job #${j.id} queued again.`, 'ok');
          refresh();
        } catch (e) { toast(e.message, 'error'); }
      } }, icon('redo'), 'Retry');
    return el('tr', { 'data-job-id': String(j.id), 'data-state': j.state },
      el('td', { class: 'num', 'data-label': 'Job' }, String(j.id)),
      el('td', { 'data-label': 'Kind' }, el('span', { class: 'chip' }, j.kind)),
      el('td', { 'data-label': 'Subject' }, subject),
      status,
      el('td', { class: 'num', 'data-label': 'Attempts' },
        j.max_attempts == null ? String(j.attempts) : `${j.attempts}/${j.max_attempts}`),
      el('td', { 'data-label': 'Updated' }, timeCell(j.updated_at)),
      el('td', null, el('div', { class: 'row-actions' }, j.state === 'failed' ? retry : null)));
  }

  /* -------------------------------------------------------------- users */

  async function loadUsers() {
    state.users = await api('GET', '/api/admin/users/');
    renderUsers();
    return false;
  }

  function renderUsers() {
    const q = $('#user-search').value.trim().toLowerCase();
    const shown = state.users.filter((u) => !q || u.email.toLowerCase().includes(q));
    $('#user-rows').replaceChildren(...shown.map(userRow));
    const n = state.users.length;
    const staff = state.users.filter((u) => u.is_staff).length;
    $('#users-summary').textContent = `${n} account${n === 1 ? '' : 's'} · ${staff} staff`;
    $('#users-empty').hidden = n !== 0;
  }

  function userRow(u) {
    const self = state.me && u.id === state.me.id;
    const locked = self || (u.is_superuser && !(state.me && state.me.is_superuser));
    const role = u.is_superuser ? 'Superuser' : (u.is_staff ? 'Staff' : 'Member');
    const patch = async (body, msg) => {
      try {
        await api('PATCH', `/api/admin/users/${u.id}/`, body);
        toast(msg, 'ok');
        refresh();
      } catch (e) { toast(e.message, 'error'); }
    };
    const active = el('button', { class: 'act' + (u.is_active ? ' act-danger' : ''), type: 'button',
      'aria-label': `${u.is_active ? 'Deactivate' : 'Activate'} ${u.email}`,
      onclick: () => patch({ is_active: !u.is_active }, `${u.email} ${u.is_active ? 'deactivated' : 'activated'}.`) },
      u.is_active ? 'Deactivate' : 'Activate');
    const staff = el('button', { class: 'act', type: 'button',
      'aria-label': `${u.is_staff ? 'Remove staff access from' : 'Make staff'} ${u.email}`,
      onclick: () => patch({ is_staff: !u.is_staff }, `${u.email} is ${u.is_staff ? 'no longer' : 'now'} staff.`) },
      u.is_staff ? 'Remove staff' : 'Make staff');
    active.disabled = locked;
    staff.disabled = locked || u.is_superuser;
    // An account that registered and never activated (its mail may have been lost): a fresh link.
    const resend = u.activation_pending && !u.is_active
      ? el('button', { class: 'act', type: 'button', 'data-action': 'resend-activation',
        'aria-label': `Resend the activation email to ${u.email}`,
        onclick: async () => {
          try {
            await api('POST', `/api/admin/users/${u.id}/activation/`, {});
            toast(`A new activation email to ${u.email} is on its way.`, 'ok');
          } catch (e) { toast(e.message, 'error'); }
        } }, 'Resend activation')
      : null;
    return el('tr', { 'data-user-id': String(u.id) },
      el('td', { 'data-label': 'Email' }, el('span', { class: 'video-title' }, u.email),
        self ? el('span', { class: 'chip chip-you' }, 'you') : null),
      el('td', { 'data-label': 'Status' },
        el('span', { class: 'badge ' + (u.is_active ? 'badge-ok' : 'badge-muted') },
          u.is_active ? 'Active' : (u.activation_pending ? 'Awaiting activation' : 'Inactive'))),
      el('td', { 'data-label': 'Role' }, role),
      el('td', { 'data-label': 'Joined' }, timeCell(u.date_joined)),
      el('td', null, el('div', { class: 'row-actions' }, resend, active, staff)));
  }

  /* ----------------------------------------------------------- wiring */

  function wireStatic() {
    $('#login-form').addEventListener('submit', onLogin);
    $('#logout').addEventListener('click', onLogout);
    window.addEventListener('hashchange', () => { if (state.me) route(); });
    document.addEventListener('visibilitychange', () => { if (!document.hidden && state.me) refresh(); });

    $('#open-upload').addEventListener('click', openUpload);
    document.querySelectorAll('[data-action="open-upload"]').forEach((b) => b.addEventListener('click', openUpload));
    $('#upload-form').addEventListener('submit', onUploadSubmit);
    $('#upload-cancel').addEventListener('click', cancelUpload);
    $('#upload-dialog').addEventListener('cancel', () => { if (xhr) xhr.abort(); });
    $('#upload-file').addEventListener('change', () => setFile(chosenFile()));
    const dz = $('#dropzone');
    dz.addEventListener('dragover', (e) => { e.preventDefault(); dz.classList.add('dragover'); });
    dz.addEventListener('dragleave', () => dz.classList.remove('dragover'));
    dz.addEventListener('drop', (e) => {
      e.preventDefault();
      dz.classList.remove('dragover');
      if (e.dataTransfer && e.dataTransfer.files.length) {
        $('#upload-file').files = e.dataTransfer.files;
        setFile(chosenFile());
      }
    });

    $('#edit-form').addEventListener('submit', onEditSubmit);
    $('#preview-dialog').addEventListener('close', closePreview);
    $('#quality').addEventListener('change', onQualityChange);
    document.querySelectorAll('dialog [data-close]').forEach((b) =>
      b.addEventListener('click', () => {
        const d = b.closest('dialog');
        if (d.id === 'upload-dialog') cancelUpload();
        else d.close();
      }));

    $('#video-search').addEventListener('input', renderVideos);
    $('#video-filter').addEventListener('change', renderVideos);
    $('#job-filter').addEventListener('change', refresh);
    $('#refresh-jobs').addEventListener('click', refresh);
    $('#user-search').addEventListener('input', renderUsers);
  }

  document.addEventListener('DOMContentLoaded', boot);
})();
