"""skygate: a self-hostable AI gateway for Azure AI Foundry and Azure OpenAI."""

__version__ = "0.1.0"
