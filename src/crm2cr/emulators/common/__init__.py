"""What both emulators share: options, clock, tokens, faults, journal, runner."""
