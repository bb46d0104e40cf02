// The report's "Print or save as PDF" button (a script file: the Content-Security-Policy allows no inline script).
// Without JavaScript the button stays hidden and the page says to use the browser's Print.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});
