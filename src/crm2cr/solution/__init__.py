"""The crm2cr solution: the tables and columns crm2cr keeps in the CRM (SPEC §2)."""
