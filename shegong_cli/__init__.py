"""``shegong``: the operators' command-line tool, talking to the gateway over HTTP with a token."""
