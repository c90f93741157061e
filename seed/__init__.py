"""Ningxia seed data (registry, road network, incident types, card templates) and its loader."""
