"""Reports and exchange: goAML and FinCEN SAR XML, FollowTheMoney, GraphML and CSV,
each gathered once (``gather``), written, hashed and audited (``export``)."""
