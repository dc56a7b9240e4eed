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

// The label page: keys 1 / 2 / 3 press same / different / unsure, N the next pair (the
// elements carry data-key). Not while typing, with a modifier (Ctrl+1 …) or held down;
// a form sent once has its buttons disabled above, so a second press sends nothing.
document.addEventListener("keydown", function (ev) {
  if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.repeat) { return; }
  var tag = ev.target && ev.target.tagName;
  if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") { return; }
  var key = (ev.key || "").toLowerCase();
  if (!/^[0-9a-z]$/.test(key)) { return; }
  var el = document.querySelector("[data-key='" + key + "']");
  if (el && !el.disabled) {
    ev.preventDefault();
    el.click();
  }
});
