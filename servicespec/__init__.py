"""What the service asks of the platform it runs on, with no Django and no third-party
import: every environment variable (``envspec``), the timeout chains (``timeouts``), the
database connection budget (``dbbudget``) and the paths Render's health check and
SendGrid call (``endpoints``).

Django's settings read it, and so does the blueprint validator (``blueprintcheck``), which
runs with only PyYAML and jsonschema: one declaration, two readers.
"""
