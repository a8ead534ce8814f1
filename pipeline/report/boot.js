// Draws the report's charts: the options were built by risklane and travel
// as JSON in #report-data. Errors go to the error box of page.js.
(function () {
  "use strict";
  var fail = risklanePage.errors("Some charts could not be drawn");
  var esc = risklanePage.esc;
  function num(v) { return v == null ? "-" : Number(v).toLocaleString("en-US"); }
  var data;
  var fmt = {
    percent: function (v) { return v == null ? "-" : v + "%"; },
    country: function (p) {
      var d = p.data;
      if (!d) { return "<b>" + esc(p.name) + "</b><br>no inspected declarations from here"; }
      return "<b>" + esc(p.name) + "</b> (" + esc(d.code) + ")<br>" +
        num(d.declarations) + " declarations, " + num(d.labelled) + " inspected<br>" +
        num(d.illicit) + " frauds: fraud rate " + d.value + "%<br>" +
        "revenue recovered: US$ " + num(d.revenue) + "<br>" +
        "frauds in the model's top " + data.budget + "%: " + num(d.caught) +
        " (US$ " + num(d.caughtRevenue) + ")";
    }
  };
  // Options name their formatters "fn:NAME": JSON cannot carry functions.
  function bind(o) {
    for (var k in o) {
      var v = o[k];
      if (typeof v === "string" && v.indexOf("fn:") === 0 && fmt[v.slice(3)]) {
        o[k] = fmt[v.slice(3)];
      } else if (v && typeof v === "object") {
        bind(v);
      }
    }
  }
  try {
    data = JSON.parse(document.getElementById("report-data").textContent);
  } catch (e) {
    fail("report data: " + e.message);
    return;
  }
  if (typeof echarts === "undefined") {
    fail("the chart library did not load");
    return;
  }
  if (data.geo) { echarts.registerMap("world", data.geo); }
  var charts = [];
  (data.charts || []).forEach(function (c) {
    var el = document.getElementById(c.id);
    if (!el) { fail("no element for chart " + c.id); return; }
    try {
      bind(c.option);
      var chart = echarts.init(el, null, {renderer: "canvas"});
      chart.setOption(c.option);
      charts.push(chart);
    } catch (e) {
      fail(c.id + ": " + e.message);
    }
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  document.body.setAttribute("data-charts", String(charts.length));
})();
