"""Review: the case database (accounts, queue state, decisions, cases, audit) and the
service layer the web pages and the JSON API share."""
