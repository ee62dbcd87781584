"""Local stand-ins for the outside APIs the blueprint calls, which cannot be reached from
a laptop or CI: SendGrid's v3 mail send and Event Webhook (``sendgrid``) and Render's API
as the autoscaler uses it (``render_api``). The project's real client code is pointed at
them (``SENDGRID_API_HOST``, ``RENDER_API_URL``); the production code path is the same."""
