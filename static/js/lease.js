// The lease form: live preview of the discount, and whether it meets the base's threshold, as the rent is typed;
// the server computes the figures that count.
(function () {
  'use strict';
  const form = document.getElementById('lease-form');
  const box = document.getElementById('lease-reference');
  if (!form || !box) return;
  const value = (name) => { const el = form.querySelector('[name="' + name + '"]'); return el ? el.value : ''; };
  function months(start, end) {
    if (!start || !end) return null;
    const a = new Date(start), b = new Date(end);
    let m = (b.getFullYear() - a.getFullYear()) * 12 + (b.getMonth() - a.getMonth());
    if (b.getDate() >= a.getDate()) m += 1;
    return Math.max(m, 1);
  }
  function update() {
    const checked = form.querySelector('[name="space_type"]:checked');
    const space = checked ? checked.value : 'office';
    const reference = parseFloat(box.dataset[space] || '');
    const total = months(value('starts_on'), value('ends_on'));
    const actual = parseFloat(value('actual_rent_yuan'));
    const free = parseInt(value('free_months') || '0', 10) || 0;
    const discMonths = parseInt(value('discounted_months') || '0', 10) || 0;
    const discRent = parseFloat(value('discounted_rent_yuan') || '0') || 0;
    document.getElementById('no-reference').hidden = !isNaN(reference);
    document.getElementById('reference-figure').textContent = isNaN(reference) ? '—' : reference.toFixed(2);
    const floor2 = (x) => (Math.floor(x * 100 + 1e-9) / 100).toFixed(2);
    if (isNaN(actual) || !total) {
      document.getElementById('effective-figure').textContent = '—';
      show('—', isNaN(reference) ? 'unknown' : null);
      return;
    }
    const f = Math.min(free, total), d = Math.min(discMonths, total - f);
    const effective = (d * discRent + (total - f - d) * actual) / total;
    document.getElementById('effective-figure').textContent = effective.toFixed(2);
    if (isNaN(reference) || reference <= 0) {
      show('—', 'unknown');
      return;
    }
    const discount = floor2((1 - effective / reference) * 100);
    // Met when the discount shown (rounded down to the hundredth, as the check page shows it) reaches it.
    show(discount + '%', parseFloat(discount) >= parseFloat(verdictBox.dataset.threshold) ? 'met' : 'not-met');
  }
  // The discount and its verdict: met, not met, cannot be checked (no quote counts), or none (no rent yet);
  // in the card and, for a phone, echoed under the rent field.
  const verdictBox = document.getElementById('discount-verdict');
  const colours = { 'met': 'text-bg-success', 'not-met': 'text-bg-danger', 'unknown': 'text-bg-secondary' };
  const words = { 'met': 'met', 'not-met': 'notMet', 'unknown': 'unknown' };
  function show(figure, state) {
    document.getElementById('discount-figure').textContent = figure;
    for (const echo of document.querySelectorAll('[data-discount-echo]')) echo.textContent = figure;
    for (const badge of [document.getElementById('verdict-badge'), ...document.querySelectorAll('[data-verdict-echo]')]) {
      badge.hidden = !state;
      badge.dataset.state = state || '';
      badge.classList.remove(...Object.values(colours));
      if (state) badge.classList.add(colours[state]);
      badge.textContent = state ? verdictBox.dataset[words[state]] : '';
    }
  }
  form.addEventListener('input', update);
  form.addEventListener('change', update);
  update();
})();
