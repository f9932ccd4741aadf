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

  // <form data-busy="Importing…">: a form that starts long work shows that it is under way. On submit its
  // buttons are disabled (no second submission) and the text appears in a live status beside the button, read
  // out by screen readers. The answer is a new page (the result, or the form again with its errors), so a
  // resubmission starts afresh; a page restored by the back button is reset.
  const SUBMITS = 'button:not([type]), button[type="submit"], input[type="submit"]';

  function statusOf(form) {
    let status = form.querySelector('.busy-status');
    if (!status) {
      status = document.createElement('span');
      status.className = 'busy-status';
      status.setAttribute('role', 'status');
      status.setAttribute('aria-live', 'polite');
      const buttons = form.querySelectorAll(SUBMITS);
      const last = buttons[buttons.length - 1];
      if (last) { last.insertAdjacentElement('afterend', status); } else { form.append(status); }
    }
    return status;
  }

  function start(form, submitter) {
    form.dataset.busyOn = 'true';
    form.setAttribute('aria-busy', 'true');
    // A disabled button is not sent: the one pressed is kept as a hidden field when it has a name.
    if (submitter && submitter.name) {
      const kept = document.createElement('input');
      kept.type = 'hidden';
      kept.name = submitter.name;
      kept.value = submitter.value;
      kept.dataset.busyKept = 'true';
      form.append(kept);
    }
    for (const button of form.querySelectorAll(SUBMITS)) { button.disabled = true; }
    const spinner = document.createElement('span');
    spinner.className = 'spinner-border spinner-border-sm me-1';
    spinner.setAttribute('aria-hidden', 'true');
    statusOf(form).replaceChildren(spinner, document.createTextNode(form.dataset.busy));
  }

  function reset(form) {
    delete form.dataset.busyOn;
    form.removeAttribute('aria-busy');
    for (const kept of form.querySelectorAll('[data-busy-kept]')) { kept.remove(); }
    for (const button of form.querySelectorAll(SUBMITS)) { button.disabled = false; }
    statusOf(form).replaceChildren();
  }

  for (const form of document.querySelectorAll('form[data-busy]')) {
    statusOf(form);  // in the page from the start, so that its change is announced
    form.addEventListener('submit', function (event) {
      if (event.defaultPrevented) { return; }
      if (form.dataset.busyOn) { event.preventDefault(); return; }  // already under way
      start(form, event.submitter);
    });
  }
  window.addEventListener('pageshow', function (event) {
    if (event.persisted) {
      for (const form of document.querySelectorAll('form[data-busy]')) { reset(form); }
    }
  });
})();
