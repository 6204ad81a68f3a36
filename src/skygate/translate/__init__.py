"""Format translation between OpenAI chat completions, OpenAI Responses and Anthropic Messages.

Chat completions is the hub: each other format converts to and from it, so a Responses caller reaching a Claude
deployment goes Responses → chat → Messages and back. Requests, whole answers and streams each have their own
module; `plan` chooses the chain for a caller and an upstream API."""
