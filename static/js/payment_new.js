// The payment form: offer only the chosen company's bills; the server checks the pair again.
(function () {
  'use strict';
  const company = document.querySelector('#payment-form [name="company_id"]');
  const bill = document.querySelector('#payment-form [name="invoice_id"]');
  if (!company || !bill) return;
  function filter() {
    for (const option of bill.options) {
      const owner = option.getAttribute('data-company');
      option.hidden = owner !== null && owner !== company.value;
      if (option.hidden && option.selected) bill.value = '';
    }
  }
  company.addEventListener('change', filter);
  filter();
})();
