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

// The queue's "select the page" box and the count on "confirm selected".
document.addEventListener("change", function (ev) {
  var box = ev.target;
  var name = box.getAttribute && box.getAttribute("data-check-all");
  if (name) {
    document.querySelectorAll("input[type=checkbox][name=" + name + "]").forEach(function (c) {
      c.checked = box.checked;
    });
  }
  var count = document.getElementById("checked-count");
  if (count) {
    count.textContent = document.querySelectorAll("input[type=checkbox][name=entity]:checked").length;
  }
});
