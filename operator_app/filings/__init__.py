"""Filings the base owes the government, produced from its records: the quarterly filing (季度报送), the annual
work summary (年度工作总结) and the compliance page (issue 8). They read the domain packages; those never import
the filings."""
