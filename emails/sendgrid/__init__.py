"""SendGrid, the one provider: everything that speaks its language is here.

- ``client``: the v3 mail send (the payload, one pooled HTTP request);
- ``signature``: is an Event Webhook request SendGrid's, and fresh?
- ``events``: SendGrid's event names and drop reasons, translated into this app's own
  delivery events (``emails.delivery_events``) by small tables.

The rest of the app knows outcomes, suppressions and the outbox, never SendGrid's words;
a second provider would be a sibling package, not an edit of the domain.
"""
