/* Hikeshi (火消し) — small progressive enhancements. Every page works without this file,
 * except the live updates of the SVボード. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // Organisation switcher: submit on change (the button is there for no-JS).
  Array.prototype.forEach.call(document.querySelectorAll("select[data-autosubmit]"), function (sel) {
    sel.addEventListener("change", function () { sel.form.submit(); });
  });

  // Destructive actions ask first.
  Array.prototype.forEach.call(document.querySelectorAll("form[data-confirm]"), function (form) {
    form.addEventListener("submit", function (ev) {
      if (!window.confirm(form.getAttribute("data-confirm"))) ev.preventDefault();
    });
  });

  // A token shown once: select it all on focus, ready to copy.
  Array.prototype.forEach.call(document.querySelectorAll("[data-select-on-focus]"), function (el) {
    el.addEventListener("focus", function () { el.select(); });
  });

  // Copy buttons (shown only where the clipboard is available).
  Array.prototype.forEach.call(document.querySelectorAll("[data-copy-target]"), function (btn) {
    if (!navigator.clipboard) return;
    var target = document.getElementById(btn.getAttribute("data-copy-target"));
    var status = btn.parentNode.querySelector("[data-copy-status]");
    btn.hidden = false;
    btn.addEventListener("click", function () {
      navigator.clipboard.writeText(target.value).then(function () {
        if (status) status.textContent = "コピーしました";
      }, function () {
        target.focus();
        if (status) status.textContent = "コピーできませんでした。選択してコピーしてください";
      });
    });
  });

  var board = document.getElementById("board");
  if (board) initBoard(board);

  function initBoard(root) {
    var list = root.querySelector("[data-board-list]");
    var empty = root.querySelector("[data-board-empty]");
    var state = document.querySelector("[data-conn-state]");
    var tpl = root.querySelector("template[data-item-template]");
    var labels = JSON.parse(root.getAttribute("data-severity-labels") || "{}");
    var jst = new Intl.DateTimeFormat("ja-JP", {
      timeZone: "Asia/Tokyo", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hour12: false
    });

    function setState(kind, text) {
      if (!state) return;
      state.setAttribute("data-state", kind);
      state.textContent = text;
    }

    function add(item, isNew, atEnd) {
      var id = String(item.id);
      // Announcements are de-duplicated by id (a resync may fetch one already shown).
      if (/^[0-9]+$/.test(id) && list.querySelector('[data-id="' + id + '"]')) return;
      var li = tpl.content.firstElementChild.cloneNode(true);
      var severity = labels[item.severity] ? item.severity : "info";
      li.setAttribute("data-id", id);
      li.className = "item sev-" + severity + (isNew ? " is-new" : "");
      li.querySelector('[data-field="severity"]').textContent = labels[severity];
      li.querySelector('[data-field="body"]').textContent = item.body || "";
      li.querySelector('[data-field="author"]').textContent = item.author || item.author_label || "";
      var when = item.at_jst || (item.created_at ? jst.format(new Date(item.created_at)) : "");
      li.querySelector('[data-field="at"]').textContent = when;
      if (atEnd) list.appendChild(li); else list.insertBefore(li, list.firstChild);
      if (empty) empty.hidden = true;
    }

    // After a reconnect, fetch what was missed while the stream was down.
    function resync() {
      fetch(root.getAttribute("data-list-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) {
          if (!body || !body.data) return;
          body.data.slice().reverse().forEach(function (item) { add(item, true, false); });
        })
        .catch(function () { /* the next reconnect tries again */ });
    }

    var source = null;
    var connectedOnce = false;
    var retryMs = 2000;

    function connect() {
      source = new EventSource(root.getAttribute("data-events-url"));
      source.addEventListener("open", function () {
        setState("open", "接続中");
        retryMs = 2000;
        if (connectedOnce) resync();
        connectedOnce = true;
      });
      source.addEventListener("announcement.created", function (ev) {
        var payload = JSON.parse(ev.data);
        add(payload.data || payload, true, false);
      });
      // Crisis-desk events: shown on the board as they happen, never stored as announcements.
      var incidentText = {
        "incident.launched": function (d) { return "緊急対応を立ち上げました：" + (d.title || ""); },
        "incident.notice_published": function (d) {
          return "告知を公開しました：" + (d.title || "") + "（" + (d.channel_label || d.channel || "") +
            " 第" + (d.version || "") + "版）";
        },
        "incident.state_changed": function (d) { return "インシデントの状態：" + (d.label || d.state || ""); },
        "notify.failed": function (d) {
          return "部署への連絡に失敗しました：" + (d.department || "") + "（" + (d.channel || "") +
            "、" + (d.attempts || "") + "回）。連絡体制の画面で再送してください";
        },
        "contact.help_requested": function (d) {
          return "手上げ：" + (d.operator || "") + " が応援を求めています（" + (d.subject || "") + "）";
        },
        "case.escalated": function (d) {
          return "エスカレーション：#" + (d.case_id || "") + " " + (d.title || "") + "（" + (d.target_label || "SV") + "）";
        },
        "case.level_up": function (d) {
          return "未受領のため次の段階へ：#" + (d.case_id || "") + " " + (d.title || "") + " → " + (d.target_label || "");
        },
        "case.acknowledged": function (d) { return "受領されました：#" + (d.case_id || "") + "（" + (d.by || "") + "）"; },
        "case.unacknowledged": function (d) {
          return "最終段階まで受領されていません：#" + (d.case_id || "") + " " + (d.title || "");
        },
        "action.reminder": function (d) {
          return "お約束の期限が近づいています（" + (d.due_at_jst || "") + "）：" + (d.description || "");
        },
        "action.overdue": function (d) {
          return "お約束の期限を過ぎました（" + (d.due_at_jst || "") + "）：" + (d.description || "");
        },
        "incident.notice_approval": function (d) {
          return d.missing && d.missing.length ? "告知文が承認されました（残り：" + d.missing.join("・") + "）"
                                                : "告知文の承認が揃いました";
        }
      };
      Object.keys(incidentText).forEach(function (type) {
        source.addEventListener(type, function (ev) {
          var payload = JSON.parse(ev.data);
          var d = payload.data || payload;
          add({
            id: "ev-" + (ev.lastEventId || String(Date.now())),
            severity: type === "incident.launched" || type === "notify.failed" ||
                      type === "contact.help_requested" ? "urgent" : "info",
            body: incidentText[type](d),
            author: "",
            at_jst: d.at_jst || jst.format(new Date())
          }, true, false);
        });
      });
      source.addEventListener("error", function () {
        if (source.readyState !== EventSource.CLOSED) {
          setState("retry", "再接続中");  // the browser retries by itself
          return;
        }
        source.close();
        // The server refused the stream: find out whether the session has ended.
        fetch("/api/v1/me", { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (r) {
            if (r.status === 401) {
              setState("closed", "ログインの有効期限が切れました。再読み込みしてログインしてください");
              return;
            }
            setState("retry", "再接続中");
            window.setTimeout(connect, retryMs);
            retryMs = Math.min(retryMs * 2, 60000);
          })
          .catch(function () {
            setState("retry", "再接続中");
            window.setTimeout(connect, retryMs);
            retryMs = Math.min(retryMs * 2, 60000);
          });
      });
    }

    window.addEventListener("pagehide", function () { if (source) source.close(); });
    connect();

    var form = root.querySelector("[data-board-form]");
    if (!form) return;
    var status = form.querySelector("[data-form-status]");
    var button = form.querySelector('button[type="submit"]');

    function say(text, isError) {
      status.textContent = text;
      status.classList.toggle("is-error", !!isError);
    }

    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var body = form.elements.body.value.trim();
      if (!body) { say("本文を入力してください", true); form.elements.body.focus(); return; }
      button.disabled = true;
      say("送信しています…", false);
      fetch(root.getAttribute("data-post-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrfToken() },
        body: JSON.stringify({ body: body, severity: form.elements.severity.value })
      }).then(function (r) {
        if (r.status === 201) {
          return r.json().then(function (item) {
            add(item, true, false);
            form.reset();
            say("投稿しました", false);
          });
        }
        if (r.status === 401) say("ログインの有効期限が切れました。再読み込みしてログインしてください", true);
        else if (r.status === 403) say("投稿できませんでした。権限がないか、画面の有効期限が切れています。再読み込みしてください", true);
        else if (r.status === 422) say("本文は1〜2000文字で入力してください", true);
        else say("投稿できませんでした（エラー " + r.status + "）", true);
      }).catch(function () {
        say("通信できませんでした。接続を確認してもう一度お試しください", true);
      }).then(function () { button.disabled = false; });
    });
  }
})();
