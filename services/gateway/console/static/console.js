// The console's own script (no inline script anywhere: the Content-Security-Policy forbids it).
document.addEventListener("click", function (event) {
  var target = event.target;
  if (target instanceof Element && target.closest("[data-print]")) {
    window.print();
  }
});
