// The piece editor: re-read the text by the importer's rules on the server while typing,
// so the heading levels show without saving. The page works without this script.
(function () {
  var form = document.getElementById("piece-form");
  var target = document.getElementById("pe-blocks");
  var status = document.getElementById("pe-live");
  if (!form || !target || !window.fetch) return;
  var timer = null;
  var sent = 0;

  function refresh() {
    var data = new FormData(form);
    data.set("op", "preview");
    data.set("fragment", "preview");
    var ticket = ++sent;
    status.textContent = "读取中…";
    fetch(form.getAttribute("data-preview-url"), {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
    })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.text();
      })
      .then(function (html) {
        if (ticket !== sent) return; // an older answer arriving late
        target.innerHTML = html;
        status.textContent = "（实时，未保存）";
      })
      .catch(function () {
        status.textContent = "（预览暂不可用，保存后可见）";
      });
  }

  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 400);
  });
})();
