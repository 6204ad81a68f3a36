"""Azure OpenAI and Azure AI Foundry: endpoint normalisation, hosts, and (later) routes and auth headers."""
