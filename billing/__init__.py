"""Money: the operator's Stripe subscription and rent invoices to tenant companies (issue 9)."""
