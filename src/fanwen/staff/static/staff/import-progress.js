// The batch page's progress bar: polls status.json every 700 ms; when the batch is done the
// page is loaded again, so the per-file results come from the server.
(function () {
  "use strict";
  var box = document.getElementById("imp-progress");
  if (!box || box.getAttribute("data-finished") === "1") return;
  var url = box.getAttribute("data-status-url");
  var bar = box.querySelector("progress");
  var count = box.querySelector(".imp-count");
  var ok = box.querySelector(".imp-ok");
  var refused = box.querySelector(".imp-refused");
  var status = box.querySelector(".imp-status");
  var refresh = box.querySelector(".imp-refresh");
  if (refresh) refresh.hidden = true;

  function show(s) {
    bar.max = Math.max(s.total, 1);
    bar.value = s.done;
    bar.textContent = s.done + " / " + s.total;
    count.textContent = "已处理 " + s.done + " / " + s.total;
    ok.textContent = s.ok;
    refused.textContent = s.refused + s.errors;
    status.textContent = s.status_label;
  }

  function tick() {
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (s) {
        show(s);
        if (s.finished) {
          window.location.reload();
        } else {
          window.setTimeout(tick, 700);
        }
      })
      .catch(function () {
        // A dropped connection or a restart: slower retries, and the link to reload by hand.
        if (refresh) refresh.hidden = false;
        window.setTimeout(tick, 3000);
      });
  }

  window.setTimeout(tick, 700);
})();
