"""Readiness and accountability records (issue 14): plans, hazard sources, certificates, inspections, deployments."""
