"""Preset YAML files shipped with riskdesk."""
