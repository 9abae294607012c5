// Self-check form: prefill today's date, add/remove event rows, show the chosen type's fields.
// Rows and fields are copied from <template>s the server rendered from the profile schema.
(function () {
  "use strict";
  function today() {
    var d = new Date();
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
  }
  document.querySelectorAll("input[data-prefill=today]").forEach(function (input) {
    if (!input.value) { input.value = today(); }
  });
  // Result page: back to the filled-in form (the browser keeps it), print.
  var back = document.getElementById("back");
  if (back && window.history.length > 1) {
    back.addEventListener("click", function (e) { e.preventDefault(); window.history.back(); });
  }
  var print = document.getElementById("print");
  if (print) { print.addEventListener("click", function (e) { e.preventDefault(); window.print(); }); }
  var events = document.getElementById("events");
  if (!events) { return; }
  function copy(id, index) {
    var tpl = document.getElementById(id);
    var html = tpl.innerHTML.split("__i__").join(String(index));
    var holder = document.createElement("div");
    holder.innerHTML = html;
    return holder;
  }
  function nextIndex() {
    var max = -1;
    events.querySelectorAll("fieldset.event").forEach(function (row) {
      max = Math.max(max, parseInt(row.getAttribute("data-index"), 10));
    });
    return max + 1;
  }
  events.addEventListener("change", function (e) {
    if (!e.target.classList.contains("event-type")) { return; }
    var row = e.target.closest("fieldset.event");
    var box = row.querySelector(".event-fields");
    box.innerHTML = "";
    if (e.target.value) {
      var fields = copy("tpl-fields-" + e.target.value, row.getAttribute("data-index"));
      while (fields.firstChild) { box.appendChild(fields.firstChild); }
    }
  });
  events.addEventListener("click", function (e) {
    if (e.target.classList.contains("remove-event")) { e.target.closest("fieldset.event").remove(); }
  });
  document.getElementById("add-event").addEventListener("click", function () {
    var row = copy("tpl-event-row", nextIndex()).firstElementChild;
    events.appendChild(row);
    row.querySelector("select").focus();
  });
})();
