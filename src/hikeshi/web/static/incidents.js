/* 緊急対応 pages: the live character count of a notice body (SMS ≤ 70, SNS ≤ 140) and the
 * 印刷 button of the final report. Served from /static. */
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("textarea[data-count-limit]"), function (area) {
    var out = document.getElementById(area.getAttribute("aria-describedby"));
    if (!out) return;
    var number = out.querySelector("[data-count]");
    var limit = parseInt(area.getAttribute("data-count-limit"), 10);
    function update() {
      // Code points, as the server counts (Python len), not UTF-16 units.
      var n = Array.from(area.value).length;
      if (number) number.textContent = String(n);
      out.classList.toggle("is-over", !isNaN(limit) && n > limit);
    }
    area.addEventListener("input", update);
    update();
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), function (btn) {
    btn.addEventListener("click", function () { window.print(); });
  });
})();
