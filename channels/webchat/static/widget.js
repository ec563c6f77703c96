/*
 * Parley chat widget. One static file, no framework, no build step.
 *
 *   <script src="https://support.example/widget.js"
 *           data-gateway="https://support.example"
 *           data-language="pt"            (optional; default: the browser's language)
 *           data-user-id="..." data-user-hash="..."   (optional: HMAC from your backend)
 *           data-email="..." data-name="..." data-open="true"></script>
 *
 * Contract: everything from the server is rendered with textContent, never as HTML.
 * A message is kept in localStorage until the server acks it, and re-sent with the same
 * client_id after a reconnect or reload, so it is stored once and never lost.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__parleyWidget) return;
  window.__parleyWidget = true;

  var data = script.dataset;
  var gateway = (data.gateway || new URL(script.src, location.href).origin).replace(/\/+$/, "");
  var wsBase = gateway.replace(/^http/, "ws");
  var storeKey = "parley:" + gateway;

  var LABELS = {
    en: { title: "Support chat", open: "Open support chat", close: "Close chat",
      placeholder: "Write a message", send: "Send", attach: "Attach a screenshot",
      online: "Connected", connecting: "Connecting", offline: "Offline, reconnecting",
      sending: "Sending", failed: "Not sent", you: "You", agent: "Support",
      messages: "Conversation", uploading: "Uploading", fallback: "Connected (slow mode)" },
    zh: { title: "客服聊天", open: "打开客服聊天", close: "关闭聊天", placeholder: "输入消息",
      send: "发送", attach: "附加截图", online: "已连接", connecting: "正在连接",
      offline: "离线，正在重新连接", sending: "发送中", failed: "未发送", you: "你",
      agent: "客服", messages: "对话", uploading: "上传中", fallback: "已连接（慢速模式）" },
    ru: { title: "Чат поддержки", open: "Открыть чат поддержки", close: "Закрыть чат",
      placeholder: "Напишите сообщение", send: "Отправить", attach: "Прикрепить скриншот",
      online: "Подключено", connecting: "Подключение", offline: "Нет связи, переподключение",
      sending: "Отправка", failed: "Не отправлено", you: "Вы", agent: "Поддержка",
      messages: "Переписка", uploading: "Загрузка", fallback: "Подключено (медленный режим)" },
    vi: { title: "Hỗ trợ trực tuyến", open: "Mở trò chuyện hỗ trợ", close: "Đóng trò chuyện",
      placeholder: "Nhập tin nhắn", send: "Gửi", attach: "Đính kèm ảnh chụp màn hình",
      online: "Đã kết nối", connecting: "Đang kết nối", offline: "Mất kết nối, đang thử lại",
      sending: "Đang gửi", failed: "Chưa gửi được", you: "Bạn", agent: "Hỗ trợ",
      messages: "Cuộc trò chuyện", uploading: "Đang tải lên", fallback: "Đã kết nối (chế độ chậm)" },
    id: { title: "Obrolan dukungan", open: "Buka obrolan dukungan", close: "Tutup obrolan",
      placeholder: "Tulis pesan", send: "Kirim", attach: "Lampirkan tangkapan layar",
      online: "Terhubung", connecting: "Menghubungkan", offline: "Terputus, menyambung ulang",
      sending: "Mengirim", failed: "Tidak terkirim", you: "Anda", agent: "Dukungan",
      messages: "Percakapan", uploading: "Mengunggah", fallback: "Terhubung (mode lambat)" },
    tr: { title: "Destek sohbeti", open: "Destek sohbetini aç", close: "Sohbeti kapat",
      placeholder: "Bir mesaj yazın", send: "Gönder", attach: "Ekran görüntüsü ekle",
      online: "Bağlandı", connecting: "Bağlanıyor", offline: "Çevrimdışı, yeniden bağlanıyor",
      sending: "Gönderiliyor", failed: "Gönderilemedi", you: "Siz", agent: "Destek",
      messages: "Sohbet", uploading: "Yükleniyor", fallback: "Bağlandı (yavaş mod)" },
    es: { title: "Chat de soporte", open: "Abrir chat de soporte", close: "Cerrar chat",
      placeholder: "Escribe un mensaje", send: "Enviar", attach: "Adjuntar captura",
      online: "Conectado", connecting: "Conectando", offline: "Sin conexión, reconectando",
      sending: "Enviando", failed: "No enviado", you: "Tú", agent: "Soporte",
      messages: "Conversación", uploading: "Subiendo", fallback: "Conectado (modo lento)" },
    pt: { title: "Chat de suporte", open: "Abrir chat de suporte", close: "Fechar chat",
      placeholder: "Escreva uma mensagem", send: "Enviar", attach: "Anexar captura de tela",
      online: "Conectado", connecting: "Conectando", offline: "Sem conexão, reconectando",
      sending: "Enviando", failed: "Não enviado", you: "Você", agent: "Suporte",
      messages: "Conversa", uploading: "Enviando arquivo", fallback: "Conectado (modo lento)" }
  };
  var language = (data.language || navigator.language || "en").toLowerCase();
  var lang = LABELS[language] ? language : LABELS[language.split(/[-_]/)[0]] ? language.split(/[-_]/)[0] : "en";
  var t = LABELS[lang];

  // ---- state, kept across reloads ------------------------------------------------------
  var state = load();
  var messages = {}; // message_id -> {id, author, text, created_at, client_id, attachments}
  var socket = null;
  var attempt = 0;
  var httpMode = false;
  var reconnectTimer = null;

  function load() {
    try {
      var saved = JSON.parse(localStorage.getItem(storeKey) || "null");
      if (saved && typeof saved === "object") {
        saved.pending = Array.isArray(saved.pending) ? saved.pending : [];
        // The page starts empty, so it asks for the whole conversation again.
        saved.lastId = 0;
        return saved;
      }
    } catch (e) { /* storage blocked or corrupt: start afresh */ }
    return { token: null, expiresAt: 0, lastId: 0, pending: [] };
  }
  function save() {
    try { localStorage.setItem(storeKey, JSON.stringify(state)); } catch (e) { /* private mode */ }
  }

  // ---- UI in a shadow root: the host page's CSS cannot reach it -------------------------
  var host = document.createElement("div");
  host.setAttribute("data-parley-widget", "");
  var root = host.attachShadow({ mode: "open" });
  var style = document.createElement("style");
  style.textContent = [
    ":host{all:initial}",
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}",
    ".launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:28px;",
    "padding:14px 18px;background:#1f6feb;color:#fff;font-size:15px;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}",
    ".panel{position:fixed;right:20px;bottom:20px;z-index:2147483001;width:360px;max-width:calc(100vw - 24px);",
    "height:520px;max-height:calc(100vh - 40px);display:flex;flex-direction:column;background:#fff;color:#111;",
    "border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);overflow:hidden;font-size:14px}",
    ".panel[hidden],.launcher[hidden]{display:none}",
    "header{display:flex;align-items:center;gap:8px;padding:10px 12px;background:#1f6feb;color:#fff}",
    "header h2{flex:1;margin:0;font-size:15px;font-weight:600}",
    ".status{font-size:12px;display:flex;align-items:center;gap:4px}",
    ".dot{width:8px;height:8px;border-radius:50%;background:#f0b429}",
    ".status[data-state=online] .dot{background:#3fb950}.status[data-state=offline] .dot{background:#f85149}",
    "button{font:inherit}",
    ".close{background:transparent;border:0;color:#fff;font-size:20px;cursor:pointer;line-height:1}",
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f6f8fa}",
    ".msg{max-width:80%;padding:8px 10px;border-radius:10px;white-space:pre-wrap;word-wrap:break-word}",
    ".msg.customer{align-self:flex-end;background:#1f6feb;color:#fff}",
    ".msg.agent{align-self:flex-start;background:#fff;border:1px solid #d0d7de}",
    ".msg .meta{display:block;font-size:11px;opacity:.75;margin-top:4px}",
    ".msg.pending{opacity:.7}.msg.failed{background:#ffebe9;color:#82071e}",
    "form{display:flex;gap:6px;padding:8px;border-top:1px solid #d0d7de;align-items:flex-end}",
    "textarea{flex:1;resize:none;min-height:38px;max-height:120px;padding:8px;border:1px solid #d0d7de;border-radius:8px;font-size:14px}",
    ".send,.attach{border:0;border-radius:8px;padding:9px 12px;cursor:pointer}",
    ".send{background:#1f6feb;color:#fff}.attach{background:#eaeef2;color:#111}",
    ":focus-visible{outline:3px solid #f0b429;outline-offset:2px}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}",
    ".choices{display:flex;flex-wrap:wrap;gap:4px;margin-top:6px}",
    ".choice{border:1px solid #1f6feb;background:#fff;color:#1f6feb;border-radius:6px;padding:4px 8px;cursor:pointer}",
    ".comment{display:flex;flex-direction:column;gap:4px;margin-top:6px}.comment textarea{width:100%;flex:none}",
    ".comment button{border:1px solid #1f6feb;background:#fff;color:#1f6feb;border-radius:6px;padding:4px 8px;cursor:pointer}",
    ".comment .comment-send{background:#1f6feb;color:#fff}"
  ].join("");
  root.appendChild(style);

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    for (var name in attrs) node.setAttribute(name, attrs[name]);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  var launcher = el("button", { "class": "launcher", type: "button", "aria-label": t.open,
    "aria-expanded": "false" }, t.title);
  var panel = el("section", { "class": "panel", role: "dialog", "aria-label": t.title, hidden: "" });
  var header = el("header");
  var title = el("h2", {}, t.title);
  var status = el("span", { "class": "status", role: "status", "aria-live": "polite",
    "data-state": "connecting" });
  var dot = el("span", { "class": "dot", "aria-hidden": "true" });
  var statusText = el("span", {}, t.connecting);
  status.appendChild(dot);
  status.appendChild(statusText);
  var closeButton = el("button", { "class": "close", type: "button", "aria-label": t.close }, "×");
  header.appendChild(title);
  header.appendChild(status);
  header.appendChild(closeButton);
  var log = el("div", { "class": "log", role: "log", "aria-live": "polite", "aria-label": t.messages,
    tabindex: "0" });
  var form = el("form");
  var input = el("textarea", { rows: "1", "aria-label": t.placeholder, placeholder: t.placeholder,
    maxlength: "4000" });
  var file = el("input", { type: "file", accept: "image/png,image/jpeg,image/webp,image/gif,application/pdf,video/mp4,video/quicktime,video/webm",
    "class": "sr", tabindex: "-1", "aria-hidden": "true" });
  var attachButton = el("button", { "class": "attach", type: "button", "aria-label": t.attach,
    title: t.attach }, "📎");
  var sendButton = el("button", { "class": "send", type: "submit" }, t.send);
  form.appendChild(input);
  form.appendChild(file);
  form.appendChild(attachButton);
  form.appendChild(sendButton);
  panel.appendChild(header);
  panel.appendChild(log);
  panel.appendChild(form);
  root.appendChild(launcher);
  root.appendChild(panel);

  function open() {
    panel.hidden = false;
    launcher.hidden = true;
    launcher.setAttribute("aria-expanded", "true");
    input.focus();
    log.scrollTop = log.scrollHeight;
  }
  function close() {
    panel.hidden = true;
    launcher.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }
  launcher.addEventListener("click", open);
  closeButton.addEventListener("click", close);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") close();
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    submit();
  });
  attachButton.addEventListener("click", function () { file.click(); });
  file.addEventListener("change", function () {
    var chosen = file.files && file.files[0];
    file.value = "";
    if (chosen) upload(chosen);
  });

  function setStatus(kind, label) {
    status.setAttribute("data-state", kind);
    statusText.textContent = label;
  }

  // ---- rendering: text only ------------------------------------------------------------
  function render() {
    var atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    var ids = Object.keys(messages).map(Number).sort(function (a, b) { return a - b; });
    var nodes = [];
    ids.forEach(function (id) { nodes.push(bubble(messages[id], "")); });
    state.pending.forEach(function (item) {
      nodes.push(bubble({ author: "customer", text: item.text, attachments: item.files || [] },
        item.error ? "failed" : "pending", item.error ? t.failed + ": " + item.error : t.sending));
    });
    var typing = root.activeElement;
    log.replaceChildren.apply(log, nodes);
    if (typing && typing !== root.activeElement && log.contains(typing)) typing.focus();
    if (atBottom) log.scrollTop = log.scrollHeight;
  }
  function bubble(message, extraClass, note) {
    var node = el("div", { "class": "msg " + (message.author === "agent" ? "agent" : "customer") +
      (extraClass ? " " + extraClass : "") });
    if (message.id) node.setAttribute("data-message-id", String(message.id));
    node.appendChild(el("span", { "class": "sr" }, (message.author === "agent" ? t.agent : t.you) + ": "));
    node.appendChild(document.createTextNode(message.text || ""));
    (message.attachments || []).forEach(function (a) {
      node.appendChild(el("span", { "class": "meta" }, "📎 " + String(a.filename || a)));
    });
    var when = message.created_at ? new Date(message.created_at) : null;
    var meta = note || (when && !isNaN(when) ? when.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" }) : "");
    if (meta) node.appendChild(el("span", { "class": "meta" }, meta));
    // A survey card: one button per rating, until one is tapped; then the server's answer.
    if (message.choices && message.choices.length && !message.answered) {
      var row = el("div", { "class": "choices", role: "group" });
      message.choices.forEach(function (choice) {
        var button = el("button", { type: "button", "class": "choice" }, String(choice.label));
        button.addEventListener("click", function () { answerChoice(message, String(choice.value)); });
        row.appendChild(button);
      });
      node.appendChild(row);
    }
    if (message.notice) node.appendChild(el("span", { "class": "meta notice" }, message.notice));
    // After the rating, the optional comment: one field, Send or Skip. The node is kept
    // across renders, so a reply arriving while the customer types loses nothing.
    if (message.comment) node.appendChild(commentBox(message));
    return node;
  }
  function answerChoice(message, value) {
    message.answered = true;
    render();
    request("POST", "/channels/webchat/choices", { value: value }).then(function (json) {
      message.notice = String(json.text || "");
      if (json.comment_prompt) {
        message.comment = { value: value, prompt: String(json.comment_prompt),
          skip: String(json.skip || "") };
      }
      save();
      render();
    }, function (err) {
      message.answered = false;
      message.notice = String(err.message || err);
      render();
    });
  }
  function commentBox(message) {
    var c = message.comment;
    if (c.node) return c.node;
    var id = "parley-comment-" + String(message.id);
    var box = el("div", { "class": "comment", role: "group" });
    box.appendChild(el("label", { "for": id }, c.prompt));
    var field = el("textarea", { id: id, maxlength: "2000", rows: "2" });
    var row = el("div", { "class": "comment-actions choices" });
    var sendButton = el("button", { type: "button", "class": "comment-send" }, t.send);
    var skipButton = el("button", { type: "button", "class": "comment-skip" }, c.skip);
    row.appendChild(sendButton);
    row.appendChild(skipButton);
    box.appendChild(field);
    box.appendChild(row);
    skipButton.addEventListener("click", function () { message.comment = null; render(); });
    sendButton.addEventListener("click", function () {
      var text = field.value.trim();
      if (!text) { field.focus(); return; }
      sendButton.disabled = skipButton.disabled = true;
      request("POST", "/channels/webchat/choices/comment", { value: c.value, comment: text })
        .then(function (json) {
          message.comment = null;
          message.notice = String(json.text || "");
          render();
        }, function (err) {
          sendButton.disabled = skipButton.disabled = false;
          message.notice = String(err.message || err);
          render();
        });
    });
    c.node = box;
    return box;
  }
  function accept(frame) {
    if (typeof frame.message_id !== "number") return;
    var seen = messages[frame.message_id] || {};
    messages[frame.message_id] = {
      id: frame.message_id, author: frame.author === "agent" ? "agent" : "customer",
      text: String(frame.text || ""), created_at: frame.created_at, client_id: frame.client_id,
      attachments: Array.isArray(frame.attachments) ? frame.attachments : [],
      choices: Array.isArray(frame.choices) ? frame.choices : [],
      answered: seen.answered, notice: seen.notice, comment: seen.comment
    };
    if (frame.client_id) dropPending(frame.client_id);
    if (frame.message_id > state.lastId) state.lastId = frame.message_id;
    save();
  }
  // Tell the desk which agent replies this widget has shown (a `seen` frame, or POST
  // /channels/webchat/seen in slow mode): replies nobody saw are mailed (api.md).
  var seenReported = 0;
  function reportSeen() {
    var newest = 0;
    Object.keys(messages).forEach(function (id) {
      if (messages[id].author === "agent" && messages[id].id > newest) newest = messages[id].id;
    });
    if (newest <= seenReported) return;
    seenReported = newest;
    if (socket && socket.readyState === 1) {
      socket.send(JSON.stringify({ type: "seen", message_id: newest }));
    } else {
      request("POST", "/channels/webchat/seen", { message_id: newest })
        .catch(function () { seenReported = 0; });
    }
  }
  function dropPending(clientId) {
    state.pending = state.pending.filter(function (p) { return p.client_id !== clientId; });
  }

  // ---- session ------------------------------------------------------------------------
  function request(method, path, body, extraHeaders) {
    var headers = extraHeaders || {};
    if (state.token) headers.Authorization = "Bearer " + state.token;
    if (body !== undefined && !(body instanceof Blob)) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(body);
    }
    return fetch(gateway + path, { method: method, headers: headers, body: body, mode: "cors" })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (json) {
          if (response.status === 401) { state.token = null; save(); }
          if (!response.ok) {
            var err = new Error(String(json.detail || response.status));
            err.status = response.status;
            throw err;
          }
          return json;
        });
      });
  }
  function ensureSession() {
    if (state.token && state.expiresAt * 1000 > Date.now() + 60000) return Promise.resolve();
    var body = { language: lang };
    if (data.name) body.name = data.name;
    if (data.email) body.email = data.email;
    if (data.userId) { body.user_id = data.userId; body.user_hash = data.userHash || ""; }
    var hadConversation = !!state.token;
    state.token = null;
    return request("POST", "/channels/webchat/sessions", body).then(function (session) {
      // A new session is a new visitor: an old cursor means nothing for it.
      state = { token: session.token, expiresAt: session.expires_at, lastId: 0,
        pending: state.pending, visitorId: session.visitor_id };
      if (hadConversation) messages = {};
      save();
    });
  }

  // ---- transport: websocket first, HTTP long poll when websockets are blocked -----------
  function connect() {
    clearTimeout(reconnectTimer);
    setStatus("connecting", t.connecting);
    ensureSession().then(openSocket, function (err) {
      setStatus("offline", t.offline);
      if (err && err.status === 401) return; // identity refused: retrying will not help
      scheduleReconnect();
    });
  }
  function openSocket() {
    var opened = false;
    var ws = new WebSocket(wsBase + "/channels/webchat/ws?token=" + encodeURIComponent(state.token) +
      "&after=" + state.lastId);
    socket = ws;
    ws.onopen = function () { opened = true; };
    ws.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (!frame || typeof frame !== "object") return;
      if (frame.type === "ready") {
        attempt = 0;
        httpMode = false;
        setStatus("online", t.online);
        flush();
      } else if (frame.type === "ack") {
        var sent = state.pending.filter(function (p) { return p.client_id === frame.client_id; })[0];
        accept({ message_id: frame.message_id, author: "customer", client_id: frame.client_id,
          text: sent ? sent.text : (messages[frame.message_id] || {}).text,
          attachments: sent ? sent.files : [], created_at: new Date().toISOString() });
        render();
      } else if (frame.type === "message") {
        accept(frame);
        render();
        reportSeen();
      } else if (frame.type === "error" && frame.client_id) {
        state.pending.forEach(function (p) {
          if (p.client_id === frame.client_id) p.error = String(frame.detail || "");
        });
        save();
        render();
      }
    };
    ws.onclose = function () {
      if (socket !== ws) return;
      socket = null;
      setStatus("offline", t.offline);
      if (opened) { scheduleReconnect(); return; }
      // Never opened: a refused token, a blocked network or a server restart. The HTTP
      // side tells which, and catches up meanwhile.
      poll(0).then(function () {
        if (attempt >= 2) { startHttpMode(); } else { scheduleReconnect(); }
      }, function () { scheduleReconnect(); });
    };
  }
  function scheduleReconnect() {
    clearTimeout(reconnectTimer);
    var delay = Math.min(30000, 500 * Math.pow(2, attempt)) * (0.5 + Math.random() / 2);
    attempt += 1;
    reconnectTimer = setTimeout(connect, delay);
  }
  function startHttpMode() {
    if (httpMode) return;
    httpMode = true;
    setStatus("online", t.fallback);
    flush();
    (function loop() {
      if (!httpMode) return;
      poll(25).then(loop, function () {
        httpMode = false;
        scheduleReconnect();
      });
    })();
    // Keep trying the websocket now and then: the network may let it through later.
    reconnectTimer = setTimeout(function () { if (httpMode) openSocketInBackground(); }, 60000);
  }
  function openSocketInBackground() {
    ensureSession().then(openSocket, function () {});
  }
  function poll(wait) {
    return ensureSession().then(function () {
      return request("GET", "/channels/webchat/messages?after=" + state.lastId + "&wait=" + wait);
    }).then(function (page) {
      (page.items || []).forEach(accept);
      render();
      reportSeen();
    });
  }

  // ---- sending ------------------------------------------------------------------------
  function newClientId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function submit() {
    var text = input.value;
    if (!text.trim()) return;
    input.value = "";
    queue({ client_id: newClientId(), text: text, attachments: [], files: [] });
  }
  function queue(item) {
    state.pending.push(item);
    save();
    render();
    flush();
  }
  function flush() {
    state.pending.forEach(function (item) {
      if (item.error) return;
      var frame = { type: "message", client_id: item.client_id, text: item.text,
        attachments: item.attachments };
      if (socket && socket.readyState === WebSocket.OPEN) {
        socket.send(JSON.stringify(frame));
      } else if (httpMode) {
        request("POST", "/channels/webchat/messages", frame).then(function (ack) {
          accept({ message_id: ack.message_id, author: "customer", client_id: item.client_id,
            text: item.text, attachments: item.files, created_at: new Date().toISOString() });
          render();
        }, function (err) {
          if (err.status && err.status < 500 && err.status !== 401) {
            item.error = err.message;
            save();
            render();
          }
        });
      }
    });
  }
  function upload(chosen) {
    setStatus(status.getAttribute("data-state"), t.uploading);
    ensureSession().then(function () {
      return request("POST", "/channels/webchat/attachments?filename=" + encodeURIComponent(chosen.name),
        chosen, { "Content-Type": "application/octet-stream" });
    }).then(function (uploaded) {
      var text = input.value;
      input.value = "";
      queue({ client_id: newClientId(), text: text, attachments: [uploaded.attachment_id],
        files: [{ filename: uploaded.filename }] });
    }, function (err) {
      state.pending.push({ client_id: newClientId(), text: chosen.name, attachments: [], files: [],
        error: err.message });
      save();
      render();
    }).then(function () {
      setStatus(status.getAttribute("data-state"), socket ? t.online : httpMode ? t.fallback : t.offline);
    });
  }

  function start() {
    document.body.appendChild(host);
    render();
    if (data.open === "true") open();
    connect();
  }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
