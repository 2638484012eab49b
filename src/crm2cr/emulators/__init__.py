"""Faithful local emulators of the Dataverse Web API and the CleverReach REST API.

They are the other side of the wire: they never import crm2cr's clients.
"""
