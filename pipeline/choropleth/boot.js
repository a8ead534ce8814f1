// Draws the map: the table travels as JSON in #map-data. Errors go to the
// error box of the report's page.js, as the report's do.
(function () {
  "use strict";
  var fail = risklanePage.errors("The map could not be drawn");
  var esc = risklanePage.esc;
  var data;
  try {
    data = JSON.parse(document.getElementById("map-data").textContent);
  } catch (e) {
    fail("map data: " + e.message);
    return;
  }
  if (typeof echarts === "undefined") {
    fail("the chart library did not load");
    return;
  }
  // The tooltip shows every column of the country's row.
  function tip(p) {
    var d = p.data;
    if (!d) { return "<b>" + esc(p.name) + "</b><br>not in the table"; }
    var s = "<b>" + esc(d.country) + "</b><table style=\"font-size:12px\">";
    data.columns.forEach(function (c, i) {
      s += "<tr><td style=\"color:#616e7c;padding-right:8px\">" + esc(c) + "</td><td>" + esc(d.cells[i]) + "</td></tr>";
    });
    return s + "</table>";
  }
  try {
    echarts.registerMap("world", data.geo);
    var slider = data.times.length > 1 || data.time !== "";
    var base = {
      animation: false,
      textStyle: {fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"},
      toolbox: {feature: {saveAsImage: {title: "save as image"}}},
      tooltip: {trigger: "item", formatter: tip, confine: true},
      visualMap: {type: "continuous", min: data.min, max: data.max, left: 10, bottom: slider ? 80 : 10,
        text: [data.value, ""], calculable: true, precision: data.precision,
        inRange: {color: ["#deebf7", "#9ecae1", "#4292c6", "#08306b"]}},
      series: [{type: "map", map: "world", roam: true, nameProperty: "name", top: 40, bottom: slider ? 70 : 10,
        left: 10, right: 10, name: data.value,
        itemStyle: {areaColor: "#eef0f2", borderColor: "#b8bec6", borderWidth: 0.5},
        emphasis: {label: {show: false}, itemStyle: {areaColor: "#ffd54f"}},
        select: {disabled: true}, data: data.frames[0]}]
    };
    var option = base;
    if (slider) {
      base.timeline = {axisType: "category", data: data.times, autoPlay: false, playInterval: 1500,
        bottom: 10, left: 60, right: 60, label: {fontSize: 11}};
      option = {baseOption: base, options: data.frames.map(function (f, i) {
        return {title: {text: data.time + " " + data.times[i], left: "center", textStyle: {fontSize: 14}}, series: [{data: f}]};
      })};
    }
    var el = document.getElementById("map");
    var chart = echarts.init(el, null, {renderer: "canvas"});
    chart.setOption(option);
    window.addEventListener("resize", function () { chart.resize(); });
    document.body.setAttribute("data-charts", "1");
  } catch (e) {
    fail(e.message);
  }
})();
