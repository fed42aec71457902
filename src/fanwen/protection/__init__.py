"""Copy gating, font obfuscation, crawler verification, page rate limits and the buyer mark."""
