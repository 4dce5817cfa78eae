"""How skills become Prefect flows: one async flow per skill, one task run per step,
the execution events they emit, the deployments ``skillworks up`` serves."""
