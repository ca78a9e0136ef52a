"""Usage reports: per subscription (live counters), per day, per asset, per department."""
