"""Unit tests of the CleverReach client."""
