// <div data-fragment="URL">: replaced by the HTML the URL answers (a panel that takes longer than its page, such
// as the dashboard's readiness check). On failure the frame stays, with its data-failed message in its status.
(function () {
  'use strict';
  for (const slot of document.querySelectorAll('[data-fragment]')) {
    const status = slot.querySelector('[data-fragment-status]');
    fetch(slot.dataset.fragment, {credentials: 'same-origin', headers: {'Accept': 'text/html'}})
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      })
      .then(function (html) {
        const template = document.createElement('template');
        template.innerHTML = html.trim();
        slot.replaceWith(template.content);
      })
      .catch(function () {
        slot.removeAttribute('aria-busy');
        if (status) { status.textContent = status.dataset.failed; }
      });
  }
})();
