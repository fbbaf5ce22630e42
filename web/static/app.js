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

// Behaviour that used to be inline handlers (the Content-Security-Policy forbids inline
// script): a select that submits its form, an input that selects itself when clicked,
// a form that asks before it is sent.
document.addEventListener("change", function (event) {
  var el = event.target;
  if (el.matches && el.matches("select[data-autosubmit]") && el.form) { el.form.submit(); }
});
document.addEventListener("click", function (event) {
  var el = event.target;
  if (el.matches && el.matches("input[data-select-on-click]")) { el.select(); }
});
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) { event.preventDefault(); }
});
