/* The paywall: copy/download gating, paying by WeChat/Alipay, unlocking without a reload.
   The page is the same for every reader; what this reader may do comes from POST text/. */
(function () {
  "use strict";
  var cfgNode = document.getElementById("pw-config");
  var doc = document.getElementById("doc");
  var modal = document.getElementById("pw-modal");
  if (!cfgNode || !doc || !modal) return;
  var cfg = JSON.parse(cfgNode.textContent);
  var dialog = modal.querySelector(".pw-dialog");
  var $ = function (id) { return document.getElementById(id); };
  var ua = navigator.userAgent;
  var inWeChat = /MicroMessenger/i.test(ua);
  var mobile = /Android|iPhone|iPad|iPod|Mobile|HarmonyOS/i.test(ua);
  var POLL_MS = 1000;
  var MARK_EVERY = 150;
  var fillKey = "fw-fill-" + cfg.article;
  var pendingKey = "fw-pending-" + cfg.article;
  var state = { unlocked: false, data: null, order: null, plan: null, timer: null, lastFocus: null, busy: false };

  function cookie(name) {
    var m = document.cookie.match("(?:^|; )" + name + "=([^;]*)");
    return m ? decodeURIComponent(m[1]) : "";
  }

  function api(url, method, body) {
    var opts = { method: method || "GET", credentials: "same-origin", headers: { Accept: "application/json" } };
    if (opts.method !== "GET") {
      opts.headers["Content-Type"] = "application/json";
      opts.headers["X-CSRFToken"] = cookie("csrftoken");
      opts.body = JSON.stringify(body || {});
    }
    return fetch(url, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        return { status: r.status, body: data };
      });
    }, function () {
      return { status: 0, body: { message: "网络不通，请稍后再试。" } };
    });
  }

  function storedFill() {
    try { return JSON.parse(localStorage.getItem(fillKey) || "{}") || {}; } catch (e) { return {}; }
  }

  function show(node, on) { if (node) node.hidden = !on; }

  function say(id, text) {
    var node = $(id);
    if (!node) return;
    node.textContent = text || "";
    node.hidden = !text;
  }

  function selectionInDoc() {
    var sel = window.getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
    var node = sel.getRangeAt(0).commonAncestorContainer;
    return doc.contains(node) ? sel : null;
  }

  // Whether the selection takes in any text of the body's paragraphs (what is paid for).
  function touchesPaidText(sel) {
    var range = sel.getRangeAt(0);
    var node = range.commonAncestorContainer;
    var el = node.nodeType === 1 ? node : node.parentElement;
    if (el && el.closest("p.bt")) return true;
    var cut = range.cloneContents().querySelectorAll("p.bt");
    for (var i = 0; i < cut.length; i++) if (cut[i].textContent.trim()) return true;
    return false;
  }

  // The buyer mark is invisible; repeated so that any excerpt still carries it. As on the
  // server: only before an ideograph that follows full-width punctuation after an ideograph
  // (never inside a word, never by a punctuation pair), at most MARK_EVERY visible characters apart, else once at the end.
  var MARK_AFTER = "。，、；：！？";
  var HAN = /\p{Script=Han}/u;
  function withMark(text) {
    var mark = state.data && state.data.mark;
    if (!mark) return text;
    // A mark of joiners alone would take away the line break after the punctuation.
    if (mark.indexOf("\u200b") < 0) mark = "\u200b" + mark;
    var chars = Array.from(text);
    var out = [];
    var since = null;
    for (var i = 0; i < chars.length; i++) {
      out.push(chars[i]);
      if (since !== null) since++;
      var slot = MARK_AFTER.indexOf(chars[i]) >= 0 && i > 0 && HAN.test(chars[i - 1]) &&
        i + 1 < chars.length && HAN.test(chars[i + 1]);
      if (slot && (since === null || since >= MARK_EVERY)) { out.push(mark); since = 0; }
    }
    if (since === null) out.push(mark);
    return out.join("");
  }

  var programmatic = false;
  function copyString(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    programmatic = true;
    try { document.execCommand("copy"); } finally { programmatic = false; area.remove(); }
    return Promise.resolve();
  }

  // Back from paying on another page (H5, Alipay's cashier): say so at the top of the article.
  function unlockedBanner() {
    if (document.getElementById("pw-banner")) return;
    var banner = document.createElement("p");
    banner.id = "pw-banner";
    banner.className = "pw-banner";
    banner.setAttribute("role", "status");
    banner.textContent = "已解锁：支付成功，现在可以复制全文、下载Word文档。";
    doc.insertBefore(banner, doc.firstChild);
    banner.scrollIntoView({ block: "start" });
  }

  function toast(text) {
    var node = $("pw-status");
    if (node) node.textContent = text;
  }

  function useCleanFont(font) {
    if (doc.dataset.variant !== "protected") return;
    if (font) {
      var style = document.createElement("style");
      style.textContent = font.css + '.piece p.bt{font-family:"' + font.family + '",sans-serif}';
      document.head.appendChild(style);
    } else {
      var rule = document.createElement("style");
      rule.textContent = ".piece p.bt{font-family:inherit}";
      document.head.appendChild(rule);
    }
  }

  function placeParagraphs(paras) {
    doc.querySelectorAll("section.piece").forEach(function (section) {
      var texts = paras[section.id];
      var nodes = section.querySelectorAll("p.bt");
      if (!texts || texts.length !== nodes.length) return;
      nodes.forEach(function (p, i) { if (p.textContent !== texts[i]) p.textContent = texts[i]; });
    });
  }

  function addPieceButtons(data) {
    if (data.pieces.length < 2) return;
    data.pieces.forEach(function (piece) {
      var section = $(piece.anchor);
      if (!section || section.querySelector(".pw-piece-copy")) return;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "pw-piece-copy";
      button.textContent = "复制本篇";
      button.addEventListener("click", function () {
        var current = state.data.pieces.filter(function (p) { return p.anchor === piece.anchor; })[0];
        copyString(current.text).then(function () { toast("已复制" + (section.dataset.label || "本篇") + "，可直接粘贴。"); });
      });
      var title = section.querySelector(".piece-title");
      if (title) title.appendChild(button); else section.insertBefore(button, section.firstChild);
    });
  }

  function unlock(data) {
    var wasProtected = doc.dataset.variant === "protected";
    state.unlocked = true;
    state.data = data;
    placeParagraphs(data.paras);
    if (wasProtected) useCleanFont(data.font);
    doc.dataset.variant = "clean";
    document.body.classList.add("pw-unlocked");
    show($("pw-locked"), false);
    show($("pw-open"), true);
    show($("pw-fill-open"), data.fill_groups && data.fill_groups.length > 0);
    var until = data.pass_until ? new Date(data.pass_until) : null;
    toast(data.kind === "pass" && until
      ? "包月有效期至" + until.toLocaleDateString("zh-CN") + "，可复制全文或下载Word。"
      : "已解锁：可复制全文或下载Word。");
    addPieceButtons(data);
  }

  // Asks the server what this reader may take; also hands out the CSRF cookie.
  function refresh() {
    return api(cfg.text, "POST", { fill: storedFill() }).then(function (r) {
      if (r.status === 200) {
        unlock(r.body);
      } else if (r.status === 429) {
        say("pw-msg", r.body.message);
      } else if (r.status === 400 && r.body.message) {
        say("pw-msg", r.body.message);
      }
      return r;
    });
  }

  /* ---- the modal ---- */
  function step(name) {
    modal.querySelectorAll(".pw-step").forEach(function (s) { s.hidden = s.dataset.step !== name; });
    say("pw-modal-msg", "");
  }

  var beaconSent = false;
  function openModal(name) {
    if (modal.hidden) state.lastFocus = document.activeElement;
    // The dashboard's funnel: a reader the paywall stopped, counted once per page view.
    // (A page cached before the beacon existed has no cfg.opened: nothing to send.)
    if (!beaconSent && !state.unlocked && cfg.opened && navigator.sendBeacon) {
      beaconSent = true;
      navigator.sendBeacon(cfg.opened);
    }
    step(name || (state.order && !state.unlocked ? "pay" : "choose"));
    modal.hidden = false;
    document.body.classList.add("pw-modal-open");
    var first = modal.querySelector(".pw-step:not([hidden]) button, .pw-step:not([hidden]) input");
    (first || dialog).focus();
  }

  function closeModal() {
    modal.hidden = true;
    document.body.classList.remove("pw-modal-open");
    if (state.lastFocus && state.lastFocus.focus) state.lastFocus.focus();
  }

  function channel() {
    var picked = modal.querySelector('input[name="pw-channel"]:checked');
    // Alipay when picked, or when it is the only provider here (the server says so if neither is).
    var alipay = cfg.alipay && !inWeChat && (!cfg.wechat || (picked && picked.value === "alipay"));
    if (alipay) return mobile ? "alipay_wap" : "alipay_qr";
    if (inWeChat) return "jsapi";
    return mobile ? "h5" : "native";
  }

  function startOrder(plan) {
    if (state.busy) return;
    // No provider set up here: say so rather than open an order no one can pay.
    if (!cfg.wechat && !cfg.alipay) {
      openModal("choose");
      say("pw-modal-msg", "本站暂未开通在线支付，如需全文请联系客服。");
      return;
    }
    state.busy = true;
    state.plan = plan;
    stopPolling();
    var body = { plan: plan, channel: channel() };
    if (plan === "article_copy") body.article_id = cfg.article;
    // Inside WeChat the first payment passes through WeChat's OAuth and comes back here;
    // Alipay's mobile cashier sends the buyer back here too.
    if (body.channel === "jsapi" || body.channel === "alipay_wap") body.next = window.location.pathname;
    api(cfg.orders, "POST", body).then(function (r) {
      state.busy = false;
      if (r.status === 409 && r.body.oauth_url) { window.location.href = r.body.oauth_url; return; }
      if (r.status !== 201) { openModal("choose"); say("pw-modal-msg", r.body.message || "下单失败，请稍后再试。"); return; }
      state.order = r.body;
      sessionStorage.setItem(pendingKey, r.body.out_trade_no);
      var offer = modal.querySelector('.pw-offer[data-plan="' + plan + '"] .pw-name');
      $("pw-pay-name").textContent = offer ? offer.textContent.replace(/^[ab]\./, "") : "";
      $("pw-amount").textContent = (r.body.amount_fen / 100).toFixed(2);
      // Which provider, in its own name and colour, and what the money buys.
      var alipay = body.channel.indexOf("alipay") === 0;
      $("pw-provider").textContent = alipay ? "支付宝" : "微信支付";
      $("pw-provider").dataset.provider = alipay ? "alipay" : "wechat";
      var blurb = modal.querySelector('.pw-offer[data-plan="' + plan + '"] .pw-blurb');
      $("pw-for").textContent = plan === "article_copy"
        ? "《" + (cfg.title || "") + "》"
        : (blurb ? blurb.textContent : "");
      show($("pw-expired"), false);
      var back = window.location.href;
      if (r.body.code_url) {
        var img = new Image();
        img.alt = "支付二维码";
        img.width = 200;
        img.height = 200;
        img.src = cfg.qr + "?d=" + encodeURIComponent(r.body.code_url);
        $("pw-qr").replaceChildren(img);
        // A QR code that is a web page (the sandbox's payer page) gets a link to it too.
        var sandbox = !!r.body.pay_page;
        $("pw-scan").textContent = sandbox
          ? "沙箱：用手机扫码或点下面的链接付款，付款后自动解锁"
          : (channel().indexOf("alipay") === 0 ? "请用支付宝扫一扫，付款后自动解锁" : "请用微信扫一扫，付款后自动解锁");
        show($("pw-sandbox"), sandbox);
        if (sandbox) $("pw-sandbox-link").href = r.body.code_url;
        openModal("pay");
        poll();
      } else if (r.body.h5_url) {
        window.location.href = r.body.h5_url + (r.body.h5_url.indexOf("?") < 0 ? "?" : "&") + "redirect_url=" + encodeURIComponent(back);
      } else if (r.body.redirect_url) {
        window.location.href = r.body.redirect_url;
      } else if (r.body.jsapi) {
        payInWeChat(r.body);
      }
    });
  }

  function payInWeChat(order) {
    var params = order.jsapi;
    if (window.WeixinJSBridge && params.paySign) {
      window.WeixinJSBridge.invoke("getBrandWCPayRequest", params, function () { poll(); });
    } else if (order.pay_page_url) {
      openModal("pay");
      $("pw-qr").replaceChildren();
      show($("pw-sandbox"), true);
      $("pw-sandbox-link").href = order.pay_page_url;
      poll();
    }
  }

  function orderUrl(no, suffix) { return cfg.orders + encodeURIComponent(no) + "/" + (suffix || ""); }

  function stopPolling() { if (state.timer) { clearTimeout(state.timer); state.timer = null; } }

  function expired() {
    stopPolling();
    show($("pw-expired"), true);
    $("pw-qr").replaceChildren();
  }

  function poll() {
    stopPolling();
    var order = state.order;
    if (!order) return;
    if (order.expires_at && new Date(order.expires_at) <= new Date()) { expired(); return; }
    api(orderUrl(order.out_trade_no)).then(function (r) {
      if (state.order !== order) return;
      if (r.status === 200 && (r.body.status === "paid")) { paid(); return; }
      if (r.status === 200 && r.body.status === "closed") { expired(); return; }
      state.timer = setTimeout(poll, document.hidden ? POLL_MS * 3 : POLL_MS);
    });
  }

  function paid() {
    stopPolling();
    sessionStorage.removeItem(pendingKey);
    state.order = null;
    refresh().then(function (r) {
      if (r.status !== 200) return;
      if (modal.hidden) unlockedBanner();
      if (!modal.hidden) {
        step("done");
        $("pw-done").focus();
        setTimeout(function () { if (!modal.hidden && !state.order) closeModal(); }, 1500);
      }
    });
  }

  function check() {
    if (!state.order) {
      refresh().then(function (r) {
        if (r.status !== 200) say("pw-msg", "没有找到这个浏览器的付款。换了浏览器或手机付款的，请到“我的购买”用订单号找回。");
      });
      return;
    }
    say("pw-modal-msg", "正在向支付平台查询……");
    api(orderUrl(state.order.out_trade_no, "check/"), "POST", {}).then(function (r) {
      if (r.status === 200 && r.body.status === "paid") { paid(); return; }
      say("pw-modal-msg", r.status === 200 ? "还没有收到付款。付款后几秒内会自动解锁。" : (r.body.message || "查询失败，请稍后再试。"));
    });
  }

  /* ---- fill-in of placeholders ---- */
  function openFill() {
    var box = $("pw-fill-fields");
    var values = storedFill();
    box.replaceChildren();
    (state.data.fill_groups || []).forEach(function (g) {
      var label = document.createElement("label");
      label.className = "pw-field";
      var name = document.createElement("span");
      name.textContent = g.label + (g.count > 1 ? "（" + g.count + "处）" : "");
      var input = document.createElement("input");
      input.name = g.key;
      input.maxLength = 50;
      input.value = values[g.key] || "";
      input.placeholder = g.example || "";
      label.append(name, input);
      box.appendChild(label);
    });
    openModal("fill");
  }

  $("pw-fill").addEventListener("submit", function (e) {
    e.preventDefault();
    var values = {};
    $("pw-fill").querySelectorAll("input").forEach(function (i) { if (i.value.trim()) values[i.name] = i.value.trim(); });
    localStorage.setItem(fillKey, JSON.stringify(values));
    refresh().then(function (r) {
      if (r.status === 200) { closeModal(); toast("已按你填写的内容替换，复制和下载都会带上。"); }
      else say("pw-modal-msg", r.body.message || "填写内容有误。");
    });
  });

  /* ---- gating ---- */
  function gate(e) {
    if (state.unlocked || doc.dataset.variant === "clean") return false;
    if (e.type !== "contextmenu" && e.type !== "dragstart" && !selectionInDoc()) return false;
    e.preventDefault();
    openModal("choose");
    return true;
  }

  document.addEventListener("copy", function (e) {
    if (programmatic) return;
    var sel = selectionInDoc();
    if (!sel) return;
    if (!state.unlocked) {
      // The title, the intro and the headings are free: they copy as the browser copies them.
      if (!touchesPaidText(sel)) return;
      // Served clean (a reader with the right, before refresh() has answered): theirs to copy.
      if (doc.dataset.variant === "clean") return;
      // Cancelled without data: the clipboard keeps what the reader had copied before.
      e.preventDefault();
      openModal("choose");
      return;
    }
    e.preventDefault();
    e.clipboardData.setData("text/plain", withMark(sel.toString()));
    toast("已复制，可直接粘贴。");
  });
  document.addEventListener("cut", function (e) { if (selectionInDoc()) gate(e); });
  doc.addEventListener("contextmenu", gate);
  doc.addEventListener("dragstart", gate);

  $("pw-download").addEventListener("click", function (e) {
    e.preventDefault();
    if (!state.unlocked) { openModal("choose"); return; }
    // A fresh signed link each time: links live a few minutes.
    refresh().then(function (r) { if (r.status === 200) window.location.href = r.body.download_url; });
  });
  $("pw-copy-all").addEventListener("click", function () {
    copyString(state.data.text).then(function () { toast("已复制全文，可直接粘贴到Word。"); });
  });
  $("pw-fill-open").addEventListener("click", openFill);
  document.querySelectorAll(".pw-offer").forEach(function (b) {
    b.addEventListener("click", function () { startOrder(b.dataset.plan); });
  });
  $("pw-paid").addEventListener("click", check);
  $("pw-check").addEventListener("click", check);
  $("pw-renew").addEventListener("click", function () { startOrder(state.plan); });
  $("pw-back").addEventListener("click", function () { stopPolling(); state.order = null; step("choose"); });
  $("pw-close").addEventListener("click", closeModal);
  $("pw-done").addEventListener("click", closeModal);
  modal.addEventListener("click", function (e) { if (e.target === modal) closeModal(); });
  document.addEventListener("keydown", function (e) {
    if (modal.hidden) return;
    if (e.key === "Escape") { closeModal(); return; }
    if (e.key !== "Tab") return;
    // Keep the keyboard inside the dialog while it is open.
    var items = Array.prototype.filter.call(
      dialog.querySelectorAll("button, a[href], input"),
      function (n) { return n.offsetParent !== null; });
    if (!items.length) return;
    var first = items[0], last = items[items.length - 1];
    if (e.shiftKey && document.activeElement === first) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
  });
  if (cfg.alipay && cfg.wechat && !inWeChat) show($("pw-channels"), true);

  refresh().then(function (r) {
    // Back from an H5 or Alipay page: carry on waiting for that order.
    var pending = sessionStorage.getItem(pendingKey);
    if (r.status === 200 && pending) {
      sessionStorage.removeItem(pendingKey);
      unlockedBanner();
    } else if (r.status !== 200 && pending) {
      state.order = { out_trade_no: pending };
      poll();
    }
  });
})();
