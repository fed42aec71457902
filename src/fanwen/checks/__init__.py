"""原创度检测 (/check/): how much of a buyer's draft reads like library text (matching.py)."""
