"""Paths other parts of the project refer to without importing Django: Render's health
check in render.yaml (checked by the blueprint validator) and the URL configuration."""

HEALTHZ = "/healthz"
READYZ = "/readyz"
HEALTH_CHECK_PATHS = (HEALTHZ, READYZ)
METRICS = "/metrics"  # Prometheus, behind METRICS_TOKEN (operations/metrics.py)
SENDGRID_EVENTS = "/webhooks/sendgrid"  # SendGrid's Event Webhook (authentication/webhooks.py)
