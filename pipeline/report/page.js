// What every risklane page shares (the report, the map of `risklane map`),
// inlined before its own script. risklanePage.errors(what) installs the
// error box and returns fail(msg): each message is shown in #report-errors
// after what, uncaught errors land there too, and their count is kept in
// body[data-report-errors] (the browser tests read it), instead of leaving a
// silent blank chart. risklanePage.esc escapes text for tooltip HTML.
var risklanePage = (function () {
  "use strict";
  function errors(what) {
    var box = document.getElementById("report-errors");
    var list = [];
    function fail(msg) {
      list.push(msg);
      box.style.display = "block";
      box.textContent = what + ": " + list.join("; ");
      document.body.setAttribute("data-report-errors", String(list.length));
    }
    window.addEventListener("error", function (e) { fail(String(e.message)); });
    return fail;
  }
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }
  return {errors: errors, esc: esc};
})();
