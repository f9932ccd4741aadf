// Behaviour shared by every page, bound by data- attributes (the CSP allows no inline script or handler).
(function () {
  'use strict';
  // <button data-print>: print the page.
  for (const button of document.querySelectorAll('[data-print]')) {
    button.addEventListener('click', function () { window.print(); });
  }
  // <input data-select-on-click>: a click selects the whole value (an invitation link to copy).
  for (const input of document.querySelectorAll('[data-select-on-click]')) {
    input.addEventListener('click', function () { this.select(); });
  }
})();
