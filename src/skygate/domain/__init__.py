"""Plain records and the rules that govern them; no web, store or network code."""
