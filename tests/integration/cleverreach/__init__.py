"""The CleverReach client against its emulator over real HTTP."""
