// Pay against the policy (C2/C3): ECharts from the suite's own copy; the data come in data-chart (JSON),
// so the page needs no inline script.
document.addEventListener("DOMContentLoaded", function () {
  var el = document.getElementById("pay-chart");
  if (!el || !window.echarts) { return; }
  var data = JSON.parse(el.dataset.chart);
  var chart = echarts.init(el, null, { renderer: "canvas" });
  chart.setOption({
    animation: false,
    title: { text: data.title, left: "center", textStyle: { fontSize: 14 } },
    tooltip: { trigger: "axis", renderMode: "richText" },  // no HTML with style attributes (CSP)
    legend: { bottom: 0 },
    grid: { left: 70, right: 20, top: 40, bottom: 50 },
    xAxis: { type: "category", data: data.counties },
    yAxis: { type: "value" },
    series: [
      { name: data.series[0].name, type: "bar", data: data.series[0].values.map(Number), itemStyle: { color: "#b3261e" }, barMaxWidth: 64 },
      { name: data.series[1].name, type: "line", data: data.series[1].values.map(function (v) { return v === "" ? null : Number(v); }),
        symbol: "diamond", symbolSize: 14, showAllSymbol: true, lineStyle: { type: "dashed", width: 0 }, itemStyle: { color: "#283593" } },
    ],
  });
  window.addEventListener("resize", function () { chart.resize(); });
  el.dataset.rendered = "true";
});
