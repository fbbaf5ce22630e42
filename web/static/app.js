// htmx 2 does not swap error responses; show our Chinese error partial in the toast.
document.addEventListener("DOMContentLoaded", function () {
  if (!window.htmx) return;
  htmx.config.responseHandling = [
    {code: "204", swap: false},
    {code: "[23]..", swap: true},
    {code: "422", swap: true},
    {code: "[45]..", swap: false, error: true},
  ];
  document.body.addEventListener("htmx:responseError", function (event) {
    var toast = document.getElementById("toast");
    if (toast) { toast.innerHTML = event.detail.xhr.responseText; }
  });
  document.body.addEventListener("htmx:sendError", function () {
    var toast = document.getElementById("toast");
    if (toast) { toast.textContent = "网络连接失败，请检查网络后重试"; }
  });
});
