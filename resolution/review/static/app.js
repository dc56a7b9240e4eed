// A form is sent once: a second click while the first request runs would carry the same
// entity version and be refused as stale, so the buttons are disabled after a submit.
document.addEventListener("submit", function (ev) {
  var form = ev.target;
  if (form.method && form.method.toLowerCase() === "post") {
    setTimeout(function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    }, 0);
  }
});
