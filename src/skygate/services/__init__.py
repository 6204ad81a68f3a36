"""Use cases shared by the admin API and the CLI: check the rules, write in one transaction, audit."""
