"""A stand-in for Azure OpenAI, Azure AI Foundry and Microsoft Entra ID, built to the facts in
../shared/reference/azure-behaviour.md.

A separate package: the gateway never imports it. Start it with `skygate emulator`, or in tests with
`skygate_emulator.server.running_emulator`.
"""

from skygate_emulator.app import EmulatorOptions, create_emulator_app
from skygate_emulator.state import EmulatorState, load_state

__all__ = ["EmulatorOptions", "EmulatorState", "create_emulator_app", "load_state"]
